"""Batches of character ids for language models: random windows and sequential streams.

- ``char_batches``: random windows ``(x, y)`` for many-to-many training.
- ``SequentialBatches``: each batch row reads its own contiguous stream, so
  the hidden state can be carried from one batch to the next (truncated BPTT).

Chapters 2 and 3.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from coursekit._validate import check_int_array, check_positive_int

__all__ = ["char_batches", "SequentialBatches"]


def _check_ids(ids, batch_size, seq_len, need):
    check_int_array("ids", ids, ("L",))
    batch_size = check_positive_int("batch_size", batch_size)
    seq_len = check_positive_int("seq_len", seq_len)
    if ids.shape[0] < need(batch_size, seq_len):
        raise ValueError(f"ids has {ids.shape[0]} ids, too few for batch_size={batch_size} "
                         f"and seq_len={seq_len} (need at least {need(batch_size, seq_len)})")
    return batch_size, seq_len


def char_batches(ids: np.ndarray, batch_size: int, seq_len: int,
                 rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless random windows: yields ``x, y`` of shape ``(batch_size, seq_len)``, int64.

    Each row starts at a random offset ``s``; ``x = ids[s:s+T]``,
    ``y = ids[s+1:s+T+1]`` (the next character at every step: many-to-many).
    Rows are independent, so the hidden state starts from zero every batch.
    """
    batch_size, seq_len = _check_ids(ids, batch_size, seq_len, lambda b, t: t + 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    ids = ids.astype(np.int64, copy=False)
    offsets = np.arange(seq_len + 1)
    while True:
        starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
        win = ids[starts[:, None] + offsets]                 # (B, T+1)
        yield win[:, :-1], win[:, 1:]


class SequentialBatches:
    """Batches for truncated BPTT: row ``b`` of batch ``k`` continues row ``b`` of batch ``k-1``.

    ``ids`` is cut into ``batch_size`` contiguous streams of equal length;
    batch ``k`` holds characters ``[k T, (k+1) T)`` of every stream (``x``)
    and the characters one further on (``y``), both ``(batch_size, seq_len)``
    int64. Iterating gives one pass (epoch) over the streams. The hidden state
    after batch ``k`` is the right initial state for batch ``k+1``.

    With ``seed`` set, each new pass starts at a random shift in
    ``[0, seq_len)`` so chunk boundaries move between epochs (the first pass
    is unshifted); ``len()`` is the number of batches of a pass (a shifted pass may hold one fewer).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int, *, seed: int | None = None):
        self.batch_size, self.seq_len = _check_ids(ids, batch_size, seq_len,
                                                   lambda b, t: b * t + 1)
        self.ids = ids.astype(np.int64, copy=False)
        self.stream_len = (len(ids) - 1) // self.batch_size           # targets per stream
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self._epoch = 0

    def __len__(self) -> int:
        return self.stream_len // self.seq_len

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        shift = 0
        if self._rng is not None and self._epoch > 0:
            shift = int(self._rng.integers(0, self.seq_len))
        self._epoch += 1
        B, T, L = self.batch_size, self.seq_len, self.stream_len
        x = self.ids[:B * L].reshape(B, L)                   # (B, L) streams
        y = self.ids[1:B * L + 1].reshape(B, L)
        for s in range(shift, L - T + 1, T):
            yield x[:, s:s + T], y[:, s:s + T]
