"""Generated scenes of two shapes with ground truth, for checking where attention looks.

Each 32 x 32 RGB image holds two objects, each a size (small, large), a colour
(red, green, blue, yellow) and a shape (circle, square, triangle), in a spatial
relation (``left of`` or ``above``), captioned for instance
``small red circle left of large blue square``. Every object comes with its
pixel mask, so one can ask of an attention model: when it says "square", does it
look at the square?

Held-out combinations test composition: three colour-shape pairs
(:data:`HELD_OUT`: red square, green triangle, blue circle) never appear in
``train`` scenes; every ``test`` scene has at least one of them. Each colour and
each shape does appear in training, with other partners.

:func:`make_scenes` is deterministic: the same ``(n, split, seed)`` gives the
same scenes. Chapter 11.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit._validate import check_positive_int

__all__ = ["SHAPES", "COLOURS", "SIZES", "RELATIONS", "HELD_OUT", "Scenes", "make_scenes",
           "draw_object"]

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (215, 40, 40), "green": (30, 160, 60), "blue": (40, 80, 220),
           "yellow": (225, 190, 20)}
SIZES = {"small": 4, "large": 7}  # half-extent in pixels
RELATIONS = ("left of", "above")
HELD_OUT = frozenset({("red", "square"), ("green", "triangle"), ("blue", "circle")})
IMAGE = 32


@dataclass(frozen=True)
class Scenes:
    """``images`` (n, 32, 32, 3) uint8, ``masks`` (n, 2, 32, 32) bool (object 1, object 2),
    ``captions`` (n token lists), ``objects`` (n pairs of (size, colour, shape)),
    ``relations`` (n strings)."""
    images: np.ndarray
    masks: np.ndarray
    captions: tuple
    objects: tuple
    relations: tuple

    def __len__(self) -> int:
        return len(self.captions)


def draw_object(shape: str, cx: float, cy: float, r: int, size: int = IMAGE) -> np.ndarray:
    """The pixel mask (size, size) bool of one shape centred at (cx, cy), half-extent r."""
    y, x = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx ** 2 + dy ** 2 <= r ** 2
    if shape == "square":
        return (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    if shape == "triangle":  # apex up: half-width grows from 0 at the top to r at the base
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")


def _objects(rng, split):
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    seen = [p for p in pairs if p not in HELD_OUT]
    held = sorted(HELD_OUT)
    if split == "train":
        a, b = (seen[i] for i in rng.integers(0, len(seen), 2))
    else:
        a = held[rng.integers(len(held))]
        b = pairs[rng.integers(len(pairs))]
        if rng.random() < 0.5:
            a, b = b, a
    sizes = list(SIZES)
    return [(sizes[rng.integers(2)], *a), (sizes[rng.integers(2)], *b)]


def _place(rng, r, first, relation):
    """A centre (cx, cy) for an object of half-extent r in its half of the image."""
    lo, hi = (r, IMAGE / 2 - r) if first else (IMAGE / 2 + r, IMAGE - r)
    along = rng.uniform(lo, hi)
    across = rng.uniform(r, IMAGE - r)
    return (along, across) if relation == "left of" else (across, along)


def make_scenes(n: int, split: str = "train", *, seed: int = 0) -> Scenes:
    """``n`` scenes of one split (``"train"`` or ``"test"``), deterministic in (n, split, seed).

    Shapes: -> images (n, 32, 32, 3) uint8 on a light grey background, masks (n, 2, 32, 32).
    The first object is left of (or above) the second; the caption names it first.
    """
    n = check_positive_int("n", n)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    images = np.full((n, IMAGE, IMAGE, 3), 235, dtype=np.uint8)
    masks = np.zeros((n, 2, IMAGE, IMAGE), dtype=bool)
    captions, objects, relations = [], [], []
    for i in range(n):
        objs = _objects(rng, split)
        relation = RELATIONS[rng.integers(len(RELATIONS))]
        for k, (size, colour, shape) in enumerate(objs):
            r = SIZES[size]
            cx, cy = _place(rng, r, k == 0, relation)
            m = draw_object(shape, cx, cy, r)
            masks[i, k] = m
            images[i][m] = COLOURS[colour]
        noise = rng.integers(-12, 13, size=(IMAGE, IMAGE, 3))
        images[i] = np.clip(images[i].astype(np.int64) + noise, 0, 255).astype(np.uint8)
        captions.append([*objs[0], *relation.split(), *objs[1]])
        objects.append(tuple(objs))
        relations.append(relation)
    return Scenes(images, masks, tuple(captions), tuple(objects), tuple(relations))
