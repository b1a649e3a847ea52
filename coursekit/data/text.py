"""Vocabularies: characters, and tokens with special symbols, as integer ids.

Chapter 1 feeds "hello" to an RNN one character at a time; the network sees
ids (or their one-hot vectors), never characters. ``CharVocab`` is that map.
``TokenVocab`` (chapters 9-11) maps letters, phonemes or words to ids after the
special tokens ``<pad>`` (0), ``<bos>`` (1), ``<eos>`` (2) and ``<unk>`` (3).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from coursekit._validate import check_positive_int


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


# --------------------------------------------------------------- token vocabularies
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = range(4)


class TokenVocab:
    """Tokens (characters, phonemes, words) <-> ids; ids 0-3 are ``<pad> <bos> <eos> <unk>``.

    Built from token sequences: tokens seen at least ``min_freq`` times get ids 4, 5, ...
    in order of decreasing count (ties alphabetical), or in the order of ``tokens`` when
    given a plain alphabet with ``ordered=True``. Unknown tokens encode as ``<unk>``.
    Chapter 9: Sequence to sequence.
    """

    def __init__(self, sequences: Iterable[Sequence[str]], *, min_freq: int = 1,
                 ordered: bool = False):
        min_freq = check_positive_int("min_freq", min_freq)
        if ordered:
            tokens = list(dict.fromkeys(sequences))  # an alphabet, kept in its order
        else:
            counts = Counter(t for seq in sequences for t in seq)
            tokens = sorted((t for t, c in counts.items() if c >= min_freq),
                            key=lambda t: (-counts[t], t))
        clash = set(tokens) & set(SPECIALS)
        if clash:
            raise ValueError(f"tokens must not be special tokens, got {sorted(clash)}")
        self.itos = list(SPECIALS) + tokens
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_itos(cls, itos: Sequence[str]) -> "TokenVocab":
        """The vocabulary whose id order is ``itos`` (as saved in a checkpoint)."""
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"itos must start with {SPECIALS}, got {list(itos[:4])}")
        return cls(itos[4:], ordered=True)

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"TokenVocab(size={len(self)}, first={self.itos[4:12]})"

    def encode(self, tokens: Sequence[str], *, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of ``tokens`` (unknown -> ``<unk>``), optionally framed by ``<bos>``/``<eos>``."""
        if isinstance(tokens, str) and len(tokens) > 1 and tokens not in self.stoi:
            tokens = list(tokens)  # a word of letters
        ids = [self.stoi.get(t, UNK) for t in tokens]
        return [BOS] * bos + ids + [EOS] * eos

    def decode(self, ids: Iterable[int], *, strip: bool = True) -> list[str]:
        """Tokens of ``ids``; with ``strip``, stop at ``<eos>`` and drop ``<pad>``/``<bos>``."""
        out = []
        for i in (int(i) for i in ids):
            if strip and i == EOS:
                break
            if strip and i in (PAD, BOS):
                continue
            out.append(self.itos[i])
        return out
