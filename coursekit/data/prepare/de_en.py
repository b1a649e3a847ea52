"""Prepare ``de_en_pairs.tsv.gz``: short German-English sentence pairs from the Ding dictionary.

Source: the Debian package ``trans-de-en`` 1.9-6 (``.deb``; the Ding
German-English dictionary by Frank Richter, TU Chemnitz, version
"devel 2023-01-30"), file ``/usr/share/trans/de-en``: 206,238 lines
``German :: English`` whose entries are split into aligned sub-entries by
`` | `` and into synonyms by ``;``. Licence: GPL-2+ (the output is a derived
work and is shipped under the same licence; see ``files/de_en_pairs.COPYING``).

Fetch by hand (the shared machinery does the same)::

    apt-get download trans-de-en=1.9-6      # into ~/.cache/coursekit-sources
    python -m coursekit.data.prepare de_en

A ``.deb`` is an ``ar`` archive whose ``data.tar.xz`` member is a tarball;
``read_member`` reads both with the standard library.

Steps (deterministic):

1. split every non-comment line at `` :: `` and both sides at `` | ``; keep
   lines whose two sides have the same number of sub-entries, and pair them;
2. keep a pair when both sides end in ``.``, ``!`` or ``?``, start with an
   upper-case letter, contain none of ``{}[]()<>;/`` (grammar and domain
   labels, synonyms) nor a dictionary placeholder (``etw.``, ``jdn.``,
   ``sth.``, ``sb.``...), the English has 2-10 words and the German 1-14;
3. drop exact duplicates;
4. split into ``train`` / ``valid`` / ``test`` (85% / 5% / 10%) by groups: pairs
   that share a German or an English sentence are one group (connected
   components), and a group goes where sha256 of its first German sentence
   (in sorted order) sends it. So no sentence is on both sides of the split,
   and a German sentence with several translations keeps them together
   (they become several references for BLEU);
5. write ``german<TAB>english<TAB>split`` sorted, after a comment header with
   provenance and the GPL notice; gzip with mtime 0.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from coursekit.data.prepare._source import Source, gzip_bytes, read_member

SOURCE = Source(registry="deb", package="trans-de-en", version="1.9-6",
                filename="trans-de-en_1.9-6_all.deb",
                sha256="45f6b4cf1c434776fba6811d7bc522efabb5425c43ba8afd0e289bf9e2e53df4")
OUTPUTS = ("de_en_pairs.tsv.gz",)
MEMBER = "usr/share/trans/de-en"
SPLITS = (("train", 0.85), ("valid", 0.90), ("test", 1.0))

_BAD_CHARS = set("{}[]()<>;/\t")
_PLACEHOLDERS = {"etw.", "jdn.", "jdm.", "jds.", "jd.", "sth.", "sb.", "sb's", "so.", "sth's"}
_ENDS = (".", "!", "?")


def keep(de: str, en: str) -> bool:
    """Step 2: is (de, en) a short, clean sentence pair?"""
    for side in (de, en):
        if not side or not side.endswith(_ENDS) or not side[0].isupper():
            return False
        if _BAD_CHARS & set(side) or _PLACEHOLDERS & set(side.lower().split()):
            return False
    return 2 <= len(en.split()) <= 10 and len(de.split()) <= 14


def extract_pairs(text: str) -> list[tuple[str, str]]:
    """Steps 1-3: the sorted, de-duplicated sentence pairs of the dictionary text."""
    pairs = set()
    for line in text.splitlines():
        if line.startswith("#") or " :: " not in line:
            continue
        de, en = line.split(" :: ", 1)
        des, ens = de.split(" | "), en.split(" | ")
        if len(des) != len(ens):
            continue
        for d, e in zip(des, ens):
            d, e = " ".join(d.split()), " ".join(e.split())
            if keep(d, e):
                pairs.add((d, e))
    return sorted(pairs)


def assign_splits(pairs: list[tuple[str, str]]) -> list[str]:
    """Step 4: one split name per pair; pairs sharing a sentence share a split."""
    parent: dict[str, str] = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for d, e in pairs:
        ra, rb = find("de:" + d), find("en:" + e)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is the smallest name
    splits = []
    for d, _ in pairs:
        root = find("de:" + d)
        u = int.from_bytes(hashlib.sha256(root.encode("utf-8")).digest()[:2], "big") / 65536
        splits.append(next(name for name, upper in SPLITS if u < upper))
    return splits


HEADER = """\
Short German-English sentence pairs from the Ding dictionary (de-en, version devel 2023-01-30),
Copyright (c) Frank Richter <frank.richter@hrz.tu-chemnitz.de> 1995 - 2023,
as packaged by Debian in trans-de-en 1.9-6 (/usr/share/trans/de-en).
Selected and split by coursekit/data/prepare/de_en.py. Columns: german, english, split.

This file is free software; you can redistribute it and/or modify it under the terms of
the GNU General Public License as published by the Free Software Foundation; either
version 2 of the License, or (at your option) any later version. It is distributed in
the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the implied
warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General
Public License (de_en_pairs.COPYING beside this file) for more details.
"""


def build(archive: Path) -> dict[str, bytes]:
    """Read the ``.deb`` (never install it) -> {"de_en_pairs.tsv.gz": bytes}."""
    text = read_member(archive, MEMBER).decode("utf-8")
    pairs = extract_pairs(text)
    splits = assign_splits(pairs)
    head = "".join(f"# {line}".rstrip() + "\n" for line in HEADER.splitlines())
    body = "".join(f"{d}\t{e}\t{s}\n" for (d, e), s in zip(pairs, splits))
    return {OUTPUTS[0]: gzip_bytes((head + body).encode("utf-8"))}
