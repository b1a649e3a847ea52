"""coursekit.nn.stacked: deep and bidirectional rnn/lstm/gru against torch.nn.RNN/LSTM/GRU.

Forward parity in float64 (1-3 layers, uni- and bidirectional, with and without h0/c0),
the converters both ways, backward against autograd (with final-state gradients) and
against finite differences, float32, bad input."""
import numpy as np
import pytest
import torch
from torch import nn

from coursekit.nn import stacked as st
from coursekit.train.gradcheck import numerical_gradient_array, rel_error

N, T, D, H = 3, 5, 4, 6
TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CASES = [(cell, L, bi) for cell in ("rnn", "lstm", "gru") for L in (1, 2, 3) for bi in (False, True)]


def fd_error(analytic, numeric):
    """Relative error of whole arrays: elementwise ratios blow up on entries near zero."""
    return np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)


def make(cell, L, bi, *, seed=0, states=True):
    torch.manual_seed(seed)
    m = TORCH[cell](D, H, num_layers=L, bidirectional=bi, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # non-zero biases everywhere, so folding them is tested
        for name, prm in m.named_parameters():
            if "bias" in name:
                prm.uniform_(-0.5, 0.5)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, D))
    S = L * (2 if bi else 1)
    h0 = rng.normal(size=(S, N, H)) if states else None
    c0 = rng.normal(size=(S, N, H)) if states and cell == "lstm" else None
    return m, x, h0, c0


def run_torch(m, x, h0, c0, grad=False):
    xt = torch.tensor(x, requires_grad=grad)
    ht = None if h0 is None else torch.tensor(h0, requires_grad=grad)
    ct = None if c0 is None else torch.tensor(c0, requires_grad=grad)
    if isinstance(m, nn.LSTM):
        hx = None if ht is None else (ht, ct)
        out, (h_n, c_n) = m(xt, hx)
    else:
        out, h_n = m(xt, ht)
        c_n = None
    return (xt, ht, ct), out, h_n, c_n


def run_numpy(cell, x, layers, h0, c0):
    res = st.stacked_forward(x, layers, cell=cell, h0=h0, c0=c0)
    if cell == "lstm":
        return res
    out, h_n, cache = res
    return out, h_n, None, cache


@pytest.mark.parametrize("states", [True, False])
@pytest.mark.parametrize("cell,L,bi", CASES)
def test_forward_parity_float64(cell, L, bi, states):
    m, x, h0, c0 = make(cell, L, bi, states=states)
    layers = st.stacked_from_torch(m)
    assert len(layers) == L and all(len(layer) == (2 if bi else 1) for layer in layers)
    out, h_n, c_n, _ = run_numpy(cell, x, layers, h0, c0)
    _, t_out, t_h, t_c = run_torch(m, x, h0, c0)
    assert out.shape == (N, T, (2 if bi else 1) * H)
    assert np.allclose(out, t_out.detach().numpy(), atol=1e-10, rtol=0)
    assert np.allclose(h_n, t_h.detach().numpy(), atol=1e-10, rtol=0)
    if cell == "lstm":
        assert np.allclose(c_n, t_c.detach().numpy(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("cell,L,bi", CASES)
def test_to_torch_round_trip(cell, L, bi):
    m, x, h0, c0 = make(cell, L, bi, seed=1)
    layers = st.stacked_from_torch(m)
    m2 = st.stacked_to_torch(layers, cell=cell)
    _, out1, h1, _ = run_torch(m, x, h0, c0)
    _, out2, h2, _ = run_torch(m2, x, h0, c0)
    assert torch.allclose(out1, out2, atol=1e-12) and torch.allclose(h1, h2, atol=1e-12)


@pytest.mark.parametrize("cell,L,bi", CASES)
def test_backward_matches_autograd_with_final_state_gradients(cell, L, bi):
    m, x, h0, c0 = make(cell, L, bi, seed=2)
    layers = st.stacked_from_torch(m)
    out, h_n, c_n, cache = run_numpy(cell, x, layers, h0, c0)
    rng = np.random.default_rng(3)
    dout, dh_n = rng.normal(size=out.shape), rng.normal(size=h_n.shape)
    dc_n = rng.normal(size=h_n.shape) if cell == "lstm" else None
    grads = st.stacked_backward(dout, cache, dh_n, dc_n)
    dx, dlayers, dh0 = grads[:3]
    (xt, ht, ct), t_out, t_h, t_c = run_torch(m, x, h0, c0, grad=True)
    loss = (t_out * torch.tensor(dout)).sum() + (t_h * torch.tensor(dh_n)).sum()
    if cell == "lstm":
        loss = loss + (t_c * torch.tensor(dc_n)).sum()
    loss.backward()
    assert np.allclose(dx, xt.grad.numpy(), atol=1e-10, rtol=0)
    assert np.allclose(dh0, ht.grad.numpy(), atol=1e-10, rtol=0)
    if cell == "lstm":
        assert np.allclose(grads[3], ct.grad.numpy(), atol=1e-10, rtol=0)
    # the weights: compare through the converter's formulas
    for l in range(L):
        for d, sfx in enumerate(("", "_reverse")[:1 + bi]):
            g = {k: getattr(m, f"{k}_l{l}{sfx}").grad for k in ("weight_ih", "weight_hh", "bias_ih")}
            dp = dlayers[l][d]
            assert np.allclose(dp["Wx"], g["weight_ih"].T.numpy(), atol=1e-10, rtol=0)
            assert np.allclose(dp["Wh"], g["weight_hh"].T.numpy(), atol=1e-10, rtol=0)
            assert np.allclose(dp["b"], g["bias_ih"].numpy(), atol=1e-10, rtol=0)
            if cell == "gru":
                b_hh = getattr(m, f"bias_hh_l{l}{sfx}").grad.numpy()
                assert np.allclose(dp["bhn"], b_hh[2 * H:], atol=1e-10, rtol=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_finite_differences_two_layer_bidirectional(cell):
    m, x, h0, c0 = make(cell, 2, True, seed=4)
    layers = st.stacked_from_torch(m)
    rng = np.random.default_rng(5)
    out, h_n, c_n, cache = run_numpy(cell, x, layers, h0, c0)
    dout, dh_n = rng.normal(size=out.shape), rng.normal(size=h_n.shape)
    dc_n = rng.normal(size=h_n.shape) if cell == "lstm" else None
    dx, dlayers, dh0, *rest = st.stacked_backward(dout, cache, dh_n, dc_n)

    def f():
        o, hn, cn, _ = run_numpy(cell, x, layers, h0, c0)
        total = np.sum(o * dout) + np.sum(hn * dh_n)
        return total + (np.sum(cn * dc_n) if cell == "lstm" else 0.0)

    from coursekit.train.gradcheck import numerical_gradient
    assert fd_error(dx, numerical_gradient(f, x, 1e-5)) < 1e-8
    assert fd_error(dh0, numerical_gradient(f, h0, 1e-5)) < 1e-8
    if cell == "lstm":
        assert fd_error(rest[0], numerical_gradient(f, c0, 1e-5)) < 1e-8
    for l in range(2):
        for d in range(2):
            for k, w in layers[l][d].items():
                assert fd_error(dlayers[l][d][k], numerical_gradient(f, w, 1e-5)) < 1e-8, (l, d, k)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_layer_is_the_building_block(cell):
    m, x, h0, c0 = make(cell, 1, True, seed=6)
    params = st.stacked_from_torch(m)[0]
    res = st.bidirectional_forward(x, params, cell=cell, h0=h0, c0=c0)
    _, t_out, t_h, t_c = run_torch(m, x, h0, c0)
    assert np.allclose(res[0], t_out.detach().numpy(), atol=1e-10, rtol=0)
    assert np.allclose(res[1], t_h.detach().numpy(), atol=1e-10, rtol=0)
    # the backward half is the forward pass of the flipped input, flipped back
    fwd, _, _, _ = st.direction_forward(x, params[0], cell=cell, h0=h0[0],
                                        c0=None if c0 is None else c0[0])
    rev, _, _, _ = st.direction_forward(x[:, ::-1].copy(), params[1], cell=cell, h0=h0[1],
                                        c0=None if c0 is None else c0[1])
    assert np.allclose(res[0], np.concatenate([fwd, rev[:, ::-1]], axis=2), atol=1e-12)
    dout = np.random.default_rng(7).normal(size=res[0].shape)
    back = st.bidirectional_backward(dout, res[-1])
    dx_num = numerical_gradient_array(
        lambda: st.bidirectional_forward(x, params, cell=cell, h0=h0, c0=c0)[0], x, dout)
    assert rel_error(back[0], dx_num) < 1e-6
    assert len(back) == (4 if cell == "lstm" else 3) and len(back[1]) == 2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float32(cell):
    m, x, h0, c0 = make(cell, 2, True, seed=8)
    layers = [[{k: v.astype(np.float32) for k, v in p.items()} for p in layer]
              for layer in st.stacked_from_torch(m)]
    x32 = x.astype(np.float32)
    out, h_n, c_n, cache = run_numpy(cell, x32, layers, None, None)
    assert out.dtype == np.float32 and h_n.dtype == np.float32
    _, t_out, _, _ = run_torch(m, x, None, None)
    assert np.allclose(out, t_out.detach().numpy(), atol=1e-5)
    dx = st.stacked_backward(np.ones_like(out), cache)[0]
    assert dx.dtype == np.float32 and dx.shape == x.shape


def test_bad_input():
    m, x, h0, c0 = make("lstm", 2, True)
    layers = st.stacked_from_torch(m)
    with pytest.raises(ValueError, match="cell"):
        st.stacked_forward(x, layers, cell="transformer")
    with pytest.raises(ValueError, match="h0"):
        st.stacked_forward(x, layers, cell="lstm", h0=h0[:2])
    with pytest.raises(ValueError, match="c0"):
        st.stacked_forward(x, layers, cell="lstm", h0=h0, c0=c0[:, :1])
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        st.stacked_forward(x, [layers[0], layers[1][:1]], cell="lstm")
    with pytest.raises(ValueError, match=r"layers\[0\]\[0\]"):
        st.stacked_forward(x, [[{"Wx": 1}, layers[0][1]]], cell="lstm")
    with pytest.raises(ValueError, match="keys"):
        st.stacked_forward(x, layers, cell="gru")
    with pytest.raises(TypeError, match="x"):
        st.stacked_forward(x.tolist(), layers, cell="lstm")
    with pytest.raises(ValueError, match="x"):
        st.stacked_forward(x[0], layers, cell="lstm")
    with pytest.raises(ValueError, match="layer 0: .*D"):
        st.stacked_forward(x[:, :, :3], layers, cell="lstm")
    with pytest.raises(ValueError, match="params"):
        st.bidirectional_forward(x, layers[0][:1], cell="lstm")
    out, h_n, c_n, cache = st.stacked_forward(x, layers, cell="lstm")
    with pytest.raises(ValueError, match="dout"):
        st.stacked_backward(out[:, :, :H], cache)
    with pytest.raises(ValueError, match="dh_n"):
        st.stacked_backward(out, cache, h_n[:1])
    with pytest.raises(TypeError, match="module"):
        st.stacked_from_torch(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="proj_size"):
        st.stacked_from_torch(nn.LSTM(2, 4, proj_size=2))
    gm, gx, gh0, _ = make("gru", 1, False)
    gl = st.stacked_from_torch(gm)
    with pytest.raises(ValueError, match="c0"):
        st.stacked_forward(gx, gl, cell="gru", c0=gh0)
    _, gh, gcache = st.stacked_forward(gx, gl, cell="gru")
    with pytest.raises(ValueError, match="dc_n"):
        st.stacked_backward(np.zeros((N, T, H)), gcache, None, gh)
