"""Prepare ``es_en_verses.tsv.gz``: Spanish-English Bible verse pairs (Reina-Valera 1909 and KJV).

Sources: two Debian packages of CrossWire SWORD modules, both in the KJV
versification, so the n-th verse slot of one module is the n-th of the other:

- ``sword-text-sparv`` 2.60-1: module ``spaRV1909eb``, the Reina-Valera 1909
  Spanish Bible (eBible.org, source files dated 2015-08-10); public domain;
- ``sword-text-kjv`` 14.3-1: module ``engKJV2006eb``, the King James Version
  (1769 standardised text, eBible.org, 2022-10-30); public domain outside the UK
  (see README.md).

Fetch by hand (the shared machinery does the same)::

    apt-get download sword-text-sparv=2.60-1 sword-text-kjv=14.3-1
    python -m coursekit.data.prepare verses

A SWORD ``zText`` module keeps each testament (``ot``, ``nt``) in three files:
``.bzz`` is a run of zlib blocks, ``.bzs`` gives each block's offset and
compressed and plain sizes (three little-endian uint32), and ``.bzv`` gives each
verse slot's block number, offset and size (uint32, uint32, uint16). Slots hold
book and chapter headings as well as verses; an empty slot is a verse the module
lacks. :func:`read_ztext` reads them with ``struct`` and ``zlib``.

Steps (deterministic):

1. read both modules' slots; walk the English slots to name each one
   ``Book.chapter.verse`` (a slot that opens a book, ``<div ... type="book" sID``,
   or a chapter, ``<chapter ... sID``, is a heading, not a verse);
2. clean each verse (:func:`clean`): drop notes and titles with their text, drop
   every other tag keeping its text, drop the paragraph mark ``¶``, squeeze spaces;
3. keep the verses present in both (31,084) whose two sides have 3 to 20 words
   (split on spaces): 11,7xx pairs;
4. split into ``train`` / ``valid`` / ``test`` (85% / 5% / 10%) by groups, as for the
   Ding pairs (``prepare.de_en.assign_splits``): verses that share a Spanish or an
   English sentence are one group (the formulaic "Y habló Jehová á Moisés,
   diciendo:" and its repeats), and sha256 of the group's first Spanish sentence
   sends it to a split, so no sentence is on both sides of the split;
5. write ``reference<TAB>spanish<TAB>english<TAB>split`` in Bible order after a
   comment header with provenance; gzip with mtime 0.
"""
from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from coursekit.data.prepare._source import Source, gzip_bytes, read_member
from coursekit.data.prepare.de_en import assign_splits

SOURCE = (
    Source(registry="deb", package="sword-text-sparv", version="2.60-1",
           filename="sword-text-sparv_2.60-1_all.deb",
           sha256="5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf"),
    Source(registry="deb", package="sword-text-kjv", version="14.3-1",
           filename="sword-text-kjv_14.3-1_all.deb",
           sha256="9f463f28ce665f6f528fc723179722bced880a4c5485f7a41bf742838315de57"),
)
OUTPUTS = ("es_en_verses.tsv.gz",)
MODULES = ("usr/share/sword/modules/texts/ztext/spaRV1909eb",
           "usr/share/sword/modules/texts/ztext/engKJV2006eb")
MIN_WORDS, MAX_WORDS = 3, 20

_DROP = re.compile(r"<note\b.*?</note>|<title\b.*?</title>", re.S)
_TAG = re.compile(r"<[^>]*>")
_BOOK = re.compile(r'<div\b[^>]*\btype="book"[^>]*>')
_OSIS_ID = re.compile(r'\bosisID="([^"]+)"')
_CHAPTER = re.compile(r'<chapter\b[^>]*\bosisID="[^"]+\.(\d+)"[^>]*\bsID=')


def read_ztext(blobs: dict[str, bytes]) -> list[str]:
    """Every verse slot of a zText module, Old then New Testament, as markup strings.

    ``blobs`` maps ``"ot.bzs"``, ``"ot.bzv"``, ``"ot.bzz"`` (and the ``nt`` three) to bytes.
    """
    slots = []
    for testament in ("ot", "nt"):
        bzs, bzv, bzz = (blobs[f"{testament}.{ext}"] for ext in ("bzs", "bzv", "bzz"))
        blocks = []
        for offset, size, plain in struct.iter_unpack("<III", bzs):
            block = zlib.decompress(bzz[offset:offset + size])
            if len(block) != plain:
                raise ValueError(f"{testament}.bzz: block at {offset} is {len(block)} bytes, "
                                 f"the index says {plain}")
            blocks.append(block)
        for block, offset, size in struct.iter_unpack("<IIH", bzv):
            slots.append(blocks[block][offset:offset + size].decode("utf-8") if size else "")
    return slots


def clean(markup: str) -> str:
    """Step 2: a verse's OSIS markup -> plain text.

    Example: ``clean('<w lemma="strong:H0430">God</w> said<note>Heb. x</note>. ¶')`` is
    ``"God said."``.
    """
    text = _TAG.sub("", _DROP.sub("", markup)).replace("¶", "")
    return " ".join(text.split())


def verse_names(slots: list[str]) -> list[str | None]:
    """Step 1: ``Book.chapter.verse`` for each verse slot, None for heading slots."""
    names, book, chapter, verse = [], None, 0, 0
    for markup in slots:
        tag = _BOOK.search(markup)
        if tag and " sID=" in tag.group(0) and (m := _OSIS_ID.search(tag.group(0))):
            book, chapter = m.group(1), 0
            names.append(None)
        elif m := _CHAPTER.search(markup):
            chapter, verse = int(m.group(1)), 0
            names.append(None)
        elif book is None or chapter == 0:
            names.append(None)
        else:
            verse += 1
            names.append(f"{book}.{chapter}.{verse}")
    return names


def keep(spanish: str, english: str) -> bool:
    """Step 3: both sides present, with MIN_WORDS to MAX_WORDS words."""
    return all(MIN_WORDS <= len(s.split()) <= MAX_WORDS for s in (spanish, english))


def aligned_verses(spanish: list[str], english: list[str]) -> list[tuple[str, str, str]]:
    """Steps 1-3: (reference, spanish, english) for each kept verse, in Bible order."""
    if len(spanish) != len(english):
        raise ValueError(f"the modules have {len(spanish)} and {len(english)} verse slots: "
                         "not the same versification")
    out = []
    for name, es, en in zip(verse_names(english), spanish, english):
        es, en = clean(es), clean(en)
        if name and keep(es, en):
            out.append((name, es, en))
    return out


HEADER = """\
Spanish-English Bible verse pairs, aligned by verse in the KJV versification:
Reina-Valera 1909 (SWORD module spaRV1909eb, Debian sword-text-sparv 2.60-1) and
the King James Version (SWORD module engKJV2006eb, Debian sword-text-kjv 14.3-1).
Both texts are in the public domain (the KJV's British letters patent apply in the UK
only). Texts from eBible.org via the CrossWire Bible Society.
Selected and split by coursekit/data/prepare/verses.py. Columns: reference, spanish, english, split.
"""


def _module(archive: Path, root: str) -> list[str]:
    return read_ztext({f"{t}.{e}": read_member(archive, f"{root}/{t}.{e}")
                       for t in ("ot", "nt") for e in ("bzs", "bzv", "bzz")})


def build(spanish_deb: Path, english_deb: Path) -> dict[str, bytes]:
    """Read the two ``.deb`` files (never install them) -> {"es_en_verses.tsv.gz": bytes}."""
    verses = aligned_verses(_module(spanish_deb, MODULES[0]), _module(english_deb, MODULES[1]))
    splits = assign_splits([(es, en) for _, es, en in verses])
    head = "".join(f"# {line}".rstrip() + "\n" for line in HEADER.splitlines())
    body = "".join(f"{r}\t{es}\t{en}\t{s}\n" for (r, es, en), s in zip(verses, splits))
    return {OUTPUTS[0]: gzip_bytes((head + body).encode("utf-8"))}
