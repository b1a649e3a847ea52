"""A character vocabulary: the sorted unique characters of a text, as integer ids.

Chapter 1 feeds "hello" to an RNN one character at a time; the network sees
ids (or their one-hot vectors), never characters. ``CharVocab`` is that map.
"""
from __future__ import annotations

import numpy as np


class CharVocab:
    """Map each distinct character of ``text`` to an id, in sorted order.

    Attributes: ``chars`` (sorted list of characters), ``size`` (V),
    ``stoi`` (char -> id), ``itos`` (id -> char).
    Example: ``CharVocab("hello")`` has chars ``['e', 'h', 'l', 'o']``, so
    ``encode("hello")`` is ``[1, 0, 2, 2, 3]``.
    Chapter 1: Recurrent neural networks.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text must hold at least one character to build a vocabulary")
        self.chars = sorted(set(text))
        self.size = len(self.chars)
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))

    def __len__(self) -> int:
        return self.size

    def __contains__(self, ch) -> bool:
        return ch in self.stoi

    def __repr__(self) -> str:
        shown = "".join(self.chars[:40]) + ("..." if self.size > 40 else "")
        return f"CharVocab(size={self.size}, chars={shown!r})"

    def encode(self, s: str) -> np.ndarray:
        """Ids of the characters of ``s``: a string of length T -> int64 array (T,)."""
        if not isinstance(s, str):
            raise TypeError(f"s must be a str, got {type(s).__name__}")
        for pos, ch in enumerate(s):
            if ch not in self.stoi:
                raise ValueError(f"character {ch!r} at position {pos} is not in the vocabulary "
                                 f"({self.size} characters: {''.join(self.chars)!r})")
        return np.array([self.stoi[ch] for ch in s], dtype=np.int64)

    def decode(self, ids) -> str:
        """The string spelled by ``ids``: an int sequence or 1-D int array (T,) -> str."""
        arr = np.asarray(ids)
        if arr.size == 0:
            return ""
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"ids must be a 1-D sequence of integers, got shape {arr.shape} "
                             f"dtype {arr.dtype}")
        for pos, i in enumerate(arr.tolist()):
            if not 0 <= i < self.size:
                raise ValueError(f"id {i} at position {pos} is out of range [0, {self.size})")
        return "".join(self.itos[i] for i in arr.tolist())
