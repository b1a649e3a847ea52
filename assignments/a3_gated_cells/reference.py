"""Assignment 3's references: the solutions the grader runs to compute expected outputs.

Never given to students (the release notebook does not carry this file; the autograder
zip does). Each graded function extends a gated cell of chapters 4 and 5, so copying the
package or the book does not answer it:

- ``lstmp_*``: the LSTM with a recurrent projection (Sak et al. 2014; ``torch.nn.LSTM``'s
  ``proj_size``): the state the network reads and feeds back is ``r_t = W_hr h_t``, of size P;
- ``mgu_*``: the minimal gated unit (Zhou et al. 2016), a GRU with one gate, which both
  resets the candidate's input and mixes the old state with the new.

Chapters 4 (LSTM) and 5 (GRU).
"""
import numpy as np


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


# ------------------------------------------------------------------ LSTM with projection
def lstmp_step_forward(x, prev_r, prev_c, Wx, Wh, b, Wr):
    """One LSTM step with a recurrent projection.

    Shapes: x (N, D), prev_r (N, P), prev_c (N, H), Wx (D, 4H), Wh (P, 4H), b (4H,), Wr (H, P)
    -> next_r (N, P), next_c (N, H), cache. Gates in column blocks i, f, g, o.
    Formula: [i, f, g, o] = [sig, sig, tanh, sig](x Wx + r_{t-1} Wh + b); c_t = f c_{t-1} + i g;
    r_t = (o tanh(c_t)) Wr. ``torch.nn.LSTM(proj_size=P)`` with ``weight_hr_l0 = Wr^T``. Chapter 4.
    """
    H = prev_c.shape[1]
    a = x @ Wx + prev_r @ Wh + b                                   # (N, 4H)
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    m = o * tanh_c                                                 # (N, H) before projection
    return m @ Wr, next_c, (x, prev_r, prev_c, Wx, Wh, Wr, i, f, g, o, tanh_c, m)


def lstmp_step_backward(dnext_r, dnext_c, cache):
    """Backward of :func:`lstmp_step_forward`.

    Shapes: dnext_r (N, P), dnext_c (N, H) -> dx (N, D), dprev_r (N, P), dprev_c (N, H),
    dWx (D, 4H), dWh (P, 4H), db (4H,), dWr (H, P).
    Formula: dm = dr Wr^T, dWr = m^T dr; then the LSTM step's backward with dh = dm. Chapter 4.
    """
    x, prev_r, prev_c, Wx, Wh, Wr, i, f, g, o, tanh_c, m = cache
    dm = dnext_r @ Wr.T
    dc = dnext_c + dm * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g ** 2),
                         dm * tanh_c * o * (1 - o)], axis=1)       # (N, 4H)
    return (da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_r.T @ da, da.sum(axis=0),
            m.T @ dnext_r)


def lstmp_forward(x, r0, Wx, Wh, b, Wr, c0=None):
    """An LSTM with projection over a sequence.

    Shapes: x (N, T, D), r0 (N, P), c0 (N, H) or None (zeros) -> r (N, T, P), c (N, T, H), cache.
    Formula: the step of :func:`lstmp_step_forward` for t = 1..T with shared weights. Chapter 4.
    """
    N, T, _ = x.shape
    H = Wr.shape[0]
    prev_r, prev_c = r0, (np.zeros((N, H), dtype=x.dtype) if c0 is None else c0)
    r = np.empty((N, T, Wr.shape[1]), dtype=x.dtype)
    c = np.empty((N, T, H), dtype=x.dtype)
    caches = []
    for t in range(T):
        prev_r, prev_c, step = lstmp_step_forward(x[:, t], prev_r, prev_c, Wx, Wh, b, Wr)
        r[:, t], c[:, t] = prev_r, prev_c
        caches.append(step)
    return r, c, (caches, x, r0, Wx, Wh, Wr)


def lstmp_backward(dr, cache, dc=None):
    """Backpropagation through time of :func:`lstmp_forward`.

    Shapes: dr (N, T, P), dc (N, T, H) or None -> dx (N, T, D), dr0 (N, P), dc0 (N, H),
    dWx (D, 4H), dWh (P, 4H), db (4H,), dWr (H, P). Chapter 4.
    """
    caches, x, r0, Wx, Wh, Wr = cache
    N, T, _ = x.shape
    H = Wr.shape[0]
    dx = np.empty_like(x)
    dprev_r, dprev_c = np.zeros_like(r0), np.zeros((N, H), dtype=x.dtype)
    grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=x.dtype), np.zeros_like(Wr)]
    for t in reversed(range(T)):
        up_c = dprev_c + (0 if dc is None else dc[:, t])
        dx[:, t], dprev_r, dprev_c, *gs = lstmp_step_backward(dr[:, t] + dprev_r, up_c, caches[t])
        for acc, g in zip(grads, gs):
            acc += g
    return (dx, dprev_r, dprev_c, *grads)


# ------------------------------------------------------------------ minimal gated unit
def mgu_step_forward(x, prev_h, Wx, Wh, b):
    """One step of the minimal gated unit.

    Shapes: x (N, D), prev_h (N, H), Wx (D, 2H), Wh (H, 2H), b (2H,) -> next_h (N, H), cache.
    Columns [0:H] belong to the gate f, [H:2H] to the candidate n.
    Formula: f = sig(x Wx_f + h_{t-1} Wh_f + b_f); n = tanh(x Wx_n + (f h_{t-1}) Wh_n + b_n);
    h_t = (1 - f) h_{t-1} + f n. Chapter 5 (gated recurrent units).
    """
    H = prev_h.shape[1]
    xa = x @ Wx + b                                                # (N, 2H)
    f = _sigmoid(xa[:, :H] + prev_h @ Wh[:, :H])
    fh = f * prev_h
    n = np.tanh(xa[:, H:] + fh @ Wh[:, H:])
    return (1 - f) * prev_h + f * n, (x, prev_h, Wx, Wh, f, fh, n)


def mgu_step_backward(dnext_h, cache):
    """Backward of :func:`mgu_step_forward`.

    Shapes: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, 2H), dWh (H, 2H), db (2H,).
    Formula: dn = dh f; df = dh (n - h_{t-1}) + (da_n Wh_n^T) h_{t-1}, da_n = dn (1 - n^2);
    dh_{t-1} = dh (1 - f) + (da_n Wh_n^T) f + da_f Wh_f^T. Chapter 5.
    """
    x, prev_h, Wx, Wh, f, fh, n = cache
    H = prev_h.shape[1]
    da_n = dnext_h * f * (1 - n ** 2)
    dfh = da_n @ Wh[:, H:].T
    da_f = (dnext_h * (n - prev_h) + dfh * prev_h) * f * (1 - f)
    dxa = np.concatenate([da_f, da_n], axis=1)                     # (N, 2H)
    dprev_h = dnext_h * (1 - f) + dfh * f + da_f @ Wh[:, :H].T
    dWh = np.concatenate([prev_h.T @ da_f, fh.T @ da_n], axis=1)
    return dxa @ Wx.T, dprev_h, x.T @ dxa, dWh, dxa.sum(axis=0)


def mgu_forward(x, h0, Wx, Wh, b):
    """The minimal gated unit over a sequence: x (N, T, D), h0 (N, H) -> h (N, T, H), cache.
    Chapter 5."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    prev, caches = h0, []
    for t in range(T):
        prev, step = mgu_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(step)
    return h, (caches, x, h0, Wx, Wh)


def mgu_backward(dh, cache):
    """Backpropagation through time of :func:`mgu_forward`.

    Shapes: dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, 2H), dWh (H, 2H), db (2H,).
    Chapter 5.
    """
    caches, x, h0, Wx, Wh = cache
    dx, carry = np.empty_like(x), np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[1], dtype=x.dtype)
    for t in reversed(range(x.shape[1])):
        dx[:, t], carry, gx, gh, gb = mgu_step_backward(dh[:, t] + carry, caches[t])
        dWx += gx
        dWh += gh
        db += gb
    return dx, carry, dWx, dWh, db
