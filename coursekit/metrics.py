"""Metrics: how good a model is, in the units the chapters use.

- Language models (chapter 3): :func:`nats_to_bits`, :func:`perplexity`,
  :func:`entropy_bits`.
- Classification: :func:`accuracy`.
- Sequences (chapters 9-12): :func:`edit_distance` (Levenshtein) and
  :func:`error_rate` (token, phoneme, character or word error rate).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from coursekit._validate import check_array

__all__ = ["nats_to_bits", "perplexity", "entropy_bits", "accuracy", "edit_distance",
           "error_rate"]


def nats_to_bits(loss_nats: float) -> float:
    """Convert a cross-entropy from nats to bits per character: ``L / ln 2``. Chapter 3."""
    return float(loss_nats) / math.log(2.0)


def perplexity(loss_nats: float) -> float:
    """Perplexity ``exp(L)`` of a mean cross-entropy ``L`` in nats. Chapter 3."""
    return float(math.exp(loss_nats))


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy ``-sum_k p_k log2 p_k`` (bits) over the last axis; 0 log 0 = 0.

    Shapes: p (..., V) -> (...). Chapter 3.
    """
    check_array("p", p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def accuracy(predictions, targets) -> float:
    """Fraction of positions where ``predictions == targets`` (same shape, any ints).

    Shapes: predictions (...), targets (...) -> float in [0, 1].
    """
    p, t = np.asarray(predictions), np.asarray(targets)
    if p.shape != t.shape:
        raise ValueError(f"predictions and targets must have the same shape, got {p.shape} "
                         f"and {t.shape}")
    if p.size == 0:
        raise ValueError("predictions is empty: accuracy needs at least one prediction")
    return float((p == t).mean())


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b.

    Shapes: two sequences of hashable tokens (a str is a sequence of characters) -> int.
    Formula: D[i, j] = min(D[i-1, j] + 1, D[i, j-1] + 1, D[i-1, j-1] + [a_i != b_j]),
    D[i, 0] = i, D[0, j] = j; the distance is D[len(a), len(b)]. One row at a time.
    Chapters 9 and 12.
    """
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a                          # the row is over the shorter sequence
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def error_rate(hypotheses: Sequence[Sequence], references: Sequence[Sequence]) -> float:
    """Corpus error rate: total edit distance over total reference length.

    Shapes: two equal-length lists of token sequences (phonemes for PER, words for WER,
    the characters of strings for CER) -> float (0 is perfect; it can exceed 1).
    Formula: ER = sum_i edit_distance(hyp_i, ref_i) / sum_i len(ref_i).
    Chapters 9 (phoneme and word error rate) and 12 (character error rate).
    """
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise ValueError("hypotheses and references must be lists of sequences (wrap a single "
                         "string in a list)")
    if len(hypotheses) != len(references):
        raise ValueError(f"hypotheses and references must have the same length, got "
                         f"{len(hypotheses)} and {len(references)}")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("references are all empty: the error rate is undefined")
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references)) / total
