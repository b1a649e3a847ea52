"""coursekit.nn.lstm: parity with torch.nn.LSTM/LSTMCell, gradients (autograd and finite
differences) for every variant, dtypes, converters, bad input, shapes."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.nn import lstm
from coursekit.train.gradcheck import grad_check, rel_error

VARIANTS = list(lstm.GATES)
N, T, D, H = 3, 4, 5, 6


def make(variant, *, n=N, t=T, d=D, h=H, seed=0, dtype=np.float64):
    """Inputs and weights with non-zero biases, peepholes and initial states."""
    rng = np.random.default_rng(seed)
    P = lstm.init_params(d, h, variant=variant, seed=seed)
    P["b"] = rng.normal(0, 0.5, P["b"].shape)
    if "p" in P:
        P["p"] = rng.normal(0, 0.5, P["p"].shape)
    arrays = dict(x=rng.normal(size=(n, t, d)), h0=rng.normal(size=(n, h)), c0=rng.normal(size=(n, h)), **P)
    return {k: v.astype(dtype) for k, v in arrays.items()}


def seq_forward(a, variant):
    return lstm.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], a["c0"], variant=variant, p=a.get("p"))


def step_forward(a, variant):
    """One step on x[:, 0] (or on a 2-D x)."""
    x = a["x"] if a["x"].ndim == 2 else a["x"][:, 0]
    return lstm.lstm_step_forward(x, a["h0"], a["c0"], a["Wx"], a["Wh"], a["b"],
                                  variant=variant, p=a.get("p"))


def as_tensors(a):
    return {k: torch.tensor(v, requires_grad=True) for k, v in a.items()}


def grad_names(variant):
    names = ["x", "h0", "c0", "Wx", "Wh", "b"]
    return names + ["p"] if variant == "peephole" else names


def module_with(a, variant):
    m = lstm.LSTM(a["Wx"].shape[0], a["h0"].shape[1], variant=variant, dtype=torch.float64)
    with torch.no_grad():
        for k in ("Wx", "Wh", "b", "p"):
            if k in a:
                getattr(m, k).copy_(torch.from_numpy(a[k]))
    return m


# ------------------------------------------------------------ parity with torch.nn
def test_forward_matches_nn_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    a = make("vanilla")
    a.update(lstm.from_torch(ref))
    h, c, _ = seq_forward(a, "vanilla")
    out, (hT, cT) = ref(torch.from_numpy(a["x"]), (torch.from_numpy(a["h0"])[None], torch.from_numpy(a["c0"])[None]))
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c[:, -1], cT[0].detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h[:, -1], hT[0].detach().numpy(), rtol=0, atol=1e-10)
    # every intermediate c_t: run torch one step at a time
    state = (torch.from_numpy(a["h0"])[None], torch.from_numpy(a["c0"])[None])
    for t in range(T):
        _, state = ref(torch.from_numpy(a["x"][:, t:t + 1]), state)
        np.testing.assert_allclose(c[:, t], state[1][0].detach().numpy(), rtol=0, atol=1e-10)


def test_step_forward_matches_nn_lstmcell():
    torch.manual_seed(1)
    ref = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    a = make("vanilla")
    a.update(lstm.from_torch(ref))
    next_h, next_c, _ = step_forward(a, "vanilla")
    th, tc = ref(torch.from_numpy(a["x"][:, 0]), (torch.from_numpy(a["h0"]), torch.from_numpy(a["c0"])))
    np.testing.assert_allclose(next_h, th.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(next_c, tc.detach().numpy(), rtol=0, atol=1e-10)


def test_backward_matches_nn_lstm_autograd():
    torch.manual_seed(2)
    ref = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    a = make("vanilla")
    a.update(lstm.from_torch(ref))
    rng = np.random.default_rng(3)
    dh, dcT = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    h, c, cache = seq_forward(a, "vanilla")
    dc = np.zeros_like(c)
    dc[:, -1] = dcT
    dx, dh0, dc0, dWx, dWh, db = lstm.lstm_backward(dh, cache, dc)
    t = as_tensors({k: a[k] for k in ("x", "h0", "c0")})
    out, (_, cT) = ref(t["x"], (t["h0"][None], t["c0"][None]))
    ((out * torch.from_numpy(dh)).sum() + (cT[0] * torch.from_numpy(dcT)).sum()).backward()
    for mine, theirs in [(dx, t["x"].grad), (dh0, t["h0"].grad), (dc0, t["c0"].grad),
                         (dWx, ref.weight_ih_l0.grad.T), (dWh, ref.weight_hh_l0.grad.T), (db, ref.bias_ih_l0.grad)]:
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("variant", VARIANTS)
def test_module_matches_numpy_forward_and_backward(variant):
    """Our tensor-op module (autograd) against the numpy forward and hand-written backward."""
    a = make(variant, seed=4)
    m = module_with(a, variant)
    rng = np.random.default_rng(5)
    dh, dc = rng.normal(size=(N, T, H)), rng.normal(size=(N, T, H))
    h, c, cache = seq_forward(a, variant)
    grads = dict(zip(grad_names(variant), lstm.lstm_backward(dh, cache, dc)))
    t = as_tensors({k: a[k] for k in ("x", "h0", "c0")})
    out, (hT, cT) = m(t["x"], (t["h0"], t["c0"]))
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c[:, -1], cT.detach().numpy(), rtol=0, atol=1e-10)
    # a loss on every c_t: recompute the c sequence with the module's step
    cs, state = [], (t["h0"], t["c0"])
    for s in range(T):
        state = m.step(t["x"][:, s], state)
        cs.append(state[1])
    loss = (out * torch.from_numpy(dh)).sum() + (torch.stack(cs, 1) * torch.from_numpy(dc)).sum()
    loss.backward()
    theirs = {k: t[k].grad for k in ("x", "h0", "c0")} | {k: getattr(m, k).grad for k in ("Wx", "Wh", "b", "p")
                                                          if getattr(m, k, None) is not None}
    assert set(theirs) == set(grads)
    for k in grads:
        assert rel_error(grads[k], theirs[k].numpy()) < 1e-8, k


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_backward_matches_autograd(variant):
    a = make(variant, seed=6)
    m = module_with(a, variant)
    rng = np.random.default_rng(7)
    dnh, dnc = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = step_forward(a, variant)
    grads = dict(zip(grad_names(variant), lstm.lstm_step_backward(dnh, dnc, cache)))
    t = as_tensors({"x": a["x"][:, 0], "h0": a["h0"], "c0": a["c0"]})
    th, tc = m.step(t["x"], (t["h0"], t["c0"]))
    ((th * torch.from_numpy(dnh)).sum() + (tc * torch.from_numpy(dnc)).sum()).backward()
    theirs = {k: t[k].grad for k in t} | {k: getattr(m, k).grad for k in ("Wx", "Wh", "b")}
    if variant == "peephole":
        theirs["p"] = m.p.grad
    for k in grads:
        assert rel_error(grads[k], theirs[k].numpy()) < 1e-8, k


# -------------------------------------------------------- finite differences
@pytest.mark.parametrize("variant", VARIANTS)
def test_sequence_backward_finite_differences(variant):
    a = make(variant, n=2, t=3, d=3, h=4, seed=8)
    rng = np.random.default_rng(9)
    h, c, cache = seq_forward(a, variant)
    dh, dc = rng.normal(size=h.shape), rng.normal(size=c.shape)
    analytic = dict(zip(grad_names(variant), lstm.lstm_backward(dh, cache, dc)))

    def loss():
        h, c, _ = seq_forward(a, variant)
        return np.sum(h * dh) + np.sum(c * dc)

    errors = grad_check(loss, {k: a[k] for k in analytic}, analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_step_backward_finite_differences(variant):
    a = make(variant, n=2, t=1, d=3, h=4, seed=10)
    a["x"] = a["x"][:, 0].copy()  # (N, D)
    rng = np.random.default_rng(11)
    dnh, dnc = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    _, _, cache = step_forward(a, variant)
    analytic = dict(zip(grad_names(variant), lstm.lstm_step_backward(dnh, dnc, cache)))

    def loss():
        nh, nc, _ = step_forward(a, variant)
        return np.sum(nh * dnh) + np.sum(nc * dnc)

    errors = grad_check(loss, {k: a[k] for k in analytic}, analytic)
    assert max(errors.values()) < 1e-6, errors


# ------------------------------------------------------- what the variants mean
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gate(a, name, variant, s=0):
    """A gate's pre-activation at step s, from the weights' column block (for the first step)."""
    j = lstm.GATES[variant].index(name)
    cols = slice(j * H, (j + 1) * H)
    return a["x"][:, s] @ a["Wx"][:, cols] + a["h0"] @ a["Wh"][:, cols] + a["b"][cols]


def test_coupled_cell_is_convex_mix_of_old_cell_and_candidate():
    a = make("coupled", seed=12)
    next_h, next_c, _ = step_forward(a, "coupled")
    f, g, o = sigmoid(gate(a, "f", "coupled")), np.tanh(gate(a, "g", "coupled")), sigmoid(gate(a, "o", "coupled"))
    np.testing.assert_allclose(next_c, f * a["c0"] + (1 - f) * g, rtol=0, atol=1e-12)
    np.testing.assert_allclose(next_h, o * np.tanh(next_c), rtol=0, atol=1e-12)
    assert a["Wx"].shape == (D, 3 * H)


def test_no_forget_cell_is_additive():
    a = make("no_forget", seed=13)
    next_h, next_c, cache = step_forward(a, "no_forget")
    i, g = sigmoid(gate(a, "i", "no_forget")), np.tanh(gate(a, "g", "no_forget"))
    np.testing.assert_allclose(next_c - a["c0"], i * g, rtol=0, atol=1e-12)
    # the error carousel: with no gradient on h, dc_{t-1} = dc_t exactly (f = 1)
    dnc = np.random.default_rng(0).normal(size=(N, H))
    dprev_c = lstm.lstm_step_backward(np.zeros((N, H)), dnc, cache)[2]
    np.testing.assert_array_equal(dprev_c, dnc)


def test_vanilla_cell_gradient_is_elementwise_product_with_forget_gate():
    a = make("vanilla", seed=14)
    _, _, cache = step_forward(a, "vanilla")
    f = sigmoid(gate(a, "f", "vanilla"))
    dnc = np.random.default_rng(1).normal(size=(N, H))
    dprev_c = lstm.lstm_step_backward(np.zeros((N, H)), dnc, cache)[2]
    np.testing.assert_allclose(dprev_c, dnc * f, rtol=1e-12, atol=0)


def test_peephole_with_zero_peepholes_is_vanilla():
    a = make("peephole", seed=15)
    a["p"] = np.zeros_like(a["p"])
    h_p, c_p, _ = seq_forward(a, "peephole")
    h_v, c_v, _ = seq_forward({k: v for k, v in a.items() if k != "p"}, "vanilla")
    np.testing.assert_allclose(h_p, h_v, rtol=0, atol=1e-14)
    a["p"][2] = 1.0  # the output gate now looks at c_t: outputs must change
    assert not np.allclose(seq_forward(a, "peephole")[0], h_v)


def test_forget_bias_init():
    P = lstm.init_params(D, H, forget_bias=1.0)
    np.testing.assert_array_equal(P["b"][H:2 * H], 1.0)
    np.testing.assert_array_equal(np.delete(P["b"], np.s_[H:2 * H]), 0.0)
    assert lstm.init_params(D, H, variant="no_forget", forget_bias=1.0)["b"].sum() == 0
    m = lstm.LSTM(D, H, variant="coupled", forget_bias=1.0)
    assert torch.all(m.b[:H] == 1) and torch.all(m.b[H:] == 0)


# ------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_in_float32_out(variant):
    a = make(variant, dtype=np.float32, seed=16)
    h, c, cache = seq_forward(a, variant)
    assert h.dtype == c.dtype == np.float32
    grads = lstm.lstm_backward(np.ones_like(h), cache, np.ones_like(c))
    assert all(g.dtype == np.float32 for g in grads)
    a64 = {k: v.astype(np.float64) for k, v in a.items()}
    np.testing.assert_allclose(h, seq_forward(a64, variant)[0], atol=1e-5)
    nh, nc, sc = step_forward(a, variant)
    assert nh.dtype == nc.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm.lstm_step_backward(np.ones_like(nh), np.ones_like(nc), sc))


@pytest.mark.parametrize("variant", VARIANTS)
def test_module_dtype_and_default_state(variant):
    m = lstm.LSTM(D, H, variant=variant, dtype=torch.float32)
    out, (hT, cT) = m(torch.zeros(N, T, D))
    assert out.dtype == cT.dtype == torch.float32 and out.shape == (N, T, H) and cT.shape == (N, H)
    assert all(p.dtype == torch.float32 for p in m.parameters())
    with pytest.raises(ValueError, match="x"):
        m(torch.zeros(N, T, D, dtype=torch.float64))


def test_mixed_dtypes_rejected():
    a = make("vanilla")
    with pytest.raises(ValueError, match="Wh"):
        lstm.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"].astype(np.float32), a["b"])
    _, _, cache = seq_forward(a, "vanilla")
    with pytest.raises(ValueError, match="dh"):
        lstm.lstm_backward(np.zeros((N, T, H), np.float32), cache)


# --------------------------------------------------------------- converters
def test_converters_round_trip():
    a = make("vanilla", seed=17)
    for cell in (False, True):
        m = lstm.to_torch(a["Wx"], a["Wh"], a["b"], cell=cell)
        assert isinstance(m, torch.nn.LSTMCell if cell else torch.nn.LSTM)
        back = lstm.from_torch(m)
        for k in ("Wx", "Wh", "b"):
            np.testing.assert_array_equal(back[k], a[k])
    torch.manual_seed(3)
    ref = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)  # bias_ih and bias_hh both non-zero
    again = lstm.to_torch(**lstm.from_torch(ref))
    x = torch.from_numpy(a["x"])
    torch.testing.assert_close(again(x)[0], ref(x)[0], rtol=0, atol=1e-12)
    ours = lstm.LSTM.from_torch(ref)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=0, atol=1e-10)
    torch.testing.assert_close(ours.to_torch(cell=True).weight_hh, ref.weight_hh_l0)
    assert set(lstm.from_torch(lstm.LSTM(D, H, variant="peephole"))) == {"Wx", "Wh", "b", "p"}


def test_converter_without_bias_and_float32():
    ref = torch.nn.LSTMCell(D, H, bias=False)
    P = lstm.from_torch(ref)
    assert P["b"].dtype == np.float64 and not P["b"].any()
    m = lstm.to_torch(P["Wx"], P["Wh"], P["b"], dtype=torch.float32)
    assert m.weight_ih_l0.dtype == torch.float32


@pytest.mark.parametrize("kwargs", [dict(num_layers=2), dict(bidirectional=True), dict(proj_size=2)])
def test_converter_rejects_unsupported_configs(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        lstm.from_torch(torch.nn.LSTM(D, H, **kwargs))


def test_converter_rejects_wrong_modules_and_shapes():
    with pytest.raises(TypeError, match="LSTM"):
        lstm.from_torch(torch.nn.GRU(D, H))
    with pytest.raises(ValueError, match="Wh"):
        lstm.to_torch(np.zeros((D, 3 * H)), np.zeros((H, 3 * H)), np.zeros(3 * H))
    with pytest.raises(ValueError, match="coupled"):
        lstm.LSTM(D, H, variant="coupled").to_torch()


# ---------------------------------------------------------------- bad input
def test_bad_inputs_name_the_argument():
    a = make("vanilla")
    x, h0, c0, Wx, Wh, b = (a[k] for k in ("x", "h0", "c0", "Wx", "Wh", "b"))
    cases = {
        "x": (x[0], h0, Wx, Wh, b, c0),
        "h0": (x, h0[:, :-1], Wx, Wh, b),
        "c0": (x, h0, Wx, Wh, b, c0[:-1]),
        "Wx": (x, h0, Wx[:, :-1], Wh, b, c0),
        "Wh": (x, h0, Wx, Wh[:-1], b, c0),
        "b": (x, h0, Wx, Wh, b[:-1], c0),
    }
    for name, args in cases.items():
        with pytest.raises(ValueError, match=rf"^{name} "):
            lstm.lstm_forward(*args)
    with pytest.raises(ValueError, match="4H"):
        lstm.lstm_forward(x, h0, Wx[:, :3 * H], Wh[:, :3 * H], b[:3 * H])  # 3 gates given to vanilla
    with pytest.raises(TypeError, match="x"):
        lstm.lstm_forward(x.tolist(), h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="T >= 1"):
        lstm.lstm_forward(x[:, :0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="variant"):
        lstm.lstm_forward(x, h0, Wx, Wh, b, variant="gru")
    with pytest.raises(ValueError, match="p"):
        lstm.lstm_forward(x, h0, Wx, Wh, b, variant="peephole")
    with pytest.raises(ValueError, match="peephole"):
        lstm.lstm_forward(x, h0, Wx, Wh, b, p=np.zeros((3, H)))
    with pytest.raises(ValueError, match="prev_c"):
        lstm.lstm_step_forward(x[:, 0], h0, c0[:, :2], Wx, Wh, b)
    _, _, cache = seq_forward(a, "vanilla")
    with pytest.raises(ValueError, match="dc"):
        lstm.lstm_backward(np.zeros((N, T, H)), cache, np.zeros((N, T - 1, H)))
    m = lstm.LSTM(D, H, dtype=torch.float64)
    with pytest.raises(ValueError, match="c0"):
        m(torch.zeros(N, T, D, dtype=torch.float64), (torch.zeros(N, H, dtype=torch.float64), torch.zeros(N, H)))


# ------------------------------------------------------------------ shapes
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 5), d=st.integers(1, 5), h=st.integers(1, 5),
       variant=st.sampled_from(VARIANTS), with_c0=st.booleans())
def test_shapes(n, t, d, h, variant, with_c0):
    a = make(variant, n=n, t=t, d=d, h=h)
    G = len(lstm.GATES[variant])
    hs, cs, cache = lstm.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], a["c0"] if with_c0 else None,
                                      variant=variant, p=a.get("p"))
    assert hs.shape == cs.shape == (n, t, h)
    grads = lstm.lstm_backward(np.ones_like(hs), cache)
    expected = [(n, t, d), (n, h), (n, h), (d, G * h), (h, G * h), (G * h,)] + [(3, h)] * (variant == "peephole")
    assert [g.shape for g in grads] == expected


@settings(max_examples=25, deadline=None)
@given(arg=st.sampled_from(["x", "h0", "c0", "Wx", "Wh", "b"]),
       mutation=st.sampled_from(["add_axis", "drop_axis", "int"]))
def test_bad_arrays_raise_value_error_naming_argument(arg, mutation):
    a = make("vanilla", n=2, t=3, d=3, h=2)
    bad = a[arg]
    a[arg] = {"add_axis": bad[..., None], "drop_axis": bad[..., 0], "int": bad.astype(np.int64)}[mutation]
    with pytest.raises(ValueError, match=rf"^{arg} "):
        lstm.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], a["c0"])


# -------------------------------------------------------------------- CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("variant", VARIANTS)
def test_module_on_cuda_matches_cpu(variant):
    torch.manual_seed(4)
    cpu = lstm.LSTM(D, H, variant=variant, dtype=torch.float64)
    gpu = lstm.LSTM(D, H, variant=variant, dtype=torch.float64, device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(N, T, D, dtype=torch.float64)
    out_cpu, _ = cpu(x)
    out_gpu, (hT, cT) = gpu(x.cuda())
    assert out_gpu.device.type == "cuda" and cT.device.type == "cuda"
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, rtol=0, atol=1e-10)
    out_gpu.sum().backward()
    assert gpu.Wh.grad.device.type == "cuda"
