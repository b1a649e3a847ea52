"""Solutions of assignment 4's graded functions (the grader runs them; students never get it).

Each is a variant of what coursekit and chapter 6 show: a bidirectional tanh RNN in the
*time-major* layout with separate per-direction parameter dicts (forward and backward), a
two-layer stack with a residual connection around the second layer (forward and backward),
"concat pooling" (mean and max over the valid steps of a mask, and its backward pass), and
sliding windows with a stride and one target column for direct multi-step forecasting.
"""
from __future__ import annotations

import numpy as np


# ------------------------------------------------------------------ tanh RNN, batch first
def _rnn(x, h0, p):
    """x (N, T, D) -> h (N, T, H)."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"])
        h[:, t] = prev
    return h


def _rnn_back(dh, x, h0, h, p):
    """-> dx, dh0, {"Wx", "Wh", "b"} for h = _rnn(x, h0, p), upstream dh (N, T, H)."""
    N, T, _ = x.shape
    dx = np.empty_like(x)
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dprev = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = (dh[:, t] + dprev) * (1 - h[:, t] ** 2)
        prev = h[:, t - 1] if t > 0 else h0
        dx[:, t] = da @ p["Wx"].T
        dprev = da @ p["Wh"].T
        g["Wx"] += x[:, t].T @ da
        g["Wh"] += prev.T @ da
        g["b"] += da.sum(axis=0)
    return dx, dprev, g


# ------------------------------------------------------------------ q1, q2
def birnn_forward(x, h0, pf, pb):
    """x (T, N, D) time-major, h0 (2, N, H), pf/pb {"Wx", "Wh", "b"} ->
    out (T, N, 2H) = [forward; backward], h_n (2, N, H), cache."""
    xb = x.transpose(1, 0, 2)  # (N, T, D)
    hf = _rnn(xb, h0[0], pf)
    hr = _rnn(xb[:, ::-1], h0[1], pb)  # the backward pass in its own (reversed) time
    out = np.concatenate([hf, hr[:, ::-1]], axis=2).transpose(1, 0, 2)
    h_n = np.stack([hf[:, -1], hr[:, -1]])
    return np.ascontiguousarray(out), h_n, (xb, h0, pf, pb, hf, hr)


def birnn_backward(dout, dh_n, cache):
    """dout (T, N, 2H), dh_n (2, N, H) -> dx (T, N, D), dh0 (2, N, H), gf, gb."""
    xb, h0, pf, pb, hf, hr = cache
    H = hf.shape[2]
    d = dout.transpose(1, 0, 2)  # (N, T, 2H)
    dhf = d[:, :, :H].copy()
    dhr = d[:, ::-1, H:].copy()  # into the backward pass's own time
    dhf[:, -1] += dh_n[0]
    dhr[:, -1] += dh_n[1]
    dxf, dh0f, gf = _rnn_back(dhf, xb, h0[0], hf, pf)
    dxr, dh0r, gb = _rnn_back(dhr, xb[:, ::-1], h0[1], hr, pb)
    dx = (dxf + dxr[:, ::-1]).transpose(1, 0, 2)
    return np.ascontiguousarray(dx), np.stack([dh0f, dh0r]), gf, gb


# ------------------------------------------------------------------ q3, q4
def residual_stack_forward(x, h0, p1, p2):
    """x (N, T, D), h0 (2, N, H), p1 (layer 1, D -> H), p2 (layer 2, H -> H) ->
    out = h1 + h2 (N, T, H), h_n (2, N, H) = [h1_T, h2_T], cache."""
    h1 = _rnn(x, h0[0], p1)
    h2 = _rnn(h1, h0[1], p2)
    return h1 + h2, np.stack([h1[:, -1], h2[:, -1]]), (x, h0, p1, p2, h1, h2)


def residual_stack_backward(dout, cache):
    """dout (N, T, H) -> dx (N, T, D), dh0 (2, N, H), g1, g2."""
    x, h0, p1, p2, h1, h2 = cache
    dh1_from_2, dh02, g2 = _rnn_back(dout, h1, h0[1], h2, p2)
    dx, dh01, g1 = _rnn_back(dout + dh1_from_2, x, h0[0], h1, p1)
    return dx, np.stack([dh01, dh02]), g1, g2


# ------------------------------------------------------------------ q5
def concat_pool_forward(h, mask):
    """h (N, T, H), mask (N, T) bool -> pooled (N, 2H) = [mean; max] over valid steps, cache."""
    m = mask[:, :, None]
    count = mask.sum(axis=1, keepdims=True).astype(h.dtype)  # (N, 1)
    mean = (h * m).sum(axis=1) / count
    masked = np.where(m, h, -np.inf)
    arg = masked.argmax(axis=1)  # (N, H)
    mx = np.take_along_axis(h, arg[:, None, :], axis=1)[:, 0]
    return np.concatenate([mean, mx], axis=1).astype(h.dtype), (h.shape, mask, count, arg)


def concat_pool_backward(dpooled, cache):
    """dpooled (N, 2H) -> dh (N, T, H), zero at padded steps."""
    (N, T, H), mask, count, arg = cache
    dmean, dmax = dpooled[:, :H], dpooled[:, H:]
    dh = mask[:, :, None] * (dmean / count)[:, None, :]
    np.put_along_axis(dh, arg[:, None, :],
                      np.take_along_axis(dh, arg[:, None, :], axis=1) + dmax[:, None, :], axis=1)
    return dh.astype(dpooled.dtype)


# ------------------------------------------------------------------ q6
def make_windows(series, lookback, horizon, stride, target):
    """series (T, F) -> X (M, lookback, F), Y (M, horizon); window i starts at i * stride,
    Y[i] = series[s + lookback : s + lookback + horizon, target]."""
    T = series.shape[0]
    M = (T - lookback - horizon) // stride + 1
    starts = np.arange(M) * stride
    X = np.stack([series[s:s + lookback] for s in starts])
    Y = np.stack([series[s + lookback:s + lookback + horizon, target] for s in starts])
    return X, Y
