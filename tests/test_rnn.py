"""coursekit.nn.rnn: numpy RNN vs torch.nn.RNN/RNNCell, gradients, the nn.Module and converters."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from coursekit.nn import rnn
from coursekit.train.gradcheck import grad_check, numerical_gradient_array, rel_error

ATOL = 1e-10
GRAD_TOL = 1e-6
N, T, D, H = 3, 4, 5, 6  # D != H so a transposed weight cannot go unnoticed


def t64(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def make_inputs(rng, dtype=np.float64, n=N, t=T, d=D, h=H):
    """Random x (n, t, d), h0 (n, h) and weights with a non-zero bias."""
    p = {"Wx": rng.standard_normal((d, h)) * 0.5, "Wh": rng.standard_normal((h, h)) * 0.5,
         "b": rng.standard_normal(h) * 0.5}
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    return x.astype(dtype), h0.astype(dtype), {k: v.astype(dtype) for k, v in p.items()}


def torch_rnn_with(p, cell=False):
    """nn.RNN / nn.RNNCell holding p, built by hand (independent of rnn.to_torch); bias split in two."""
    m = nn.RNNCell(D, H, dtype=torch.float64) if cell else nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    sfx = "" if cell else "_l0"
    with torch.no_grad():
        getattr(m, "weight_ih" + sfx).copy_(t64(p["Wx"].T))
        getattr(m, "weight_hh" + sfx).copy_(t64(p["Wh"].T))
        getattr(m, "bias_ih" + sfx).copy_(t64(p["b"] * 0.25))
        getattr(m, "bias_hh" + sfx).copy_(t64(p["b"] * 0.75))
    return m


# ------------------------------------------------------------ numpy forward
def test_step_forward_matches_nn_RNNCell(rng):
    x, h0, p = make_inputs(rng)
    next_h, _ = rnn.rnn_step_forward(x[:, 0], h0, **p)
    expected = torch_rnn_with(p, cell=True)(t64(x[:, 0]), t64(h0)).detach().numpy()
    np.testing.assert_allclose(next_h, expected, atol=ATOL, rtol=0)


def test_forward_matches_nn_RNN(rng):
    x, h0, p = make_inputs(rng)
    h, _ = rnn.rnn_forward(x, h0, **p)
    out, h_last = torch_rnn_with(p)(t64(x), t64(h0)[None])
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(h, out.detach().numpy(), atol=ATOL, rtol=0)
    np.testing.assert_allclose(h[:, -1], h_last[0].detach().numpy(), atol=ATOL, rtol=0)


def test_forward_is_the_step_applied_T_times(rng):
    x, h0, p = make_inputs(rng)
    h, _ = rnn.rnn_forward(x, h0, **p)
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"])
        np.testing.assert_array_equal(h[:, t], prev)


# ----------------------------------------------------------- numpy backward
def test_step_backward_matches_autograd_and_finite_differences(rng):
    x, h0, p = make_inputs(rng)
    x0 = x[:, 0].copy()
    dnext = rng.standard_normal((N, H))
    _, cache = rnn.rnn_step_forward(x0, h0, **p)
    grads = dict(zip(["x", "prev_h", "Wx", "Wh", "b"], rnn.rnn_step_backward(dnext, cache)))
    tx, th, tWx, tWh, tb = (t64(a, True) for a in (x0, h0, p["Wx"], p["Wh"], p["b"]))
    torch.tanh(tx @ tWx + th @ tWh + tb).backward(t64(dnext))
    for k, tt in zip(grads, (tx, th, tWx, tWh, tb)):
        np.testing.assert_allclose(grads[k], tt.grad.numpy(), atol=ATOL, rtol=0, err_msg=k)
    args = {"x": x0, "prev_h": h0, **p}
    f = lambda: rnn.rnn_step_forward(**args)[0]  # noqa: E731
    for k in grads:
        assert rel_error(grads[k], numerical_gradient_array(f, args[k], dnext)) < GRAD_TOL, k


def test_backward_matches_nn_RNN_autograd(rng):
    x, h0, p = make_inputs(rng)
    dh = rng.standard_normal((N, T, H))
    h, cache = rnn.rnn_forward(x, h0, **p)
    dx, dh0, dWx, dWh, db = rnn.rnn_backward(dh, cache)
    m = torch_rnn_with(p)
    tx, th0 = t64(x, True), t64(h0[None], True)
    m(tx, th0)[0].backward(t64(dh))
    close = lambda a, b: np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)  # noqa: E731
    close(dx, tx.grad.numpy())
    close(dh0, th0.grad[0].numpy())
    close(dWx, m.weight_ih_l0.grad.numpy().T)
    close(dWh, m.weight_hh_l0.grad.numpy().T)
    close(db, m.bias_ih_l0.grad.numpy())
    close(db, m.bias_hh_l0.grad.numpy())


def test_backward_matches_finite_differences(rng):
    x, h0, p = make_inputs(rng)
    dh = rng.standard_normal((N, T, H))
    _, cache = rnn.rnn_forward(x, h0, **p)
    analytic = dict(zip(["x", "h0", "Wx", "Wh", "b"], rnn.rnn_backward(dh, cache)))
    params = {"x": x, "h0": h0, **p}
    errs = grad_check(lambda: np.sum(rnn.rnn_forward(**params)[0] * dh), params, analytic)
    assert max(errs.values()) < GRAD_TOL, errs


def test_backward_only_last_step_gradient_reaches_all_steps(rng):
    """A loss on h_T alone still sends gradient to every x_t: the recurrence carries it back."""
    x, h0, p = make_inputs(rng)
    dh = np.zeros((N, T, H))
    dh[:, -1] = 1.0
    _, cache = rnn.rnn_forward(x, h0, **p)
    dx = rnn.rnn_backward(dh, cache)[0]
    assert np.all(np.abs(dx).sum(axis=(0, 2)) > 0)


# --------------------------------------------------------------- float32
def test_float32_in_float32_out_close_to_float64(rng):
    x, h0, p = make_inputs(rng)
    x32, h032, p32 = x.astype(np.float32), h0.astype(np.float32), {k: v.astype(np.float32) for k, v in p.items()}
    dh = rng.standard_normal((N, T, H))
    h64, c64 = rnn.rnn_forward(x, h0, **p)
    h32, c32 = rnn.rnn_forward(x32, h032, **p32)
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, h64, atol=1e-5, rtol=1e-5)
    for g32, g64 in zip(rnn.rnn_backward(dh.astype(np.float32), c32), rnn.rnn_backward(dh, c64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, atol=1e-5, rtol=1e-5)
    n32, sc = rnn.rnn_step_forward(x32[:, 0], h032, **p32)
    assert n32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn.rnn_step_backward(n32, sc))


# ------------------------------------------------------------- init_params
def test_init_params_shapes_dtype_seed_and_range():
    p = rnn.init_params(D, H, seed=3)
    assert {k: v.shape for k, v in p.items()} == {"Wx": (D, H), "Wh": (H, H), "b": (H,)}
    assert all(v.dtype == np.float64 for v in p.values())
    q = rnn.init_params(D, H, seed=3)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not np.array_equal(p["Wx"], rnn.init_params(D, H, seed=4)["Wx"])
    assert np.abs(p["Wh"]).max() <= 1 / np.sqrt(H) and np.all(p["b"] == 0)
    assert rnn.init_params(D, H, dtype=np.float32)["Wx"].dtype == np.float32
    with pytest.raises(ValueError, match="H must be a positive integer"):
        rnn.init_params(D, 0)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        rnn.init_params(D, H, dtype=np.int64)


# ---------------------------------------------------------- nn.Module RNN
def test_module_matches_nn_RNN_forward_and_backward(rng):
    x, h0, p = make_inputs(rng)
    ref = torch_rnn_with(p)
    ours = rnn.RNN.from_torch(ref)
    assert ours.Wx.dtype == torch.float64 and ours.Wx.shape == (D, H)
    tx1, tx2 = t64(x, True), t64(x, True)
    h, h_last = ours(tx1, t64(h0))
    out, ref_last = ref(tx2, t64(h0)[None])
    torch.testing.assert_close(h, out, atol=ATOL, rtol=0)
    torch.testing.assert_close(h_last, ref_last[0], atol=ATOL, rtol=0)
    dh = t64(rng.standard_normal((N, T, H)))
    h.backward(dh)
    out.backward(dh)
    torch.testing.assert_close(tx1.grad, tx2.grad, atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.Wx.grad, ref.weight_ih_l0.grad.T, atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.Wh.grad, ref.weight_hh_l0.grad.T, atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.b.grad, ref.bias_hh_l0.grad, atol=ATOL, rtol=0)


def test_module_matches_numpy_and_defaults_h0_to_zeros(rng):
    x, _, p = make_inputs(rng)
    m = rnn.RNN(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, v in p.items():
            getattr(m, name).copy_(t64(v))
    h, h_last = m(t64(x))
    expected, _ = rnn.rnn_forward(x, np.zeros((N, H)), **p)
    np.testing.assert_allclose(h.detach().numpy(), expected, atol=ATOL, rtol=0)
    assert torch.equal(h_last, h[:, -1])
    assert [n for n, _ in m.named_parameters()] == ["Wx", "Wh", "b"]


def test_module_default_dtype_and_seeded_init():
    torch.manual_seed(1)
    a = rnn.RNN(D, H)
    torch.manual_seed(1)
    b = rnn.RNN(D, H)
    assert a.Wx.dtype == torch.get_default_dtype() and torch.equal(a.Wx, b.Wx)
    assert a.Wx.abs().max() <= 1 / H ** 0.5 and torch.all(a.b == 0)


def _check_module_on(device):
    torch.manual_seed(0)
    m = rnn.RNN(D, H, device=device, dtype=torch.float32)
    assert m.Wx.device.type == torch.device(device).type
    x = torch.randn(N, T, D, device=device)
    h, h_last = m(x)
    assert h.shape == (N, T, H) and h.device == x.device and h.dtype == torch.float32
    ref = m.to_torch()
    assert next(ref.parameters()).device.type == torch.device(device).type
    torch.testing.assert_close(h, ref(x)[0], atol=1e-5, rtol=1e-5)
    h.sum().backward()
    assert m.Wh.grad is not None and m.Wh.grad.device == x.device


def test_module_on_cpu_device():
    _check_module_on("cpu")


@pytest.mark.cuda
def test_module_on_cuda_device():
    _check_module_on("cuda")


@pytest.mark.parametrize("call, exc, msg", [
    (lambda m: m([[1.0]]), TypeError, r"^x must be a torch.Tensor"),
    (lambda m: m(torch.zeros(2, 3, D + 1, dtype=torch.float64)), ValueError, r"^x must have shape \(N, T, 5\)"),
    (lambda m: m(torch.zeros(2, 0, D, dtype=torch.float64)), ValueError, r"^x must have shape"),
    (lambda m: m(torch.zeros(2, 3, D)), ValueError, r"^x has dtype torch.float32"),
    (lambda m: m(torch.zeros(2, 3, D, dtype=torch.float64), torch.zeros(3, H, dtype=torch.float64)),
     ValueError, r"^h0 must have shape \(2, 6\)"),
    (lambda m: m(torch.zeros(2, 3, D, dtype=torch.float64), np.zeros((2, H))), TypeError, r"^h0 must be"),
])
def test_module_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(rnn.RNN(D, H, dtype=torch.float64))


def test_module_bad_sizes():
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        rnn.RNN(D, 0)


# -------------------------------------------------------------- converters
def test_numpy_to_torch_to_numpy_is_exact(rng):
    _, _, p = make_inputs(rng)
    m = rnn.to_torch(**p)
    assert isinstance(m, nn.RNN) and m.batch_first and m.weight_ih_l0.dtype == torch.float64
    q = rnn.from_torch(m)
    assert all(q[k].dtype == np.float64 and np.array_equal(q[k], p[k]) for k in p)


def test_to_torch_computes_the_numpy_function(rng):
    x, h0, p = make_inputs(rng)
    out, _ = rnn.to_torch(**p)(t64(x), t64(h0)[None])
    np.testing.assert_allclose(out.detach().numpy(), rnn.rnn_forward(x, h0, **p)[0], atol=ATOL, rtol=0)
    m32 = rnn.to_torch(**p, dtype=torch.float32, device="cpu")
    assert m32.weight_hh_l0.dtype == torch.float32


def test_from_torch_sums_the_two_biases_and_reads_cells(rng):
    _, _, p = make_inputs(rng)
    for cell in (False, True):
        q = rnn.from_torch(torch_rnn_with(p, cell=cell))
        for k in p:
            np.testing.assert_allclose(q[k], p[k], atol=1e-15, rtol=0)


def test_from_torch_bias_false_gives_zero_bias():
    q = rnn.from_torch(nn.RNN(D, H, bias=False))
    assert q["b"].shape == (H,) and np.all(q["b"] == 0) and q["Wx"].shape == (D, H)


def test_module_round_trips_through_nn_RNN(rng):
    torch.manual_seed(0)
    ref = nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    ours = rnn.RNN.from_torch(ref)
    back = ours.to_torch()
    assert isinstance(back, nn.RNN) and back.batch_first
    for k, v in rnn.from_torch(back).items():
        np.testing.assert_allclose(v, rnn.from_torch(ref)[k], atol=1e-15, rtol=0)
    x = torch.randn(N, T, D, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], back(x)[0], atol=ATOL, rtol=0)
    cell = rnn.RNN.from_torch(nn.RNNCell(D, H))
    assert cell.Wx.dtype == torch.float32


@pytest.mark.parametrize("module, exc, msg", [
    (nn.RNN(D, H, num_layers=2), ValueError, "single-layer unidirectional"),
    (nn.RNN(D, H, bidirectional=True), ValueError, "single-layer unidirectional"),
    (nn.RNN(D, H, nonlinearity="relu"), ValueError, "nonlinearity='tanh'"),
    (nn.RNNCell(D, H, nonlinearity="relu"), ValueError, "nonlinearity='tanh'"),
    (nn.LSTM(D, H), TypeError, "torch.nn.RNN or torch.nn.RNNCell"),
])
def test_unsupported_torch_modules_are_refused(module, exc, msg):
    with pytest.raises(exc, match=msg):
        rnn.from_torch(module)
    with pytest.raises(exc, match=msg):
        rnn.RNN.from_torch(module)


def test_to_torch_validates_its_arguments():
    with pytest.raises(ValueError, match=r"^Wh must have shape \(H, H\)"):
        rnn.to_torch(np.zeros((D, H)), np.zeros((H + 1, H)), np.zeros(H))
    with pytest.raises(TypeError, match=r"^b must be a numpy.ndarray"):
        rnn.to_torch(np.zeros((D, H)), np.zeros((H, H)), [0.0] * H)


# ------------------------------------------------------ hypothesis: shapes
sizes = st.integers(1, 4)


@settings(max_examples=25, deadline=None)
@given(n=sizes, t=sizes, d=sizes, h=sizes, dtype=st.sampled_from([np.float32, np.float64]))
def test_random_shapes_give_the_right_output_shapes(n, t, d, h, dtype):
    x, h0, p = make_inputs(np.random.default_rng(n + 10 * t + 100 * d + 1000 * h), dtype, n, t, d, h)
    hs, cache = rnn.rnn_forward(x, h0, **p)
    assert hs.shape == (n, t, h) and hs.dtype == dtype
    grads = rnn.rnn_backward(hs, cache)
    assert [g.shape for g in grads] == [(n, t, d), (n, h), (d, h), (h, h), (h,)]
    assert all(g.dtype == dtype for g in grads)


ARG_SHAPES = {"x": ("N", "T", "D"), "h0": ("N", "H"), "Wx": ("D", "H"), "Wh": ("H", "H"), "b": ("H",)}


@settings(max_examples=25, deadline=None)
@given(which=st.sampled_from(list(ARG_SHAPES)), fault=st.sampled_from(["ndim", "dtype", "list", "int"]))
def test_bad_input_names_the_argument(which, fault):
    x, h0, p = make_inputs(np.random.default_rng(0))
    args = {"x": x, "h0": h0, **p}
    if fault == "ndim":
        args[which] = args[which][..., None]
    elif fault == "dtype":
        args[which] = args[which].astype(np.float32)
    elif fault == "list":
        args[which] = args[which].tolist()
    else:
        args[which] = args[which].astype(np.int64)
    exc = TypeError if fault == "list" else ValueError
    # a float32 x makes every other (float64) argument the odd one out: the message names both
    with pytest.raises(exc, match=rf"\b{which}\b"):
        rnn.rnn_forward(**args)


@pytest.mark.parametrize("step", [True, False])
def test_backward_rejects_wrong_upstream_gradient(rng, step):
    x, h0, p = make_inputs(rng)
    if step:
        _, cache = rnn.rnn_step_forward(x[:, 0], h0, **p)
        call, name, shape = rnn.rnn_step_backward, "dnext_h", (N, H)
    else:
        _, cache = rnn.rnn_forward(x, h0, **p)
        call, name, shape = rnn.rnn_backward, "dh", (N, T, H)
    with pytest.raises(ValueError, match=rf"^{name} must have shape"):
        call(np.zeros(shape[:-1] + (H + 1,)), cache)
    with pytest.raises(ValueError, match=rf"^{name} must have the forward pass's dtype float64"):
        call(np.zeros(shape, np.float32), cache)
    with pytest.raises(TypeError, match=rf"^{name} must be a numpy.ndarray"):
        call(np.zeros(shape).tolist(), cache)


def test_step_forward_names_prev_h(rng):
    x, h0, p = make_inputs(rng)
    with pytest.raises(ValueError, match=r"^prev_h must have shape \(N, H\) with N=3 \(from x\)"):
        rnn.rnn_step_forward(x[:, 0], h0[:2], **p)
