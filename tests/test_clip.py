"""numpy gradient clipping (coursekit.train.clip) against torch.nn.utils."""
import numpy as np
import pytest
import torch

from coursekit.train.clip import clip_grad_norm, clip_grad_value, global_norm

torch.set_num_threads(1)


def _grads(scale, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {"Wx": (rng.standard_normal((3, 4)) * scale).astype(dtype),
            "Wh": (rng.standard_normal((4, 4)) * scale).astype(dtype),
            "b": (rng.standard_normal(4) * scale).astype(dtype)}


def _torch_params(grads):
    ps = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 1.0), (1.0, 2.5), (3.0, 0.1)])
def test_clip_grad_norm_matches_torch(scale, max_norm):
    grads = _grads(scale)
    ps = _torch_params(grads)
    ref_norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    norm = clip_grad_norm(grads, max_norm)
    assert norm == pytest.approx(float(ref_norm), rel=1e-12)
    for g, p in zip(grads.values(), ps):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_keeps_direction_and_bounds_norm():
    grads = _grads(50.0, seed=3)
    before = {k: v.copy() for k, v in grads.items()}
    n0 = clip_grad_norm(grads, 1.0)
    assert n0 > 1.0
    assert global_norm(grads) <= 1.0 + 1e-9
    ratio = [grads[k] / before[k] for k in grads]
    np.testing.assert_allclose(np.concatenate([r.ravel() for r in ratio]), ratio[0].ravel()[0])


def test_small_gradients_untouched():
    grads = _grads(1e-3)
    before = {k: v.copy() for k, v in grads.items()}
    clip_grad_norm(grads, 5.0)
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.5, 2.0])
def test_clip_grad_value_matches_torch(dtype, clip_value):
    grads = _grads(2.0, seed=1, dtype=dtype)
    ps = _torch_params(grads)
    torch.nn.utils.clip_grad_value_(ps, clip_value)
    clip_grad_value(grads, clip_value)
    for g, p in zip(grads.values(), ps):
        assert g.dtype == dtype
        np.testing.assert_array_equal(g, p.grad.numpy())
    assert max(np.abs(g).max() for g in grads.values()) <= clip_value


def test_float32_stays_float32():
    grads = _grads(10.0, dtype=np.float32)
    clip_grad_norm(grads, 1.0)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_bad_input():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(_grads(1.0), 0.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(_grads(1.0), -1.0)
    with pytest.raises(TypeError):
        clip_grad_norm([np.zeros(3)], 1.0)
    with pytest.raises(TypeError, match="grads\\['b'\\]"):
        clip_grad_norm({"b": [1.0, 2.0]}, 1.0)
    with pytest.raises(ValueError, match="float32 or float64"):
        clip_grad_value({"b": np.array([1, 2])}, 1.0)
