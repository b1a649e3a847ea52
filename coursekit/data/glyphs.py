"""Glyph strips: a tiny synthetic text-recognition task for CTC exercises (assignment 7).

A *font* of ``K`` random binary glyphs, each ``GLYPH_H = 7`` pixels high and ``GLYPH_W = 3``
wide (fixed by ``K`` and ``font_seed``; no two alike). :func:`render` draws label strings as
images read column by column: ``frames (N, T, GLYPH_H)``, the glyphs left to right with 1 to 3
empty columns between them, a random offset, pixel noise. Every image of a batch has the same
``T = S * GLYPH_W + (S + 1) * 3`` columns. :func:`windows` stacks each column with its two
neighbours, the input of a linear per-column classifier. Chapter 12's ideas (columns as a
sequence, CTC) on a problem small enough to train in seconds with numpy.
"""
from __future__ import annotations

import numpy as np

__all__ = ["GLYPH_H", "GLYPH_W", "MAX_GAP", "font", "render", "windows", "frames_for"]

GLYPH_H, GLYPH_W, MAX_GAP = 7, 3, 3


def font(K: int, font_seed: int = 0) -> np.ndarray:
    """K distinct binary glyphs (K, GLYPH_H, GLYPH_W), each with at least 6 ink pixels."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= 64:
        raise ValueError(f"K must be an int in [1, 64], got {K!r}")
    rng = np.random.default_rng([font_seed, 7])
    glyphs, seen = [], set()
    while len(glyphs) < K:
        g = rng.random((GLYPH_H, GLYPH_W)) < 0.5
        key = g.tobytes()
        if g.sum() >= 6 and g.any(axis=0).all() and key not in seen:
            seen.add(key)
            glyphs.append(g)
    return np.array(glyphs, dtype=np.float64)


def frames_for(S: int) -> int:
    """T, the number of columns of a strip of S glyphs."""
    return S * GLYPH_W + (S + 1) * MAX_GAP


def render(labels: np.ndarray, K: int, rng: np.random.Generator, *, noise: float = 0.1,
           font_seed: int = 0) -> np.ndarray:
    """Images of the label strings: labels (N, S) ints in [0, K) -> frames (N, T, GLYPH_H).

    Glyph ink is 1, background 0, plus Gaussian noise of std ``noise``; gaps of 1 to 3 columns.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iu" or labels.size == 0 \
            or labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"labels must be a non-empty (N, S) int array in [0, {K}), got "
                         f"shape {labels.shape}, dtype {labels.dtype}")
    glyphs = font(K, font_seed)
    n, s = labels.shape
    t_max = frames_for(s)
    out = np.zeros((n, t_max, GLYPH_H))
    for i in range(n):
        gaps = rng.integers(1, MAX_GAP + 1, size=s)
        x = int(rng.integers(0, t_max - (s * GLYPH_W + int(gaps[1:].sum())) + 1))
        for j in range(s):
            if j:
                x += int(gaps[j])
            out[i, x:x + GLYPH_W] = glyphs[labels[i, j]].T
            x += GLYPH_W
    return out + noise * rng.standard_normal(out.shape)


def windows(frames: np.ndarray) -> np.ndarray:
    """Each column with its left and right neighbours (zeros at the ends).

    Shapes: frames (N, T, H) -> (N, T, 3H), ordered [column t-1, column t, column t+1].
    """
    pad = np.pad(frames, ((0, 0), (1, 1), (0, 0)))
    return np.concatenate([pad[:, :-2], pad[:, 1:-1], pad[:, 2:]], axis=2)
