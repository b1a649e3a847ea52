"""coursekit.nn.gru: both formulations and both update-gate conventions, parity with
torch.nn.GRU/GRUCell (and an independent autograd version of Cho's formula),
gradients, dtypes, converters, bad input, shapes."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.nn import gru, gru_original
from coursekit.train.gradcheck import grad_check, rel_error

N, T, D, H = 3, 4, 5, 6
KINDS = [(reset_after, z) for reset_after in (True, False) for z in ("prev", "new")]


def make(reset_after=True, *, n=N, t=T, d=D, h=H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    P = gru.init_params(d, h, reset_after=reset_after, seed=seed)
    P["b"] = rng.normal(0, 0.5, P["b"].shape)
    if reset_after:
        P["bhn"] = rng.normal(0, 0.5, P["bhn"].shape)
    arrays = dict(x=rng.normal(size=(n, t, d)), h0=rng.normal(size=(n, h)), **P)
    return {k: v.astype(dtype) for k, v in arrays.items()}


def weights(a):
    return [a[k] for k in ("Wx", "Wh", "b", "bhn") if k in a]


def seq(a, z="prev"):
    fwd = gru.gru_forward if "bhn" in a else gru_original.gru_original_forward
    return fwd(a["x"], a["h0"], *weights(a), z_weighs=z)


def seq_backward(a, dh, cache):
    return (gru.gru_backward if "bhn" in a else gru_original.gru_original_backward)(dh, cache)


def step(a, z="prev"):
    fwd = gru.gru_step_forward if "bhn" in a else gru_original.gru_original_step_forward
    return fwd(a["x"], a["h0"], *weights(a), z_weighs=z)


def step_backward(a, dnh, cache):
    return (gru.gru_step_backward if "bhn" in a else gru_original.gru_original_step_backward)(dnh, cache)


def names(a):
    return ["x", "h0", "Wx", "Wh", "b"] + ["bhn"] * ("bhn" in a)


def cho_reference(x, h0, Wx, Wh, b, z_weighs):
    """Cho et al.'s GRU written out from the formula, independently of coursekit (torch autograd)."""
    Wxr, Wxz, Wxn = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    Whr, Whz, Whn = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    h, hs = h0, []
    for t in range(x.shape[1]):
        xt = x[:, t]
        r = torch.sigmoid(xt @ Wxr + h @ Whr + b[:H])
        z = torch.sigmoid(xt @ Wxz + h @ Whz + b[H:2 * H])
        n = torch.tanh(xt @ Wxn + (r * h) @ Whn + b[2 * H:])
        h = z * h + (1 - z) * n if z_weighs == "prev" else (1 - z) * h + z * n
        hs.append(h)
    return torch.stack(hs, 1)


# ------------------------------------------------------------ parity with torch.nn
def test_forward_and_backward_match_nn_gru():
    torch.manual_seed(0)
    ref = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)  # four non-zero bias blocks
    a = make(True)
    a.update(gru.from_torch(ref))
    h, cache = seq(a)
    tx, th0 = torch.tensor(a["x"], requires_grad=True), torch.tensor(a["h0"], requires_grad=True)
    out, hT = ref(tx, th0[None])
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h[:, -1], hT[0].detach().numpy(), rtol=0, atol=1e-10)
    dh = np.random.default_rng(1).normal(size=h.shape)
    (out * torch.from_numpy(dh)).sum().backward()
    dx, dh0, dWx, dWh, db, dbhn = seq_backward(a, dh, cache)
    bih, bhh = ref.bias_ih_l0.grad, ref.bias_hh_l0.grad
    for mine, theirs in [(dx, tx.grad), (dh0, th0.grad), (dWx, ref.weight_ih_l0.grad.T),
                         (dWh, ref.weight_hh_l0.grad.T), (db, bih), (dbhn, bhh[2 * H:])]:
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-10)
    # torch's b_hr, b_hz act like b_ir, b_iz: their gradients agree
    np.testing.assert_allclose(bhh[:2 * H].numpy(), bih[:2 * H].numpy(), rtol=1e-12)


def test_step_matches_nn_grucell():
    torch.manual_seed(1)
    ref = torch.nn.GRUCell(D, H, dtype=torch.float64)
    a = make(True)
    a.update(gru.from_torch(ref))
    a["x"] = a["x"][:, 0].copy()
    next_h, cache = step(a)
    tx, th = torch.tensor(a["x"], requires_grad=True), torch.tensor(a["h0"], requires_grad=True)
    out = ref(tx, th)
    np.testing.assert_allclose(next_h, out.detach().numpy(), rtol=0, atol=1e-10)
    dnh = np.random.default_rng(2).normal(size=next_h.shape)
    (out * torch.from_numpy(dnh)).sum().backward()
    dx, dprev_h, dWx, dWh, db, dbhn = step_backward(a, dnh, cache)
    for mine, theirs in [(dx, tx.grad), (dprev_h, th.grad), (dWx, ref.weight_ih.grad.T),
                         (dWh, ref.weight_hh.grad.T), (db, ref.bias_ih.grad), (dbhn, ref.bias_hh.grad[2 * H:])]:
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("z", ["prev", "new"])
def test_original_formulation_matches_formula_with_autograd(z):
    a = make(False, seed=3)
    h, cache = seq(a, z)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in a.items()}
    out = cho_reference(t["x"], t["h0"], t["Wx"], t["Wh"], t["b"], z)
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)
    dh = np.random.default_rng(4).normal(size=h.shape)
    (out * torch.from_numpy(dh)).sum().backward()
    for k, g in zip(names(a), seq_backward(a, dh, cache)):
        assert rel_error(g, t[k].grad.numpy()) < 1e-8, k


@pytest.mark.parametrize("reset_after,z", KINDS)
def test_module_matches_numpy(reset_after, z):
    """Our tensor-op module against numpy forward and backward, sequence and step."""
    a = make(reset_after, seed=5)
    m = gru.GRU(D, H, reset_after=reset_after, z_weighs=z, dtype=torch.float64)
    with torch.no_grad():
        for k in [k for k in ("Wx", "Wh", "b", "bhn") if k in a]:
            getattr(m, k).copy_(torch.from_numpy(a[k]))
    h, cache = seq(a, z)
    tx, th0 = torch.tensor(a["x"], requires_grad=True), torch.tensor(a["h0"], requires_grad=True)
    out, _ = m(tx, th0)
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=0, atol=1e-10)
    dh = np.random.default_rng(6).normal(size=h.shape)
    (out * torch.from_numpy(dh)).sum().backward()
    theirs = {"x": tx.grad, "h0": th0.grad} | {k: p.grad for k, p in m.named_parameters()}
    for k, g in zip(names(a), seq_backward(a, dh, cache)):
        assert rel_error(g, theirs[k].numpy()) < 1e-8, k
    next_h, _ = step(a | {"x": a["x"][:, 0]}, z)
    np.testing.assert_allclose(next_h, m.step(torch.from_numpy(a["x"][:, 0]), torch.from_numpy(a["h0"]))
                               .detach().numpy(), rtol=0, atol=1e-10)


# -------------------------------------------------------- finite differences
@pytest.mark.parametrize("reset_after,z", KINDS)
def test_sequence_backward_finite_differences(reset_after, z):
    a = make(reset_after, n=2, t=3, d=3, h=4, seed=7)
    h, cache = seq(a, z)
    dh = np.random.default_rng(8).normal(size=h.shape)
    analytic = dict(zip(names(a), seq_backward(a, dh, cache)))
    errors = grad_check(lambda: np.sum(seq(a, z)[0] * dh), {k: a[k] for k in analytic}, analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("reset_after,z", KINDS)
def test_step_backward_finite_differences(reset_after, z):
    a = make(reset_after, n=2, t=1, d=3, h=4, seed=9)
    a["x"] = a["x"][:, 0].copy()
    next_h, cache = step(a, z)
    dnh = np.random.default_rng(10).normal(size=next_h.shape)
    analytic = dict(zip(names(a), step_backward(a, dnh, cache)))
    errors = grad_check(lambda: np.sum(step(a, z)[0] * dnh), {k: a[k] for k in analytic}, analytic)
    assert max(errors.values()) < 1e-6, errors


# ------------------------------------------------- the update-gate convention
@pytest.mark.parametrize("reset_after", [True, False])
def test_conventions_differ_by_z_to_one_minus_z(reset_after):
    a = make(reset_after, seed=11)
    h_prev, _ = seq(a, "prev")
    h_new, _ = seq(a, "new")
    assert not np.allclose(h_prev, h_new)  # the same weights mean different models
    Wx, Wh, b = gru.flip_update_gate(a["Wx"], a["Wh"], a["b"])
    np.testing.assert_array_equal(Wx[:, H:2 * H], -a["Wx"][:, H:2 * H])
    np.testing.assert_array_equal(np.delete(Wh, np.s_[H:2 * H], axis=1), np.delete(a["Wh"], np.s_[H:2 * H], axis=1))
    flipped = a | {"Wx": Wx, "Wh": Wh, "b": b}
    np.testing.assert_allclose(seq(flipped, "new")[0], h_prev, rtol=0, atol=1e-12)
    np.testing.assert_allclose(seq(flipped, "prev")[0], h_new, rtol=0, atol=1e-12)
    for x, y in zip(gru.flip_update_gate(Wx, Wh, b), (a["Wx"], a["Wh"], a["b"])):
        np.testing.assert_array_equal(x, y)


def test_update_gate_weighs_previous_state_in_torch():
    """With z saturated at 1, torch's GRU copies h_{t-1}; the seeds' convention would copy n."""
    ref = torch.nn.GRUCell(D, H, dtype=torch.float64)
    with torch.no_grad():
        ref.bias_ih[H:2 * H] = 50.0  # z = sigma(50) = 1
    a = make(True, seed=12)
    x, h0 = torch.from_numpy(a["x"][:, 0]), torch.from_numpy(a["h0"])
    torch.testing.assert_close(ref(x, h0), h0, rtol=0, atol=1e-12)
    P = gru.from_torch(ref)
    new = gru.GRU.from_torch(ref, z_weighs="new")
    torch.testing.assert_close(new.step(x, h0), ref(x, h0), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(new.b.detach().numpy()[H:2 * H], -P["b"][H:2 * H])
    h_seeds, _ = gru.gru_step_forward(a["x"][:, 0], a["h0"], P["Wx"], P["Wh"], P["b"], P["bhn"], z_weighs="new")
    assert not np.allclose(h_seeds, a["h0"])


# ------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("reset_after,z", KINDS)
def test_float32_in_float32_out(reset_after, z):
    a = make(reset_after, dtype=np.float32, seed=13)
    h, cache = seq(a, z)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in seq_backward(a, np.ones_like(h), cache))
    np.testing.assert_allclose(h, seq({k: v.astype(np.float64) for k, v in a.items()}, z)[0], atol=1e-5)
    a["x"] = a["x"][:, 0]
    nh, c = step(a, z)
    assert nh.dtype == np.float32 and all(g.dtype == np.float32 for g in step_backward(a, np.ones_like(nh), c))


@pytest.mark.parametrize("reset_after", [True, False])
def test_module_dtype_and_default_state(reset_after):
    m = gru.GRU(D, H, reset_after=reset_after, dtype=torch.float32)
    out, h_last = m(torch.zeros(N, T, D))
    assert out.dtype == h_last.dtype == torch.float32 and out.shape == (N, T, H) and h_last.shape == (N, H)
    assert all(p.dtype == torch.float32 for p in m.parameters())
    assert m.step(torch.zeros(N, D)).shape == (N, H)
    with pytest.raises(ValueError, match="x"):
        m(torch.zeros(N, T, D, dtype=torch.float64))


# --------------------------------------------------------------- converters
def test_converters_round_trip():
    a = make(True, seed=14)
    for cell in (False, True):
        m = gru.to_torch(*weights(a), cell=cell)
        assert isinstance(m, torch.nn.GRUCell if cell else torch.nn.GRU)
        back = gru.from_torch(m)
        for k in ("Wx", "Wh", "b", "bhn"):
            np.testing.assert_array_equal(back[k], a[k])
    torch.manual_seed(2)
    ref = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    again = gru.to_torch(**gru.from_torch(ref))
    x = torch.from_numpy(a["x"])
    torch.testing.assert_close(again(x)[0], ref(x)[0], rtol=0, atol=1e-12)
    for z in ("prev", "new"):
        ours = gru.GRU.from_torch(ref, z_weighs=z)
        torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=0, atol=1e-10)
        torch.testing.assert_close(ours.to_torch()(x)[0], ref(x)[0], rtol=0, atol=1e-10)
    assert set(gru.from_torch(gru.GRU(D, H, reset_after=False))) == {"Wx", "Wh", "b"}


def test_converter_without_bias():
    P = gru.from_torch(torch.nn.GRUCell(D, H, bias=False))
    assert not P["b"].any() and not P["bhn"].any() and P["Wx"].shape == (D, 3 * H)


@pytest.mark.parametrize("kwargs", [dict(num_layers=2), dict(bidirectional=True)])
def test_converter_rejects_unsupported_configs(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        gru.from_torch(torch.nn.GRU(D, H, **kwargs))


def test_converter_rejects_wrong_modules():
    with pytest.raises(TypeError, match="GRU"):
        gru.from_torch(torch.nn.LSTM(D, H))
    with pytest.raises(ValueError, match="reset_after"):
        gru.GRU(D, H, reset_after=False).to_torch()
    with pytest.raises(ValueError, match="Wh"):
        gru.to_torch(np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H), np.zeros(H))


# ---------------------------------------------------------------- bad input
def test_bad_inputs_name_the_argument():
    a = make(True)
    x, h0, Wx, Wh, b, bhn = (a[k] for k in ("x", "h0", "Wx", "Wh", "b", "bhn"))
    cases = {"x": (x[0], h0, Wx, Wh, b, bhn), "h0": (x, h0[:, :-1], Wx, Wh, b, bhn),
             "Wx": (x, h0, Wx[:, :-1], Wh, b, bhn), "Wh": (x, h0, Wx, Wh[:, :-1], b, bhn),
             "b": (x, h0, Wx, Wh, b[:-1], bhn), "bhn": (x, h0, Wx, Wh, b, bhn[:-1])}
    for name, args in cases.items():
        with pytest.raises(ValueError, match=rf"^{name} "):
            gru.gru_forward(*args)
    with pytest.raises(TypeError, match="bhn"):
        gru.gru_forward(x, h0, Wx, Wh, b, None)
    with pytest.raises(ValueError, match="z_weighs"):
        gru.gru_forward(x, h0, Wx, Wh, b, bhn, z_weighs="old")
    with pytest.raises(ValueError, match="bhn"):
        gru.gru_forward(x, h0, Wx, Wh, b, bhn.astype(np.float32))
    with pytest.raises(ValueError, match="prev_h"):
        gru_original.gru_original_step_forward(x[:, 0], h0[:1], Wx, Wh, b)
    _, cache = seq(a)
    with pytest.raises(ValueError, match="dh"):
        gru.gru_backward(np.zeros((N, T, H + 1)), cache)
    with pytest.raises(ValueError, match="h0"):
        gru.GRU(D, H, dtype=torch.float64)(torch.zeros(N, T, D, dtype=torch.float64), torch.zeros(N, H))


# ------------------------------------------------------------------ shapes
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 5), d=st.integers(1, 5), h=st.integers(1, 5),
       reset_after=st.booleans(), z=st.sampled_from(["prev", "new"]))
def test_shapes(n, t, d, h, reset_after, z):
    a = make(reset_after, n=n, t=t, d=d, h=h)
    hs, cache = seq(a, z)
    assert hs.shape == (n, t, h)
    expected = [(n, t, d), (n, h), (d, 3 * h), (h, 3 * h), (3 * h,)] + [(h,)] * reset_after
    assert [g.shape for g in seq_backward(a, np.ones_like(hs), cache)] == expected


@settings(max_examples=25, deadline=None)
@given(arg=st.sampled_from(["x", "h0", "Wx", "Wh", "b", "bhn"]),
       mutation=st.sampled_from(["add_axis", "drop_axis", "int"]))
def test_bad_arrays_raise_value_error_naming_argument(arg, mutation):
    a = make(True, n=2, t=3, d=3, h=2)
    bad = a[arg]
    a[arg] = {"add_axis": bad[..., None], "drop_axis": bad[..., 0], "int": bad.astype(np.int64)}[mutation]
    with pytest.raises(ValueError, match=rf"^{arg} "):
        seq(a)


# -------------------------------------------------------------------- CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("reset_after", [True, False])
def test_module_on_cuda_matches_cpu(reset_after):
    torch.manual_seed(5)
    cpu = gru.GRU(D, H, reset_after=reset_after, dtype=torch.float64)
    gpu = gru.GRU(D, H, reset_after=reset_after, dtype=torch.float64, device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(N, T, D, dtype=torch.float64)
    out_gpu, h_last = gpu(x.cuda())
    assert out_gpu.device.type == "cuda" and h_last.device.type == "cuda"
    torch.testing.assert_close(out_gpu.cpu(), cpu(x)[0], rtol=0, atol=1e-10)
    out_gpu.sum().backward()
    assert gpu.Wh.grad.device.type == "cuda"
