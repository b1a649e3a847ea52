"""Assignment 2's references: the solutions the grader runs to compute expected outputs.

Never given to students (the release notebook does not carry this file; the
autograder zip does). Each is composed of coursekit's own pieces: truncated-BPTT
batching, one chunk forward and backward, the truncated gradient of a whole text and
its TBPTT(k1, k2) form, sampling with given uniforms, language-model metrics.
Chapter 2 (truncated BPTT, clipping) and chapter 3 (sampling, perplexity).
"""
import math

import numpy as np

from coursekit.models.charrnn import PARAM_SHAPES

PARAM_NAMES = tuple(PARAM_SHAPES)  # W_embed, Wx, Wh, b, W_out, b_out


def tbptt_batches(ids, batch_size, k):
    """Cut a long id stream into the chunks that truncated BPTT with length k reads.

    Shapes: ids (L,) ints -> X, Y (C, B, k) int64 with B = batch_size,
    S = (L - 1) // B targets per stream and C = S // k chunks.
    Stream b is ids[b S : (b + 1) S] (inputs) and ids[b S + 1 : (b + 1) S + 1] (targets);
    chunk c holds columns c k .. (c + 1) k - 1 of every stream. Chapter 2 (truncated BPTT).
    """
    ids = np.asarray(ids, dtype=np.int64)
    S = (len(ids) - 1) // batch_size
    C = S // k
    X = ids[:batch_size * S].reshape(batch_size, S)[:, :C * k]        # (B, C k)
    Y = ids[1:batch_size * S + 1].reshape(batch_size, S)[:, :C * k]
    X = X.reshape(batch_size, C, k).transpose(1, 0, 2)                 # (C, B, k)
    Y = Y.reshape(batch_size, C, k).transpose(1, 0, 2)
    return np.ascontiguousarray(X), np.ascontiguousarray(Y)


def chunk_forward_backward(params, x, y, h0, n_last=None):
    """Loss and gradients of the character model on one chunk, from a carried state.

    Shapes: params as ``PARAM_SHAPES`` (a dict of arrays), x, y (N, k) ids, h0 (N, H) ->
    loss (mean nats per counted character), grads (dict like params), h_last (N, H).
    ``n_last``: count only the last ``n_last`` targets (all when None); the
    gradient still flows through all k steps (TBPTT(k1, k2) windows).
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh e_t + b_h) from h_0 = h0 (a constant: no
    gradient reaches it), o_t = W_hy h_t + b_y, L = -(1/(N n)) sum log softmax(o_t)[y_t].
    Chapter 2 (truncated BPTT).
    """
    from coursekit.nn import layers, rnn
    N, k = x.shape
    n = k if n_last is None else int(n_last)
    mask = np.zeros((N, k), dtype=bool)
    mask[:, k - n:] = True
    emb, ec = layers.embedding_forward(x, params["W_embed"])                    # (N, k, D)
    h, rc = rnn.rnn_forward(emb, h0, params["Wx"], params["Wh"], params["b"])   # (N, k, H)
    scores, ac = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, dscores = layers.temporal_softmax_loss(scores, y, mask)               # sum / N
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, ac)
    demb, _, dWx, dWh, db = rnn.rnn_backward(dh, rc)
    dW_embed = layers.embedding_backward(demb, ec)
    grads = dict(zip(PARAM_NAMES, (dW_embed, dWx, dWh, db, dW_out, db_out)))
    scale = h0.dtype.type(1.0 / n)
    return loss * scale, {n_: g * scale for n_, g in grads.items()}, h[:, -1].copy()


def tbptt_gradient(params, ids, batch_size, k):
    """The truncated-BPTT loss and gradient of a whole text, carrying the state across chunks.

    Shapes: ids (L,) -> loss (mean nats per character over all chunks), grads (dict,
    the mean of the chunk gradients), h_last (B, H) the state after the last chunk.
    The state starts at zero and passes from chunk to chunk; each chunk's gradient
    stops at its first step. Chapter 2 (truncated BPTT).
    """
    X, Y = tbptt_batches(ids, batch_size, k)
    dtype = params["Wh"].dtype
    h = np.zeros((batch_size, params["Wh"].shape[0]), dtype=dtype)
    total, acc = 0.0, {n: np.zeros_like(p) for n, p in params.items()}
    for c in range(len(X)):
        loss, grads, h = chunk_forward_backward(params, X[c], Y[c], h)
        total += float(loss)
        for n in acc:
            acc[n] += grads[n]
    C = dtype.type(len(X))
    return dtype.type(total / len(X)), {n: g / C for n, g in acc.items()}, h


def tbptt_k1k2_gradient(params, ids, batch_size, k1, k2):
    """TBPTT(k1, k2): every k1 characters, backpropagate through the last k2 steps.

    Shapes: ids (L,) -> loss (mean over updates of the mean nats per new character),
    grads (dict, mean over updates), h_last (B, H) the state after the last counted step.
    Streams as :func:`tbptt_batches` (B streams of S targets); U = S // k1 updates.
    Update u counts the targets u k1 .. (u + 1) k1 - 1 and runs the window that ends
    there and starts k2 steps earlier (at 0 at the latest) from the forward state before
    it (a constant). k1 = k2 is :func:`tbptt_gradient` with k = k1. Chapter 2.
    """
    from coursekit.nn import rnn
    ids = np.asarray(ids, dtype=np.int64)
    S = (len(ids) - 1) // batch_size
    Xs = ids[:batch_size * S].reshape(batch_size, S)
    Ys = ids[1:batch_size * S + 1].reshape(batch_size, S)
    dtype = params["Wh"].dtype
    zeros = np.zeros((batch_size, params["Wh"].shape[0]), dtype=dtype)
    emb = params["W_embed"][Xs]                                                  # (B, S, D)
    states, _ = rnn.rnn_forward(emb, zeros, params["Wx"], params["Wh"], params["b"])  # (B, S, H)
    U = S // k1
    total, acc = 0.0, {n: np.zeros_like(p) for n, p in params.items()}
    for u in range(U):
        end = (u + 1) * k1
        start = max(0, end - k2)
        h0 = zeros if start == 0 else states[:, start - 1]
        loss, grads, _ = chunk_forward_backward(params, Xs[:, start:end], Ys[:, start:end], h0,
                                                n_last=k1)
        total += float(loss)
        for n in acc:
            acc[n] += grads[n]
    return dtype.type(total / U), {n: g / dtype.type(U) for n, g in acc.items()}, \
        states[:, U * k1 - 1].copy()


def sample_with_temperature(scores, u, temperature=1.0):
    """Inverse-CDF sampling from softmax(o / tau) with given uniforms; greedy at tau = 0.

    Shapes: scores (N, V), u (N,) in [0, 1) -> indices (N,) int64, the first k with
    cumsum(p)_k > u (the last index if rounding leaves the sum below u).
    Chapter 3 (sampling with temperature).
    """
    from coursekit.decode import softmax_temperature
    p = softmax_temperature(scores, temperature)
    cdf = np.cumsum(p, axis=-1)                                               # (N, V)
    idx = (cdf <= u[:, None]).sum(axis=-1)
    return np.minimum(idx, scores.shape[-1] - 1).astype(np.int64)


def lm_metrics(scores, targets):
    """Cross-entropy in nats and bits per character, and perplexity.

    Shapes: scores (N, T, V), targets (N, T) -> three scalars.
    Formula: nats = -(1/(N T)) sum log softmax(o)[y], bits = nats / ln 2, ppl = e^nats.
    Chapter 3.
    """
    from coursekit.nn.layers import log_softmax
    N, T, V = scores.shape
    logp = log_softmax(scores.astype(np.float64))
    nats = -logp.reshape(N * T, V)[np.arange(N * T), targets.reshape(-1)].mean()
    return nats, nats / math.log(2), math.exp(nats)


def clip_grad_norm_p(grads, max_norm, norm_type=2.0):
    """Clip a dict of gradients in place by their global p-norm; return the norm before.

    Shapes: grads name -> array (any shapes), max_norm > 0, norm_type p >= 1 or inf -> float.
    Formula: ||g||_p = (sum over arrays and entries |g|^p)^(1/p) (max |g| for p = inf); if
    ||g||_p > max_norm every array is multiplied by max_norm / (||g||_p + 1e-6), as
    ``torch.nn.utils.clip_grad_norm_(..., norm_type=p)``. Chapter 2 (gradient clipping).
    The variant of ``coursekit.train.clip.clip_grad_norm`` (p = 2 only) that assignment 2 grades.
    """
    flat = [np.abs(g.astype(np.float64)).ravel() for g in grads.values()]
    if math.isinf(norm_type):
        total = max(float(f.max()) if f.size else 0.0 for f in flat)
    else:
        total = float(sum((f ** norm_type).sum() for f in flat) ** (1.0 / norm_type))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads.values():
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_count(grads, clip_value):
    """Clamp every entry of a dict of gradients to [-clip_value, clip_value] in place and
    return how many entries were clamped (strictly outside the interval).

    Shapes: grads name -> array, clip_value > 0 -> int. Chapter 2 (gradient clipping): the
    count says how often clipping by value changed the direction of the update.
    """
    count = 0
    for g in grads.values():
        count += int((np.abs(g) > clip_value).sum())
        np.clip(g, -clip_value, clip_value, out=g)
    return count


def softmax_top_k(scores, temperature, k):
    """A distribution at a temperature over the k largest scores of each row (top-k sampling).

    Shapes: scores (N, V), temperature >= 0, k >= 1 -> p (N, V), each row summing to 1.
    Formula: p_j = exp(o_j / tau) / sum_{i in top_k} exp(o_i / tau) for j among the k largest
    scores of the row, 0 elsewhere; tau = 0 gives the one-hot argmax (greedy). k >= V is the
    plain softmax at temperature tau. Chapter 3 (sampling with temperature).
    """
    N, V = scores.shape
    if temperature == 0:
        p = np.zeros_like(scores)
        p[np.arange(N), scores.argmax(axis=1)] = 1
        return p
    kth = np.sort(scores, axis=1)[:, V - min(k, V)][:, None]                 # (N, 1)
    z = np.where(scores >= kth, scores / scores.dtype.type(temperature), -np.inf)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(scores.dtype)
