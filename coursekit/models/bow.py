"""The bag-of-words baseline for sentiment: logistic regression on word and word-pair counts.

A review becomes a sparse vector ``x`` of binary features, one per known unigram
(and, with ``ngrams=2``, bigram): ``x_j = 1`` if feature j occurs in the review.
The classifier ignores word order beyond the bigrams::

    p(positive | x) = sigmoid(w^T x + b),   loss = mean BCE + (l2 / 2) ||w||^2

Trained full batch with L-BFGS in torch on a sparse matrix (a few seconds for
27k reviews). ``BagOfWords.fit(token_lists, labels)``, ``predict_proba``,
``top_features(k)`` (the most positive and most negative words).
Chapter 7: Applications (the baseline the RNN must beat).
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from coursekit._validate import check_positive_int

__all__ = ["ngram_features", "BagOfWords"]


def ngram_features(tokens: Sequence[str], ngrams: int = 2) -> set[str]:
    """The distinct unigrams (and bigrams ``"a b"``, ... up to ``ngrams``) of one review."""
    toks = list(tokens)
    return {" ".join(toks[i:i + n]) for n in range(1, ngrams + 1)
            for i in range(len(toks) - n + 1)}


class BagOfWords:
    """Binary n-gram features + L2-regularised logistic regression.

    Args:
        ngrams: 1 (words) or 2 (words and word pairs).
        min_freq: keep features seen in at least this many training reviews.
        l2: the weight of ``(1/2) ||w||^2`` in the loss.
    """

    def __init__(self, *, ngrams: int = 2, min_freq: int = 3, l2: float = 1e-4):
        self.ngrams = check_positive_int("ngrams", ngrams)
        self.min_freq = check_positive_int("min_freq", min_freq)
        self.l2 = float(l2)
        self.features: list[str] = []
        self.index: dict[str, int] = {}
        self.w = self.b = None

    def matrix(self, token_lists) -> torch.Tensor:
        """Sparse (N, F) float32 matrix of binary features (unknown features dropped)."""
        rows, cols = [], []
        for r, toks in enumerate(token_lists):
            js = sorted(self.index[f] for f in ngram_features(toks, self.ngrams) if f in self.index)
            rows += [r] * len(js)
            cols += js
        idx = torch.tensor([rows, cols], dtype=torch.int64)
        return torch.sparse_coo_tensor(idx, torch.ones(len(rows)), (len(token_lists),
                                                                    len(self.features))).coalesce()

    def fit(self, token_lists, labels, *, max_iter: int = 100) -> "BagOfWords":
        """Choose the features on these reviews and fit ``w, b`` (L-BFGS, full batch)."""
        labels = np.asarray(labels)
        if len(labels) != len(token_lists):
            raise ValueError(f"labels must have one entry per review ({len(token_lists)}), "
                             f"got {len(labels)}")
        df = Counter(f for toks in token_lists for f in ngram_features(toks, self.ngrams))
        self.features = sorted(f for f, c in df.items() if c >= self.min_freq)
        self.index = {f: j for j, f in enumerate(self.features)}
        X = self.matrix(token_lists)
        y = torch.from_numpy(labels.astype(np.float32))
        w = torch.zeros(len(self.features), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            logits = torch.sparse.mm(X, w[:, None]).squeeze(1) + b
            loss = F.binary_cross_entropy_with_logits(logits, y) + 0.5 * self.l2 * (w * w).sum()
            loss.backward()
            return loss
        opt.step(closure)
        self.w, self.b = w.detach(), b.detach()
        return self

    def predict_proba(self, token_lists) -> np.ndarray:
        """P(positive) for each review -> float64 array (N,)."""
        if self.w is None:
            raise RuntimeError("call fit before predict_proba")
        logits = torch.sparse.mm(self.matrix(token_lists), self.w[:, None]).squeeze(1) + self.b
        return torch.sigmoid(logits).double().numpy()

    def top_features(self, k: int = 10) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The ``k`` features with the largest and the smallest weights: (positive, negative)."""
        order = np.argsort(self.w.numpy(), kind="stable")
        pick = lambda idx: [(self.features[j], float(self.w[j])) for j in idx]  # noqa: E731
        return pick(order[::-1][:k]), pick(order[:k])
