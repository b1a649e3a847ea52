"""Attention over a padded source: additive (Bahdanau) and dot / general (Luong); numpy and torch.

One attention step reads a query ``s`` (the decoder state, ``(N, Hq)``) and the
encoder states ``h_1..h_T`` (``keys``, ``(N, T, Hk)``; they are also the values),
with a ``mask`` ``(N, T)`` that is 1 on real source tokens and 0 on padding::

    scores   e_t = score(s, h_t)                        (N, T)
    weights  alpha = softmax over t of e, with e_t = -inf where mask_t = 0
    context  c = sum_t alpha_t h_t                      (N, Hk)

The three scores (Bahdanau et al. 2015; Luong et al. 2015):

    additive  e_t = v^T tanh(W_q s + W_k h_t)      Wq (Hq, A), Wk (Hk, A), v (A,)
    dot       e_t = scale * s^T h_t                 Hq = Hk; Luong's scale is 1,
                                                     scaled dot-product attention's 1/sqrt(Hk)
    general   e_t = s^T W_a h_t                      Wa (Hq, Hk)

The softmax runs over the *source* axis (t), one distribution per query: every
row of ``alpha`` sums to 1 over the real tokens and is exactly 0 on padding.

numpy: ``*_attention_forward(...) -> ((context, alpha), cache)`` and
``*_attention_backward(dcontext, cache, dalpha=None) -> grads``.
torch: :class:`Attention` (the twin, from tensor ops; queries ``(N, Hq)`` or
``(N, S, Hq)``), with ``from_numpy`` / ``numpy_params`` converters.
Chapter 10: Attention.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from coursekit._validate import (Dims, check_array, check_bool_or_01, check_like,
                                 check_positive_int, check_same_dtype)

KINDS = ("additive", "dot", "general")


# ------------------------------------------------------------ masked softmax
def masked_softmax(scores, mask=None):
    """Softmax over the last axis, with masked entries given probability exactly 0.

    Shapes: scores (..., T), mask broadcastable to it (1/True = keep) -> alpha (..., T).
    Formula: alpha_t = m_t exp(e_t) / sum_u m_u exp(e_u) (computed with e_t = -inf where m_t = 0,
    after subtracting the largest kept score).
    Chapter 10: Attention.
    """
    check_array("scores", scores)
    if mask is None:
        keep = np.ones(scores.shape, bool)
    else:
        keep = np.broadcast_to(check_bool_or_01("mask", mask).astype(bool), scores.shape)
        if not keep.any(axis=-1).all():
            raise ValueError("mask must keep at least one position in every row "
                             "(a source with no real token has nothing to attend to)")
    masked = np.where(keep, scores, -np.inf)
    e = np.exp(masked - masked.max(axis=-1, keepdims=True))  # exp(-inf) = 0 on padding
    return (e / e.sum(axis=-1, keepdims=True)).astype(scores.dtype, copy=False)


def masked_softmax_backward(dalpha, alpha):
    """Gradient through the (masked) softmax: masked entries (alpha = 0) get 0.

    Shapes: dalpha, alpha (..., T) -> dscores (..., T).
    Formula: de_t = alpha_t (dalpha_t - sum_u alpha_u dalpha_u).
    Chapter 10: Attention.
    """
    return alpha * (dalpha - (alpha * dalpha).sum(axis=-1, keepdims=True))


# ------------------------------------------------------------ shared numpy core
def _check(query, keys, mask, **weights):
    dims = Dims()
    check_array("query", query, ("N", "Hq"), dims)
    check_array("keys", keys, ("N", "T", "Hk"), dims)
    if keys.shape[1] == 0:
        raise ValueError(f"keys must have shape (N, T, Hk) with T >= 1, got shape {keys.shape}")
    shapes = {"Wq": ("Hq", "A"), "Wk": ("Hk", "A"), "v": ("A",), "Wa": ("Hq", "Hk")}
    for name, w in weights.items():
        check_array(name, w, shapes[name], dims)
    check_same_dtype(query=query, keys=keys, **weights)
    if mask is None:
        return np.ones(keys.shape[:2], bool)
    return check_bool_or_01("mask", mask, ("N", "T"), dims).astype(bool)


def _pool(scores, keys, mask):
    """scores (N, T) -> alpha (N, T), context (N, Hk) = sum_t alpha_t h_t."""
    alpha = masked_softmax(scores, mask)
    context = np.einsum("nt,nth->nh", alpha, keys)  # (N, Hk)
    return context, alpha


def _unpool(dcontext, dalpha, alpha, keys):
    """Back through the context and the softmax -> dscores (N, T), dkeys (N, T, Hk) from c only."""
    check_like("dcontext", dcontext, keys.shape[::2], keys.dtype)
    da = np.einsum("nh,nth->nt", dcontext, keys)  # (N, T)
    if dalpha is not None:
        da = da + check_like("dalpha", dalpha, alpha.shape, alpha.dtype)
    dkeys = alpha[:, :, None] * dcontext[:, None, :]  # (N, T, Hk)
    return masked_softmax_backward(da, alpha), dkeys


# ------------------------------------------------------------------ additive
def additive_attention_forward(query, keys, mask, Wq, Wk, v):
    """Bahdanau's additive attention, one decoder step.

    Shapes: query (N, Hq), keys (N, T, Hk), mask (N, T) or None, Wq (Hq, A), Wk (Hk, A), v (A,)
    -> (context (N, Hk), alpha (N, T)), cache.
    Formula: e_t = v^T tanh(W_q s + W_k h_t); alpha = softmax_t(e) over real tokens;
    c = sum_t alpha_t h_t.
    Chapter 10: Attention.
    """
    mask = _check(query, keys, mask, Wq=Wq, Wk=Wk, v=v)
    a = np.tanh((query @ Wq)[:, None, :] + keys @ Wk)  # (N, T, A)
    context, alpha = _pool(a @ v, keys, mask)
    return (context, alpha), (query, keys, Wq, Wk, v, a, alpha)


def additive_attention_backward(dcontext, cache, dalpha=None):
    """Gradients of additive attention.

    Shapes: dcontext (N, Hk), dalpha (N, T) or None -> dquery (N, Hq), dkeys (N, T, Hk),
    dWq (Hq, A), dWk (Hk, A), dv (A,).
    Formula: with de_t from the softmax, dv = sum_{n,t} de_t a_t, dpre_t = de_t v * (1 - a_t^2),
    ds = W_q sum_t dpre_t, dh_t = alpha_t dc + W_k dpre_t.
    Chapter 10: Attention.
    """
    query, keys, Wq, Wk, v, a, alpha = cache
    de, dkeys = _unpool(dcontext, dalpha, alpha, keys)
    dv = np.einsum("nta,nt->a", a, de)
    dpre = de[:, :, None] * v * (1 - a * a)  # (N, T, A)
    dq_pre = dpre.sum(axis=1)  # (N, A): the query term is shared by every t
    dkeys = dkeys + dpre @ Wk.T
    dWk = np.einsum("nth,nta->ha", keys, dpre)
    return dq_pre @ Wq.T, dkeys, query.T @ dq_pre, dWk, dv


# ----------------------------------------------------------------------- dot
def dot_attention_forward(query, keys, mask, scale=1.0):
    """Luong's dot attention (``scale=1``) or scaled dot-product attention (``1/sqrt(Hk)``).

    Shapes: query (N, H), keys (N, T, H), mask (N, T) or None -> (context (N, H), alpha (N, T)), cache.
    Formula: e_t = scale * s^T h_t; alpha = softmax_t(e) over real tokens; c = sum_t alpha_t h_t.
    Chapter 10: Attention.
    """
    mask = _check(query, keys, mask)
    if query.shape[1] != keys.shape[2]:
        raise ValueError(f"dot attention needs query (N, H) and keys (N, T, H) of one size H, "
                         f"got query {query.shape} and keys {keys.shape}")
    scale = float(scale)
    context, alpha = _pool(scale * np.einsum("nh,nth->nt", query, keys), keys, mask)
    return (context, alpha), (query, keys, scale, alpha)


def dot_attention_backward(dcontext, cache, dalpha=None):
    """Gradients of dot attention.

    Shapes: dcontext (N, H), dalpha (N, T) or None -> dquery (N, H), dkeys (N, T, H).
    Formula: ds = scale sum_t de_t h_t; dh_t = alpha_t dc + scale de_t s.
    Chapter 10: Attention.
    """
    query, keys, scale, alpha = cache
    de, dkeys = _unpool(dcontext, dalpha, alpha, keys)
    dquery = scale * np.einsum("nt,nth->nh", de, keys)
    return dquery, dkeys + scale * de[:, :, None] * query[:, None, :]


# ------------------------------------------------------------------- general
def general_attention_forward(query, keys, mask, Wa):
    """Luong's general (bilinear) attention.

    Shapes: query (N, Hq), keys (N, T, Hk), mask (N, T) or None, Wa (Hq, Hk)
    -> (context (N, Hk), alpha (N, T)), cache.
    Formula: e_t = s^T W_a h_t; alpha = softmax_t(e) over real tokens; c = sum_t alpha_t h_t.
    Chapter 10: Attention.
    """
    mask = _check(query, keys, mask, Wa=Wa)
    qW = query @ Wa  # (N, Hk)
    context, alpha = _pool(np.einsum("nh,nth->nt", qW, keys), keys, mask)
    return (context, alpha), (query, keys, Wa, qW, alpha)


def general_attention_backward(dcontext, cache, dalpha=None):
    """Gradients of general attention.

    Shapes: dcontext (N, Hk), dalpha (N, T) or None -> dquery (N, Hq), dkeys (N, T, Hk), dWa (Hq, Hk).
    Formula: with g = sum_t de_t h_t: ds = W_a g, dW_a = sum_n s g^T; dh_t = alpha_t dc + de_t W_a^T s.
    Chapter 10: Attention.
    """
    query, keys, Wa, qW, alpha = cache
    de, dkeys = _unpool(dcontext, dalpha, alpha, keys)
    g = np.einsum("nt,nth->nh", de, keys)  # (N, Hk)
    return g @ Wa.T, dkeys + de[:, :, None] * qW[:, None, :], query.T @ g


def init_params(kind, query_size, key_size, attn_size=None, *, seed=0, dtype=np.float64):
    """Random weights for one attention kind: {} for dot, {"Wa"} for general, {"Wq", "Wk", "v"} for additive.

    Shapes: Wa (Hq, Hk); Wq (Hq, A), Wk (Hk, A), v (A,), with A = attn_size (default Hk).
    Chapter 10: Attention.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    Hq, Hk = check_positive_int("query_size", query_size), check_positive_int("key_size", key_size)
    A = Hk if attn_size is None else check_positive_int("attn_size", attn_size)
    rng = np.random.default_rng(seed)
    u = lambda *shape: rng.uniform(-1, 1, shape) / math.sqrt(shape[0])  # noqa: E731
    params = {"dot": {}, "general": {"Wa": u(Hq, Hk)},
              "additive": {"Wq": u(Hq, A), "Wk": u(Hk, A), "v": u(A)}}[kind]
    return {k: w.astype(dtype) for k, w in params.items()}


# --------------------------------------------------------------------- torch
class Attention(nn.Module):
    """Additive, dot or general attention over a padded source, from tensor ops (the numpy twin).

    Shapes: query (N, Hq) or (N, S, Hq) (S decoder steps at once), keys (N, T, Hk),
    mask (N, T) bool or None -> context (N, [S,] Hk), alpha (N, [S,] T).
    Formula: as the numpy functions; ``prepare(keys)`` computes the query-independent part
    (W_k h_t for additive, W_a h_t for general) once per source, for a decoder loop.
    Parameters: additive Wq (Hq, A), Wk (Hk, A), v (A,); general Wa (Hq, Hk); dot none.
    Chapter 10: Attention.
    """

    def __init__(self, kind, query_size, key_size, attn_size=None, *, scale=1.0, seed=None,
                 device=None, dtype=None):
        super().__init__()
        params = init_params(kind, query_size, key_size, attn_size,
                             seed=0 if seed is None else seed)
        if kind == "dot" and query_size != key_size:
            raise ValueError(f"dot attention needs query_size == key_size, got {query_size} "
                             f"and {key_size}")
        self.kind, self.scale = kind, float(scale)
        self.query_size, self.key_size = query_size, key_size
        for name, w in params.items():
            t = torch.as_tensor(w, dtype=dtype or torch.get_default_dtype(), device=device)
            if seed is None:  # torch's generator, as any nn.Module
                t.uniform_(-1, 1).div_(math.sqrt(w.shape[0]))
            self.register_parameter(name, nn.Parameter(t))

    def prepare(self, keys):
        """The query-independent part of the scores: W_k h_t (N, T, A) for additive; the keys
        themselves for dot and general (general multiplies the query by W_a instead)."""
        if self.kind == "additive":
            return keys @ self.Wk
        return keys

    def scores(self, query, prepared):
        """Scores e (N, S, T) for queries (N, S, Hq) and prepared keys."""
        if self.kind == "additive":
            a = torch.tanh((query @ self.Wq).unsqueeze(2) + prepared.unsqueeze(1))  # (N, S, T, A)
            return a @ self.v
        if self.kind == "general":
            query = query @ self.Wa  # s^T W_a h_t = (W_a^T s) . h_t
        return self.scale * (query @ prepared.transpose(1, 2))  # (N, S, T)

    def forward(self, query, keys, mask=None, prepared=None):
        if not isinstance(query, torch.Tensor) or query.dim() not in (2, 3):
            raise ValueError(f"query must be a tensor of shape (N, {self.query_size}) or "
                             f"(N, S, {self.query_size})")
        if not isinstance(keys, torch.Tensor) or keys.dim() != 3 or keys.shape[-1] != self.key_size:
            raise ValueError(f"keys must be a tensor of shape (N, T, {self.key_size})")
        one_step = query.dim() == 2
        q = query.unsqueeze(1) if one_step else query  # (N, S, Hq)
        e = self.scores(q, self.prepare(keys) if prepared is None else prepared)
        if mask is not None:
            e = e.masked_fill(~mask.bool().unsqueeze(1), float("-inf"))
        alpha = torch.softmax(e, dim=-1)  # over the source axis
        context = alpha @ keys  # (N, S, Hk)
        if one_step:
            return context.squeeze(1), alpha.squeeze(1)
        return context, alpha

    def numpy_params(self):
        """The weights as float64 numpy arrays, named as the numpy functions take them."""
        return {k: p.detach().cpu().to(torch.float64).numpy().copy() for k, p in self.named_parameters()}

    @classmethod
    def from_numpy(cls, kind, params, *, scale=1.0, device=None, dtype=torch.float64):
        """An :class:`Attention` holding numpy weights from :func:`init_params` (or the student's)."""
        if kind == "additive":
            Hq, A = params["Wq"].shape
            Hk = params["Wk"].shape[0]
        elif kind == "general":
            (Hq, Hk), A = params["Wa"].shape, None
        else:
            raise ValueError("dot attention has no weights: use Attention('dot', H, H) directly")
        module = cls(kind, Hq, Hk, A, scale=scale, seed=0, device=device, dtype=dtype)
        with torch.no_grad():
            for name, p in module.named_parameters():
                p.copy_(torch.as_tensor(params[name]))
        return module
