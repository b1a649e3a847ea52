"""Solutions of assignment 7's graded functions (the grader runs them; students never get it).

Each is a variant of what coursekit and chapters 11-12 show: CTC in time-major layout on
given log-probabilities with the blank as the *last* class (forward, and the gradient with
respect to the log-probabilities, which the chapter derives but does not code), greedy CTC
decoding to a padded array, the captioning loss on time-major scores, and greedy caption
sampling that stops at <END> and pads with <NULL>.
"""
from __future__ import annotations

import numpy as np


def _extended(targets, blank):
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def ctc_forward(log_probs, targets):
    """log_probs (T, N, C) (used as given: no softmax), targets (N, S) in [0, C-1); blank C-1.
    -> losses (N,) = -log sum over alignments of exp(sum_t log_probs[t, n, pi_t]), cache."""
    t_max, n, c = log_probs.shape
    ext, skip = _extended(targets, c - 1)
    length = ext.shape[1]
    lp = np.transpose(log_probs, (1, 0, 2)).astype(np.float64)          # (N, T, C)
    lpe = np.take_along_axis(lp, np.broadcast_to(ext[:, None], (n, t_max, length)), axis=2)
    alpha = np.full((n, t_max, length), -np.inf)
    alpha[:, 0, :2] = lpe[:, 0, :2]
    for t in range(1, t_max):
        a = alpha[:, t - 1]
        acc = a.copy()
        acc[:, 1:] = np.logaddexp(acc[:, 1:], a[:, :-1])
        acc[:, 2:] = np.logaddexp(acc[:, 2:], np.where(skip[:, 2:], a[:, :-2], -np.inf))
        alpha[:, t] = acc + lpe[:, t]
    log_p = np.logaddexp(alpha[:, -1, -1], alpha[:, -1, -2])
    cache = (lpe, ext, skip, alpha, log_p, log_probs.dtype, c)
    return (-log_p).astype(log_probs.dtype), cache


def ctc_backward(dlosses, cache):
    """dlosses (N,) -> dlog_probs (T, N, C) = -dlosses * (posterior that frame t emits k)."""
    lpe, ext, skip, alpha, log_p, dtype, c = cache
    n, t_max, length = lpe.shape
    beta = np.full((n, t_max, length), -np.inf)
    beta[:, -1, -2:] = lpe[:, -1, -2:]
    for t in range(t_max - 2, -1, -1):
        b = beta[:, t + 1]
        acc = b.copy()
        acc[:, :-1] = np.logaddexp(acc[:, :-1], b[:, 1:])
        acc[:, :-2] = np.logaddexp(acc[:, :-2], np.where(skip[:, 2:], b[:, 2:], -np.inf))
        beta[:, t] = acc + lpe[:, t]
    occ = np.exp(alpha + beta - lpe - log_p[:, None, None])             # (N, T, L)
    onehot = (ext[:, :, None] == np.arange(c)).astype(np.float64)       # (N, L, C)
    grad = -(occ @ onehot) * np.asarray(dlosses, dtype=np.float64)[:, None, None]
    return np.transpose(grad, (1, 0, 2)).astype(dtype)


def ctc_greedy(scores):
    """scores (T, N, C), blank C-1 -> (N, T) int64: each row's labels, then -1 padding."""
    t_max, n, c = scores.shape
    best = scores.argmax(axis=2).T                                       # (N, T)
    out = np.full((n, t_max), -1, dtype=np.int64)
    for i in range(n):
        labels = [k for j, k in enumerate(best[i])
                  if k != c - 1 and (j == 0 or k != best[i, j - 1])]
        out[i, :len(labels)] = labels
    return out


def caption_loss(scores, captions, null):
    """scores (T, N, V) time-major for the inputs captions[:, :-1]; captions (N, T+1).
    -> loss summed over the non-<NULL> targets captions[:, 1:], averaged over N; dscores."""
    t_max, n, v = scores.shape
    y = captions[:, 1:].T                                                # (T, N)
    m = (y != null).astype(np.float64)
    z = scores.astype(np.float64)
    z = z - z.max(axis=2, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(logp, y[..., None], axis=2)[..., 0]
    loss = -(m * picked).sum() / n
    d = np.exp(logp)
    np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], axis=2) - 1, axis=2)
    return scores.dtype.type(loss), (d * (m / n)[..., None]).astype(scores.dtype)


def sample_caption(features, W_proj, b_proj, W_embed, Wx, Wh, b, W_vocab, b_vocab, start,
                   end, null, max_length):
    """Greedy sampling with a tanh RNN from h0 = features W_proj + b_proj and <START>; once a
    caption emits <END> the rest of it is <NULL>. -> captions (N, max_length) int64."""
    n = features.shape[0]
    h = features @ W_proj + b_proj
    word = np.full(n, start, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    out = np.full((n, max_length), null, dtype=np.int64)
    for t in range(max_length):
        h = np.tanh(W_embed[word] @ Wx + h @ Wh + b)
        word = (h @ W_vocab + b_vocab).argmax(axis=1)
        out[~done, t] = word[~done]
        done |= word == end
    return out
