"""Plots and the gradient explorer of chapter 2 (backpropagation through time).

The numbers come from :mod:`coursekit.bptt`; this module only draws them.
Every function returns a ``matplotlib.figure.Figure`` (no pyplot state), so
a notebook cell that ends with the figure shows it and tests can build them
headless. The explorer first shows a static figure (what the rendered book
keeps), then the sliders.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from coursekit.bptt import NONLINEARITIES, norm_vs_distance, rotation_scaling
from coursekit.widgets import figure_png, recurrent_matrix

__all__ = ["RADII", "plot_norm_vs_distance", "plot_rotation_scaling", "explorer_figure",
           "build_gradient_explorer", "gradient_explorer", "plot_histories", "plot_accuracies"]

RADII = (0.5, 0.9, 1.0, 1.1, 1.5)


def _norm_axes(ax, radius, nonlinearity, d, ratio, *, label=None, reference=False, color=None):
    line, = ax.semilogy(d, ratio, label=label, color=color, linewidth=1.6)
    if reference:
        ax.semilogy(d, radius ** d.astype(float), linestyle=":", color=line.get_color(), linewidth=1)
    ax.set_xlabel("distance $T - t$ (steps back)")
    ax.set_title(f"$\\phi$ = {nonlinearity}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)


def plot_norm_vs_distance(radii=RADII, nonlinearities=("identity", "tanh"), *, T=40,
                          seed=0, **kwargs) -> Figure:
    """||dL/dh_t|| / ||dL/dh_T|| against T - t, one panel per nonlinearity, one curve per radius.

    Dotted lines are rho^(T-t), the linear theory. Extra keyword arguments go to
    :func:`coursekit.bptt.norm_vs_distance` (``H``, ``input_scale``, ...).
    """
    fig = Figure(figsize=(4.2 * len(nonlinearities), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(nonlinearities), sharey=True))
    for ax, nl in zip(axes, nonlinearities):
        for i, rho in enumerate(radii):
            d, ratio = norm_vs_distance(rho, nl, T=T, seed=seed, **kwargs)
            _norm_axes(ax, rho, nl, d, ratio, label=f"ρ = {rho:g}", reference=True, color=f"C{i}")
    axes[0].set_ylabel("$\\|\\partial L/\\partial h_t\\| \\,/\\, \\|\\partial L/\\partial h_T\\|$")
    axes[-1].legend(fontsize=8, loc="lower left")
    return fig


def plot_rotation_scaling(radii=(0.9, 1.0, 1.1), angle=0.5, steps=40) -> Figure:
    """A gradient pushed back through W = r R(angle): components oscillate inside +-r^k."""
    fig = Figure(figsize=(4.0 * len(radii), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(radii)))
    k = np.arange(steps + 1)
    for ax, r in zip(axes, radii):
        W = rotation_scaling(r, angle)
        g = np.empty((steps + 1, 2))
        g[0] = (1.0, 0.0)
        for s in range(steps):
            g[s + 1] = W.T @ g[s]  # one step back: dL/dh_{t-1} = W^T dL/dh_t (linear)
        ax.plot(k, g[:, 0], ".-", label="component 1", markersize=3)
        ax.plot(k, g[:, 1], ".-", label="component 2", markersize=3)
        ax.plot(k, r ** k, "k:", linewidth=1, label="$\\pm r^k$")
        ax.plot(k, -r ** k, "k:", linewidth=1)
        ax.set_title(f"r = {r:g}, angle = {angle:g} rad", fontsize=10)
        ax.set_xlabel("steps back $k$")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("$\\partial L/\\partial h_{T-k}$")
    axes[0].legend(fontsize=7)
    return fig


def explorer_figure(radius=1.0, nonlinearity="tanh", input_scale=1.0, T=40, seed=0, H=32) -> Figure:
    """The explorer's picture: the norm curve (left) and the eigenvalues of W_hh (right)."""
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    ax_n, ax_e = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[2.2, 1]))
    d, ratio = norm_vs_distance(radius, nonlinearity, T=T, H=H, input_scale=input_scale, seed=seed)
    _norm_axes(ax_n, radius, nonlinearity, d, ratio, label="measured", reference=True, color="C0")
    ax_n.lines[-1].set_label("$\\rho^{T-t}$ (linear theory)")
    ax_n.set_ylabel("$\\|\\partial L/\\partial h_t\\| / \\|\\partial L/\\partial h_T\\|$")
    ax_n.set_title(f"ρ = {radius:g}, φ = {nonlinearity}; after {T - 1} steps: {ratio[-1]:.2e}",
                   fontsize=10)
    ax_n.legend(fontsize=8)
    eig = np.linalg.eigvals(recurrent_matrix(H, radius, seed=seed))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    ax_e.plot(circle.real, circle.imag, color="0.5", linewidth=1, label="|λ| = 1")
    ax_e.scatter(eig.real, eig.imag, s=16, color="C3", zorder=3, label="eigenvalues")
    lim = max(1.2, 1.1 * radius)
    ax_e.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax_e.set_title("eigenvalues of $W_{hh}$", fontsize=10)
    ax_e.legend(fontsize=7, loc="upper right")
    return fig


def build_gradient_explorer(*, radius=1.0, nonlinearity="tanh", T=40):
    """The interactive explorer as an ``ipywidgets.VBox`` (nothing is displayed).

    Controls: spectral radius of W_hh, nonlinearity, input scale, T and seed;
    the output area redraws :func:`explorer_figure`. The box has
    ``.controls`` (name -> widget) and ``.output``.
    """
    import ipywidgets as W
    from IPython.display import display

    style = {"description_width": "110px"}
    layout = W.Layout(width="340px")
    controls = {
        "radius": W.FloatSlider(value=radius, min=0.1, max=2.0, step=0.05, style=style,
                                layout=layout, description="radius ρ(W_hh)", continuous_update=False),
        "nonlinearity": W.Dropdown(options=list(NONLINEARITIES), value=nonlinearity, style=style,
                                   layout=layout, description="nonlinearity φ"),
        "input_scale": W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1, style=style,
                                     layout=layout, description="input scale", continuous_update=False),
        "T": W.IntSlider(value=T, min=10, max=150, step=10, style=style, layout=layout,
                         description="steps T", continuous_update=False),
        "seed": W.IntSlider(value=0, min=0, max=9, style=style, layout=layout,
                            description="seed", continuous_update=False),
    }

    def redraw(radius, nonlinearity, input_scale, T, seed):
        display(figure_png(explorer_figure(radius, nonlinearity, input_scale, T, seed)))

    output = W.interactive_output(redraw, controls)
    box = W.VBox([W.HBox([W.VBox([controls["radius"], controls["nonlinearity"], controls["input_scale"]]),
                          W.VBox([controls["T"], controls["seed"]])]), output])
    box.controls, box.output = controls, output
    return box


def gradient_explorer(*, radius=1.0, nonlinearity="tanh", T=40) -> None:
    """Show the static overview (three nonlinearities, five radii), then the sliders."""
    from IPython.display import display
    display(figure_png(plot_norm_vs_distance(nonlinearities=NONLINEARITIES, T=T)))
    display(build_gradient_explorer(radius=radius, nonlinearity=nonlinearity, T=T))


def plot_histories(histories: dict, *, smooth=10, loss_scale="log") -> Figure:
    """Training loss (left) and gradient norm before clipping (right) for several runs.

    ``histories`` maps a label to a :func:`coursekit.train.train` history.
    Losses are smoothed by a running mean over ``smooth`` updates and drawn on
    a ``loss_scale`` ("log" or "linear") axis.
    """
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    ax_l, ax_g = fig.subplots(1, 2)
    for i, (label, h) in enumerate(histories.items()):
        loss = np.asarray(h["loss"], dtype=float)
        kernel = np.ones(smooth) / smooth
        smoothed = np.convolve(loss, kernel, mode="valid") if len(loss) >= smooth else loss
        ax_l.plot(np.arange(len(smoothed)) + smooth, smoothed, color=f"C{i}", label=label)
        ax_g.semilogy(h["step"], h["grad_norm"], color=f"C{i}", linewidth=0.8, label=label)
    ax_l.set(xlabel="update", ylabel="training loss (nats, running mean)", yscale=loss_scale)
    ax_g.set(xlabel="update", ylabel="gradient norm (before clipping)")
    for ax in (ax_l, ax_g):
        ax.grid(True, alpha=0.3)
    ax_l.legend(fontsize=8)
    return fig


def plot_accuracies(labels, accuracies, *, chance=None, title=None) -> Figure:
    """A bar chart of accuracies with the chance level as a dashed line."""
    fig = Figure(figsize=(1.1 * len(labels) + 2.0, 3.0), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(range(len(labels)), accuracies, color=[f"C{i}" for i in range(len(labels))])
    for b, a in zip(bars, accuracies):
        ax.text(b.get_x() + b.get_width() / 2, a + 0.02, f"{a:.2f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    if chance is not None:
        ax.axhline(chance, color="0.4", linestyle="--", linewidth=1, label="chance")
        ax.legend(fontsize=8, loc="upper left")
    ax.set(ylim=(0, 1.1), ylabel="accuracy")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
