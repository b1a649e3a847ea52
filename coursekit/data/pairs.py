"""Source-target sequence pairs as padded id batches, for encoder-decoders.

- (re-exported from :mod:`coursekit.data.text`) :class:`TokenVocab`, ``PAD, BOS, EOS, UNK``;
- :func:`pad_batch`: id lists -> a padded ``(N, T)`` array and the lengths;
- :class:`PairBatches`: shuffled, length-bucketed batches ``((src, src_len), (tgt_in, tgt_out))``
  where ``tgt_in = <bos> y_1..y_T`` and ``tgt_out = y_1..y_T <eos>`` (teacher forcing).

Chapters 9 and 10 (sequence to sequence, attention).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from coursekit._validate import check_positive_int
from coursekit.data.text import BOS, EOS, PAD, SPECIALS, UNK, TokenVocab

__all__ = ["PAD", "BOS", "EOS", "UNK", "SPECIALS", "TokenVocab", "pad_batch", "PairBatches"]

def pad_batch(seqs: Sequence[Sequence[int]], pad: int = PAD) -> tuple[np.ndarray, np.ndarray]:
    """Id lists -> ``(ids (N, T) int64 padded with pad, lengths (N,) int64)``; T = longest."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    out = np.full((len(seqs), max(int(lengths.max(initial=0)), 1)), pad, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out, lengths


class PairBatches:
    """Re-iterable batches of (source ids, target ids) pairs for teacher-forced training.

    Each epoch shuffles (seeded: epoch e uses ``seed + e``), groups pairs of similar source
    length into batches of ``batch_size`` (less padding), and yields
    ``((src (B, S), src_len (B,)), (tgt_in (B, T), tgt_out (B, T)))`` as int64 numpy arrays;
    ``tgt_in = <bos> y``, ``tgt_out = y <eos>``, both padded with ``<pad>``.
    """

    def __init__(self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]], batch_size: int, *,
                 seed: int = 0, bucket: int = 50):
        if not pairs:
            raise ValueError("pairs is empty")
        self.pairs = list(pairs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.seed, self.bucket, self.epoch = seed, bucket, 0

    def __len__(self) -> int:
        return -(-len(self.pairs) // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        order = rng.permutation(len(self.pairs))
        chunk = self.batch_size * self.bucket  # sort by length within chunks of many batches
        batches = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start:start + chunk], key=lambda i: len(self.pairs[i][0]))
            batches += [part[i:i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        for b in rng.permutation(len(batches)):
            yield self.make([self.pairs[i] for i in batches[b]])

    @staticmethod
    def make(pairs):
        """One batch from a list of (source ids, target ids) pairs."""
        src, src_len = pad_batch([s for s, _ in pairs])
        tgt_in, _ = pad_batch([[BOS] + list(t) for _, t in pairs])
        tgt_out, _ = pad_batch([list(t) + [EOS] for _, t in pairs])
        return (src, src_len), (tgt_in, tgt_out)
