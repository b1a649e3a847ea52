"""coursekit.book.widgets: the explorer's computation is rnn_forward, and behaves as chapter 1 says."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from coursekit.book import ch01_rnn as ch01, widgets
from coursekit.nn.rnn import recurrent_matrix
from coursekit.nn.rnn import rnn_step_forward


def _spectral_radius(M):
    return np.abs(np.linalg.eigvals(M)).max()


@pytest.mark.parametrize("radius", [0.0, 0.3, 1.0, 2.5])
def test_recurrent_matrix_has_the_requested_spectral_radius(radius):
    Wh = recurrent_matrix(6, radius, seed=4)
    assert Wh.shape == (6, 6)
    assert _spectral_radius(Wh) == pytest.approx(radius, abs=1e-12)
    np.testing.assert_array_equal(Wh, recurrent_matrix(6, radius, seed=4))
    with pytest.raises(ValueError, match="radius"):
        recurrent_matrix(6, -1.0)


def test_input_sequences():
    T = 6
    pulse = ch01.input_sequence(T, "pulse")
    assert pulse.shape == (1, T, 1) and pulse[0, 0, 0] == 1 and not pulse[0, 1:].any()
    assert (ch01.input_sequence(T, "constant") == 1).all()
    noise = ch01.input_sequence(T, "noise", seed=2)
    np.testing.assert_array_equal(noise, ch01.input_sequence(T, "noise", seed=2))
    assert noise.std() > 0
    with pytest.raises(ValueError, match="drive"):
        ch01.input_sequence(T, "sawtooth")


@pytest.mark.parametrize("drive", list(ch01.DRIVES))
def test_trajectories_are_the_tanh_recurrence(drive):
    """Re-run the recurrence one step at a time with the same weights: identical states."""
    radius, scale, T, H, seed = 1.3, 0.7, 12, 5, 2
    h = ch01.hidden_trajectories(radius, input_scale=scale, T=T, H=H, drive=drive, seed=seed)
    assert h.shape == (T, H)
    Wh = recurrent_matrix(H, radius, seed=seed)
    Wx = scale * np.random.default_rng(seed + 1000).standard_normal((1, H))
    x = ch01.input_sequence(T, drive, seed=seed)
    prev = np.zeros((1, H))
    for t in range(T):
        expected = np.tanh(x[:, t] @ Wx + prev @ Wh)
        step, _ = rnn_step_forward(x[:, t], prev, Wx, Wh, np.zeros(H))
        np.testing.assert_allclose(step, expected, rtol=0, atol=1e-15)
        np.testing.assert_allclose(h[t], step[0], rtol=0, atol=1e-15)
        prev = step


def test_small_radius_forgets_a_pulse_at_rate_rho():
    for radius in (0.3, 0.5, 0.8):
        h = ch01.hidden_trajectories(radius, drive="pulse", T=60)
        norms = np.linalg.norm(h, axis=1)
        assert norms[-1] < 1e-4 * norms[0]
        assert np.all(np.diff(norms[5:]) < 0)                   # decays monotonically
        # near zero tanh is linear, so each step shrinks the state by about rho
        assert norms[40] / norms[39] == pytest.approx(radius, rel=0.02)


def test_radius_near_one_remembers_longer_than_small_radius():
    late = {r: np.linalg.norm(ch01.hidden_trajectories(r, drive="pulse", T=40)[-1])
            for r in (0.5, 0.95)}
    assert late[0.95] > 1e6 * late[0.5]
    assert late[0.95] > 1e-3


def test_constant_input_settles_on_an_input_driven_fixed_point():
    radius, T, H = 0.5, 60, 8
    h = ch01.hidden_trajectories(radius, drive="constant", T=T, H=H)
    np.testing.assert_allclose(h[-1], h[-2], atol=1e-12)        # stopped moving
    assert np.abs(h[-1]).max() > 0.1                              # but not at zero
    Wh = recurrent_matrix(H, radius, seed=ch01.DEFAULT_SEED)
    Wx = np.random.default_rng(ch01.DEFAULT_SEED + 1000).standard_normal((1, H))
    np.testing.assert_allclose(h[-1], np.tanh(np.ones(1) @ Wx + h[-1] @ Wh), atol=1e-12)
    zero_input = ch01.hidden_trajectories(radius, input_scale=0.0, drive="constant", T=T, H=H)
    assert not zero_input.any()                                   # no input, no state


def test_large_radius_saturates_without_input():
    for seed in range(3):
        h = ch01.hidden_trajectories(3.0, drive="pulse", T=60, seed=seed)
        late = np.abs(h[-20:])
        assert late.mean() > 0.7                                  # self-sustained, near +-1
        assert (late > 0.9).mean() > 0.4
        small = np.abs(ch01.hidden_trajectories(0.5, drive="pulse", T=60, seed=seed)[-20:])
        assert small.max() < 1e-6


def test_trajectory_grid_and_explorer_figure():
    fig = ch01.trajectory_grid(radii=(0.5, 2.0), drives=("pulse",), T=10, H=3)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    for ax in fig.axes:
        assert len([ln for ln in ax.get_lines() if ln.get_label().startswith("unit")]) == 3
    fig = ch01.explorer_figure(radius=1.7, T=15, H=4)
    ax_h, ax_e = fig.axes
    assert len([ln for ln in ax_h.get_lines() if ln.get_label().startswith("unit")]) == 4
    eig = ax_e.collections[0].get_offsets()
    assert len(eig) == 4
    assert np.hypot(eig[:, 0], eig[:, 1]).max() == pytest.approx(1.7)


def test_explorer_builds_without_a_display_and_redraws_on_change(monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    real = ch01.explorer_figure
    monkeypatch.setattr(ch01, "explorer_figure", lambda *a: calls.append(a) or real(*a))
    box = ch01.build_hidden_state_explorer(radius=0.7, T=20, H=4)
    assert set(box.controls) == {"radius", "input_scale", "T", "drive", "seed"}
    assert box.controls["radius"].value == 0.7 and box.controls["T"].value == 20
    assert box.controls["drive"].options == tuple(ch01.DRIVES)
    assert calls[-1] == (0.7, 1.0, 20, "pulse", ch01.DEFAULT_SEED, 4)
    box.controls["radius"].value = 2.0
    box.controls["drive"].value = "noise"
    assert calls[-1] == (2.0, 1.0, 20, "noise", ch01.DEFAULT_SEED, 4)


def test_hidden_state_explorer_shows_static_figure_first(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    assert ch01.hidden_state_explorer(T=10, H=3) is None
    static, widget = shown[0], shown[-1]
    assert isinstance(static, IPython.display.Image) and static.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert static.data == widgets.figure_png(ch01.trajectory_grid(T=10, H=3)).data
    assert type(widget).__name__ == "VBox"


def test_trajectory_shapes_and_range_for_any_setting():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=25, deadline=None)
    @hypothesis.given(radius=st.floats(0.0, 4.0), scale=st.floats(0.0, 3.0), T=st.integers(1, 30),
                      H=st.integers(1, 8), drive=st.sampled_from(list(ch01.DRIVES)),
                      seed=st.integers(0, 9))
    def check(radius, scale, T, H, drive, seed):
        h = ch01.hidden_trajectories(radius, input_scale=scale, T=T, H=H, drive=drive, seed=seed)
        assert h.shape == (T, H) and h.dtype == np.float64
        assert np.isfinite(h).all() and np.abs(h).max(initial=0.0) <= 1.0

    check()


def test_default_seed_has_a_positive_real_leading_eigenvalue_and_others_differ():
    lam = ch01.leading_eigenvalue(1.5)
    assert ch01.eigenvalue_kind(lam) == "real, positive"
    assert abs(lam) == pytest.approx(1.5, abs=1e-9)
    kinds = {ch01.eigenvalue_kind(ch01.leading_eigenvalue(1.5, seed=s)) for s in range(6)}
    assert kinds == {"real, positive", "real, negative", "complex pair"}


def test_late_behaviour_tells_a_zigzag_from_a_steady_state():
    t = np.arange(12)[:, None]
    zigzag = 0.4 * (-1.0) ** t * np.ones((12, 3))
    steady = 0.9 * np.ones((12, 3))
    assert ch01.late_behaviour(zigzag) == {"amplitude": pytest.approx(0.4), "flip_rate": 1.0}
    assert ch01.late_behaviour(steady) == {"amplitude": pytest.approx(0.9), "flip_rate": 0.0}
    with pytest.raises(ValueError, match="h must"):
        ch01.late_behaviour(np.zeros(5))


def test_a_negative_leading_eigenvalue_makes_the_pulse_zigzag():
    seed = next(s for s in range(10)
                if ch01.eigenvalue_kind(ch01.leading_eigenvalue(0.9, seed=s)) == "real, negative")
    late = ch01.late_behaviour(ch01.hidden_trajectories(0.9, seed=seed, T=40))
    assert late["flip_rate"] == 1.0


def test_eigenvalue_figure_has_one_panel_per_seed():
    fig = ch01.eigenvalue_figure(1.0, seeds=range(3))
    assert isinstance(fig, Figure) and len(fig.axes) == 3
