"""Chapter 1 (recurrent neural networks): the hidden-state explorer and its computation.

The computation behind the explorer is a plain function that returns arrays
(:func:`hidden_trajectories`), so it is tested like the rest of the package;
the widget code only wires sliders to it and draws. The explorer first displays
a static grid of typical settings (what the rendered book shows, where no kernel
runs), then the sliders.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from coursekit.book.viz import plot_hidden_trajectories
from coursekit.book.widgets import explore, figure_frame
from coursekit.nn.rnn import recurrent_matrix, rnn_forward

__all__ = ["DEFAULT_SEED", "DRIVES", "input_sequence", "hidden_trajectories", "trajectory_grid",
           "leading_eigenvalue", "eigenvalue_kind", "late_behaviour", "eigenvalue_figure",
           "explorer_figure", "build_hidden_state_explorer", "hidden_state_explorer"]

# With this seed the leading eigenvalue of the random W_hh (the one of largest modulus)
# is real and positive, so a pulse decays or grows without changing sign. Other seeds
# have a negative or a complex leading eigenvalue, and the state oscillates: the chapter
# prints which (``leading_eigenvalue``), and ``tests/test_ch01_explorer.py`` checks this one.
DEFAULT_SEED = 3

# name -> what the input x_t is (one scalar per step, D = 1)
DRIVES = {
    "pulse": "a single pulse x_1 = 1, then x_t = 0",
    "constant": "the same input x_t = 1 at every step",
    "noise": "random inputs x_t ~ N(0, 1)",
}


def input_sequence(T: int, drive: str = "pulse", *, seed: int = 0) -> np.ndarray:
    """The scalar input sequence ``x`` ``(1, T, 1)`` for one of the :data:`DRIVES`."""
    if drive not in DRIVES:
        raise ValueError(f"drive must be one of {list(DRIVES)}, got {drive!r}")
    x = np.zeros((1, T, 1))
    if drive == "pulse":
        x[0, 0, 0] = 1.0
    elif drive == "constant":
        x[:] = 1.0
    else:
        x[0, :, 0] = np.random.default_rng(seed + 1).standard_normal(T)
    return x


def hidden_trajectories(radius: float, *, input_scale: float = 1.0, T: int = 40, H: int = 8,
                        drive: str = "pulse", seed: int = DEFAULT_SEED) -> np.ndarray:
    """Hidden states of a random tanh RNN whose recurrent weights have spectral radius ``radius``.

    Shapes: -> h (T, H), from ``rnn_forward`` with N = 1, D = 1, h_0 = 0, b = 0.
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh x_t) with rho(W_hh) = radius and
    W_xh ~ input_scale * N(0, 1).

    What to expect: a small radius forgets (after a pulse the state decays to
    0; under constant input it settles on a fixed point set by the input),
    a radius near 1 remembers for longer, and a large radius makes the state
    feed itself until the units saturate near +1 or -1. Chapter 1.
    """
    Wh = recurrent_matrix(H, radius, seed=seed)
    Wx = input_scale * np.random.default_rng(seed + 1000).standard_normal((1, H))
    x = input_sequence(T, drive, seed=seed)
    h, _ = rnn_forward(x, np.zeros((1, H)), Wx, Wh, np.zeros(H))
    return h[0]


def trajectory_grid(radii=(0.5, 0.95, 1.5, 3.0), drives=("pulse", "constant"), **kwargs) -> Figure:
    """Static grid of :func:`hidden_trajectories`: one row per drive, one column per radius."""
    fig = Figure(figsize=(2.7 * len(radii) + 0.6, 2.3 * len(drives) + 0.5), layout="constrained")
    axes = fig.subplots(len(drives), len(radii), sharex=True, sharey=True, squeeze=False)
    for i, drive in enumerate(drives):
        for j, r in enumerate(radii):
            ax = axes[i, j]
            plot_hidden_trajectories(hidden_trajectories(r, drive=drive, **kwargs), ax=ax,
                                     title=f"{drive} input, $\\rho(W_{{hh}})$ = {r:g}")
            if i < len(drives) - 1:
                ax.set_xlabel("")
            if j > 0:
                ax.set_ylabel("")
    return fig


def leading_eigenvalue(radius: float = 1.0, *, H: int = 8, seed: int = DEFAULT_SEED) -> complex:
    """The eigenvalue of largest modulus of ``recurrent_matrix(H, radius, seed=seed)``.

    Its modulus is ``radius`` (the spectral radius); its sign or angle decides how
    the state moves: a positive real one keeps the sign, a negative real one flips
    it every step (a period-2 zigzag), a complex pair rotates it. Chapter 1.
    """
    eig = np.linalg.eigvals(recurrent_matrix(H, radius, seed=seed))
    lam = complex(eig[np.argmax(np.abs(eig))])
    return complex(round(lam.real, 12), round(lam.imag, 12))


def eigenvalue_kind(lam: complex, tol: float = 1e-9) -> str:
    """``"real, positive"``, ``"real, negative"`` or ``"complex pair"`` for an eigenvalue ``lam``."""
    if abs(complex(lam).imag) > tol:
        return "complex pair"
    return "real, positive" if complex(lam).real > 0 else "real, negative"


def late_behaviour(h: np.ndarray, last: int = 10) -> dict:
    """How a trajectory ``h`` (T, H) ends: the largest ``|h|`` over the ``last`` steps and sign flips.

    ``amplitude`` is max |h_t,j| over the last steps; ``flip_rate`` is the share of
    those steps at which the unit with the largest final |h| changes sign (1.0 for a
    period-2 zigzag, 0.0 for a state that keeps its sign). Chapter 1.
    """
    h = np.asarray(h)
    if h.ndim != 2 or h.shape[0] < 2:
        raise ValueError(f"h must have shape (T, H) with T >= 2, got {h.shape}")
    tail = h[-min(last, h.shape[0]):]
    unit = int(np.argmax(np.abs(tail[-1])))
    signs = np.sign(tail[:, unit])
    return {"amplitude": float(np.abs(tail).max()), "flip_rate": float(np.mean(signs[1:] != signs[:-1]))}


def eigenvalue_figure(radius: float = 1.0, seeds=range(6), H: int = 8) -> Figure:
    """Eigenvalues of the explorer's W_hh for several seeds, the leading one ringed. Chapter 1."""
    seeds = list(seeds)
    fig = Figure(figsize=(1.9 * len(seeds) + 0.4, 2.3), layout="constrained")
    axes = fig.subplots(1, len(seeds), squeeze=False)[0]
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    for ax, seed in zip(axes, seeds):
        eig = np.linalg.eigvals(recurrent_matrix(H, radius, seed=seed))
        lam = leading_eigenvalue(radius, H=H, seed=seed)
        ax.plot(radius * circle.real, radius * circle.imag, color="0.6", linewidth=1)
        ax.scatter(eig.real, eig.imag, s=14, color="C3", zorder=3)
        ax.scatter([lam.real], [lam.imag], s=90, facecolor="none", edgecolor="k", zorder=4)
        lim = 1.2 * radius
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"seed {seed}: {eigenvalue_kind(lam)}", fontsize=8)
    fig.suptitle(f"eigenvalues of $W_{{hh}}$ (circle: $|\\lambda| = \\rho = {radius:g}$; ringed: the leading one)",
                 fontsize=9)
    return fig


def explorer_figure(radius: float = 0.9, input_scale: float = 1.0, T: int = 40,
                    drive: str = "pulse", seed: int = DEFAULT_SEED, H: int = 8) -> Figure:
    """The explorer's picture: trajectories (left) and the eigenvalues of W_hh (right)."""
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    ax_h, ax_e = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=[2.4, 1]))
    h = hidden_trajectories(radius, input_scale=input_scale, T=T, H=H, drive=drive, seed=seed)
    plot_hidden_trajectories(h, ax=ax_h, title=f"{DRIVES[drive]}; mean |h_T| = {np.abs(h[-1]).mean():.3f}")
    eig = np.linalg.eigvals(recurrent_matrix(H, radius, seed=seed))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    ax_e.plot(circle.real, circle.imag, color="0.5", linewidth=1, label="|λ| = 1")
    ax_e.scatter(eig.real, eig.imag, s=25, color="C3", zorder=3, label="eigenvalues")
    lim = max(1.2, 1.1 * radius)
    ax_e.set_xlim(-lim, lim)
    ax_e.set_ylim(-lim, lim)
    ax_e.set_aspect("equal")
    ax_e.set_title("eigenvalues of $W_{hh}$", fontsize=10)
    ax_e.legend(fontsize=7, loc="upper right")
    return fig


def build_hidden_state_explorer(*, radius: float = 0.9, T: int = 40, H: int = 8):
    """The interactive explorer as an ``ipywidgets.VBox`` (nothing is displayed).

    Controls: spectral radius of W_hh, input scale, number of steps, kind of
    input and seed; the output area redraws :func:`explorer_figure`.
    The returned box has ``.controls`` (name -> widget) and ``.output``.
    """
    import ipywidgets as W
    from IPython.display import display

    style = {"description_width": "110px"}
    layout = W.Layout(width="340px")
    controls = {
        "radius": W.FloatSlider(value=radius, min=0.1, max=3.0, step=0.05, style=style, layout=layout,
                                description="radius ρ(W_hh)", continuous_update=False),
        "input_scale": W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1, style=style, layout=layout,
                                     description="input scale", continuous_update=False),
        "T": W.IntSlider(value=T, min=5, max=100, step=5, style=style, layout=layout,
                         description="steps T", continuous_update=False),
        "drive": W.Dropdown(options=list(DRIVES), value="pulse", style=style, layout=layout,
                            description="input x_t"),
        "seed": W.IntSlider(value=DEFAULT_SEED, min=0, max=9, style=style, layout=layout,
                            description="seed", continuous_update=False),
    }

    def redraw(radius, input_scale, T, drive, seed):
        display(figure_frame(explorer_figure(radius, input_scale, T, drive, seed, H)))

    output = W.interactive_output(redraw, controls)
    box = W.VBox([W.HBox([W.VBox([controls["radius"], controls["input_scale"], controls["T"]]),
                          W.VBox([controls["drive"], controls["seed"]])]), output])
    box.controls, box.output = controls, output
    return box


def hidden_state_explorer(*, radius: float = 0.9, T: int = 40, H: int = 8) -> None:
    """Display a static grid of typical settings, then the interactive explorer.

    The static grid (:func:`trajectory_grid`) is what the rendered book shows
    where no kernel runs; in a live notebook move the sliders below it.
    """
    explore(trajectory_grid(T=T, H=H),
            lambda: build_hidden_state_explorer(radius=radius, T=T, H=H))
