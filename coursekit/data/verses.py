"""Spanish-English Bible verse pairs (Reina-Valera 1909 and the King James Version), as
prepared and committed.

``files/es_en_verses.tsv.gz`` (built by ``prepare/verses.py`` from the Debian packages
``sword-text-sparv`` 2.60-1 and ``sword-text-kjv`` 14.3-1; both texts public domain, see
README.md): the 11,732 verses whose two sides have 3 to 20 words, aligned by the shared
KJV versification, split by groups of verses sharing a sentence: 10,003 train,
561 valid, 1,168 test.

- ``load_pairs(split)``: ``[(spanish, english), ...]`` as raw strings, in Bible order;
- ``load_verses(split)``: the same with each verse's reference, ``("Gen.1.1", es, en)``;
- ``tokenize(s)``: lower-cased word and punctuation tokens (``de_en.tokenize``; the
  tokens BLEU is computed on);
- ``references(split)``: each Spanish verse once, with all its English translations.

The language is archaic (thee, thou, hath; "fué", "á"), the verses are long (a median
of 15 English words, against 6 for the Ding sentences) and formulaic: the data the
fixed-context bottleneck of chapter 9 and the attention of chapter 10 are measured on.
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from coursekit.data.de_en import tokenize

__all__ = ["VERSES_PATH", "SPLITS", "load_pairs", "load_verses", "tokenize", "references"]

VERSES_PATH = Path(__file__).resolve().parent / "files" / "es_en_verses.tsv.gz"
SPLITS = ("train", "valid", "test")


@lru_cache(maxsize=1)
def _read() -> dict[str, tuple[tuple[str, str, str], ...]]:
    by_split: dict[str, list[tuple[str, str, str]]] = {s: [] for s in SPLITS}
    for line in gzip.decompress(VERSES_PATH.read_bytes()).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        ref, es, en, split = line.split("\t")
        by_split[split].append((ref, es, en))
    return {s: tuple(v) for s, v in by_split.items()}


def _check(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def load_verses(split: str = "train") -> list[tuple[str, str, str]]:
    """The (reference, spanish, english) verses of one split, in Bible order."""
    _check(split)
    return list(_read()[split])


def load_pairs(split: str = "train") -> list[tuple[str, str]]:
    """The (spanish, english) pairs of one split, in Bible order."""
    return [(es, en) for _, es, en in load_verses(split)]


def references(split: str = "test") -> list[tuple[str, list[str]]]:
    """Each Spanish verse of ``split`` once, with every English verse it translates
    (usually one), in Bible order: the sources and references of corpus BLEU."""
    refs: dict[str, list[str]] = {}
    for es, en in load_pairs(split):
        refs.setdefault(es, []).append(en)
    return list(refs.items())
