"""Connectionist temporal classification (CTC): the loss, its gradient and its decoders.

CTC (Graves et al. 2006) scores a label sequence ``z`` (length ``S``, no blanks) against
per-frame class scores ``logits`` (``T`` frames, ``C`` classes, class ``blank`` = "no
label here") by summing over every *alignment*: every frame-level path ``pi`` that
collapses to ``z`` when repeats are merged and blanks dropped (``B(pi) = z``).

Notation (chapter 12). ``y[t, k] = softmax(logits[t])[k]``; the extended label
``l' = (blank, z_1, blank, z_2, ..., z_S, blank)`` has ``L = 2S + 1`` entries. In log
space, with ``a[t, s] = log alpha_t(s)`` (the log-probability of all path prefixes up to
frame ``t`` that end in ``l'_s``)::

    a[0, 0] = log y[0, blank],   a[0, 1] = log y[0, z_1],   a[0, s>1] = -inf
    a[t, s] = log y[t, l'_s] + logsumexp(a[t-1, s], a[t-1, s-1], a[t-1, s-2] if skip(s))
    skip(s) = (l'_s != blank and l'_s != l'_{s-2})     # a blank between repeats is required
    loss    = -log p(z | x) = -logsumexp(a[T-1, L-1], a[T-1, L-2])

The backward variable ``b[t, s] = log beta_t(s)`` runs the same recursion from the end
(``b[T-1, L-1] = log y[T-1, blank]``, ``b[T-1, L-2] = log y[T-1, z_S]``), and the gradient
with respect to the logits is (Graves 2012, eq. 7.30)::

    d loss / d logits[t, k] = y[t, k] - sum_{s : l'_s = k} exp(a[t, s] + b[t, s]
                                                   - log y[t, k] + loss)

(the second term is the posterior probability that frame ``t`` emits ``k``).

Functions (batch first, ragged lengths):

- :func:`ctc_loss` / :func:`ctc_loss_backward`: the numpy reference, the recursion above
  vectorised over the batch and the ``L`` positions (a loop over time only);
- :func:`ctc_loss_torch`: the PyTorch twin written from tensor ops (autograd gives its
  gradient), checked against ``torch.nn.functional.ctc_loss``;
- :func:`ctc_greedy_decode` (best path: argmax per frame, collapse repeats, drop blanks)
  and :func:`ctc_prefix_beam_search` (sums the probability of all paths of a prefix)
  in :mod:`coursekit.nn.ctc_decode`.

The impossible case: a target needs ``S + r`` frames, where ``r`` counts adjacent
repeated labels (each repeat needs a blank between). With fewer frames no path exists,
``p(z | x) = 0`` and the loss is ``inf``, as in ``torch.nn.functional.ctc_loss`` with
``zero_infinity=False``. Its gradient is undefined; :func:`ctc_loss_backward` returns zeros
for such a sequence (what torch returns with ``zero_infinity=True``), and
``ctc_loss(..., zero_infinity=True)`` also reports its loss as 0. Chapter 12.
"""
from __future__ import annotations

import numpy as np
import torch

from coursekit._validate import Dims, check_array, check_int_array, check_like

__all__ = ["ctc_loss", "ctc_loss_backward", "ctc_loss_torch", "extended_labels",
           "min_frames", "log_softmax"]

NEG = -1e30   # "log 0" of the torch twin: finite, so that autograd never meets inf - inf


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``logits - logsumexp(logits)`` over the last axis. Shapes: (..., C) -> (..., C)."""
    m = logits.max(axis=-1, keepdims=True)
    z = logits - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def extended_labels(targets: np.ndarray, target_lengths: np.ndarray, blank: int = 0):
    """The extended labels ``l'`` and the skip mask of the recursion, padded with blanks.

    Shapes: targets (N, S), target_lengths (N,) -> ext (N, 2S+1) ints,
    skip (N, 2S+1) bool (``skip[n, s]``: the transition ``s-2 -> s`` is allowed).
    """
    n, s_max = targets.shape
    ext = np.full((n, 2 * s_max + 1), blank, dtype=np.int64)
    valid = np.arange(s_max)[None, :] < target_lengths[:, None]
    ext[:, 1::2] = np.where(valid, targets, blank)
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def min_frames(targets: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    """Fewest frames an alignment of each target needs: ``S + (number of adjacent repeats)``.

    Shapes: targets (N, S), target_lengths (N,) -> (N,) ints. A shorter input makes the
    CTC loss infinite (the impossible case).
    """
    s_max = targets.shape[1]
    if s_max < 2:
        return target_lengths.astype(np.int64).copy()
    inside = np.arange(1, s_max)[None, :] < target_lengths[:, None]
    repeats = ((targets[:, 1:] == targets[:, :-1]) & inside).sum(axis=1)
    return (target_lengths + repeats).astype(np.int64)


def _check(logits, targets, input_lengths, target_lengths, blank):
    dims = Dims()
    check_array("logits", logits, ("N", "T", "C"), dims)
    n, t_max, c = logits.shape
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < c:
        raise ValueError(f"blank must be an int class index in [0, C={c}), got {blank!r}")
    check_array("targets", targets, ("N", "S"), dims, dtype=np.integer)
    check_int_array("input_lengths", input_lengths, ("N",), dims, low=0, high=t_max + 1)
    check_int_array("target_lengths", target_lengths, ("N",), dims, low=0,
                    high=targets.shape[1] + 1)
    valid = np.arange(targets.shape[1])[None, :] < target_lengths[:, None]
    used = targets[valid]
    if used.size and (used.min() < 0 or used.max() >= c or (used == blank).any()):
        raise ValueError(f"targets must hold class indices in [0, C={c}) other than the blank "
                         f"({blank}) within each target length")
    if (input_lengths < 1).any():
        raise ValueError("input_lengths must be >= 1 (every sequence needs a frame)")


def _logsumexp3(a, b, c):
    return np.logaddexp(np.logaddexp(a, b), c)


def ctc_loss(logits, targets, input_lengths, target_lengths, blank=0, *,
             zero_infinity=False):
    """CTC negative log-likelihood of each sequence, log-softmax inside, alpha recursion in log space.

    Shapes: logits (N, T, C) float32/float64 (unnormalised scores; a log-softmax is
    applied over C), targets (N, S) ints padded beyond ``target_lengths`` (values there
    are ignored), input_lengths (N,) ints in [1, T], target_lengths (N,) ints in [0, S]
    -> losses (N,) in the logits' dtype, and a cache for :func:`ctc_loss_backward`.

    Formula: see the module docstring (``a[t, s]``, ``loss = -logsumexp(a[T_n-1, L_n-1],
    a[T_n-1, L_n-2])`` with ``L_n = 2 S_n + 1``). An empty target gives
    ``-sum_t log y[t, blank]``; a target longer than its input allows (see
    :func:`min_frames`) gives ``inf`` (0 with ``zero_infinity=True``). Chapter 12.
    """
    _check(logits, targets, input_lengths, target_lengths, blank)
    n, t_max, _ = logits.shape
    lp = log_softmax(logits)
    ext, skip = extended_labels(targets, target_lengths, blank)
    length = ext.shape[1]
    lp_ext = np.take_along_axis(lp, np.broadcast_to(ext[:, None, :], (n, t_max, length)), axis=2)
    ninf = np.array(-np.inf, dtype=lp.dtype)
    skip_add = np.where(skip, 0.0, -np.inf).astype(lp.dtype)[:, 2:]
    alpha = np.full((n, t_max, length), ninf, dtype=lp.dtype)
    alpha[:, 0, 0] = lp_ext[:, 0, 0]
    if length > 1:
        alpha[:, 0, 1] = np.where(target_lengths > 0, lp_ext[:, 0, 1], ninf)
    prev = np.full((n, length + 2), ninf, dtype=lp.dtype)   # two -inf columns in front
    for t in range(1, t_max):
        prev[:, 2:] = alpha[:, t - 1]
        acc = np.logaddexp(prev[:, 2:], prev[:, 1:-1])
        acc[:, 2:] = np.logaddexp(acc[:, 2:], prev[:, 2:-2] + skip_add)
        alpha[:, t] = acc + lp_ext[:, t]
    rows = np.arange(n)
    last = alpha[rows, input_lengths - 1]                     # (N, L)
    end = 2 * target_lengths
    log_p = np.where(target_lengths > 0,
                     np.logaddexp(last[rows, end], last[rows, np.maximum(end - 1, 0)]),
                     last[rows, end])
    with np.errstate(invalid="ignore"):
        losses = -log_p
    impossible = ~np.isfinite(losses)
    if zero_infinity:
        losses = np.where(impossible, 0.0, losses).astype(lp.dtype)
    cache = dict(lp=lp, ext=ext, skip=skip, alpha=alpha, input_lengths=input_lengths,
                 target_lengths=target_lengths, losses=-log_p, impossible=impossible,
                 blank=blank, shape=losses.shape, dtype=losses.dtype)
    return losses, cache


def ctc_loss_backward(dlosses, cache):
    """Gradient of the CTC losses with respect to the logits, by the beta recursion.

    Shapes: dlosses (N,) (upstream gradient of each loss), cache from :func:`ctc_loss`
    -> dlogits (N, T, C). Formula: ``dlogits[n, t, k] = dlosses[n] * (y[t, k] -
    sum_{s: l'_s = k} exp(a[t, s] + b[t, s] - log y[t, k] + loss_n))`` for
    ``t < input_lengths[n]``, and 0 for the steps past an input's length and for
    impossible targets (infinite loss). Chapter 12.
    """
    check_like("dlosses", dlosses, cache["shape"], cache["dtype"])
    lp, ext, skip, alpha = cache["lp"], cache["ext"], cache["skip"], cache["alpha"]
    lengths, tlen = cache["input_lengths"], cache["target_lengths"]
    n, t_max, c = lp.shape
    length = ext.shape[1]
    lp_ext = np.take_along_axis(lp, np.broadcast_to(ext[:, None, :], (n, t_max, length)), axis=2)
    ninf = np.array(-np.inf, dtype=lp.dtype)
    skip_add = np.where(skip, 0.0, -np.inf).astype(lp.dtype)[:, 2:]
    rows = np.arange(n)
    end = 2 * tlen
    init = np.full((n, length), ninf, dtype=lp.dtype)         # b at t = T_n - 1
    init[rows, end] = lp_ext[rows, lengths - 1, end]
    has = tlen > 0
    init[rows[has], end[has] - 1] = lp_ext[rows[has], lengths[has] - 1, end[has] - 1]
    beta = np.full((n, t_max, length), ninf, dtype=lp.dtype)
    nxt = np.full((n, length + 2), ninf, dtype=lp.dtype)      # two -inf columns behind
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            nxt[:, :-2] = beta[:, t + 1]
            acc = np.logaddexp(nxt[:, :-2], nxt[:, 1:-1])
            acc[:, :-2] = np.logaddexp(acc[:, :-2], nxt[:, 2:-2] + skip_add)
            beta[:, t] = acc + lp_ext[:, t]
        starts = lengths - 1 == t
        if starts.any():
            beta[starts, t] = init[starts]
    with np.errstate(invalid="ignore", over="ignore"):
        log_occ = alpha + beta - lp_ext + cache["losses"][:, None, None]
        occ = np.exp(log_occ)                                 # (N, T, L) posteriors
    occ = np.nan_to_num(occ, nan=0.0, posinf=0.0)
    onehot = (ext[:, :, None] == np.arange(c)[None, None, :]).astype(lp.dtype)   # (N, L, C)
    dlogits = np.exp(lp) - occ @ onehot
    live = (np.arange(t_max)[None, :] < lengths[:, None]) & ~cache["impossible"][:, None]
    return (dlogits * (live[:, :, None] * dlosses[:, None, None])).astype(lp.dtype)


def ctc_loss_torch(logits: torch.Tensor, targets: torch.Tensor, input_lengths: torch.Tensor,
                   target_lengths: torch.Tensor, blank: int = 0) -> torch.Tensor:
    """The PyTorch twin of :func:`ctc_loss`, written from tensor ops (autograd gives the gradient).

    Shapes: logits (N, T, C), targets (N, S) long, input_lengths (N,), target_lengths (N,)
    -> losses (N,). The same recursion in log space with ``torch.logsumexp``, where an
    unreachable state holds ``NEG = -1e30`` instead of ``-inf`` (so no gradient is NaN);
    infinite for impossible targets (their gradient is 0). Chapter 12.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
        raise ValueError(f"logits must be a torch.Tensor of shape (N, T, C), got "
                         f"{tuple(getattr(logits, 'shape', ())) or type(logits).__name__}")
    n, t_max, _ = logits.shape
    lp = torch.log_softmax(logits, dim=-1)
    ext_np, skip_np = extended_labels(targets.cpu().numpy(), target_lengths.cpu().numpy(), blank)
    ext = torch.as_tensor(ext_np, device=logits.device)
    skip = torch.as_tensor(skip_np, device=logits.device)
    length = ext.shape[1]
    lp_ext = torch.gather(lp, 2, ext[:, None, :].expand(n, t_max, length))
    # unreachable states hold NEG, not -inf: logsumexp over all -inf has a NaN gradient
    neg = torch.tensor(NEG, dtype=lp.dtype, device=lp.device)
    first = torch.full((n, length), NEG, dtype=lp.dtype, device=lp.device)
    first[:, 0] = 0.0
    if length > 1:
        first[:, 1] = torch.where(target_lengths.to(lp.device) > 0, 0.0, neg)
    alphas = [first + lp_ext[:, 0]]
    pad = torch.full((n, 1), NEG, dtype=lp.dtype, device=lp.device)
    for t in range(1, t_max):
        a = alphas[-1]
        a1 = torch.cat([pad, a[:, :-1]], dim=1)
        a2 = torch.where(skip, torch.cat([pad, pad, a[:, :-2]], dim=1), neg)
        alphas.append(torch.logsumexp(torch.stack([a, a1, a2]), dim=0) + lp_ext[:, t])
    alpha = torch.stack(alphas, dim=1)                        # (N, T, L)
    rows = torch.arange(n, device=lp.device)
    last = alpha[rows, input_lengths.to(lp.device) - 1]
    end = 2 * target_lengths.to(lp.device)
    one = last[rows, end]
    two = torch.where(end > 0, last[rows, (end - 1).clamp(min=0)], neg)
    log_p = torch.logaddexp(one, two)
    return torch.where(log_p < NEG / 2, torch.inf, -log_p)
