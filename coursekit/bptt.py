"""Backpropagation through time: where the gradient goes and how big it stays.

Chapter 2 follows the gradient of a loss backwards through an unrolled
recurrent network. Written with column vectors (the book's notation) and an
elementwise nonlinearity ``phi`` (tanh, ReLU or the identity)::

    h_t = phi(a_t),   a_t = W_hh h_{t-1} + W_xh x_t + b_h
    dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh                    (one step's Jacobian)
    dL/dh_t = d_t + W_hh^T (phi'(a_{t+1}) * dL/dh_{t+1})      (the BPTT recursion)

where ``d_t`` is the part of the gradient that reaches ``h_t`` directly
(through the output at step ``t``). For tanh, ``phi'(a_t) = 1 - h_t^2``.
In code (batch rows) ``Wh = W_hh^T``, so the recursion reads
``g[:, t-1] = dh[:, t-1] + (g[:, t] * dphi[:, t]) @ Wh.T``.

This module measures that gradient (:func:`hidden_gradients`,
:func:`gradient_norms`, :func:`norm_vs_distance`), builds the matrices the
chapter studies (:func:`rotation_scaling`, :func:`spectral_radius`), and holds
the small long-dependency task and model used for the remedies
(:func:`delayed_recall`, :class:`ToyRNN`, :func:`recall_loss`,
:func:`recall_accuracy`). Training itself uses :func:`coursekit.train.train`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit._validate import Dims, check_array, check_positive_int, check_same_dtype
from coursekit.tasks import IGNORE  # target value the losses skip (torch's default ignore_index)
from coursekit.widgets import recurrent_matrix

__all__ = ["NONLINEARITIES", "IGNORE", "rnn_states", "step_jacobians", "hidden_gradients",
           "gradient_norms", "spectral_radius", "rotation_scaling", "norm_vs_distance",
           "delayed_recall", "ToyRNN", "recall_loss", "recall_accuracy"]

NONLINEARITIES = ("identity", "tanh", "relu")


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def _phi(a, nonlinearity):
    if nonlinearity == "tanh":
        return np.tanh(a)
    if nonlinearity == "relu":
        return np.maximum(a, 0)
    return a


def _dphi(h, nonlinearity):
    """phi'(a_t) written with the output h_t = phi(a_t): 1 - h^2, [h > 0] or 1."""
    if nonlinearity == "tanh":
        return 1 - h ** 2
    if nonlinearity == "relu":
        return (h > 0).astype(h.dtype)
    return np.ones_like(h)


def rnn_states(x, h0, Wx, Wh, b, nonlinearity="tanh"):
    """Hidden states of a vanilla RNN with a choice of nonlinearity (no cache).

    Shapes: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) -> h (N, T, H).
    Formula: h_t = phi(W_hh h_{t-1} + W_xh x_t + b_h), phi in {identity, tanh, relu};
    for tanh this is ``coursekit.rnn.rnn_forward``.
    Chapter 2: Backpropagation through time (vanishing and exploding gradients).
    """
    _check_nonlinearity(nonlinearity)
    dims = Dims()
    check_array("x", x, ("N", "T", "D"), dims)
    check_array("h0", h0, ("N", "H"), dims)
    check_array("Wx", Wx, ("D", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_array("b", b, ("H",), dims)
    check_same_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    h = np.empty((x.shape[0], x.shape[1], h0.shape[1]), dtype=x.dtype)  # (N, T, H)
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h = _phi(x[:, t] @ Wx + prev_h @ Wh + b, nonlinearity)
        h[:, t] = prev_h
    return h


def _check_h_Wh(h, Wh):
    dims = Dims()
    check_array("h", h, ("N", "T", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_same_dtype(h=h, Wh=Wh)


def step_jacobians(h, Wh, nonlinearity="tanh"):
    """The Jacobian of every step, dh_t/dh_{t-1}, for each sequence of the batch.

    Shapes: h (N, T, H) states from :func:`rnn_states`, Wh (H, H) -> J (N, T, H, H),
    ``J[n, t, i, j] = d h_t[i] / d h_{t-1}[j]`` (column convention).
    Formula: dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh, with W_hh = Wh^T and
    phi'(a_t) = 1 - h_t^2 for tanh.
    Chapter 2: Backpropagation through time.
    """
    _check_nonlinearity(nonlinearity)
    _check_h_Wh(h, Wh)
    return _dphi(h, nonlinearity)[..., :, None] * Wh.T  # (N, T, H, H)


def hidden_gradients(dh, h, Wh, nonlinearity="tanh"):
    """Total gradient dL/dh_t at every step, from the direct gradients ``dh``.

    Shapes: dh (N, T, H) the gradient reaching each h_t directly (from its own
    output), h (N, T, H) the states, Wh (H, H) -> g (N, T, H).
    Formula: g_T = d_T;  g_{t-1} = d_{t-1} + W_hh^T (phi'(a_t) * g_t);
    in code ``g[:, t-1] = dh[:, t-1] + (g[:, t] * dphi[:, t]) @ Wh.T``.
    Chapter 2: Backpropagation through time (the recursion for dL/dh_t).
    """
    _check_nonlinearity(nonlinearity)
    _check_h_Wh(h, Wh)
    check_array("dh", dh, h.shape)
    check_same_dtype(dh=dh, h=h)
    dphi = _dphi(h, nonlinearity)  # (N, T, H)
    g = np.empty_like(dh)
    g[:, -1] = dh[:, -1]
    for t in range(h.shape[1] - 1, 0, -1):
        g[:, t - 1] = dh[:, t - 1] + (g[:, t] * dphi[:, t]) @ Wh.T  # (N, H)
    return g


def gradient_norms(dh, h, Wh, nonlinearity="tanh"):
    """Size of dL/dh_t at every step: the norm over the batch and the hidden units.

    Shapes: dh, h (N, T, H), Wh (H, H) -> norms (T,), ``norms[t] = ||dL/dh_t||``
    (Frobenius norm of the (N, H) slice; for N = 1 the vector norm).
    Formula: the norms of :func:`hidden_gradients`.
    Chapter 2: Backpropagation through time (vanishing and exploding gradients).
    """
    g = hidden_gradients(dh, h, Wh, nonlinearity)
    return np.sqrt((g ** 2).sum(axis=(0, 2)))


def spectral_radius(W):
    """The largest eigenvalue magnitude max_i |lambda_i(W)| of a square matrix.

    Shapes: W (H, H) -> float. ``W_hh`` and ``Wh = W_hh^T`` have the same one.
    Chapter 2: in a linear RNN it decides whether gradients vanish (< 1) or explode (> 1).
    """
    check_array("W", W, ("H", "H"))
    return float(np.abs(np.linalg.eigvals(W)).max())


def rotation_scaling(radius, angle):
    """A 2x2 matrix that rotates by ``angle`` and scales by ``radius``.

    Shapes: -> (2, 2) float64.
    Formula: r [[cos a, -sin a], [sin a, cos a]], eigenvalues r e^{+-ia} (complex for
    0 < a < pi), so powers W^k shrink or grow like r^k while they rotate by k a.
    Chapter 2: complex eigenvalues make the gradient oscillate.
    """
    c, s = np.cos(angle), np.sin(angle)
    return float(radius) * np.array([[c, -s], [s, c]])


def norm_vs_distance(radius, nonlinearity="tanh", *, T=60, H=32, D=4, N=8,
                     input_scale=1.0, seed=0):
    """Relative gradient norm ||dL/dh_t|| / ||dL/dh_T|| against the distance T - t.

    A random RNN with ``Wh`` of spectral radius ``radius``
    (:func:`coursekit.widgets.recurrent_matrix`), inputs x_t ~ N(0, 1),
    ``W_xh`` entries ~ N(0, input_scale^2 / D), zero bias, h_0 = 0, and the loss
    L = sum_n u_n . h_T for random unit vectors u_n (so only h_T is read).

    Shapes: -> distance (T,) = 0, 1, ..., T-1 and ratio (T,) with ratio[0] = 1.
    Formula: dL/dh_t = (prod_{s=t+1}^{T} diag(phi'(a_s)) W_hh)^T dL/dh_T.
    Chapter 2: vanishing and exploding gradients.
    """
    _check_nonlinearity(nonlinearity)
    T, H, D, N = (check_positive_int(k, v) for k, v in (("T", T), ("H", H), ("D", D), ("N", N)))
    rng = np.random.default_rng(seed)
    Wh = recurrent_matrix(H, radius, seed=seed)
    Wx = rng.standard_normal((D, H)) * input_scale / np.sqrt(D)
    x = rng.standard_normal((N, T, D))
    h = rnn_states(x, np.zeros((N, H)), Wx, Wh, np.zeros(H), nonlinearity)
    dh = np.zeros_like(h)
    u = rng.standard_normal((N, H))
    dh[:, -1] = u / np.linalg.norm(u, axis=1, keepdims=True)
    norms = gradient_norms(dh, h, Wh, nonlinearity)[::-1]  # index = distance T - t
    return np.arange(T), norms / norms[0]


# ------------------------------------------------------------- a long-dependency task
def delayed_recall(N, T, lag, n_symbols=2, *, seed=0):
    """The delayed-recall task: at every step, output the symbol seen ``lag`` steps ago.

    Shapes: -> x (N, T) int64 symbols drawn uniformly from 0..n_symbols-1, and
    y (N, T) int64 with y[:, t] = x[:, t - lag] for t >= lag and y[:, t] = IGNORE
    (-100, skipped by the losses) for t < lag.
    Solving it needs a memory of exactly ``lag`` steps, so the gradient must
    carry the error at step t back to the input at step t - lag.
    Chapter 2: truncated BPTT, ReLU with identity initialisation.
    """
    N, T, lag, n_symbols = (check_positive_int(k, v) for k, v in
                            (("N", N), ("T", T), ("lag", lag), ("n_symbols", n_symbols)))
    if lag >= T:
        raise ValueError(f"lag must be smaller than T={T}, got lag={lag}")
    x = np.random.default_rng(seed).integers(0, n_symbols, size=(N, T), dtype=np.int64)
    y = np.full((N, T), IGNORE, dtype=np.int64)
    y[:, lag:] = x[:, :-lag]
    return x, y


class ToyRNN(nn.Module):
    """A one-layer RNN classifier over symbols: ids (N, T) -> scores (N, T, V).

    Args:
        n_symbols: V; inputs are one-hot vectors.
        hidden_size: H.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        init: ``"default"`` (torch's U(-1/sqrt(H), 1/sqrt(H))), ``"identity"``
            (W_hh = I, zero biases, small W_xh ~ N(0, 0.1^2): Le, Jaitly and
            Hinton's IRNN when combined with ReLU), or a number rho: W_hh random
            with spectral radius rho.
        seed: seeds the initialisation.

    ``forward(ids, hidden=None) -> (scores, hidden)`` with hidden (1, N, H), the
    interface :func:`coursekit.train.train` expects.
    Formula: h_t = phi(W_hh h_{t-1} + W_xh x_t + b_h), o_t = W_hy h_t + b_y.
    Chapter 2: remedies for vanishing and exploding gradients.
    """

    def __init__(self, n_symbols, hidden_size, *, nonlinearity="tanh", init="default", seed=0,
                 device=None, dtype=None):
        super().__init__()
        self.n_symbols = check_positive_int("n_symbols", n_symbols)
        H = check_positive_int("hidden_size", hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        kw = dict(device=device, dtype=dtype)
        g = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(seed)
            self.rnn = nn.RNN(n_symbols, H, nonlinearity=nonlinearity, batch_first=True, **kw)
            self.head = nn.Linear(H, n_symbols, **kw)
        with torch.no_grad():
            if isinstance(init, str) and init == "identity":
                self.rnn.weight_hh_l0.copy_(torch.eye(H))
                self.rnn.weight_ih_l0.copy_(0.1 * torch.randn(H, n_symbols, generator=g))
                self.rnn.bias_ih_l0.zero_()
                self.rnn.bias_hh_l0.zero_()
            elif isinstance(init, (int, float)) and not isinstance(init, bool):
                W = recurrent_matrix(H, float(init), seed=seed)
                self.rnn.weight_hh_l0.copy_(torch.as_tensor(W))
            elif init != "default":
                raise ValueError(f"init must be 'default', 'identity' or a spectral radius, got {init!r}")

    def numpy_weights(self):
        """The recurrence as numpy float64 arrays in the course's layout: Wx (V, H), Wh (H, H), b (H,).

        ``Wx = W_xh^T``, ``Wh = W_hh^T``, ``b = b_ih + b_hh``, ready for :func:`rnn_states`.
        """
        r = self.rnn
        as_np = lambda t: t.detach().cpu().to(torch.float64).numpy().copy()  # noqa: E731
        return {"Wx": as_np(r.weight_ih_l0.T), "Wh": as_np(r.weight_hh_l0.T),
                "b": as_np(r.bias_ih_l0 + r.bias_hh_l0)}

    def forward(self, ids, hidden=None):
        x = F.one_hot(ids, self.n_symbols).to(self.head.weight.dtype)  # (N, T, V)
        out, hidden = self.rnn(x, hidden)  # (N, T, H), (1, N, H)
        return self.head(out), hidden  # (N, T, V)


def recall_loss(model, x, y, hidden=None, *, n_last=None):
    """Mean cross-entropy over the targets that are not IGNORE (0 if there are none).

    The ``loss_fn`` for :func:`coursekit.train.train` on :func:`delayed_recall`:
    a truncated-BPTT chunk early in the sequence may hold only ignored
    targets, where a plain mean would be 0/0. Returns ``(loss, hidden)``.
    Chapter 2.
    """
    scores, hidden = model(x, hidden)
    if n_last is not None:
        scores, y = scores[:, -n_last:], y[:, -n_last:]
    total = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1),
                            ignore_index=IGNORE, reduction="sum")
    return total / max(int((y != IGNORE).sum()), 1), hidden


@torch.no_grad()
def recall_accuracy(model, lag, *, N=256, T=60, seed=12345):
    """Fraction of correct recalls on fresh :func:`delayed_recall` sequences (from h_0 = 0).

    Chance level is 1 / n_symbols. Chapter 2.
    """
    x, y = delayed_recall(N, T, lag, model.n_symbols, seed=seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores, _ = model(torch.as_tensor(x, device=device))
    model.train(was_training)
    keep = torch.as_tensor(y != IGNORE, device=device)
    pred = scores.argmax(-1)
    return float((pred[keep] == torch.as_tensor(y, device=device)[keep]).float().mean())
