"""Shared numpy building blocks: affine maps, softmax, cross-entropy, embeddings.

Every recurrent model in the course is "a recurrence, then these layers":
an affine read-out ``o_t = W_hy h_t + b_y`` applied at every time step, a
softmax turning scores into probabilities, and a cross-entropy loss summed over
time. Functions follow the course convention: ``*_forward(...) -> (out, cache)``
and ``*_backward(dout, cache) -> grads``; batch first; float32 or float64 in,
the same dtype out.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import (Dims, check_array, check_bool_or_01, check_int_array,
                                 check_like, check_positive_int, check_same_dtype)


# --------------------------------------------------------------------- affine
def affine_forward(x, w, b):
    """Affine map of a batch of vectors.

    Shapes: x (N, D), w (D, M), b (M,) -> out (N, M).
    Formula: o = W x + b for each row; in code ``out = x @ w + b`` (``w = W^T``).
    Chapter 1: Recurrent neural networks (the output layer o_t = W_hy h_t + b_y).
    """
    dims = Dims()
    check_array("x", x, ("N", "D"), dims)
    check_array("w", w, ("D", "M"), dims)
    check_array("b", b, ("M",), dims)
    check_same_dtype(x=x, w=w, b=b)
    out = x @ w + b  # (N, M)
    return out, (x, w, out)


def affine_backward(dout, cache):
    """Gradients of the affine map.

    Shapes: dout (N, M) -> dx (N, D), dw (D, M), db (M,).
    Formula: dx = dout W, dW = dout^T x, db = sum_n dout_n; in code ``dx = dout @ w.T``.
    Chapter 2: Backpropagation through time.
    """
    x, w, out = cache
    check_like("dout", dout, out.shape, out.dtype)
    dx = dout @ w.T  # (N, D)
    dw = x.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db


def temporal_affine_forward(x, w, b):
    """The same affine map applied at every time step (shared weights).

    Shapes: x (N, T, D), w (D, M), b (M,) -> out (N, T, M).
    Formula: o_t = W_hy h_t + b_y for t = 1..T; in code ``out = x @ w + b``.
    Chapter 1: Recurrent neural networks.
    """
    dims = Dims()
    check_array("x", x, ("N", "T", "D"), dims)
    check_array("w", w, ("D", "M"), dims)
    N, T, D = x.shape
    out, cache = affine_forward(x.reshape(N * T, D), w, b)  # (N*T, M)
    return out.reshape(N, T, -1), (cache, (N, T))


def temporal_affine_backward(dout, cache):
    """Gradients of the temporal affine map; weight gradients sum over time.

    Shapes: dout (N, T, M) -> dx (N, T, D), dw (D, M), db (M,).
    Formula: dW = sum_t dout_t^T x_t, db = sum_{n,t} dout_{n,t}.
    Chapter 2: Backpropagation through time.
    """
    flat_cache, (N, T) = cache
    out_flat = flat_cache[2]  # (N*T, M)
    check_like("dout", dout, (N, T, out_flat.shape[1]), out_flat.dtype)
    dx, dw, db = affine_backward(dout.reshape(N * T, -1), flat_cache)  # dx (N*T, D)
    return dx.reshape(N, T, -1), dw, db


# -------------------------------------------------------------------- softmax
def softmax(scores, axis=-1):
    """Numerically stable softmax along ``axis``.

    Shapes: scores (..., C) -> probabilities of the same shape, summing to 1 along ``axis``.
    Formula: softmax(o)_k = exp(o_k - max o) / sum_j exp(o_j - max o).
    Chapter 1: Recurrent neural networks.
    """
    check_array("scores", scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)  # largest entry is 0: no overflow
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(scores, axis=-1):
    """Numerically stable log of the softmax along ``axis``.

    Shapes: scores (..., C) -> log-probabilities of the same shape.
    Formula: log softmax(o)_k = (o_k - max o) - log sum_j exp(o_j - max o).
    Chapter 1: Recurrent neural networks.
    """
    check_array("scores", scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_loss(scores, y):
    """Mean softmax cross-entropy over a batch and its gradient.

    Shapes: scores (N, C), y (N,) ints in [0, C) -> loss (scalar), dscores (N, C).
    Formula: L = -(1/N) sum_n log softmax(o_n)[y_n]; dL/do_n = (softmax(o_n) - onehot(y_n)) / N.
    Chapter 1: Recurrent neural networks.
    """
    dims = Dims()
    check_array("scores", scores, ("N", "C"), dims)
    check_int_array("y", y, ("N",), dims, low=0, high=scores.shape[1])
    N = scores.shape[0]
    logp = log_softmax(scores)  # (N, C)
    loss = -logp[np.arange(N), y].sum() / max(N, 1)
    dscores = np.exp(logp)  # softmax probabilities
    dscores[np.arange(N), y] -= 1
    return scores.dtype.type(loss), dscores / max(N, 1)


def temporal_softmax_loss(x, y, mask=None):
    """Softmax cross-entropy summed over (unmasked) time steps, averaged over sequences.

    Shapes: x (N, T, V) scores, y (N, T) ints in [0, V), mask (N, T) bool or 0/1
    (``None`` means all ones) -> loss (scalar), dx (N, T, V).
    Formula: L = -(1/N) sum_n sum_t m_{n,t} log softmax(o_{n,t})[y_{n,t}];
    dL/do_{n,t} = m_{n,t} (softmax(o_{n,t}) - onehot(y_{n,t})) / N.
    Masked steps (m = 0) add nothing to the loss and get zero gradient.
    Chapter 1: Recurrent neural networks.
    """
    dims = Dims()
    check_array("x", x, ("N", "T", "V"), dims)
    check_int_array("y", y, ("N", "T"), dims, low=0, high=x.shape[2])
    N, T, V = x.shape
    m = np.ones((N, T), x.dtype) if mask is None else \
        check_bool_or_01("mask", mask, ("N", "T"), dims).astype(x.dtype)
    logp = log_softmax(x.reshape(N * T, V))  # (N*T, V)
    rows, m = np.arange(N * T), m.reshape(N * T)
    loss = -(m * logp[rows, y.reshape(N * T)]).sum() / max(N, 1)
    dx = np.exp(logp)  # (N*T, V) softmax probabilities
    dx[rows, y.reshape(N * T)] -= 1
    dx *= m[:, None] / max(N, 1)
    return x.dtype.type(loss), dx.reshape(N, T, V)


# ------------------------------------------------------------------ embedding
def embedding_forward(x, W):
    """Look up one vector per integer token (equivalent to one_hot(x) @ W).

    Shapes: x (N, T) ints in [0, V), W (V, D) -> out (N, T, D).
    Formula: e_t = W^T onehot(x_t), i.e. row x_t of W.
    Chapter 1: Recurrent neural networks.
    """
    dims = Dims()
    check_array("W", W, ("V", "D"), dims)
    check_int_array("x", x, ("N", "T"), dims, low=0, high=W.shape[0])
    out = W[x]  # (N, T, D)
    return out, (x, W)


def embedding_backward(dout, cache):
    """Gradient of the embedding table: each token's rows of dout add into its row.

    Shapes: dout (N, T, D) -> dW (V, D).
    Formula: dW[v] = sum over (n, t) with x_{n,t} = v of dout_{n,t}.
    Chapter 2: Backpropagation through time.
    """
    x, W = cache
    check_like("dout", dout, x.shape + W.shape[1:], W.dtype)  # (N, T, D)
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)  # repeated tokens accumulate
    return dW


def one_hot(indices, V, dtype=np.float64):
    """One-hot encode integer indices.

    Shapes: indices (...) ints in [0, V) -> (..., V) with a single 1 per row.
    Formula: onehot(k)_j = 1 if j = k else 0.
    Chapter 1: Recurrent neural networks.
    """
    V = check_positive_int("V", V)
    check_int_array("indices", indices, low=0, high=V)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    return np.eye(V, dtype=dtype)[indices]
