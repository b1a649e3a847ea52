"""Decoding CTC outputs: best path (greedy) and prefix beam search.

A CTC network emits one distribution over ``C`` classes (class ``blank`` included) per
frame; a label sequence is read off by the collapsing map ``B``: merge runs of the same
class, then drop the blanks (``B(a a - a b b -) = a a b``, ``-`` the blank).

- :func:`ctc_collapse`: ``B`` itself, on one path.
- :func:`ctc_greedy_decode`: the *best path*: ``B(argmax_k y[t, k] for each t)``. It finds
  the likeliest single path, not the likeliest labelling.
- :func:`ctc_prefix_beam_search`: the likeliest labelling, approximately: a beam of
  prefixes, each scored by the total probability of all paths that collapse to it, split
  into paths ending in a blank (``p_b``) and in a label (``p_nb``). For each frame and class
  ``k`` with probability ``y``::

      k = blank:             p_b(l)       += (p_b(l) + p_nb(l)) * y
      k = last label of l:   p_nb(l)      += p_nb(l) * y      (the run goes on)
                             p_nb(l + k)  += p_b(l) * y       (a new k after a blank)
      otherwise:             p_nb(l + k)  += (p_b(l) + p_nb(l)) * y

  and the ``beam_size`` prefixes of largest ``p_b + p_nb`` are kept (Hannun et al. 2014,
  without a language model). All in log space. Chapter 12.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from coursekit._validate import Dims, check_array, check_int_array, check_positive_int

__all__ = ["ctc_collapse", "ctc_greedy_decode", "ctc_prefix_beam_search",
           "ctc_beam_decode"]


def ctc_collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """``B(path)``: merge runs of the same class, then drop blanks. Shapes: (T,) -> list."""
    out, prev = [], None
    for k in path:
        k = int(k)
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return out


def _check_scores(scores, input_lengths, blank):
    dims = Dims()
    check_array("scores", scores, ("N", "T", "C"), dims)
    n, t_max, c = scores.shape
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < c:
        raise ValueError(f"blank must be an int class index in [0, C={c}), got {blank!r}")
    if input_lengths is None:
        return np.full(n, t_max, dtype=np.int64)
    check_int_array("input_lengths", input_lengths, ("N",), dims, low=0, high=t_max + 1)
    return input_lengths


def ctc_greedy_decode(scores, input_lengths=None, blank=0) -> list[list[int]]:
    """Best-path decoding: argmax class of each frame, collapse repeats, drop blanks.

    Shapes: scores (N, T, C) (logits, log-probabilities or probabilities: only the argmax
    matters), input_lengths (N,) ints or None (all T) -> N lists of class indices.
    Formula: ``B(argmax_k scores[n, t, k] for t < T_n)``. Chapter 12.
    """
    lengths = _check_scores(scores, input_lengths, blank)
    best = scores.argmax(axis=-1)
    return [ctc_collapse(best[i, :lengths[i]], blank) for i in range(scores.shape[0])]


def _lse(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def ctc_prefix_beam_search(log_probs, beam_size: int = 8, blank: int = 0,
                           prune: float = -12.0) -> list[tuple[tuple[int, ...], float]]:
    """Prefix beam search over one sequence's per-frame log-probabilities.

    Shapes: log_probs (T, C) (log-softmax outputs) -> up to ``beam_size`` pairs
    ``(labelling, log p)`` best first, where ``log p = log(p_b + p_nb)`` sums every path
    that collapses to the labelling (the update rules are in the module docstring).
    Classes with ``log y < prune`` at a frame are skipped (they cannot change the beam
    at the course's scales; ``prune=-inf`` tries them all). Chapter 12.
    """
    check_array("log_probs", log_probs, ("T", "C"))
    beam_size = check_positive_int("beam_size", beam_size)
    t_max, c = log_probs.shape
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < c:
        raise ValueError(f"blank must be an int class index in [0, C={c}), got {blank!r}")
    ninf = -math.inf
    beam = {(): (0.0, ninf)}                                 # prefix -> (log p_b, log p_nb)
    lp = np.asarray(log_probs, dtype=np.float64)
    for t in range(t_max):
        row = lp[t]
        ks = [k for k in range(c) if row[k] >= prune or k == blank]
        nxt: dict[tuple[int, ...], list[float]] = {}

        def add(prefix, which, value, nxt=nxt):
            cell = nxt.setdefault(prefix, [ninf, ninf])
            cell[which] = _lse(cell[which], value)
        for prefix, (pb, pnb) in beam.items():
            total = _lse(pb, pnb)
            last = prefix[-1] if prefix else None
            for k in ks:
                y = float(row[k])
                if k == blank:
                    add(prefix, 0, total + y)
                elif k == last:
                    add(prefix, 1, pnb + y)
                    add(prefix + (k,), 1, pb + y)
                else:
                    add(prefix + (k,), 1, total + y)
        ranked = sorted(nxt.items(), key=lambda kv: (-_lse(*kv[1]), kv[0]))
        beam = {p: (v[0], v[1]) for p, v in ranked[:beam_size]}
    return [(p, _lse(*v)) for p, v in sorted(beam.items(), key=lambda kv: (-_lse(*kv[1]), kv[0]))]


def ctc_beam_decode(log_probs, input_lengths=None, beam_size: int = 8, blank: int = 0,
                    prune: float = -12.0) -> list[list[int]]:
    """The best labelling of each sequence by :func:`ctc_prefix_beam_search`.

    Shapes: log_probs (N, T, C) log-softmax outputs, input_lengths (N,) or None -> N lists.
    Chapter 12.
    """
    lengths = _check_scores(log_probs, input_lengths, blank)
    return [list(ctc_prefix_beam_search(log_probs[i, :lengths[i]], beam_size, blank, prune)[0][0])
            for i in range(log_probs.shape[0])]
