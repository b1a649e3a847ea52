"""Prepare ``emoji_captions.tsv.gz``: the English CLDR names of every emoji, with skin tones.

Source: the npm package ``emojibase-data@17.0.0``, file ``package/en/data.json``
(CLDR annotations, Unicode licence; the package's own code is MIT). Read out of
the tarball with ``tarfile``; the package is never installed.

Fetch by hand (the shared machinery does the same)::

    npm pack emojibase-data@17.0.0 --pack-destination ~/.cache/coursekit-sources
    python -m coursekit.data.prepare emoji_captions

Steps (deterministic):

1. every entry and every entry of its ``skins`` (skin-tone variants);
2. one row ``hexcode<TAB>base<TAB>tone<TAB>group<TAB>label``: ``base`` is the
   hexcode of the entry the variant belongs to (its own for a base emoji),
   ``tone`` the skin tones as digits 1-5 joined by ``,`` (empty for none; two
   for a couple), ``group`` the emojibase group number (``-`` if none) and
   ``label`` the CLDR name, e.g. ``waving hand: medium-dark skin tone``;
3. rows sorted by hexcode, after a comment header; gzip with mtime 0.

Chapter 11.
"""
from __future__ import annotations

import json
from pathlib import Path

from coursekit.data.prepare._source import Source, gzip_bytes, read_member

SOURCE = Source(registry="npm", package="emojibase-data", version="17.0.0",
                filename="emojibase-data-17.0.0.tgz",
                sha256="d01d0e2ca4e22cb402679532155342c71e2e871f25c32223c013b8b166ebdf5a")
OUTPUTS = ("emoji_captions.tsv.gz",)
MEMBER = "package/en/data.json"

HEADER = """\
# English CLDR emoji names, from the npm package emojibase-data@17.0.0 (package/en/data.json),
# prepared by coursekit/data/prepare/emoji_captions.py. CLDR data: Unicode License v3
# (https://www.unicode.org/license.txt); emojibase: MIT (Miles Johnson).
# Columns: hexcode, base hexcode, skin tones (1-5), emojibase group, label.
"""


def _tones(entry: dict) -> str:
    tone = entry.get("tone")
    if tone is None:
        return ""
    return ",".join(str(t) for t in (tone if isinstance(tone, list) else [tone]))


def rows(data: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """(hexcode, base, tone, group, label) for every entry and skin variant (steps 1-2)."""
    out = []
    for e in data:
        for v in [e] + list(e.get("skins") or []):
            group = v.get("group", e.get("group"))
            out.append((v["hexcode"], e["hexcode"], _tones(v),
                        "-" if group is None else str(group), " ".join(v["label"].split())))
    return sorted(out)


def build(archive: Path) -> dict[str, bytes]:
    """Read the tarball (never install it) -> {"emoji_captions.tsv.gz": bytes}."""
    data = json.loads(read_member(archive, MEMBER).decode("utf-8"))
    body = "".join("\t".join(r) + "\n" for r in rows(data))
    return {OUTPUTS[0]: gzip_bytes((HEADER + body).encode("utf-8"))}
