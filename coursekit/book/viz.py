"""Plots and diagrams used by the chapters (matplotlib only, drawn by code).

Every function builds a new :class:`matplotlib.figure.Figure` without pyplot,
so nothing is shown twice in a notebook and nothing leaks between calls, and
returns it. In a notebook the figure appears when it is the cell's value (or
with ``display(fig)``); in a script use ``fig.savefig(...)``. Same arguments,
same picture: there is no randomness here.

Colours follow the usual convention for RNN diagrams: inputs red, hidden
states green, outputs blue (chapter 1).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

__all__ = ["ARCHITECTURES", "COLORS", "draw_architectures", "draw_unrolled_rnn",
           "plot_hidden_trajectories", "plot_matrix"]

COLORS = {"x": "#f4a6a6", "h": "#a8dca8", "y": "#a9c8f0", "edge": "#333333"}
_ROW = {"x": 0.0, "h": 1.0, "y": 2.0}   # vertical position of each kind of box

# name -> (which time steps have an input, an output; number of steps, example uses)
ARCHITECTURES = {
    "one-to-one": dict(steps=1, inputs=[0], outputs=[0],
                       example="image classification"),
    "one-to-many": dict(steps=4, inputs=[0], outputs=[0, 1, 2, 3],
                        example="image captioning,\nmusic generation"),
    "many-to-one": dict(steps=4, inputs=[0, 1, 2, 3], outputs=[3],
                        example="sentiment analysis"),
    "many-to-many\n(synced)": dict(steps=4, inputs=[0, 1, 2, 3], outputs=[0, 1, 2, 3],
                                   example="video frame labelling,\npart-of-speech tagging"),
    "many-to-many\n(encoder-decoder)": dict(steps=6, inputs=[0, 1, 2], outputs=[3, 4, 5],
                                            example="machine translation"),
}


def _box(ax, cx, cy, kind, label=None, w=0.6, h=0.6, fontsize=12):
    """A rounded box centred at (cx, cy) for an input/hidden/output vector."""
    patch = FancyBboxPatch((cx - w / 2, cy - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                           facecolor=COLORS[kind], edgecolor=COLORS["edge"], linewidth=1.2)
    patch.set_gid(f"box-{kind}")
    ax.add_patch(patch)
    if label:
        ax.text(cx, cy, label, ha="center", va="center", fontsize=fontsize)
    return patch


def _arrow(ax, start, end, label=None, label_offset=(0.0, 0.0), rad=0.0, fontsize=11,
           color=COLORS["edge"]):
    arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.2,
                            color=color, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0)
    arrow.set_gid("arrow")
    ax.add_patch(arrow)
    if label:
        mx, my = (start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=fontsize,
                bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.9))
    return arrow


def _finish(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_architectures(names: Sequence[str] | None = None) -> Figure:
    """Boxes-and-arrows diagrams of the classic RNN input/output patterns.

    One panel per architecture in :data:`ARCHITECTURES` (or those in ``names``):
    red input boxes at the bottom, green hidden states in the middle joined
    left to right by the recurrent connection, blue outputs on top, and an
    example application under each panel.
    """
    names = list(ARCHITECTURES) if names is None else list(names)
    for n in names:
        if n not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {n!r}; choose from {list(ARCHITECTURES)}")
    widths = [max(ARCHITECTURES[n]["steps"], 2) for n in names]
    rows: list[list[int]] = [[]]          # greedy: at most 10 width units per row
    for i, w in enumerate(widths):
        if rows[-1] and sum(widths[j] for j in rows[-1]) + w > 10:
            rows.append([])
        rows[-1].append(i)
    row_width = max(sum(widths[j] for j in r) for r in rows)
    fig = Figure(figsize=(0.8 * row_width + 0.8, 2.9 * len(rows)), layout="constrained")
    subfigs = fig.subfigures(len(rows), 1, squeeze=False)[:, 0]
    axes = [None] * len(names)
    for sub, r in zip(subfigs, rows):
        ratios = [widths[j] for j in r]
        filler = row_width - sum(ratios)
        row_axes = sub.subplots(1, len(r) + (filler > 0), squeeze=False,
                                gridspec_kw=dict(width_ratios=ratios + ([filler] if filler else [])))[0]
        for j, ax in zip(r, row_axes):
            axes[j] = ax
        if filler:
            row_axes[-1].remove()
    for ax, name in zip(axes, names):
        spec = ARCHITECTURES[name]
        steps = spec["steps"]
        for t in range(steps):
            _box(ax, t, _ROW["h"], "h")
            if t in spec["inputs"]:
                _box(ax, t, _ROW["x"], "x")
                _arrow(ax, (t, _ROW["x"] + 0.3), (t, _ROW["h"] - 0.3))
            if t in spec["outputs"]:
                _box(ax, t, _ROW["y"], "y")
                _arrow(ax, (t, _ROW["h"] + 0.3), (t, _ROW["y"] - 0.3))
            if t > 0:
                _arrow(ax, (t - 0.7, _ROW["h"]), (t - 0.3, _ROW["h"]))
        ax.set_title(name, fontsize=12)
        ax.text((steps - 1) / 2, -0.75, spec["example"], ha="center", va="top",
                fontsize=10.5, style="italic")
        pad = (max(steps, 2) - steps) / 2
        _finish(ax, (-0.6 - pad, steps - 0.4 + pad), (-1.6, 2.5))
    fig.legend(handles=_legend_handles(), loc="outside lower center", ncols=3, frameon=False)
    return fig


def _legend_handles():
    return [Patch(facecolor=COLORS[k], edgecolor=COLORS["edge"], label=lab)
            for k, lab in (("x", "input $x_t$"), ("h", "hidden state $h_t$"), ("y", "output $o_t$"))]


_NOTATIONS = {
    "W": dict(xh="$W_{xh}$", hh="$W_{hh}$", hy="$W_{hy}$"),
    "UVW": dict(xh="$U$", hh="$W$", hy="$V$"),
}


def draw_unrolled_rnn(T: int = 4, notation: str = "W") -> Figure:
    """The folded RNN (one cell with a loop) next to the same network unrolled over ``T`` steps.

    Every unrolled step carries the same three weight labels, which is the
    point: one set of weights is shared across time. ``notation="W"`` labels
    them $W_{xh}, W_{hh}, W_{hy}$ (the book's names); ``notation="UVW"`` uses
    $U, W, V$ as in many textbooks ($U = W_{xh}$, $W = W_{hh}$, $V = W_{hy}$).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= 8:
        raise ValueError(f"T must be an integer from 1 to 8, got {T!r}")
    if notation not in _NOTATIONS:
        raise ValueError(f"notation must be one of {sorted(_NOTATIONS)}, got {notation!r}")
    lab = _NOTATIONS[notation]
    fig = Figure(figsize=(1.9 + 1.25 * (T + 1), 3.6), layout="constrained")
    ax_fold, ax_unf = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[1.6, 1.5 * (T + 1)]))

    # folded: x -> h -> y with a self loop on h
    _box(ax_fold, 0, 0, "x", "$x_t$")
    _box(ax_fold, 0, 1.4, "h", "$h_t$")
    _box(ax_fold, 0, 2.8, "y", "$o_t$")
    _arrow(ax_fold, (0, 0.3), (0, 1.1), lab["xh"], (-0.45, 0))
    _arrow(ax_fold, (0, 1.7), (0, 2.5), lab["hy"], (-0.45, 0))
    _arrow(ax_fold, (0.3, 1.55), (0.3, 1.25), lab["hh"], (0.85, 0), rad=-2.6)
    ax_fold.set_title("folded", fontsize=12)
    _finish(ax_fold, (-0.9, 1.3), (-0.5, 3.3))

    # unrolled: h_0 then T steps
    gap = 1.5
    _box(ax_unf, 0, 1.4, "h", "$h_0$")
    for t in range(1, T + 1):
        cx = gap * t
        _box(ax_unf, cx, 0, "x", f"$x_{t}$")
        _box(ax_unf, cx, 1.4, "h", f"$h_{t}$")
        _box(ax_unf, cx, 2.8, "y", f"$o_{t}$")
        _arrow(ax_unf, (cx, 0.3), (cx, 1.1), lab["xh"], (-0.42, 0), fontsize=10)
        _arrow(ax_unf, (cx, 1.7), (cx, 2.5), lab["hy"], (-0.42, 0), fontsize=10)
        _arrow(ax_unf, (cx - gap + 0.3, 1.4), (cx - 0.3, 1.4), lab["hh"], (0, 0.24), fontsize=10)
    ax_unf.set_title(f"unrolled over T = {T} steps: the same weights at every step", fontsize=12)
    _finish(ax_unf, (-0.5, gap * T + 0.5), (-0.5, 3.3))
    return fig


def plot_hidden_trajectories(h, *, ax=None, title: str | None = None, t0: int = 1,
                             ylim=(-1.05, 1.05)) -> Figure:
    """Plot each hidden unit's value over time, one line per unit.

    Args:
        h: hidden states ``(T, H)``, or ``(1, T, H)`` as returned by ``rnn_forward``.
        ax: draw into this Axes (its figure is returned); a new figure otherwise.
        title: panel title.
        t0: time index of the first row (the book counts from 1).
        ylim: y range; tanh states live in (-1, 1). ``None`` lets matplotlib choose.
    """
    h = np.asarray(h, dtype=np.float64)
    if h.ndim == 3 and h.shape[0] == 1:
        h = h[0]
    if h.ndim != 2:
        raise ValueError(f"h must have shape (T, H) or (1, T, H), got shape {h.shape}")
    if ax is None:
        fig = Figure(figsize=(5.5, 3.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    t = np.arange(t0, t0 + h.shape[0])
    for j in range(h.shape[1]):
        ax.plot(t, h[:, j], linewidth=1.3, label=f"unit {j + 1}")
    ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("$h_t$")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_matrix(M, *, row_labels: Sequence[str] | None = None,
                col_labels: Sequence[str] | None = None, title: str | None = None,
                fmt: str = "{:.2f}", cmap: str = "RdBu_r", vmin=None, vmax=None,
                highlight=None, ax=None) -> Figure:
    """Heat map of a matrix with every entry written in its cell.

    Args:
        M: 2-D array ``(R, C)``.
        row_labels, col_labels: tick labels (lengths R and C).
        fmt: format of the numbers.
        cmap, vmin, vmax: colour map and range; the default is symmetric
            around zero for signed data and ``[0, max]`` for non-negative data.
        highlight: optional sequence of ``(row, col)`` cells to outline
            (e.g. the target letter's probability).
        ax: draw into this Axes; a new figure otherwise.
    """
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"M must be a 2-D array, got shape {M.shape}")
    R, C = M.shape
    for name, labels, n in (("row_labels", row_labels, R), ("col_labels", col_labels, C)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} must have {n} entries, got {len(labels)}")
    if vmin is None and vmax is None:
        if M.size and M.min() >= 0:
            vmin, vmax = 0.0, max(float(M.max()), 1e-12)
        else:
            m = max(float(np.abs(M).max()) if M.size else 1.0, 1e-12)
            vmin, vmax = -m, m
    if ax is None:
        fig = Figure(figsize=(0.75 * C + 1.6, 0.5 * R + 1.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    mid = (vmin + vmax) / 2
    span = (vmax - vmin) or 1.0
    for i in range(R):
        for j in range(C):
            dark = abs(M[i, j] - mid) / span > 0.3
            ax.text(j, i, fmt.format(M[i, j]), ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    for (i, j) in (highlight or ()):
        ax.add_patch(FancyBboxPatch((j - 0.45, i - 0.45), 0.9, 0.9, boxstyle="square,pad=0",
                                    fill=False, edgecolor="black", linewidth=2.0))
    ax.set_xticks(range(C), labels=list(col_labels) if col_labels is not None else range(C))
    ax.set_yticks(range(R), labels=list(row_labels) if row_labels is not None else range(R))
    ax.tick_params(length=0)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
