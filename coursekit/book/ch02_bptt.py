"""Backpropagation through time: where the gradient goes and how big it stays.

Chapter 2 follows the gradient of a loss backwards through an unrolled
recurrent network. Written with column vectors (the book's notation) and an
elementwise nonlinearity ``phi`` (tanh, ReLU or the identity)::

    h_t = phi(a_t),   a_t = W_hh h_{t-1} + W_xh x_t + b_h
    dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh                    (one step's Jacobian)
    dL/dh_t = d_t + W_hh^T (phi'(a_{t+1}) * dL/dh_{t+1})      (the BPTT recursion)

where ``d_t`` is the part of the gradient that reaches ``h_t`` directly
(through the output at step ``t``). For tanh, ``phi'(a_t) = 1 - h_t^2``.
In code (batch rows) ``Wh = W_hh^T``, so the recursion reads
``g[:, t-1] = dh[:, t-1] + (g[:, t] * dphi[:, t]) @ Wh.T``.

This module measures that gradient (:func:`hidden_gradients`,
:func:`gradient_norms`, :func:`norm_vs_distance`), builds the matrices the
chapter studies (:func:`rotation_scaling`, :func:`spectral_radius`), and holds
the pictures and the explorer of the chapter. The remedies train a
:class:`coursekit.models.sequence.SequenceNet` on
:func:`coursekit.data.tasks.delayed_recall` with :func:`coursekit.train.loop.train`
and :func:`coursekit.train.loop.sequence_loss`; :func:`recall_accuracy` scores it.
"""
from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from coursekit._validate import Dims, check_array, check_positive_int, check_same_dtype
from coursekit.book.widgets import explore, figure_frame
from coursekit.data.tasks import IGNORE, delayed_recall
from coursekit.nn.rnn import recurrent_matrix

__all__ = ["NONLINEARITIES", "rnn_states", "step_jacobians", "hidden_gradients",
           "gradient_norms", "spectral_radius", "rotation_scaling", "norm_vs_distance",
           "recall_accuracy", "RADII", "plot_norm_vs_distance", "plot_rotation_scaling",
           "explorer_figure", "build_gradient_explorer", "gradient_explorer", "plot_histories",
           "plot_accuracies"]

NONLINEARITIES = ("identity", "tanh", "relu")


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def _phi(a, nonlinearity):
    if nonlinearity == "tanh":
        return np.tanh(a)
    if nonlinearity == "relu":
        return np.maximum(a, 0)
    return a


def _dphi(h, nonlinearity):
    """phi'(a_t) written with the output h_t = phi(a_t): 1 - h^2, [h > 0] or 1."""
    if nonlinearity == "tanh":
        return 1 - h ** 2
    if nonlinearity == "relu":
        return (h > 0).astype(h.dtype)
    return np.ones_like(h)


def rnn_states(x, h0, Wx, Wh, b, nonlinearity="tanh"):
    """Hidden states of a vanilla RNN with a choice of nonlinearity (no cache).

    Shapes: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) -> h (N, T, H).
    Formula: h_t = phi(W_hh h_{t-1} + W_xh x_t + b_h), phi in {identity, tanh, relu};
    for tanh this is ``coursekit.nn.rnn.rnn_forward``.
    Chapter 2: Backpropagation through time (vanishing and exploding gradients).
    """
    _check_nonlinearity(nonlinearity)
    dims = Dims()
    check_array("x", x, ("N", "T", "D"), dims)
    check_array("h0", h0, ("N", "H"), dims)
    check_array("Wx", Wx, ("D", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_array("b", b, ("H",), dims)
    check_same_dtype(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    h = np.empty((x.shape[0], x.shape[1], h0.shape[1]), dtype=x.dtype)  # (N, T, H)
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h = _phi(x[:, t] @ Wx + prev_h @ Wh + b, nonlinearity)
        h[:, t] = prev_h
    return h


def _check_h_Wh(h, Wh):
    dims = Dims()
    check_array("h", h, ("N", "T", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_same_dtype(h=h, Wh=Wh)


def step_jacobians(h, Wh, nonlinearity="tanh"):
    """The Jacobian of every step, dh_t/dh_{t-1}, for each sequence of the batch.

    Shapes: h (N, T, H) states from :func:`rnn_states`, Wh (H, H) -> J (N, T, H, H),
    ``J[n, t, i, j] = d h_t[i] / d h_{t-1}[j]`` (column convention).
    Formula: dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh, with W_hh = Wh^T and
    phi'(a_t) = 1 - h_t^2 for tanh.
    Chapter 2: Backpropagation through time.
    """
    _check_nonlinearity(nonlinearity)
    _check_h_Wh(h, Wh)
    return _dphi(h, nonlinearity)[..., :, None] * Wh.T  # (N, T, H, H)


def hidden_gradients(dh, h, Wh, nonlinearity="tanh"):
    """Total gradient dL/dh_t at every step, from the direct gradients ``dh``.

    Shapes: dh (N, T, H) the gradient reaching each h_t directly (from its own
    output), h (N, T, H) the states, Wh (H, H) -> g (N, T, H).
    Formula: g_T = d_T;  g_{t-1} = d_{t-1} + W_hh^T (phi'(a_t) * g_t);
    in code ``g[:, t-1] = dh[:, t-1] + (g[:, t] * dphi[:, t]) @ Wh.T``.
    Chapter 2: Backpropagation through time (the recursion for dL/dh_t).
    """
    _check_nonlinearity(nonlinearity)
    _check_h_Wh(h, Wh)
    check_array("dh", dh, h.shape)
    check_same_dtype(dh=dh, h=h)
    dphi = _dphi(h, nonlinearity)  # (N, T, H)
    g = np.empty_like(dh)
    g[:, -1] = dh[:, -1]
    for t in range(h.shape[1] - 1, 0, -1):
        g[:, t - 1] = dh[:, t - 1] + (g[:, t] * dphi[:, t]) @ Wh.T  # (N, H)
    return g


def gradient_norms(dh, h, Wh, nonlinearity="tanh"):
    """Size of dL/dh_t at every step: the norm over the batch and the hidden units.

    Shapes: dh, h (N, T, H), Wh (H, H) -> norms (T,), ``norms[t] = ||dL/dh_t||``
    (Frobenius norm of the (N, H) slice; for N = 1 the vector norm).
    Formula: the norms of :func:`hidden_gradients`.
    Chapter 2: Backpropagation through time (vanishing and exploding gradients).
    """
    g = hidden_gradients(dh, h, Wh, nonlinearity)
    return np.sqrt((g ** 2).sum(axis=(0, 2)))


def spectral_radius(W):
    """The largest eigenvalue magnitude max_i |lambda_i(W)| of a square matrix.

    Shapes: W (H, H) -> float. ``W_hh`` and ``Wh = W_hh^T`` have the same one.
    Chapter 2: in a linear RNN it decides whether gradients vanish (< 1) or explode (> 1).
    """
    check_array("W", W, ("H", "H"))
    return float(np.abs(np.linalg.eigvals(W)).max())


def rotation_scaling(radius, angle):
    """A 2x2 matrix that rotates by ``angle`` and scales by ``radius``.

    Shapes: -> (2, 2) float64.
    Formula: r [[cos a, -sin a], [sin a, cos a]], eigenvalues r e^{+-ia} (complex for
    0 < a < pi), so powers W^k shrink or grow like r^k while they rotate by k a.
    Chapter 2: complex eigenvalues make the gradient oscillate.
    """
    c, s = np.cos(angle), np.sin(angle)
    return float(radius) * np.array([[c, -s], [s, c]])


def norm_vs_distance(radius, nonlinearity="tanh", *, T=60, H=32, D=4, N=8,
                     input_scale=1.0, seed=0):
    """Relative gradient norm ||dL/dh_t|| / ||dL/dh_T|| against the distance T - t.

    A random RNN with ``Wh`` of spectral radius ``radius``
    (:func:`coursekit.nn.rnn.recurrent_matrix`), inputs x_t ~ N(0, 1),
    ``W_xh`` entries ~ N(0, input_scale^2 / D), zero bias, h_0 = 0, and the loss
    L = sum_n u_n . h_T for random unit vectors u_n (so only h_T is read).

    Shapes: -> distance (T,) = 0, 1, ..., T-1 and ratio (T,) with ratio[0] = 1.
    Formula: dL/dh_t = (prod_{s=t+1}^{T} diag(phi'(a_s)) W_hh)^T dL/dh_T.
    Chapter 2: vanishing and exploding gradients.
    """
    _check_nonlinearity(nonlinearity)
    T, H, D, N = (check_positive_int(k, v) for k, v in (("T", T), ("H", H), ("D", D), ("N", N)))
    rng = np.random.default_rng(seed)
    Wh = recurrent_matrix(H, radius, seed=seed)
    Wx = rng.standard_normal((D, H)) * input_scale / np.sqrt(D)
    x = rng.standard_normal((N, T, D))
    h = rnn_states(x, np.zeros((N, H)), Wx, Wh, np.zeros(H), nonlinearity)
    dh = np.zeros_like(h)
    u = rng.standard_normal((N, H))
    dh[:, -1] = u / np.linalg.norm(u, axis=1, keepdims=True)
    norms = gradient_norms(dh, h, Wh, nonlinearity)[::-1]  # index = distance T - t
    return np.arange(T), norms / norms[0]


# ------------------------------------------------------------- the remedies' task
@torch.no_grad()
def recall_accuracy(model, lag, *, N=256, T=60, seed=12345):
    """Fraction of correct recalls on fresh :func:`delayed_recall` sequences (from h_0 = 0).

    Chance level is 1 / n_symbols. Chapter 2.
    """
    x, y = delayed_recall(N, T, lag, model.n_inputs, seed=seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores, _ = model(torch.as_tensor(x, device=device))
    model.train(was_training)
    keep = torch.as_tensor(y != IGNORE, device=device)
    pred = scores.argmax(-1)
    return float((pred[keep] == torch.as_tensor(y, device=device)[keep]).float().mean())


# ------------------------------------------------------------- pictures
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
    :func:`coursekit.book.ch02_bptt.norm_vs_distance` (``H``, ``input_scale``, ...).
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
        display(figure_frame(explorer_figure(radius, nonlinearity, input_scale, T, seed)))

    output = W.interactive_output(redraw, controls)
    box = W.VBox([W.HBox([W.VBox([controls["radius"], controls["nonlinearity"], controls["input_scale"]]),
                          W.VBox([controls["T"], controls["seed"]])]), output])
    box.controls, box.output = controls, output
    return box


def gradient_explorer(*, radius=1.0, nonlinearity="tanh", T=40) -> None:
    """Show the static overview (three nonlinearities, five radii), then the sliders."""
    explore(plot_norm_vs_distance(nonlinearities=NONLINEARITIES, T=T),
            lambda: build_gradient_explorer(radius=radius, nonlinearity=nonlinearity, T=T))


def plot_histories(histories: dict, *, smooth=10, loss_scale="log") -> Figure:
    """Training loss (left) and the gradient norm that ``train`` records (right) for several runs.

    The recorded norm is taken before norm clipping but after value clipping
    (``clip_value``), so a value-clipped run shows the norm of the clamped
    gradient; the axis label says so.

    ``histories`` maps a label to a :func:`coursekit.train.loop.train` history.
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
    ax_g.set(xlabel="update", ylabel="recorded gradient norm\n(before norm clipping, after value clipping)")
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
