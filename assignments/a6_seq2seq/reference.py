"""Solutions of assignment 6's graded functions (the grader runs them; students never get it).

Each is a variant of what coursekit and chapters 9-10 show: the masked loss in time-major
layout, scaled dot-product attention with separate values, beam search over a table of
next-token scores, and BLEU on padded id arrays.
"""
from __future__ import annotations

import numpy as np

from coursekit.decode import beam_search
from coursekit.metrics import corpus_bleu


def _log_softmax(scores, axis=-1):
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def masked_loss_time_major(scores, y, mask):
    """scores (T, N, V), y (T, N), mask (T, N) -> mean cross-entropy over real tokens, dscores."""
    m = mask.astype(scores.dtype)
    count = m.sum()
    logp = _log_softmax(scores, axis=2)
    picked = np.take_along_axis(logp, y[..., None], axis=2)[..., 0]
    loss = -(m * picked).sum() / count
    d = np.exp(logp)
    np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], axis=2) - 1, axis=2)
    return scores.dtype.type(loss), (d * (m / count)[..., None]).astype(scores.dtype)


def attention_step_forward(q, K, V, mask):
    """Scaled dot-product attention, one query per row: q (N, D), K (N, T, D), V (N, T, Dv),
    mask (N, T) -> context (N, Dv), alpha (N, T), cache."""
    scale = 1.0 / np.sqrt(q.shape[1])
    e = scale * np.einsum("nd,ntd->nt", q, K)
    e = np.where(mask, e, -np.inf)
    a = np.exp(e - e.max(axis=1, keepdims=True))
    a = (a / a.sum(axis=1, keepdims=True)).astype(q.dtype)
    context = np.einsum("nt,ntv->nv", a, V)
    return context, a, (q, K, V, a, scale)


def attention_step_backward(dcontext, cache):
    """-> dq (N, D), dK (N, T, D), dV (N, T, Dv)."""
    q, K, V, a, scale = cache
    dalpha = np.einsum("nv,ntv->nt", dcontext, V)
    de = a * (dalpha - (a * dalpha).sum(axis=1, keepdims=True))
    dq = scale * np.einsum("nt,ntd->nd", de, K)
    dK = scale * de[:, :, None] * q[:, None, :]
    dV = a[:, :, None] * dcontext[:, None, :]
    return dq.astype(q.dtype), dK.astype(q.dtype), dV.astype(q.dtype)


def beam_search_markov(scores, beam_size, max_len, alpha):
    """Beam search where p(next | last) = softmax(scores[last]); bos = 0, eos = 1.
    -> tokens (max_len,) padded with -1, normalised score."""
    logp = _log_softmax(scores.astype(np.float64), axis=1)
    tokens, score = beam_search(lambda tok, st: (logp[tok], st), None, 0, 1, beam_size, max_len,
                                alpha)
    out = np.full(max_len, -1, dtype=np.int64)
    out[:len(tokens)] = tokens
    return out, np.float64(score)


def _unpad(ids):
    ids = list(ids)
    return ids[:ids.index(0)] if 0 in ids else ids


def corpus_bleu_padded(hyps, refs, max_n):
    """hyps (M, L), refs (M, R, L) int arrays where 0 ends a sentence -> corpus BLEU."""
    return np.float64(corpus_bleu([_unpad(h) for h in hyps],
                                  [[_unpad(r) for r in rs] for rs in refs], max_n))
