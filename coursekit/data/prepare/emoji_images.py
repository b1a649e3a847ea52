"""Prepare ``emoji_images.npz``: Google's Noto emoji images, downscaled to 32 x 32 RGB.

Source: the npm package ``emoji-datasource-google@16.0.0`` (Apache-2.0 images),
files ``package/emoji.json`` (one entry per emoji, with its skin-tone variations,
each at ``sheet_x``, ``sheet_y``) and the sheet ``package/img/google/sheets-256/64.png``
(64-px images on a 66-px grid, 1 px of padding on each side, 256-colour palette).
Both are read out of the tarball with ``tarfile``; the package is never installed.
The sheet is decoded with Pillow (already installed with matplotlib; PNG is
lossless, so decoding is exact).

Fetch by hand (the shared machinery does the same)::

    npm pack emoji-datasource-google@16.0.0 --pack-destination ~/.cache/coursekit-sources
    python -m coursekit.data.prepare emoji_images

Steps (integer arithmetic only, so the same tarball gives the same bytes):

1. every emoji with ``has_img_google`` and every such skin-tone variation, in the
   order of ``sort_order`` then the variation's code;
2. crop its 64 x 64 RGBA cell, composite on white: ``(rgb * a + 255 * (255 - a) + 127) // 255``;
3. average 2 x 2 blocks: ``(sum + 2) // 4`` -> 32 x 32 x 3 uint8;
4. write ``images`` (M, 32, 32, 3) uint8 and ``hexcodes`` (M,) (upper-case code
   points joined by ``-``, as ``emoji.json``'s ``unified``) into a deterministic npz.

The captions come from another package (``prepare/emoji_captions.py``);
:mod:`coursekit.data.emoji` joins the two by code point. Chapter 11.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from coursekit.data.prepare._source import Source, npz_bytes, read_member

SOURCE = Source(registry="npm", package="emoji-datasource-google", version="16.0.0",
                filename="emoji-datasource-google-16.0.0.tgz",
                sha256="fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438")
OUTPUTS = ("emoji_images.npz",)
SHEET = "package/img/google/sheets-256/64.png"
INDEX = "package/emoji.json"
CELL, PAD, SIZE = 64, 1, 32


def cells(index: list[dict]) -> list[tuple[str, int, int]]:
    """``(hexcode, sheet_x, sheet_y)`` of every Google image, in the order of step 1."""
    out = []
    for e in sorted(index, key=lambda e: (e["sort_order"], e["unified"])):
        if e.get("has_img_google"):
            out.append((e["unified"], e["sheet_x"], e["sheet_y"]))
        for key in sorted(e.get("skin_variations") or {}):
            v = e["skin_variations"][key]
            if v.get("has_img_google"):
                out.append((v["unified"], v["sheet_x"], v["sheet_y"]))
    return out


def downscale(rgba: np.ndarray) -> np.ndarray:
    """(64, 64, 4) uint8 RGBA -> (32, 32, 3) uint8 RGB on white (steps 2 and 3)."""
    rgb = rgba[..., :3].astype(np.int64)
    a = rgba[..., 3:].astype(np.int64)
    white = (rgb * a + 255 * (255 - a) + 127) // 255  # (64, 64, 3)
    f = CELL // SIZE
    blocks = white.reshape(SIZE, f, SIZE, f, 3).sum(axis=(1, 3))  # (32, 32, 3)
    return ((blocks + f * f // 2) // (f * f)).astype(np.uint8)


def build(archive: Path) -> dict[str, bytes]:
    """Read the tarball (never install it) -> {"emoji_images.npz": bytes}."""
    from PIL import Image  # Pillow comes with matplotlib; only the prepare step needs it

    index = json.loads(read_member(archive, INDEX).decode("utf-8"))
    with Image.open(io.BytesIO(read_member(archive, SHEET))) as im:
        sheet = np.asarray(im.convert("RGBA"))  # (rows*66, cols*66, 4)
    step = CELL + 2 * PAD
    codes, images = [], []
    for code, x, y in cells(index):
        top, left = y * step + PAD, x * step + PAD
        images.append(downscale(sheet[top:top + CELL, left:left + CELL]))
        codes.append(code)
    return {OUTPUTS[0]: npz_bytes(images=np.stack(images), hexcodes=np.array(codes))}
