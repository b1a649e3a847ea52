"""Tests for coursekit.book.ch02_bptt: gradient flow through time (chapter 2)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.book import ch02_bptt as bptt
from coursekit.nn import rnn
from coursekit.train.gradcheck import numerical_gradient, rel_error
from coursekit.nn.layers import one_hot
from coursekit.data.tasks import delayed_recall
from coursekit.models.sequence import SequenceNet
from coursekit.train.loop import sequence_loss, train

PHI = {"identity": lambda a: a, "tanh": torch.tanh, "relu": torch.relu}


def _random_rnn(rng, N=3, T=6, D=4, H=5, dtype=np.float64, scale=0.6):
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    Wx = (scale * rng.standard_normal((D, H))).astype(dtype)
    Wh = (scale * rng.standard_normal((H, H))).astype(dtype)
    b = (0.1 * rng.standard_normal(H)).astype(dtype)
    return x, h0, Wx, Wh, b


def _torch_states(x, h0, Wx, Wh, b, nonlinearity):
    """The same recurrence in torch, keeping every h_t with retain_grad()."""
    t = lambda a: torch.tensor(a, requires_grad=True)  # noqa: E731
    x_, prev, Wx_, Wh_, b_ = (t(a) for a in (x, h0, Wx, Wh, b))
    hs = []
    for s in range(x.shape[1]):
        prev = PHI[nonlinearity](x_[:, s] @ Wx_ + prev @ Wh_ + b_)
        prev.retain_grad()
        hs.append(prev)
    return hs


# ------------------------------------------------------------------ forward
def test_rnn_states_tanh_matches_rnn_forward(rng):
    args = _random_rnn(rng)
    h_ref, _ = rnn.rnn_forward(*args)
    np.testing.assert_allclose(bptt.rnn_states(*args, "tanh"), h_ref, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_states_matches_torch_nn_rnn(rng, nonlinearity):
    x, h0, Wx, Wh, b = _random_rnn(rng)
    m = torch.nn.RNN(4, 5, nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(Wx.T))
        m.weight_hh_l0.copy_(torch.tensor(Wh.T))
        m.bias_ih_l0.copy_(torch.tensor(b))
        m.bias_hh_l0.zero_()
        out, _ = m(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity), out.numpy(), atol=1e-10)


def test_rnn_states_identity_is_linear(rng):
    x, h0, Wx, Wh, b = _random_rnn(rng, T=3)
    h1 = h0 @ Wh + x[:, 0] @ Wx + b
    h2 = h1 @ Wh + x[:, 1] @ Wx + b
    h = bptt.rnn_states(x, h0, Wx, Wh, b, "identity")
    np.testing.assert_allclose(h[:, 1], h2, atol=1e-12)


def test_float32_stays_float32(rng):
    args = _random_rnn(rng, dtype=np.float32)
    h = bptt.rnn_states(*args, "tanh")
    assert h.dtype == np.float32
    g = bptt.hidden_gradients(np.ones_like(h), h, args[3], "tanh")
    assert g.dtype == np.float32
    assert bptt.step_jacobians(h, args[3]).dtype == np.float32


# ---------------------------------------------------------- backward: dL/dh_t
@pytest.mark.parametrize("nonlinearity", bptt.NONLINEARITIES)
def test_hidden_gradients_match_autograd_retain_grad(rng, nonlinearity):
    x, h0, Wx, Wh, b = _random_rnn(rng)
    h = bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity)
    dh = rng.standard_normal(h.shape)  # L = sum_t <dh_t, h_t>: every step has an output
    hs = _torch_states(x, h0, Wx, Wh, b, nonlinearity)
    loss = sum((hs[t] * torch.tensor(dh[:, t])).sum() for t in range(len(hs)))
    loss.backward()
    g_ref = np.stack([hh.grad.numpy() for hh in hs], axis=1)
    g = bptt.hidden_gradients(dh, h, Wh, nonlinearity)
    assert rel_error(g, g_ref) < 1e-10
    norms_ref = np.sqrt((g_ref ** 2).sum(axis=(0, 2)))
    np.testing.assert_allclose(bptt.gradient_norms(dh, h, Wh, nonlinearity), norms_ref, rtol=1e-10)


@pytest.mark.parametrize("nonlinearity", ["identity", "tanh"])
def test_hidden_gradients_finite_differences_through_h0(rng, nonlinearity):
    """dL/dh_0 = W_hh^T (phi'(a_1) * dL/dh_1) checked by centred differences."""
    x, h0, Wx, Wh, b = _random_rnn(rng)
    dh = rng.standard_normal((3, 6, 5))

    def loss():
        return float((bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity) * dh).sum())

    h = bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity)
    g = bptt.hidden_gradients(dh, h, Wh, nonlinearity)
    dphi1 = 1 - h[:, 0] ** 2 if nonlinearity == "tanh" else 1.0
    dh0 = (g[:, 0] * dphi1) @ Wh.T
    assert rel_error(dh0, numerical_gradient(loss, h0)) < 1e-7
    # and the same as the package's BPTT (tanh): rnn_backward's dh0
    if nonlinearity == "tanh":
        _, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
        assert rel_error(rnn.rnn_backward(dh, cache)[1], dh0) < 1e-10


@pytest.mark.parametrize("nonlinearity", bptt.NONLINEARITIES)
def test_product_of_jacobians_gives_the_gradient(rng, nonlinearity):
    x, h0, Wx, Wh, b = _random_rnn(rng, N=2, T=5)
    h = bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity)
    J = bptt.step_jacobians(h, Wh, nonlinearity)  # (N, T, H, H)
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((2, 5))
    g = bptt.hidden_gradients(dh, h, Wh, nonlinearity)
    for n in range(2):
        P = np.eye(5)
        for t in range(4, 0, -1):  # P = J_T ... J_{t}
            P = P @ J[n, t]
            np.testing.assert_allclose(P.T @ dh[n, -1], g[n, t - 1], atol=1e-12)


def test_step_jacobian_matches_torch_jacobian(rng):
    x, h0, Wx, Wh, b = _random_rnn(rng, N=1, T=2)
    h = bptt.rnn_states(x, h0, Wx, Wh, b, "tanh")
    step = lambda p: torch.tanh(torch.tensor(x[0, 1]) @ torch.tensor(Wx)  # noqa: E731
                                + p @ torch.tensor(Wh) + torch.tensor(b))
    J_ref = torch.autograd.functional.jacobian(step, torch.tensor(h[0, 0])).numpy()
    np.testing.assert_allclose(bptt.step_jacobians(h, Wh)[0, 1], J_ref, atol=1e-12)


# --------------------------------------------------- vanishing and exploding
@pytest.mark.parametrize("radius", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_linear_norm_ratio_approaches_spectral_radius(radius):
    d, ratio = bptt.norm_vs_distance(radius, "identity", T=200, seed=1)
    assert ratio[0] == 1.0 and d[0] == 0 and d[-1] == 199
    per_step = (ratio[199] / ratio[99]) ** (1 / 100)
    assert abs(per_step - radius) < 0.01 * radius


def test_tanh_gradient_never_grows_faster_than_linear():
    """|phi'| <= 1 for tanh: the per-step factor is at most the linear one's."""
    _, lin = bptt.norm_vs_distance(1.5, "identity", T=40, seed=0)
    _, th = bptt.norm_vs_distance(1.5, "tanh", T=40, seed=0)
    assert th[-1] < lin[-1] * 1e-3


def test_rotation_scaling_eigenvalues_and_powers():
    r, a = 0.9, 0.4
    W = bptt.rotation_scaling(r, a)
    eig = np.sort_complex(np.linalg.eigvals(W))
    np.testing.assert_allclose(eig, np.sort_complex(r * np.exp([1j * a, -1j * a])), atol=1e-12)
    assert bptt.spectral_radius(W) == pytest.approx(r)
    v = np.array([1.0, 0.0])
    v10 = np.linalg.matrix_power(W, 10) @ v
    assert np.linalg.norm(v10) == pytest.approx(r ** 10)
    assert np.arctan2(v10[1], v10[0]) == pytest.approx(np.angle(np.exp(10j * a)))


def test_spectral_radius_rejects_non_square():
    with pytest.raises(ValueError, match="W"):
        bptt.spectral_radius(np.zeros((2, 3)))


# --------------------------------------------------------- the toy task
def test_delayed_recall_targets_are_the_symbol_lag_steps_back():
    x, y = delayed_recall(4, 12, 3, 5, seed=7)
    assert x.shape == y.shape == (4, 12) and x.dtype == y.dtype == np.int64
    assert x.min() >= 0 and x.max() < 5
    assert (y[:, :3] == bptt.IGNORE).all()
    for t in range(3, 12):
        np.testing.assert_array_equal(y[:, t], x[:, t - 3])
    x2, y2 = delayed_recall(4, 12, 3, 5, seed=7)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, delayed_recall(4, 12, 3, 5, seed=8)[0])


@pytest.mark.parametrize("kw", [dict(lag=12), dict(lag=0), dict(N=0)])
def test_delayed_recall_rejects_bad_sizes(kw):
    args = dict(N=2, T=12, lag=3) | kw
    with pytest.raises(ValueError):
        delayed_recall(**args)


def test_toy_rnn_inits_and_global_rng_untouched():
    before = torch.get_rng_state()
    m = SequenceNet(3, 6, nonlinearity="relu", init="identity", seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    torch.testing.assert_close(m.rnn.weight_hh_l0, torch.eye(6))
    assert m.rnn.nonlinearity == "relu"
    m2 = SequenceNet(3, 6, init=1.3, seed=1)
    assert bptt.spectral_radius(m2.numpy_weights()["Wh"]) == pytest.approx(1.3)
    a, b = SequenceNet(3, 6, seed=4), SequenceNet(3, 6, seed=4)
    torch.testing.assert_close(a.rnn.weight_hh_l0, b.rnn.weight_hh_l0)
    scores, hidden = a(torch.zeros(2, 5, dtype=torch.long))
    assert scores.shape == (2, 5, 3) and hidden.shape == (1, 2, 6)
    with pytest.raises(ValueError, match="nonlinearity"):
        SequenceNet(3, 6, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="init"):
        SequenceNet(3, 6, init="orthogonal")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_toy_rnn_numpy_weights_reproduce_its_states(nonlinearity):
    m = SequenceNet(3, 6, nonlinearity=nonlinearity, seed=2).double()
    ids = torch.tensor([[0, 2, 1, 1, 0]])
    with torch.no_grad():
        out, _ = m.rnn(F.one_hot(ids, 3).double())
    w = m.numpy_weights()
    h = bptt.rnn_states(one_hot(ids.numpy(), 3), np.zeros((1, 6)), w["Wx"], w["Wh"], w["b"], nonlinearity)
    np.testing.assert_allclose(h, out.numpy(), atol=1e-12)


def test_recall_loss_skips_ignored_targets_and_handles_empty_chunks():
    m = SequenceNet(3, 4, seed=0)
    x, y = delayed_recall(2, 8, 3, 3, seed=0)
    x, y = torch.tensor(x), torch.tensor(y)
    loss, _ = sequence_loss(m, x, y)
    scores, _ = m(x)
    keep = y >= 0
    ref = F.cross_entropy(scores[keep], y[keep])
    torch.testing.assert_close(loss, ref)
    empty, _ = sequence_loss(m, x[:, :3], y[:, :3])  # all targets ignored
    assert empty.item() == 0.0
    empty.backward()  # no 0/0, gradients are zero
    assert all(torch.all(p.grad == 0) for p in m.parameters())
    last, _ = sequence_loss(m, x, y, n_last=2)
    torch.testing.assert_close(last, F.cross_entropy(scores[:, -2:].reshape(-1, 3), y[:, -2:].reshape(-1)))


def _tbptt_accuracy(k, lag=5):
    batches = [delayed_recall(32, 60, lag, 4, seed=i) for i in range(40)]
    m = SequenceNet(4, 32, seed=0)
    train(m, batches, steps=300, lr=1e-2, tbptt=k, loss_fn=sequence_loss, progress=False)
    return bptt.recall_accuracy(m, lag)


def test_truncation_shorter_than_the_lag_cannot_learn_longer_can():
    """The chapter's claim: with k2 < lag the dependency is never seen by the gradient."""
    assert _tbptt_accuracy((4, 4)) < 0.4     # chance is 0.25
    assert _tbptt_accuracy((4, 8)) > 0.95


def test_recall_accuracy_of_a_hand_built_perfect_model():
    """A linear shift register (W_hh shifts a one-hot through lag slots) recalls exactly."""
    V, lag = 3, 2
    H = V * (lag + 1)
    m = SequenceNet(V, H, nonlinearity="relu", seed=0).double()
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.rnn.weight_ih_l0[:V] = torch.eye(V)  # slot 0 <- x_t
        for s in range(lag):  # slot s+1 <- slot s
            m.rnn.weight_hh_l0[(s + 1) * V:(s + 2) * V, s * V:(s + 1) * V] = torch.eye(V)
        m.head.weight[:, lag * V:] = torch.eye(V)  # read slot lag
    assert bptt.recall_accuracy(m, lag, N=16, T=10) == 1.0
    with torch.no_grad():
        m.head.weight.zero_()
        m.head.weight[:, :V] = torch.eye(V)  # reads x_t instead: about chance
    assert bptt.recall_accuracy(m, lag, N=64, T=30) < 0.5


# ------------------------------------------------------------ bad input
def test_bad_input_names_the_argument(rng):
    x, h0, Wx, Wh, b = _random_rnn(rng)
    with pytest.raises(ValueError, match="Wh"):
        bptt.rnn_states(x, h0, Wx, Wh[:, :3], b)
    with pytest.raises(TypeError, match="x"):
        bptt.rnn_states(x.tolist(), h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="nonlinearity"):
        bptt.rnn_states(x, h0, Wx, Wh, b, "sigmoid")
    h = bptt.rnn_states(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="dh"):
        bptt.hidden_gradients(h[:, :2], h, Wh)
    with pytest.raises(ValueError, match="dtype"):
        bptt.hidden_gradients(h.astype(np.float32), h, Wh)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 3), T=st.integers(1, 5), H=st.integers(1, 4),
       nonlinearity=st.sampled_from(bptt.NONLINEARITIES))
def test_shapes(N, T, H, nonlinearity):
    rng = np.random.default_rng(N * 100 + T * 10 + H)
    x, h0, Wx, Wh, b = _random_rnn(rng, N=N, T=T, D=2, H=H)
    h = bptt.rnn_states(x, h0, Wx, Wh, b, nonlinearity)
    assert h.shape == (N, T, H)
    assert bptt.hidden_gradients(np.ones_like(h), h, Wh, nonlinearity).shape == (N, T, H)
    assert bptt.step_jacobians(h, Wh, nonlinearity).shape == (N, T, H, H)
    assert bptt.gradient_norms(np.ones_like(h), h, Wh, nonlinearity).shape == (T,)


# ------------------------------------------------------------ chapter plots
def test_viz_figures_build_headless():
    from matplotlib.figure import Figure

    from coursekit.book import ch02_bptt as viz_bptt
    fig = viz_bptt.plot_norm_vs_distance(radii=(0.5, 1.5), nonlinearities=("identity", "relu"), T=10)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 4  # measured + rho^k per radius
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(),
                               bptt.norm_vs_distance(0.5, "identity", T=10)[1])
    assert len(viz_bptt.plot_rotation_scaling(radii=(0.9,), steps=5).axes) == 1
    hist = {"step": [1, 2, 3], "loss": [1.0, 0.5, 0.2], "grad_norm": [3.0, 2.0, 1.0]}
    assert len(viz_bptt.plot_histories({"run": hist}, smooth=2).axes) == 2
    assert len(viz_bptt.plot_accuracies(["a", "b"], [0.3, 0.9], chance=0.25).axes) == 1


def test_gradient_explorer_redraws_for_every_nonlinearity():
    pytest.importorskip("ipywidgets")
    from coursekit.book import ch02_bptt as viz_bptt
    box = viz_bptt.build_gradient_explorer(radius=0.9, T=10)
    assert set(box.controls) == {"radius", "nonlinearity", "input_scale", "T", "seed"}
    assert list(box.controls["nonlinearity"].options) == list(bptt.NONLINEARITIES)
    for nl in bptt.NONLINEARITIES:
        fig = viz_bptt.explorer_figure(1.2, nl, 1.0, 10)
        assert len(fig.axes) == 2
