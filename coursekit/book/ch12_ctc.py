"""Chapter 12 (text recognition with a CRNN and CTC): the tiny alignment example, the alpha
lattice, the shipped recogniser, its errors, and the per-column explorer.

The model is ``checkpoints/crnn_digits.pt``, written by ``benchmarks/train_crnn.py`` with
its figures in ``results/crnn_digits.json``.
"""
from __future__ import annotations

import itertools
import json

import matplotlib.pyplot as plt
import numpy as np

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.data.mnist import render
from coursekit.models.crnn import digits_to_text, predict_log_probs
from coursekit.nn.ctc import extended_labels
from coursekit.nn.ctc_decode import ctc_collapse, ctc_prefix_beam_search
from coursekit.train.checkpoint import load_checkpoint

__all__ = ["tiny_example", "alignments", "alpha_by_hand", "plot_alpha", "load_crnn",
           "plot_columns", "column_figure", "build_column_explorer", "error_pairs",
           "plot_strings", "SYMBOLS"]

SYMBOLS = "-ab"          # the tiny example's classes: blank, a, b


def tiny_example():
    """Three frames over the classes (blank, a, b) and the target "ab".

    Returns y (3, 3) probabilities (rows sum to 1), their logits (log y) and the target
    as class indices (1, 2).
    """
    y = np.array([[0.5, 0.4, 0.1],
                  [0.3, 0.3, 0.4],
                  [0.4, 0.1, 0.5]])
    return y, np.log(y), np.array([1, 2])


def alignments(target, frames: int, classes: int = 3, blank: int = 0) -> list[tuple]:
    """Every path of ``frames`` classes that collapses to ``target``: B^{-1}(target)."""
    want = [int(k) for k in target]
    return [p for p in itertools.product(range(classes), repeat=frames)
            if ctc_collapse(p, blank) == want]


def alpha_by_hand(y, target, blank: int = 0) -> np.ndarray:
    """The alpha table (T, 2S+1) in probabilities, written out with loops (no log space).

    alpha[0, 0] = y[0, blank], alpha[0, 1] = y[0, z_1]; alpha[t, s] = y[t, l'_s] *
    (alpha[t-1, s] + alpha[t-1, s-1] + [skip(s)] alpha[t-1, s-2]).
    """
    ext, skip = extended_labels(np.asarray(target)[None], np.array([len(target)]), blank)
    ext, skip = ext[0], skip[0]
    t_max, length = y.shape[0], len(ext)
    alpha = np.zeros((t_max, length))
    alpha[0, 0] = y[0, ext[0]]
    if length > 1:
        alpha[0, 1] = y[0, ext[1]]
    for t in range(1, t_max):
        for s in range(length):
            total = alpha[t - 1, s]
            if s >= 1:
                total += alpha[t - 1, s - 1]
            if s >= 2 and skip[s]:
                total += alpha[t - 1, s - 2]
            alpha[t, s] = y[t, ext[s]] * total
    return alpha


def plot_alpha(alpha, ext_symbols, *, ax=None, title=None):
    """The alpha lattice: rows = extended labels l', columns = frames; numbers in the cells."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * alpha.shape[0] + 1.6, 0.5 * alpha.shape[1] + 1.0),
                             layout="constrained")
    ax.imshow(alpha.T, cmap="Greens", aspect="auto", vmin=0)
    for t in range(alpha.shape[0]):
        for s in range(alpha.shape[1]):
            ax.text(t, s, f"{alpha[t, s]:.3f}", ha="center", va="center", fontsize=9)
    ax.set_xticks(range(alpha.shape[0]), [f"t={t + 1}" for t in range(alpha.shape[0])])
    ax.set_yticks(range(alpha.shape[1]), list(ext_symbols))
    ax.set_ylabel("extended label l'")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def load_crnn():
    """The shipped CRNN (eval mode, float32), its checkpoint info and the benchmark's record."""
    model, info = load_checkpoint(CHECKPOINT_DIR / "crnn_digits.pt")
    record = json.loads((RESULTS_DIR / "crnn_digits.json").read_text())
    return model, info, record


def plot_columns(model, image, *, log_probs=None, beam_size: int = 8, text=None):
    """Image (top), per-column class distributions (middle) and the greedy path (bottom)."""
    lp = predict_log_probs(model, image[None]) if log_probs is None else log_probs[None]
    probs = np.exp(lp[0])                                     # (T, C)
    path = probs.argmax(1)
    greedy = digits_to_text(ctc_collapse(path))
    beam = digits_to_text(ctc_prefix_beam_search(lp[0], beam_size)[0][0])
    t_max = probs.shape[0]
    fig, axes = plt.subplots(3, 1, figsize=(10, 6.2), layout="constrained",
                             gridspec_kw=dict(height_ratios=[2.2, 3.2, 0.7]))
    axes[0].imshow(image, cmap="gray_r", aspect="auto", extent=(-0.5, t_max - 0.5, 1, 0))
    axes[0].set_yticks([])
    axes[0].set_title(("true " + text + ", " if text else "")
                      + f"greedy {greedy!r}, prefix beam {beam!r}", fontsize=10)
    axes[1].imshow(probs.T, cmap="magma_r", aspect="auto", vmin=0, vmax=1,
                   interpolation="nearest")
    axes[1].set_yticks(range(probs.shape[1]), ["blank"] + [str(d) for d in range(10)],
                       fontsize=8)
    axes[1].set_ylabel("p(class | column)")
    labels = ["-" if k == 0 else str(k - 1) for k in path]
    axes[2].set_xlim(-0.5, t_max - 0.5)
    for t, lab in enumerate(labels):
        axes[2].text(t, 0.5, lab, ha="center", va="center", fontsize=8,
                     color="0.6" if lab == "-" else "C3")
    axes[2].set_yticks([])
    axes[2].set_xlabel("column (frame) t; bottom row: the argmax path before collapsing")
    for ax in axes[:2]:
        ax.set_xticks([])
    return fig


def column_figure(model, text: str, seed: int = 0):
    """:func:`plot_columns` for the digits ``text`` drawn from MNIST test digits."""
    s = render(text, "test", seed)
    return plot_columns(model, s.images[0], text=text)


def build_column_explorer(model, examples):
    """Type digits (or pick an example) and a handwriting seed; see columns and outputs."""
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    pick = w.Dropdown(options=list(examples), description="example")
    text = w.Text(value=examples[0], description="digits", layout=w.Layout(width="240px"))
    seed = w.IntSlider(value=0, min=0, max=20, description="writer seed")
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            digits = "".join(ch for ch in text.value if ch.isdigit())[:8] or "0"
            fig = column_figure(model, digits, seed.value)
            display(figure_frame(fig))
            plt.close(fig)

    pick.observe(lambda ch: setattr(text, "value", ch["new"]) if ch["new"] else None,
                 names="value")
    for c in (text, seed):
        c.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([pick, text]), seed, out])


def error_pairs(hypotheses, references) -> dict:
    """Counts of the kinds of error: substitutions, deletions and insertions, by alignment.

    Returns counts and the most frequent substitutions (true digit -> read digit).
    """
    from collections import Counter
    subs, dels, ins = Counter(), 0, 0
    for h, r in zip(hypotheses, references):
        d = np.zeros((len(r) + 1, len(h) + 1), dtype=int)
        d[:, 0], d[0, :] = range(len(r) + 1), range(len(h) + 1)
        for i, j in itertools.product(range(1, len(r) + 1), range(1, len(h) + 1)):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (r[i - 1] != h[j - 1]))
        i, j = len(r), len(h)
        while i or j:                                          # trace one best alignment back
            if i and j and d[i, j] == d[i - 1, j - 1] + (r[i - 1] != h[j - 1]):
                if r[i - 1] != h[j - 1]:
                    subs[(r[i - 1], h[j - 1])] += 1
                i, j = i - 1, j - 1
            elif i and d[i, j] == d[i - 1, j] + 1:
                dels, i = dels + 1, i - 1
            else:
                ins, j = ins + 1, j - 1
    return {"substitutions": sum(subs.values()), "deletions": dels, "insertions": ins,
            "top_substitutions": subs.most_common(5)}


def plot_strings(images, titles, *, cols: int = 2):
    """A grid of string images with titles."""
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 1.35 * rows + 0.3),
                             layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, im, title in zip(axes.flat, images, titles):
        ax.imshow(im, cmap="gray_r")
        ax.set_title(title, fontsize=9)
    return fig
