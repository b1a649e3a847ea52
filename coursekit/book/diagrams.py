"""Diagrams of chapters 1 to 5, drawn by code: the inside of the cells and the flow of gradients.

Like :mod:`coursekit.book.viz`, every function returns a new
:class:`matplotlib.figure.Figure` built without pyplot, with no randomness.
Boxes are layers (an affine map followed by the named nonlinearity), circles
are elementwise operations; colours follow :data:`coursekit.book.viz.COLORS`
(inputs red, hidden states green, outputs blue). The LSTM's output gate is
written $q_t$ (the book's notation, so that $o_t$ always means the output
scores); the code keeps PyTorch's gate order ``i, f, g, o``.

- :func:`draw_rnn_cell`: the vanilla cell and the tanh with its derivative (chapter 1);
- :func:`draw_backward_flow`: the two paths into $h_t$ in the backward pass (chapter 2);
- :func:`draw_tbptt_windows`: a timeline of truncated-BPTT windows $(k_1, k_2)$ (chapter 2);
- :func:`draw_lstm_cell` (chapter 4) and :func:`draw_gru_cell` (chapter 5).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from coursekit.book.viz import COLORS

__all__ = ["draw_rnn_cell", "draw_backward_flow", "draw_tbptt_windows", "draw_lstm_cell",
           "draw_gru_cell"]

_GATE = "#f6e3a1"      # layers with a sigmoid (gates)
_CAND = "#d9c8f0"      # layers with a tanh (candidates)
_GRAD = "#c0392b"      # backward arrows


def _layer(ax, x, y, text, color=_CAND, w=0.9, h=0.5):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=COLORS["edge"], linewidth=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _op(ax, x, y, text, r=0.2):
    ax.add_patch(Circle((x, y), r, facecolor="white", edgecolor=COLORS["edge"], linewidth=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=11 if len(text) == 1 else 8)


def _state(ax, x, y, text, kind="h", w=0.75, h=0.45):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=COLORS[kind], edgecolor=COLORS["edge"], linewidth=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _line(ax, points, *, color=COLORS["edge"], style="-", arrow=True, rad=0.0, label=None,
          label_at=0.5, label_offset=(0.0, 0.15), fontsize=9):
    """A polyline through ``points``; the last segment ends in an arrow head."""
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1]):
        ax.plot([x0, x1], [y0, y1], color=color, linestyle=style, linewidth=1.1)
    start, end = points[-2], points[-1]
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>" if arrow else "-", mutation_scale=11,
                                 linewidth=1.1, color=color, linestyle=style, shrinkA=0, shrinkB=0,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        x = start[0] + label_at * (end[0] - start[0]) + label_offset[0]
        y = start[1] + label_at * (end[1] - start[1]) + label_offset[1]
        ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, color=color)


def _finish(ax, xlim, ylim, title=None):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)


def draw_rnn_cell() -> Figure:
    """The inside of a vanilla RNN cell (left) and tanh with its derivative (right). Chapter 1.

    Left: $a_t = W_{hh} h_{t-1} + W_{xh} x_t + b_h$, $h_t = \\tanh(a_t)$, and
    $o_t = W_{hy} h_t + b_y$ read from the new state. Right: $\\tanh(a)$ and
    $\\tanh'(a) = 1 - \\tanh^2(a)$, whose peak of 1 at $a = 0$ and decay for
    large $|a|$ are what chapter 2's gradients are multiplied by.
    """
    fig = Figure(figsize=(9.6, 3.4), layout="constrained")
    ax, ax_f = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[1.55, 1]))
    _state(ax, 0.0, 1.2, "$h_{t-1}$")
    _state(ax, 1.6, -0.6, "$x_t$", "x")
    _layer(ax, 1.6, 0.35, "$W_{xh}\\,\\cdot$", "white", w=0.8)
    _layer(ax, 1.0, 1.2, "$W_{hh}\\,\\cdot$", "white", w=0.8)
    _op(ax, 2.2, 1.2, "+")
    _op(ax, 3.2, 1.2, "tanh", r=0.3)
    _state(ax, 4.6, 1.2, "$h_t$")
    _layer(ax, 4.6, 2.3, "$W_{hy}\\,\\cdot + b_y$", "white", w=1.3)
    _state(ax, 4.6, 3.2, "$o_t$", "y")
    _line(ax, [(0.38, 1.2), (0.6, 1.2)])
    _line(ax, [(1.4, 1.2), (2.0, 1.2)])
    _line(ax, [(1.6, -0.37), (1.6, 0.1)])
    _line(ax, [(1.6, 0.6), (2.2, 1.0)])
    _line(ax, [(2.2, 1.9), (2.2, 1.4)], label="$b_h$", label_at=0.0, label_offset=(0.0, 0.12))
    _line(ax, [(2.4, 1.2), (2.9, 1.2)], label="$a_t$", label_offset=(0.0, 0.18))
    _line(ax, [(3.5, 1.2), (4.22, 1.2)])
    _line(ax, [(4.6, 1.43), (4.6, 2.05)])
    _line(ax, [(4.6, 2.55), (4.6, 2.97)])
    _line(ax, [(4.98, 1.2), (5.6, 1.2)])
    ax.text(5.3, 0.85, "to step $t+1$", ha="center", fontsize=9)
    _finish(ax, (-0.5, 5.9), (-1.0, 3.6), "inside the cell: one affine map, one tanh")
    a = np.linspace(-4, 4, 401)
    ax_f.plot(a, np.tanh(a), color="C2", label="$\\tanh(a)$")
    ax_f.plot(a, 1 - np.tanh(a) ** 2, color="C3", linestyle="--", label="$\\tanh'(a) = 1 - \\tanh^2(a)$")
    ax_f.axhline(0, color="0.7", linewidth=0.8)
    ax_f.set(xlabel="pre-activation $a$", ylim=(-1.1, 1.15), title="the nonlinearity and its derivative")
    ax_f.legend(fontsize=8, loc="lower right")
    return fig


def draw_backward_flow(T: int = 3) -> Figure:
    """The unrolled RNN with the backward pass drawn in red: two paths arrive at each $h_t$. Chapter 2.

    $\\partial L/\\partial h_t = W_{hy}^\\top \\partial L/\\partial o_t + W_{hh}^\\top \\delta_{t+1}$:
    one arrow comes down from the loss at step $t$ (the direct part, ``dh[:, t]``
    in code), one comes back from step $t + 1$ (``dprev_h``). The last state has
    only the first.
    """
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or not 2 <= T <= 6:
        raise ValueError(f"T must be an integer from 2 to 6, got {T!r}")
    fig = Figure(figsize=(2.4 * T + 1.2, 3.9), layout="constrained")
    ax = fig.subplots()
    gap = 2.2
    _state(ax, 0, 1.0, "$h_0$")
    for t in range(1, T + 1):
        cx = gap * t
        _state(ax, cx, 0.0, f"$x_{t}$", "x")
        _state(ax, cx, 1.0, f"$h_{t}$")
        _state(ax, cx, 2.0, f"$o_{t}$", "y")
        ax.text(cx, 2.85, f"$L_{t}$", ha="center", va="center", fontsize=10)
        for p in ([(cx - 0.1, 0.23), (cx - 0.1, 0.77)], [(cx - 0.1, 1.23), (cx - 0.1, 1.77)],
                  [(cx - 0.1, 2.23), (cx - 0.1, 2.7)], [(cx - gap + 0.38, 0.92), (cx - 0.38, 0.92)]):
            _line(ax, p)
        _line(ax, [(cx + 0.1, 2.7), (cx + 0.1, 2.23)], color=_GRAD, style="--")
        _line(ax, [(cx + 0.1, 1.77), (cx + 0.1, 1.23)], color=_GRAD, style="--",
              label="$W_{hy}^{\\top} \\partial L/\\partial o_" + f"{t}$", label_offset=(0.72, 0.0))
        if t < T:
            _line(ax, [(cx + gap - 0.38, 1.1), (cx + 0.38, 1.1)], color=_GRAD, style="--",
                  label="$W_{hh}^{\\top} \\delta_{" + f"{t + 1}" + "}$", label_at=0.6,
                  label_offset=(0.0, -0.5))
    ax.text(gap * (T + 1) / 2, -0.65, "black: forward pass; red, dashed: the two gradients that add up "
            "to $\\partial L/\\partial h_t$ (none comes from after the last step)",
            ha="center", fontsize=9, color=_GRAD)
    _finish(ax, (-0.6, gap * T + 1.3), (-0.9, 3.1))
    return fig


def draw_tbptt_windows(k1: int, k2: int, T: int = 24) -> Figure:
    """A timeline of truncated BPTT: which steps each update runs forward and back-propagates through.

    Update $u$ runs the $k_1$ new steps ending at $u k_1$ forward (dark bar),
    and the gradient goes back over the last $k_2$ steps (light bar, starting
    from a detached state); with $k_2 > k_1$ the window reaches into steps run
    by the previous update. Chapter 2.
    """
    for name, v in (("k1", k1), ("k2", k2), ("T", T)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if k2 < k1:
        raise ValueError(f"k2 must be at least k1, got k1={k1}, k2={k2}")
    n_updates = T // k1
    fig = Figure(figsize=(8.0, 0.5 * n_updates + 1.2), layout="constrained")
    ax = fig.subplots()
    for u in range(n_updates):
        end = (u + 1) * k1
        y = n_updates - 1 - u
        start_grad = max(0, end - k2)
        ax.add_patch(Rectangle((start_grad, y + 0.05), end - start_grad, 0.5, facecolor="#f5b7b1",
                               edgecolor=_GRAD, linewidth=0.8))
        ax.add_patch(Rectangle((end - k1, y + 0.6), k1, 0.3, facecolor=COLORS["h"], edgecolor="k",
                               linewidth=0.8))
        if start_grad > 0:
            ax.plot([start_grad, start_grad], [y, y + 0.6], color="k", linewidth=2)
    ax.set(xlim=(0, T), ylim=(-0.2, n_updates), xlabel="time step",
           yticks=[n_updates - 0.4 - u for u in range(n_updates)],
           yticklabels=[f"update {u + 1}" for u in range(n_updates)],
           title=f"truncated BPTT, $k_1 = {k1}$, $k_2 = {k2}$\ngreen: steps run forward by this update; "
                 "red: steps the gradient passes; black bar: the detached start state")
    ax.title.set_fontsize(9)
    ax.set_xticks(range(0, T + 1, k1))
    return fig


def _gate_column(ax, xs, names, colors, y=0.3):
    for x, name, color in zip(xs, names, colors):
        _layer(ax, x, y, name, color, w=0.62, h=0.45)
    ax.plot([xs[0] - 0.45, xs[-1] + 0.3], [-0.35, -0.35], color=COLORS["edge"], linewidth=1.1)
    for x in xs:
        _line(ax, [(x, -0.35), (x, y - 0.23)])


def draw_lstm_cell() -> Figure:
    """The LSTM cell: the cell state runs along the top, changed only by $\\times f_t$ and $+$. Chapter 4.

    Gates $f_t, i_t, q_t$ (sigmoid) and the candidate $\\tilde c_t$ (tanh) are
    layers of $[h_{t-1}, x_t]$; $c_t = f_t \\odot c_{t-1} + i_t \\odot \\tilde c_t$,
    $h_t = q_t \\odot \\tanh(c_t)$. (PyTorch and most papers call $q_t$ the
    output gate $o_t$; the code keeps the gate order ``i, f, g, o``.)
    """
    fig = Figure(figsize=(8.2, 4.0), layout="constrained")
    ax = fig.subplots()
    top = 2.6
    _state(ax, -0.6, top, "$c_{t-1}$", "h")
    _state(ax, 6.2, top, "$c_t$", "h")
    _state(ax, -0.6, -0.35, "$h_{t-1}$")
    _state(ax, 1.0, -1.2, "$x_t$", "x")
    _state(ax, 6.2, -0.35, "$h_t$")
    _gate_column(ax, [1.0, 2.0, 3.0, 4.0], ["$\\sigma$: $f_t$", "$\\sigma$: $i_t$", "tanh: $\\tilde c_t$",
                                             "$\\sigma$: $q_t$"], [_GATE, _GATE, _CAND, _GATE])
    _line(ax, [(-0.22, -0.35), (0.55, -0.35)], arrow=False)
    _line(ax, [(1.0, -0.97), (1.0, -0.35)], arrow=False)
    _op(ax, 1.0, top, "×")
    _op(ax, 3.0, top, "+")
    _op(ax, 2.5, 1.45, "×")
    _op(ax, 4.8, 1.45, "tanh", r=0.28)
    _op(ax, 4.8, 0.3, "×")
    _line(ax, [(-0.22, top), (0.8, top)])
    _line(ax, [(1.2, top), (2.8, top)])
    _line(ax, [(3.2, top), (5.82, top)])
    _line(ax, [(1.0, 0.53), (1.0, top - 0.2)])
    _line(ax, [(2.0, 0.53), (2.0, 1.45), (2.3, 1.45)])
    _line(ax, [(3.0, 0.53), (3.0, 1.45), (2.7, 1.45)])
    _line(ax, [(2.5, 1.65), (3.0, top - 0.2)])
    _line(ax, [(4.8, top), (4.8, 1.73)])
    _line(ax, [(4.8, 1.17), (4.8, 0.5)])
    _line(ax, [(4.31, 0.3), (4.6, 0.3)])
    _line(ax, [(5.0, 0.3), (5.4, 0.3), (5.4, -0.35), (5.82, -0.35)])
    ax.text(2.5, top + 0.45, "the cell state (the belt): only $\\times f_t$ and $+\\, i_t \\odot \\tilde c_t$",
            ha="center", fontsize=9)
    ax.text(0.2, 0.05, "$[h_{t-1}, x_t]$", ha="center", fontsize=8)
    _finish(ax, (-1.2, 6.8), (-1.6, 3.3), "LSTM cell: boxes are layers, circles elementwise operations")
    return fig


def draw_gru_cell() -> Figure:
    """The GRU cell in PyTorch's convention: $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$. Chapter 5.

    The reset gate $r_t$ scales the recurrent part of the candidate,
    $n_t = \\tanh(W_{xn} x_t + b_n + r_t \\odot (W_{hn} h_{t-1} + b_{hn}))$; with
    $z_t \\approx 1$ the unit copies $h_{t-1}$ along the top line.
    """
    fig = Figure(figsize=(8.2, 4.0), layout="constrained")
    ax = fig.subplots()
    top = 2.6
    _state(ax, -0.6, top, "$h_{t-1}$")
    _state(ax, 6.2, top, "$h_t$")
    _state(ax, 1.0, -1.2, "$x_t$", "x")
    _gate_column(ax, [1.0, 2.0, 3.4], ["$\\sigma$: $r_t$", "$\\sigma$: $z_t$", "tanh: $n_t$"],
                 [_GATE, _GATE, _CAND])
    _line(ax, [(-0.6, top - 0.22), (-0.6, -0.35), (0.55, -0.35)], arrow=False)
    _line(ax, [(1.0, -0.97), (1.0, -0.35)], arrow=False)
    _op(ax, 2.0, top, "×")
    _op(ax, 4.6, top, "+")
    _op(ax, 3.4, 1.5, "1−z", r=0.24)
    _op(ax, 4.6, 1.5, "×")
    _line(ax, [(-0.22, top), (1.8, top)])
    _line(ax, [(2.2, top), (4.4, top)])
    _line(ax, [(4.8, top), (5.82, top)])
    _line(ax, [(2.0, 0.53), (2.0, top - 0.2)])
    ax.text(2.15, 2.05, "$z_t$", fontsize=9)
    _line(ax, [(2.0, 1.5), (3.16, 1.5)])
    _line(ax, [(3.64, 1.5), (4.4, 1.5)])
    _line(ax, [(3.4, 0.53), (3.4, 1.05), (4.6, 1.05), (4.6, 1.3)])
    ax.text(4.0, 1.2, "$n_t$", ha="center", fontsize=9)
    _line(ax, [(4.6, 1.7), (4.6, top - 0.2)])
    _line(ax, [(1.0, 0.53), (1.0, 0.75), (3.12, 0.75), (3.12, 0.53)])
    ax.text(1.5, 1.05, "$r_t$ scales\n$W_{hn} h_{t-1}$", ha="center", fontsize=7.5)
    ax.text(2.3, top + 0.45, "$z_t \\approx 1$: copy $h_{t-1}$ (PyTorch's convention)", ha="center",
            fontsize=9)
    _finish(ax, (-1.2, 6.8), (-1.6, 3.3), "GRU cell: one state, two gates, no output gate")
    return fig
