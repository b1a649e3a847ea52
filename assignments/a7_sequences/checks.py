"""Checks of assignment 7 (seeing in sequences), named in its ``tests.py``.

- :func:`ctc_reading_accuracy`: the grader rebuilds the per-column linear CTC reader a
  submission trained (``logits = windows(frames) @ W + b``, blank = the last class), renders
  fresh glyph strips it draws itself (:mod:`coursekit.data.glyphs`), decodes them greedily and
  scores the fraction of strings read exactly.

Signature of :data:`coursekit.grading.compare.CHECKS`:
``check(question, case, inputs, got, expected) -> (fraction, feedback lines)``.
"""
from __future__ import annotations

import hashlib

import numpy as np

from coursekit.data import glyphs
from coursekit.grading.compare import check_params


def greedy_read(W, b, frames):
    """Greedy CTC reading of frames (N, T, H) by the linear reader: list of label lists."""
    best = (glyphs.windows(frames) @ W + b).argmax(axis=2)
    blank = W.shape[1] - 1
    return [[int(k) for j, k in enumerate(row) if k != blank and (j == 0 or k != row[j - 1])]
            for row in best]


def ctc_reading_accuracy(question, case, inputs: dict, got: dict, expected):
    """String accuracy of the submitted reader on ``options["n_eval"]`` fresh strips."""
    K, S = int(case.sizes["K"]), int(case.sizes["S"])
    params, problem = check_params(got, {"W": ("D", "C"), "b": ("C",)},
                                   {"D": 3 * glyphs.GLYPH_H, "C": K + 1})
    if params is None:
        return 0.0, [problem + f" (W is (3 * {glyphs.GLYPH_H}, K + 1) for K={K})"]
    labels = inputs[question.options["data"]]
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(labels).tobytes()).digest()[:8],
                          "little")
    rng = np.random.default_rng(seed)
    fresh = rng.integers(0, K, size=(int(question.options["n_eval"]), S))
    read = greedy_read(params["W"], params["b"], glyphs.render(fresh, K, rng))
    acc = float(np.mean([r == list(f) for r, f in zip(read, fresh)]))
    full, half = question.options["accuracy"], question.options["half_accuracy"]
    frac = 1.0 if acc >= full else 0.5 if acc >= half else 0.0
    lines = [f"strings read exactly by your trained reader on {len(fresh)} fresh strips of {S} "
             f"glyphs (K={K}), decoded greedily by the grader: {acc:.3f} (full points from "
             f"{full:.2f}, half from {half:.2f})"]
    if frac < 1.0:
        lines.append("the grader computes logits = glyphs.windows(frames) @ W + b with the "
                     "blank as the last class (index K)")
    return frac, lines
