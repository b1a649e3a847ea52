"""Metrics: how good a model is, in the units the chapters use.

- Language models (chapter 3): :func:`nats_to_bits`, :func:`perplexity`,
  :func:`entropy_bits`.
- Classification: :func:`accuracy`.
- Sequences (chapters 9-12): :func:`edit_distance` (Levenshtein) and
  :func:`error_rate` (token, phoneme, character or word error rate).
- Translation (chapters 9-11): :func:`corpus_bleu`, :func:`sentence_bleu` (BLEU of
  Papineni et al. 2002 on token lists, equal to sacrebleu's ``tokenize="none"``), and for
  G2P :func:`closest_reference_errors` (phoneme and word error rate against the closest
  of several pronunciations); :func:`paired_bootstrap` (is one system's BLEU higher than
  another's by more than the choice of test sentences explains?).

BLEU, computed from corpus totals:

    p_n  = sum over sentences of clipped matches of n-grams / sum of hypothesis n-grams
           (clipped: an n-gram counts at most as often as it occurs in the one reference
           where it occurs most)
    BP   = 1 if c > r else exp(1 - r / c)   (c: total hypothesis length, r: sum over
           sentences of the reference length closest to the hypothesis's, ties to the shorter)
    BLEU = BP * exp( (1/N) sum_{n=1}^{N} log p_n )

It equals sacrebleu's ``BLEU(tokenize="none")`` on the same space-joined tokens (divided by
100) and NLTK's ``corpus_bleu``, except that NLTK counts a hypothesis shorter than n as
having one n-gram (its denominator is ``max(1, count)``); we follow sacrebleu and count none.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

import numpy as np

from coursekit._validate import check_array

__all__ = ["nats_to_bits", "perplexity", "entropy_bits", "accuracy", "edit_distance",
           "error_rate", "closest_reference_errors", "ngram_counts", "bleu_statistics",
           "bleu_from_statistics", "corpus_bleu", "sentence_bleu", "paired_bootstrap"]

SMOOTHING = (None, "floor", "add-k", "exp")


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


def closest_reference_errors(hypotheses, references) -> tuple[int, int, int]:
    """Edit errors against the closest of several references (e.g. a word's pronunciations).

    Shapes: hypotheses: M token sequences; references: M lists of one or more token sequences.
    Returns ``(errors, reference tokens, sequences wrong)``: for each hypothesis the reference
    with the fewest edits (ties: the shorter) gives its errors and its length; a sequence is
    wrong when it equals none of its references.
    Formula: PER = errors / reference tokens; WER (word error rate of G2P) = wrong / M.
    Chapters 9 and 10 (G2P, Bisani and Ney 2008).
    """
    hypotheses, references = _check_corpus(hypotheses, references)
    errors = length = wrong = 0
    for hyp, refs in zip(hypotheses, references):
        d, r = min((edit_distance(hyp, ref), len(ref)) for ref in refs)
        errors, length, wrong = errors + d, length + r, wrong + (d > 0)
    return errors, length, wrong


# ----------------------------------------------------------------------- BLEU
def ngram_counts(tokens: Sequence, n: int) -> Counter:
    """The n-grams of ``tokens`` (as tuples) with their counts."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _closest_length(hyp_len: int, ref_lens: list[int]) -> int:
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


def _check_corpus(hypotheses, references):
    if isinstance(hypotheses, (str, bytes)) or isinstance(references, (str, bytes)):
        raise TypeError("hypotheses and references must be lists of token lists, not strings")
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(f"references must hold one list of references per hypothesis: got "
                         f"{len(hypotheses)} hypotheses and {len(references)} reference lists")
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if isinstance(hyp, str):
            raise TypeError(f"hypotheses[{i}] is a str; pass a list of tokens (e.g. s.split())")
        refs = list(refs)
        if not refs or any(isinstance(r, str) for r in refs):
            raise TypeError(f"references[{i}] must be a non-empty list of token lists "
                            f"(one list per reference), got {refs!r:.80}")
    return hypotheses, [list(r) for r in references]


def bleu_statistics(hypotheses, references, max_n: int = 4) -> dict:
    """The sufficient statistics of corpus BLEU.

    Returns {"matches": [clipped matches for n = 1..max_n], "totals": [hypothesis n-grams],
    "hyp_len": c, "ref_len": r}.
    """
    hypotheses, references = _check_corpus(hypotheses, references)
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n must be a positive integer, got {max_n!r}")
    matches, totals, hyp_len, ref_len = [0] * max_n, [0] * max_n, 0, 0
    for hyp, refs in zip(hypotheses, references):
        hyp_len += len(hyp)
        ref_len += _closest_length(len(hyp), [len(r) for r in refs])
        for n in range(1, max_n + 1):
            counts = ngram_counts(hyp, n)
            best = Counter()
            for ref in refs:
                best |= ngram_counts(ref, n)  # per n-gram, the largest count in any one reference
            matches[n - 1] += sum(min(c, best[g]) for g, c in counts.items())  # clipped
            totals[n - 1] += sum(counts.values())
    return {"matches": matches, "totals": totals, "hyp_len": hyp_len, "ref_len": ref_len}


def bleu_from_statistics(stats: dict, smooth: str | None = None, smooth_value: float | None = None):
    """BLEU and its parts from :func:`bleu_statistics`.

    Smoothing (Chen and Cherry 2014), for sentence-level use where some p_n is 0:
    ``None`` (none: BLEU is 0 if any p_n is 0), ``"floor"`` (a zero count becomes
    ``smooth_value``, default 0.1), ``"add-k"`` (add ``smooth_value``, default 1, to the
    matches and totals of n >= 2: Lin and Och 2004), ``"exp"`` (the k-th zero precision
    becomes 1 / (2^k total): NIST's mteval). Same as sacrebleu's ``smooth_method`` and NLTK's
    ``SmoothingFunction().method1/2/3``.
    Returns {"bleu", "precisions", "bp", "hyp_len", "ref_len"}.
    """
    if smooth not in SMOOTHING:
        raise ValueError(f"smooth must be one of {SMOOTHING}, got {smooth!r}")
    c, r = stats["hyp_len"], stats["ref_len"]
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c > 0 else 0.0)
    precisions, k = [], 0
    for n, (m, t) in enumerate(zip(stats["matches"], stats["totals"]), start=1):
        if smooth == "add-k" and n > 1:
            add = 1.0 if smooth_value is None else smooth_value
            m, t = m + add, t + add
        if t == 0:
            p = 0.0
        elif m > 0:
            p = m / t
        elif smooth == "floor":
            p = (0.1 if smooth_value is None else smooth_value) / t
        elif smooth == "exp":
            k += 1
            p = 1.0 / (2 ** k * t)
        else:
            p = 0.0
        precisions.append(p)
    if not any(stats["matches"]) or min(precisions) == 0.0:
        bleu = 0.0
    else:
        bleu = bp * math.exp(sum(math.log(p) for p in precisions) / len(precisions))
    return {"bleu": bleu, "precisions": precisions, "bp": bp, "hyp_len": c, "ref_len": r}


def corpus_bleu(hypotheses, references, max_n: int = 4, *, smooth: str | None = None,
                smooth_value: float | None = None) -> float:
    """Corpus BLEU in [0, 1] of token-list hypotheses against one or more references each.

    Shapes: hypotheses: a list of M token lists; references: a list of M lists, each holding
    one or more token lists (``[[ref_a], [ref_b1, ref_b2], ...]``).
    Formula: BLEU = BP exp((1/N) sum_n log p_n) with clipped n-gram precisions p_n summed over
    the corpus and BP from the closest reference lengths (module docstring); ``smooth`` as
    in :func:`bleu_from_statistics`.
    Chapter 9: Sequence to sequence.
    """
    return bleu_from_statistics(bleu_statistics(hypotheses, references, max_n),
                                smooth, smooth_value)["bleu"]


def sentence_bleu(hypothesis, references, max_n: int = 4, *, smooth: str | None = "exp",
                  smooth_value: float | None = None) -> float:
    """BLEU of one hypothesis (a token list) against its references (a list of token lists).

    Formula: corpus BLEU of a one-sentence corpus, smoothed by default (``"exp"``), since a
    short sentence often has no matching 4-gram.
    Chapter 9: Sequence to sequence.
    """
    return corpus_bleu([hypothesis], [references], max_n, smooth=smooth, smooth_value=smooth_value)


def _sentence_statistics(hypotheses, references, max_n):
    """(M, 2 max_n + 2) array: each sentence's matches, totals, hyp_len and ref_len."""
    rows = []
    for hyp, refs in zip(hypotheses, references):
        st = bleu_statistics([hyp], [refs], max_n)
        rows.append(st["matches"] + st["totals"] + [st["hyp_len"], st["ref_len"]])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 2 * max_n + 2)


def _bleu_of_sums(sums, max_n):
    """Unsmoothed BLEU of each row of summed sentence statistics (K, 2 max_n + 2)."""
    m, t = sums[:, :max_n], sums[:, max_n:2 * max_n]
    c, r = sums[:, -2], sums[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(c > r, 1.0, np.where(c > 0, np.exp(1 - r / np.maximum(c, 1e-300)), 0.0))
        ok = (m > 0).all(axis=1) & (t > 0).all(axis=1)
        logp = np.where(ok[:, None], np.log(np.where(ok[:, None], m / np.where(t > 0, t, 1), 1.0)), 0.0)
    return np.where(ok, bp * np.exp(logp.mean(axis=1)), 0.0)


def paired_bootstrap(hypotheses_a, hypotheses_b, references, max_n: int = 4, *,
                     samples: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap resampling of the test sentences (Koehn 2004) for corpus BLEU.

    Shapes: two lists of M token-list hypotheses (systems A and B, on the same sources) and
    one list of M reference lists, as for :func:`corpus_bleu`.
    Method: draw ``samples`` test sets of M sentences with replacement (the same draw for
    both systems), compute both corpus BLEUs on each and their difference B - A.
    Returns {"bleu_a", "bleu_b", "delta" (B - A on the whole test set), "low", "high" (the
    2.5% and 97.5% quantiles of the resampled differences), "b_better" (the fraction of
    samples where B scores strictly higher), "samples"}.
    Chapter 10: Attention.
    """
    hyp_a, refs = _check_corpus(hypotheses_a, references)
    hyp_b, _ = _check_corpus(hypotheses_b, references)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    sa, sb = _sentence_statistics(hyp_a, refs, max_n), _sentence_statistics(hyp_b, refs, max_n)
    rng = np.random.default_rng(seed)
    deltas = []
    for start in range(0, samples, 100):
        idx = rng.integers(0, len(refs), size=(min(100, samples - start), len(refs)))
        deltas.append(_bleu_of_sums(sb[idx].sum(1), max_n) - _bleu_of_sums(sa[idx].sum(1), max_n))
    deltas = np.concatenate(deltas)
    a, b = (float(_bleu_of_sums(x.sum(0, keepdims=True), max_n)[0]) for x in (sa, sb))
    return {"bleu_a": a, "bleu_b": b, "delta": b - a, "low": float(np.quantile(deltas, 0.025)),
            "high": float(np.quantile(deltas, 0.975)), "b_better": float((deltas > 0).mean()),
            "samples": samples}
