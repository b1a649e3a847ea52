"""coursekit.nn.layers against PyTorch (forward and autograd) and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.nn import layers
from coursekit.train.gradcheck import grad_check, numerical_gradient, numerical_gradient_array, rel_error

ATOL = 1e-10
GRAD_TOL = 1e-6


def t64(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# ---------------------------------------------------------------- affine
def test_affine_forward_matches_F_linear(rng):
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, _ = layers.affine_forward(x, w, b)
    expected = F.linear(t64(x), t64(w.T), t64(b)).numpy()
    np.testing.assert_allclose(out, expected, atol=ATOL, rtol=0)


def test_affine_backward_matches_autograd_and_finite_differences(rng):
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    out, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    (tx @ tw + tb).backward(t64(dout))
    for ours, theirs in [(dx, tx), (dw, tw), (db, tb)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=ATOL, rtol=0)
    f = lambda: layers.affine_forward(x, w, b)[0]  # noqa: E731
    for ours, arr in [(dx, x), (dw, w), (db, b)]:
        assert rel_error(ours, numerical_gradient_array(f, arr, dout)) < GRAD_TOL


def test_temporal_affine_forward_matches_F_linear(rng):
    x, w, b = rng.standard_normal((2, 6, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, _ = layers.temporal_affine_forward(x, w, b)
    assert out.shape == (2, 6, 3)
    np.testing.assert_allclose(out, F.linear(t64(x), t64(w.T), t64(b)).numpy(), atol=ATOL, rtol=0)


def test_temporal_affine_backward_matches_autograd_and_finite_differences(rng):
    x, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 4, 3))
    _, cache = layers.temporal_affine_forward(x, w, b)
    dx, dw, db = layers.temporal_affine_backward(dout, cache)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    F.linear(tx, tw.T, tb).backward(t64(dout))
    for ours, theirs in [(dx, tx), (dw, tw), (db, tb)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=ATOL, rtol=0)
    f = lambda: layers.temporal_affine_forward(x, w, b)[0]  # noqa: E731
    for ours, arr in [(dx, x), (dw, w), (db, b)]:
        assert rel_error(ours, numerical_gradient_array(f, arr, dout)) < GRAD_TOL


# --------------------------------------------------------------- softmax
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_torch(rng, axis):
    s = rng.standard_normal((3, 4, 5)) * 5
    np.testing.assert_allclose(layers.softmax(s, axis=axis), torch.softmax(t64(s), axis).numpy(),
                               atol=ATOL, rtol=0)
    np.testing.assert_allclose(layers.log_softmax(s, axis=axis),
                               torch.log_softmax(t64(s), axis).numpy(), atol=ATOL, rtol=0)


def test_softmax_is_stable_for_huge_scores():
    s = np.array([[1000.0, 1000.0, -1000.0], [-1e308, 0.0, 1e3]])
    p, logp = layers.softmax(s), layers.log_softmax(s)
    assert np.isfinite(p).all() and np.isfinite(logp[0]).all()
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0], atol=1e-12)


def test_softmax_loss_matches_cross_entropy_and_autograd(rng):
    scores, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    loss, dscores = layers.softmax_loss(scores, y)
    ts = t64(scores, True)
    tloss = F.cross_entropy(ts, torch.tensor(y))
    tloss.backward()
    assert abs(loss - tloss.item()) < ATOL
    np.testing.assert_allclose(dscores, ts.grad.numpy(), atol=ATOL, rtol=0)
    num = numerical_gradient(lambda: layers.softmax_loss(scores, y)[0], scores)
    assert rel_error(dscores, num) < GRAD_TOL


def _torch_temporal_loss(x, y, mask):
    per_step = F.cross_entropy(x.reshape(-1, x.shape[2]), torch.tensor(y).reshape(-1), reduction="none")
    return (per_step * torch.tensor(mask, dtype=x.dtype).reshape(-1)).sum() / x.shape[0]


def test_temporal_softmax_loss_matches_torch_autograd_and_finite_differences(rng):
    N, T, V = 3, 5, 4
    x, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) > 0.3
    loss, dx = layers.temporal_softmax_loss(x, y, mask)
    tx = t64(x, True)
    tloss = _torch_temporal_loss(tx, y, mask)
    tloss.backward()
    assert abs(loss - tloss.item()) < ATOL
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=ATOL, rtol=0)
    errs = grad_check(lambda: layers.temporal_softmax_loss(x, y, mask)[0], {"x": x}, {"x": dx})
    assert errs["x"] < GRAD_TOL


def test_temporal_softmax_loss_masked_steps_add_no_loss_and_no_gradient(rng):
    N, T, V = 2, 6, 5
    x, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = np.ones((N, T), bool)
    mask[0, 3:] = mask[1, 5] = False
    loss, dx = layers.temporal_softmax_loss(x, y, mask)
    assert np.all(dx[~mask] == 0) and np.all(np.abs(dx[mask]).sum(-1) > 0)
    x2 = x.copy()
    x2[~mask] = rng.standard_normal(x2[~mask].shape) * 100  # scores at masked steps are ignored
    assert layers.temporal_softmax_loss(x2, y, mask)[0] == loss
    only_kept = sum(layers.softmax_loss(x[n, mask[n]], y[n, mask[n]])[0] * mask[n].sum()
                    for n in range(N)) / N
    assert abs(loss - only_kept) < 1e-12


def test_temporal_softmax_loss_mask_forms_agree(rng):
    x, y = rng.standard_normal((2, 3, 4)), rng.integers(0, 4, (2, 3))
    full = layers.temporal_softmax_loss(x, y)
    for mask in [np.ones((2, 3), bool), np.ones((2, 3), np.int64), np.ones((2, 3))]:
        got = layers.temporal_softmax_loss(x, y, mask)
        assert got[0] == full[0] and np.array_equal(got[1], full[1])
    with pytest.raises(ValueError, match="mask must be boolean or hold only 0 and 1"):
        layers.temporal_softmax_loss(x, y, np.full((2, 3), 0.5))


# ------------------------------------------------------------- embedding
def test_embedding_forward_and_backward_match_torch_and_finite_differences(rng):
    V, D = 7, 3
    x, W = rng.integers(0, V, (4, 5)), rng.standard_normal((V, D))
    x[0, :2] = 2  # repeated tokens must accumulate
    dout = rng.standard_normal((4, 5, D))
    out, cache = layers.embedding_forward(x, W)
    tW = t64(W, True)
    tout = F.embedding(torch.tensor(x), tW)
    np.testing.assert_allclose(out, tout.detach().numpy(), atol=ATOL, rtol=0)
    tout.backward(t64(dout))
    dW = layers.embedding_backward(dout, cache)
    np.testing.assert_allclose(dW, tW.grad.numpy(), atol=ATOL, rtol=0)
    num = numerical_gradient_array(lambda: layers.embedding_forward(x, W)[0], W, dout)
    assert rel_error(dW, num) < GRAD_TOL


def test_embedding_equals_one_hot_matmul(rng):
    x, W = rng.integers(0, 5, (2, 3)), rng.standard_normal((5, 4))
    np.testing.assert_allclose(layers.embedding_forward(x, W)[0], layers.one_hot(x, 5) @ W, atol=ATOL)


def test_one_hot_matches_torch(rng):
    idx = rng.integers(0, 6, (3, 4))
    out = layers.one_hot(idx, 6)
    assert out.shape == (3, 4, 6) and out.dtype == np.float64
    np.testing.assert_array_equal(out, F.one_hot(torch.tensor(idx), 6).numpy())
    assert layers.one_hot(idx, 6, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="indices must hold integers < 6"):
        layers.one_hot(idx + 6, 6)
    with pytest.raises(ValueError, match="V must be a positive integer"):
        layers.one_hot(idx, 0)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        layers.one_hot(idx, 6, dtype=np.int32)


# -------------------------------------------------- float32 in, float32 out
def _float32_cases(rng):
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    x3 = rng.standard_normal((2, 3, 5))
    y, y3 = rng.integers(0, 3, 5), rng.integers(0, 5, (2, 3))
    return {
        "affine": (lambda c: layers.affine_forward(*c)[0], (x, w, b)),
        "affine_backward": (lambda c: layers.affine_backward(c[3], layers.affine_forward(*c[:3])[1]),
                            (x, w, b, rng.standard_normal((4, 3)))),
        "temporal_affine": (lambda c: layers.temporal_affine_forward(*c)[0], (x3, w, b)),
        "softmax": (lambda c: layers.softmax(c[0]), (x,)),
        "log_softmax": (lambda c: layers.log_softmax(c[0]), (x,)),
        "softmax_loss": (lambda c: layers.softmax_loss(c[0], y), (w,)),
        "temporal_softmax_loss": (lambda c: layers.temporal_softmax_loss(c[0], y3), (x3,)),
        "embedding": (lambda c: layers.embedding_backward(
            c[1], layers.embedding_forward(y3, c[0])[1]), (w, rng.standard_normal((2, 3, 3)))),
    }


@pytest.mark.parametrize("name", list(_float32_cases(np.random.default_rng(0))))
def test_float32_in_float32_out_close_to_float64(rng, name):
    fn, args = _float32_cases(rng)[name]
    out64 = fn(args)
    out32 = fn(tuple(a.astype(np.float32) for a in args))
    out64 = out64 if isinstance(out64, tuple) else (out64,)
    out32 = out32 if isinstance(out32, tuple) else (out32,)
    for a32, a64 in zip(out32, out64):
        assert a32.dtype == np.float32 and a64.dtype == np.float64
        np.testing.assert_allclose(a32, a64, atol=1e-5, rtol=1e-5)


# ------------------------------------------------------ hypothesis: shapes
dims = st.integers(1, 5)


@settings(max_examples=25, deadline=None)
@given(N=dims, T=dims, D=dims, M=dims, dtype=st.sampled_from([np.float32, np.float64]))
def test_random_shapes_give_the_right_output_shapes(N, T, D, M, dtype):
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + M)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(N, T, D), (D, M), (M,)])
    out, cache = layers.temporal_affine_forward(x, w, b)
    assert out.shape == (N, T, M) and out.dtype == dtype
    assert [g.shape for g in layers.temporal_affine_backward(out, cache)] == [(N, T, D), (D, M), (M,)]
    y = rng.integers(0, M, (N, T))
    loss, dx = layers.temporal_softmax_loss(out, y)
    assert np.ndim(loss) == 0 and dx.shape == (N, T, M) and dx.dtype == dtype
    emb, cache = layers.embedding_forward(y, w.T.copy())  # table (M, D)
    assert emb.shape == (N, T, D) and layers.embedding_backward(emb, cache).shape == (M, D)
    assert layers.one_hot(y, M).shape == (N, T, M)


@settings(max_examples=25, deadline=None)
@given(N=dims, D=dims, M=dims, which=st.sampled_from(["x", "w", "b"]), extra=st.integers(1, 3),
       grow_ndim=st.booleans())
def test_wrong_shapes_raise_value_error_naming_the_argument(N, D, M, which, extra, grow_ndim):
    args = {"x": np.zeros((N, D)), "w": np.zeros((D, M)), "b": np.zeros(M)}
    shape = args[which].shape
    if grow_ndim:  # one axis too many
        args[which] = np.zeros(shape + (extra,))
    elif which == "x":  # x is checked first, so its N cannot disagree: make it 1-D instead
        args[which] = np.zeros(N * D)
    else:  # first axis disagrees with the size fixed by an earlier argument
        args[which] = np.zeros((shape[0] + extra,) + shape[1:])
    with pytest.raises(ValueError, match=rf"^{which} must have shape"):
        layers.affine_forward(args["x"], args["w"], args["b"])


@pytest.mark.parametrize("call, name", [
    (lambda: layers.affine_forward([[1.0]], np.zeros((1, 1)), np.zeros(1)), "x"),
    (lambda: layers.temporal_affine_forward(np.zeros((1, 1, 1)), np.zeros((1, 1)), 0.0), "b"),
    (lambda: layers.softmax([1.0, 2.0]), "scores"),
    (lambda: layers.softmax_loss(np.zeros((2, 3)), [0, 1]), "y"),
    (lambda: layers.temporal_softmax_loss(np.zeros((1, 2, 3)), np.zeros((1, 2), int), [[1, 1]]), "mask"),
    (lambda: layers.embedding_forward(np.zeros((1, 2), int), torch.zeros(3, 2)), "W"),
    (lambda: layers.one_hot([0, 1], 3), "indices"),
])
def test_non_arrays_raise_type_error_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be a numpy.ndarray"):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: layers.affine_forward(np.zeros((2, 3), np.float32), np.zeros((3, 4)), np.zeros(4)), "w"),
    (lambda: layers.affine_forward(np.zeros((2, 3), int), np.zeros((3, 4)), np.zeros(4)), "x"),
    (lambda: layers.softmax_loss(np.zeros((2, 3)), np.zeros(2)), "y"),
    (lambda: layers.softmax_loss(np.zeros((2, 3)), np.array([0, 3])), "y"),
    (lambda: layers.temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 4), int)), "y"),
    (lambda: layers.temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), int),
                                          np.ones((3, 2), bool)), "mask"),
    (lambda: layers.embedding_forward(np.array([[0, 5]]), np.zeros((5, 2))), "x"),
    (lambda: layers.affine_backward(np.zeros((2, 5)), layers.affine_forward(
        np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4))[1]), "dout"),
    (lambda: layers.temporal_affine_backward(np.zeros((2, 1, 4), np.float32), layers.temporal_affine_forward(
        np.zeros((2, 1, 3)), np.zeros((3, 4)), np.zeros(4))[1]), "dout"),
    (lambda: layers.embedding_backward(np.zeros((1, 2, 3)), layers.embedding_forward(
        np.zeros((1, 2), int), np.zeros((4, 2)))[1]), "dout"),
])
def test_bad_shapes_and_dtypes_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()
