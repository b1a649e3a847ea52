"""Emoji images with their English names: a small real image-caption set (chapter 11).

Two committed files, joined by code point:

- ``files/emoji_images.npz`` (``prepare/emoji_images.py``, from the npm package
  ``emoji-datasource-google@16.0.0``, Noto Emoji, Apache-2.0): 3,786 images,
  32 x 32 RGB uint8 on white;
- ``files/emoji_captions.tsv.gz`` (``prepare/emoji_captions.py``, from
  ``emojibase-data@17.0.0``, CLDR names, Unicode licence): ``waving hand: dark
  skin tone``, with each variant's base emoji and skin tone.

The split tests composition. Every base emoji that comes in the five single skin
tones keeps its plain image and three of its tones for training; one tone
(chosen by a hash of the base's code) goes to ``valid`` and another to ``test``.
So a test image such as "thumbs up: medium-dark skin tone" shows a concept seen
in training in other tones, and a tone seen in training on other concepts, but
never that combination. Everything else (objects, flags, couples with two
tones) is training data.

- :func:`load_emoji` -> :class:`EmojiData` (``images``, ``captions`` as token
  lists, ``labels``, ``hexcodes``, ``base``, ``tone``, ``split``);
- :func:`tokenize`: a CLDR label -> lower-case word tokens;
- :func:`build_vocab`, :func:`encode_captions`: ``<NULL>``-padded ids with
  ``<START>``/``<END>``, the layout :class:`~coursekit.models.captioning.CaptioningRNN`
  and the torch captioners take.
"""
from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["IMAGES_PATH", "CAPTIONS_PATH", "SPECIALS", "SPLITS", "EmojiData", "load_emoji",
           "tokenize", "build_vocab", "encode_captions", "split_of"]

FILES = Path(__file__).resolve().parent / "files"
IMAGES_PATH = FILES / "emoji_images.npz"
CAPTIONS_PATH = FILES / "emoji_captions.tsv.gz"
SPECIALS = ("<NULL>", "<START>", "<END>", "<UNK>")
SPLITS = ("train", "valid", "test")
_TOKEN = re.compile(r"[a-z0-9]+(?:['’.-][a-z0-9]+)*")


def tokenize(label: str) -> list[str]:
    """``"waving hand: medium-dark skin tone"`` -> ``["waving", "hand", "medium-dark", "skin", "tone"]``."""
    return _TOKEN.findall(label.lower())


def _strip(code: str) -> str:
    return "-".join(p for p in code.split("-") if p != "FE0F")  # the variation selector


def split_of(base: str, tone: str) -> str:
    """The split of an image from its base emoji's code and its skin tone ("" or "1".."5")."""
    if tone not in ("1", "2", "3", "4", "5"):
        return "train"
    h = int.from_bytes(hashlib.sha256(base.encode()).digest()[:4], "big")
    test_tone, valid_tone = 1 + h % 5, 1 + (h + 2) % 5
    return "test" if int(tone) == test_tone else "valid" if int(tone) == valid_tone else "train"


@dataclass(frozen=True)
class EmojiData:
    """One split (or all) of the emoji captions. ``images`` (M, 32, 32, 3) uint8; the rest
    are length-M tuples (``captions``: token lists; ``tone``: "" or digits "1".."5")."""
    images: np.ndarray
    captions: tuple
    labels: tuple
    hexcodes: tuple
    base: tuple
    tone: tuple
    split: tuple

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, split: str) -> "EmojiData":
        idx = [i for i, s in enumerate(self.split) if s == split]
        return EmojiData(self.images[idx], *(tuple(getattr(self, f)[i] for i in idx) for f in
                                             ("captions", "labels", "hexcodes", "base", "tone",
                                              "split")))


@lru_cache(maxsize=1)
def _load_all() -> EmojiData:
    with np.load(IMAGES_PATH, allow_pickle=False) as z:
        images, codes = z["images"], [str(c) for c in z["hexcodes"]]
    meta = {}
    for line in gzip.decompress(CAPTIONS_PATH.read_bytes()).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        hexcode, base, tone, _group, label = line.split("\t")
        meta[_strip(hexcode)] = (label, base, tone)
    missing = [c for c in codes if _strip(c) not in meta]
    if missing:
        raise RuntimeError(f"{len(missing)} images have no caption, e.g. {missing[:3]}")
    rows = [meta[_strip(c)] for c in codes]
    images.setflags(write=False)
    return EmojiData(images, tuple(tokenize(r[0]) for r in rows), tuple(r[0] for r in rows),
                     tuple(codes), tuple(r[1] for r in rows), tuple(r[2] for r in rows),
                     tuple(split_of(r[1], r[2]) for r in rows))


def load_emoji(split: str | None = None) -> EmojiData:
    """All images (``split=None``) or one split: ``"train"``, ``"valid"`` or ``"test"``."""
    data = _load_all()
    if split is None:
        return data
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    return data.subset(split)


def build_vocab(captions, min_count: int = 1) -> dict[str, int]:
    """word -> id: the four specials (``<NULL>`` = 0, ``<START>``, ``<END>``, ``<UNK>``), then
    the words seen at least ``min_count`` times, by decreasing count, ties alphabetical."""
    counts: dict[str, int] = {}
    for cap in captions:
        for w in cap:
            counts[w] = counts.get(w, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= min_count and w not in SPECIALS),
                   key=lambda w: (-counts[w], w))
    return {w: i for i, w in enumerate(SPECIALS + tuple(words))}


def encode_captions(captions, word_to_idx: dict[str, int], max_len: int | None = None) -> np.ndarray:
    """Token lists -> int64 ids (M, L + 2): ``<START> w_1 .. w_L <END>`` padded with ``<NULL>``.

    Unknown words become ``<UNK>``; ``max_len`` (words) truncates longer captions (their
    ``<END>`` is kept). Shapes: M captions -> (M, max_len + 2).
    """
    caps = [list(c) for c in captions]
    L = max_len if max_len is not None else max((len(c) for c in caps), default=0)
    out = np.full((len(caps), L + 2), word_to_idx["<NULL>"], dtype=np.int64)
    unk = word_to_idx["<UNK>"]
    for i, c in enumerate(caps):
        ids = [word_to_idx["<START>"]] + [word_to_idx.get(w, unk) for w in c[:L]] + \
              [word_to_idx["<END>"]]
        out[i, :len(ids)] = ids
    return out
