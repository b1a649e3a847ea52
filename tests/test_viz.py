"""coursekit.book.viz: figures are built by code, deterministic, and show what they claim."""
from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from coursekit.book import viz


def _boxes(ax, kind=None):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)
            and (p.get_gid() or "").startswith("box-" + (kind or ""))]


def _arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def test_architectures_one_panel_each_with_the_right_boxes_and_arrows():
    fig = viz.draw_architectures()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(viz.ARCHITECTURES) == 5
    for ax, (name, spec) in zip(fig.axes, viz.ARCHITECTURES.items()):
        assert ax.get_title() == name
        steps, n_in, n_out = spec["steps"], len(spec["inputs"]), len(spec["outputs"])
        assert len(_boxes(ax, "h")) == steps
        assert len(_boxes(ax, "x")) == n_in
        assert len(_boxes(ax, "y")) == n_out
        # one arrow per input, per output, and per hidden-to-hidden link
        assert len(_arrows(ax)) == n_in + n_out + (steps - 1)
        assert spec["example"] in [t.get_text() for t in ax.texts]


def test_architecture_patterns_match_their_names():
    a = viz.ARCHITECTURES
    assert a["one-to-one"]["inputs"] == a["one-to-one"]["outputs"] == [0]
    assert len(a["one-to-many"]["inputs"]) == 1 < len(a["one-to-many"]["outputs"])
    assert len(a["many-to-one"]["outputs"]) == 1 < len(a["many-to-one"]["inputs"])
    synced = a["many-to-many\n(synced)"]
    assert synced["inputs"] == synced["outputs"] == list(range(synced["steps"]))
    ed = a["many-to-many\n(encoder-decoder)"]
    assert max(ed["inputs"]) < min(ed["outputs"])          # outputs only after the input ends


def test_architectures_subset_and_unknown_name():
    fig = viz.draw_architectures(["many-to-one"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "many-to-one"
    with pytest.raises(ValueError, match="unknown architecture"):
        viz.draw_architectures(["two-to-two"])


@pytest.mark.parametrize("T", [1, 3, 5])
def test_unrolled_rnn_shares_one_set_of_weight_labels(T):
    fig = viz.draw_unrolled_rnn(T)
    assert len(fig.axes) == 2
    folded, unrolled = fig.axes
    assert len(_boxes(folded)) == 3
    assert len(_boxes(unrolled, "h")) == T + 1                 # h_0 .. h_T
    assert len(_boxes(unrolled, "x")) == len(_boxes(unrolled, "y")) == T
    labels = [t.get_text() for t in unrolled.texts]
    for w in ("$W_{xh}$", "$W_{hh}$", "$W_{hy}$"):
        assert labels.count(w) == T                            # the same name at every step
    assert f"$h_{T}$" in labels and "$h_0$" in labels


def test_unrolled_rnn_textbook_notation_and_bad_arguments():
    labels = _texts(viz.draw_unrolled_rnn(2, notation="UVW"))
    assert {"$U$", "$W$", "$V$"} <= set(labels)
    assert not any("W_{xh}" in s for s in labels)
    for bad in (0, 9, 2.5, True):
        with pytest.raises(ValueError, match="T must be"):
            viz.draw_unrolled_rnn(bad)
    with pytest.raises(ValueError, match="notation"):
        viz.draw_unrolled_rnn(3, notation="abc")


def test_figures_are_deterministic():
    assert _png(viz.draw_architectures()) == _png(viz.draw_architectures())
    assert _png(viz.draw_unrolled_rnn(4)) == _png(viz.draw_unrolled_rnn(4))


def test_hidden_trajectories_one_line_per_unit(rng):
    h = np.tanh(rng.standard_normal((7, 3)))
    fig = viz.plot_hidden_trajectories(h, title="demo")
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("unit")]
    assert len(lines) == 3
    for j, ln in enumerate(lines):
        np.testing.assert_array_equal(ln.get_xdata(), np.arange(1, 8))
        np.testing.assert_array_equal(ln.get_ydata(), h[:, j])
    assert ax.get_title() == "demo"
    # (1, T, H) from rnn_forward is accepted; drawing into a given Axes returns its figure
    fig2 = Figure()
    ax2 = fig2.add_subplot()
    assert viz.plot_hidden_trajectories(h[None], ax=ax2) is fig2
    with pytest.raises(ValueError, match="shape"):
        viz.plot_hidden_trajectories(np.zeros((2, 3, 4)))


def test_plot_matrix_writes_every_number_and_outlines_highlights(rng):
    M = rng.standard_normal((4, 3))
    fig = viz.plot_matrix(M, row_labels=list("hell"), col_labels=["a", "b", "c"],
                          highlight=[(0, 1), (3, 2)], title="h_t")
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in M.ravel())
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == list("hell")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    np.testing.assert_array_equal(ax.images[0].get_array(), M)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi == -np.abs(M).max()                       # signed data: symmetric colours
    probs = np.full((2, 4), 0.25)
    assert viz.plot_matrix(probs).axes[0].images[0].get_clim() == (0.0, 0.25)


def test_plot_matrix_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        viz.plot_matrix(np.zeros(3))
    with pytest.raises(ValueError, match="row_labels must have 2 entries"):
        viz.plot_matrix(np.zeros((2, 2)), row_labels=["a"])
