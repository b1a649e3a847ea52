"""Counting baselines of chapter 3: add-alpha n-gram models of characters.

``ngram_cross_entropy`` counts n-grams of the training ids and scores held-out
ids with p(c | ctx) = (count(ctx, c) + alpha) / (count(ctx) + alpha V). Up to
``DENSE_MAX`` table entries it counts into a dense (V^(n-1), V) table; beyond,
it counts only the n-grams that occur (each n-gram one int64 key, counted
with ``np.unique``), so n = 5 or 6 on a million characters takes a fraction
of a second instead of a table of V^n entries (about 8 GB at n = 5 with
V = 63). ``ngram_contexts`` says how many of the V^(n-1) contexts the training
text covers. :mod:`coursekit.book.ch03_charlm` re-exports both. Chapter 3.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import check_int_array, check_positive_int

__all__ = ["DENSE_MAX", "ngram_cross_entropy", "ngram_contexts"]

#: Above this many table entries (V**n) ``ngram_cross_entropy`` counts sparsely by default
DENSE_MAX = 2 ** 22


def _ngram_codes(ids: np.ndarray, n: int, V: int) -> np.ndarray:
    """Every n-gram of ``ids`` as one int64 key, ctx * V + next: shape (len - n + 1,)."""
    ids = ids.astype(np.int64)
    code = np.zeros(len(ids) - n + 1, dtype=np.int64)
    for j in range(n):
        code = code * V + ids[j:len(ids) - n + 1 + j]
    return code


def _sparse_counts(codes: np.ndarray, V: int):
    """The n-grams that occur in ``codes`` and their contexts, each sorted with its counts.

    Returns ``(keys, counts, ctx_keys, ctx_counts)``; one sort (``np.unique``): the
    keys are sorted by context first, so each context's counts are a contiguous run.
    """
    keys, counts = np.unique(codes, return_counts=True)
    ctx = keys // V
    starts = np.flatnonzero(np.r_[True, ctx[1:] != ctx[:-1]])     # first key of each context
    return keys, counts, ctx[starts], np.add.reduceat(counts, starts)


def _count_of(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Counts of ``query`` in a sorted table (``keys``, ``counts``); 0 where absent."""
    i = np.searchsorted(keys, query).clip(max=len(keys) - 1)
    return np.where(keys[i] == query, counts[i], 0)


def _check_ngram_args(train_ids, eval_ids, V, n):
    V, n = check_positive_int("V", V), check_positive_int("n", n)
    check_int_array("train_ids", train_ids, ("L",), low=0, high=V)
    check_int_array("eval_ids", eval_ids, ("M",), low=0, high=V)
    if len(train_ids) < n or len(eval_ids) < n:
        raise ValueError(f"train_ids and eval_ids need at least n={n} ids")
    if V ** n > np.iinfo(np.int64).max:
        raise ValueError(f"n={n} is too large for V={V}: V**n overflows the int64 n-gram keys")
    return V, n


def ngram_cross_entropy(train_ids: np.ndarray, eval_ids: np.ndarray, V: int, n: int = 1,
                        alpha: float = 1.0, method: str = "auto") -> float:
    """Mean cross-entropy (nats per character) of an add-alpha n-gram model on ``eval_ids``.

    Shapes: train_ids (L,), eval_ids (M,) ints in [0, V) -> float.
    Formula: p(c | ctx) = (count(ctx, c) + alpha) / (count(ctx) + alpha V), where
    ctx is the n-1 previous characters (none for n = 1, the unigram model);
    the loss is the mean of -log p over the M - n + 1 characters of ``eval_ids``
    that have a full context. Counts come from ``train_ids`` only.
    ``method``: ``"dense"`` counts into a (V^(n-1), V) table, ``"sparse"`` only the
    n-grams that occur (``np.unique`` of int64 keys: memory grows with L, not V^n;
    the same result), ``"auto"`` is dense up to ``DENSE_MAX`` entries. Chapter 3.
    """
    V, n = _check_ngram_args(train_ids, eval_ids, V, n)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if method not in ("auto", "dense", "sparse"):
        raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
    method = ("dense" if V ** n <= DENSE_MAX else "sparse") if method == "auto" else method
    train_codes, g = _ngram_codes(train_ids, n, V), _ngram_codes(eval_ids, n, V)
    if method == "dense":
        counts = np.bincount(train_codes, minlength=V ** n).reshape(-1, V)   # (V^(n-1), V)
        probs = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * V)
        return float(-np.log(probs[g // V, g % V]).mean())
    keys, counts, ctx_keys, ctx_counts = _sparse_counts(train_codes, V)
    count, ctx_count = _count_of(keys, counts, g), _count_of(ctx_keys, ctx_counts, g // V)
    return float(-np.log((count + alpha) / (ctx_count + alpha * V)).mean())


def ngram_contexts(train_ids: np.ndarray, eval_ids: np.ndarray, V: int, n: int) -> dict:
    """How well the training text covers the (n-1)-character contexts of ``eval_ids``.

    Returns ``{"possible": V^(n-1), "distinct": contexts that occur in train_ids,
    "eval_unseen": share of the eval predictions whose context never occurs in
    train_ids, "eval_median_count": median count(ctx) over the eval predictions}``
    (contexts followed by a character, as in ``ngram_cross_entropy``). Chapter 3.
    """
    V, n = _check_ngram_args(train_ids, eval_ids, V, n)
    _, _, ctx_keys, ctx_counts = _sparse_counts(_ngram_codes(train_ids, n, V), V)
    seen = _count_of(ctx_keys, ctx_counts, _ngram_codes(eval_ids, n, V) // V)
    return {"possible": V ** (n - 1), "distinct": int(len(ctx_keys)),
            "eval_unseen": float(np.mean(seen == 0)), "eval_median_count": float(np.median(seen))}
