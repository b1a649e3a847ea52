"""Short German-English sentence pairs (the Ding dictionary), as prepared and committed.

``files/de_en_pairs.tsv.gz`` (built by ``prepare/de_en.py`` from the Debian
package ``trans-de-en`` 1.9-6; GPL-2+, see ``files/de_en_pairs.COPYING`` and
README.md): 11,781 pairs of modern example sentences, English 2-10 words,
split by groups of pairs sharing a sentence: 9,993 train, 611 valid, 1,177 test.

- ``load_pairs(split)``: ``[(german, english), ...]`` as raw strings;
- ``tokenize(s)``: lower-cased word and punctuation tokens (the tokens BLEU is computed on);
- ``references(split)``: each German sentence once, with all its English translations,
  for corpus BLEU with several references.

Chapters 9 and 10 (sequence to sequence, attention).
"""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["PAIRS_PATH", "SPLITS", "load_pairs", "tokenize", "references"]

PAIRS_PATH = Path(__file__).resolve().parent / "files" / "de_en_pairs.tsv.gz"
SPLITS = ("train", "valid", "test")

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "–": "-", "…": "..."})
_TOKEN = re.compile(r"\w+(?:['-]\w+)*|\.\.\.|[^\w\s]")


@lru_cache(maxsize=1)
def _read() -> dict[str, tuple[tuple[str, str], ...]]:
    by_split: dict[str, list[tuple[str, str]]] = {s: [] for s in SPLITS}
    for line in gzip.decompress(PAIRS_PATH.read_bytes()).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        de, en, split = line.split("\t")
        by_split[split].append((de, en))
    return {s: tuple(v) for s, v in by_split.items()}


def load_pairs(split: str = "train") -> list[tuple[str, str]]:
    """The (german, english) sentence pairs of one split, sorted."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return list(_read()[split])


def tokenize(sentence: str) -> list[str]:
    """Lower-cased tokens: words (with inner ``'`` or ``-``: ``don't``, ``room-mate``) and
    punctuation marks, typographic quotes folded to ASCII.

    Example: ``tokenize("That’s the lot for now.")`` is
    ``["that's", "the", "lot", "for", "now", "."]``.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, got {type(sentence).__name__}")
    return _TOKEN.findall(sentence.translate(_QUOTES).lower())


def references(split: str = "test") -> list[tuple[str, list[str]]]:
    """Each German sentence of ``split`` once, with every English translation of it
    (1 to 4), in sorted order: the sources and references of corpus BLEU."""
    refs: dict[str, list[str]] = {}
    for de, en in load_pairs(split):
        refs.setdefault(de, []).append(en)
    return list(refs.items())
