"""Assignment 1's references: the solutions the grader runs to compute expected outputs.

Never given to students (the release notebook does not carry this file; the autograder
zip does). Each graded function is a variant of what chapters 1-3 teach and coursekit
holds, so copying the package or the book does not answer it:

- ``relu_rnn_step_forward`` / ``_backward``: one step with ReLU instead of tanh (chapter 1's
  step; chapter 2 derives the gradient through any elementwise nonlinearity);
- ``masked_rnn_forward`` / ``_backward``: a tanh RNN over a padded batch that *holds* its state
  on padding steps (chapter 1's recurrence, chapter 2's BPTT, padding as in chapter 9);
- ``padded_embedding_forward`` / ``_backward``: an embedding whose padding id reads zeros and
  receives no gradient (``torch.nn.Embedding(padding_idx=...)``'s gradient rule);
- ``linear_forward`` / ``_backward``: the temporal read-out in ``torch.nn.Linear``'s layout,
  weight ``(M, D)``, ``out = x W^T + b``;
- ``token_mean_softmax_loss``: the temporal softmax loss averaged over the counted tokens
  (``torch.nn.functional.cross_entropy``'s ``reduction="mean"``), not over the N sequences.

Chapters 1 (recurrence), 2 (backpropagation through time) and 3 (the character model).
"""
import numpy as np


def relu_rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One ReLU RNN step.

    Shapes: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H), cache.
    Formula: h_t = max(0, W_hh h_{t-1} + W_xh x_t + b_h) (``torch.nn.RNN(nonlinearity="relu")``).
    Chapter 1 (the step), chapter 2 (its gradient).
    """
    a = x @ Wx + prev_h @ Wh + b                                  # (N, H)
    next_h = np.maximum(a, 0)
    return next_h, (x, prev_h, Wx, Wh, a > 0)


def relu_rnn_step_backward(dnext_h, cache):
    """Backward of :func:`relu_rnn_step_forward`.

    Shapes: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    Formula: dL/da = dL/dh_t * 1[a_t > 0]; then the two matrix products. Chapter 2.
    """
    x, prev_h, Wx, Wh, positive = cache
    da = dnext_h * positive
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def masked_rnn_forward(x, h0, Wx, Wh, b, mask=None):
    """A tanh RNN over a padded batch: on a padding step the state is held, not updated.

    Shapes: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,), mask (N, T) bool/0-1 or None
    (every step real) -> h (N, T, H), cache.
    Formula: h_t = m_t tanh(W_hh h_{t-1} + W_xh x_t + b_h) + (1 - m_t) h_{t-1}, so a sequence's
    last real state is carried to the end of the batch. Chapters 1 and 9 (padding).
    """
    N, T, _ = x.shape
    m = np.ones((N, T), dtype=x.dtype) if mask is None else np.asarray(mask).astype(x.dtype)
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    prev, tanhs = h0, []
    for t in range(T):
        th = np.tanh(x[:, t] @ Wx + prev @ Wh + b)                # (N, H)
        prev = m[:, t, None] * th + (1 - m[:, t, None]) * prev
        h[:, t] = prev
        tanhs.append(th)
    return h, (x, h0, Wx, Wh, m, tanhs, h)


def masked_rnn_backward(dh, cache):
    """Backpropagation through time of :func:`masked_rnn_forward`.

    Shapes: dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    Formula: with g = dL/dh_t (from above and from step t+1), da_t = m_t g (1 - tanh^2) and
    dL/dh_{t-1} = W_hh^T da_t + (1 - m_t) g. Chapter 2.
    """
    x, h0, Wx, Wh, m, tanhs, h = cache
    N, T, _ = x.shape
    dx, dWx, dWh = np.empty_like(x), np.zeros_like(Wx), np.zeros_like(Wh)
    db, carry = np.zeros(Wh.shape[0], dtype=x.dtype), np.zeros_like(h0)
    for t in reversed(range(T)):
        g = dh[:, t] + carry
        prev = h0 if t == 0 else h[:, t - 1]
        da = m[:, t, None] * g * (1 - tanhs[t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += prev.T @ da
        db += da.sum(axis=0)
        carry = da @ Wh.T + (1 - m[:, t, None]) * g
    return dx, carry, dWx, dWh, db


def padded_embedding_forward(x, W, pad_id):
    """Embedding lookup where the padding id reads a zero vector.

    Shapes: x (N, T) ints in [0, V) (or any int for pad_id), W (V, D), pad_id int -> out (N, T, D),
    cache. Formula: out_{n,t} = W[x_{n,t}] if x_{n,t} != pad_id else 0. Chapters 3 and 9.
    """
    keep = (x != pad_id)
    out = W[np.where(keep, x, 0)] * keep[..., None].astype(W.dtype)
    return out, (x, W, keep)


def padded_embedding_backward(dout, cache):
    """Backward of :func:`padded_embedding_forward`: dW (V, D); padding positions add nothing.

    Formula: dW[v] = sum over (n, t) with x_{n,t} = v != pad_id of dout_{n,t}. Chapter 3.
    """
    x, W, keep = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x[keep], dout[keep])
    return dW


def linear_forward(x, weight, bias):
    """The temporal read-out in ``torch.nn.Linear``'s layout.

    Shapes: x (N, T, D), weight (M, D), bias (M,) -> out (N, T, M), cache.
    Formula: o_t = W h_t + b with W stored as (M, D): out = x @ weight.T + bias. Chapter 1.
    """
    return x @ weight.T + bias, (x, weight)


def linear_backward(dout, cache):
    """Backward of :func:`linear_forward`: dx (N, T, D), dweight (M, D), dbias (M,).

    Formula: dx = dout W, dW = sum over n, t of dout_{n,t}^T x_{n,t}, db = sum dout. Chapter 2.
    """
    x, weight = cache
    D, M = x.shape[-1], weight.shape[0]
    return dout @ weight, dout.reshape(-1, M).T @ x.reshape(-1, D), dout.sum(axis=(0, 1))


def token_mean_softmax_loss(x, y, mask=None):
    """Softmax cross-entropy averaged over the counted tokens.

    Shapes: x (N, T, V) scores, y (N, T) ints, mask (N, T) bool or None -> loss (scalar),
    dx (N, T, V). Formula: with n = max(1, sum m), L = -(1/n) sum_{n,t} m log softmax(o)_{y} and
    dL/do = m (softmax(o) - onehot(y)) / n (``cross_entropy(..., reduction="mean")`` with the
    masked tokens ignored). Chapter 3 (loss per character), chapter 9 (padding).
    """
    N, T, V = x.shape
    m = np.ones((N, T), dtype=x.dtype) if mask is None else mask.astype(x.dtype)
    count = max(float(m.sum()), 1.0)
    shifted = x - x.max(axis=2, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))  # (N, T, V)
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -(m * log_p[n_idx, t_idx, y]).sum() / count
    dx = np.exp(log_p)
    dx[n_idx, t_idx, y] -= 1
    dx *= m[:, :, None] / x.dtype.type(count)
    return x.dtype.type(loss), dx
