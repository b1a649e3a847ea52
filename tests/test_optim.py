"""numpy optimisers (coursekit.train.optim) against torch.optim on the same gradient sequence."""
import numpy as np
import pytest
import torch

from coursekit.train.optim import SGD, Adagrad, Adam, RMSprop

torch.set_num_threads(1)

SHAPES = {"W": (4, 3), "b": (3,)}

CASES = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                         initial_accumulator_value=0.2, eps=1e-6)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    (Adam, torch.optim.Adam, dict(lr=0.01)),
    (Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
]


def _run_both(np_cls, torch_cls, kwargs, steps=8, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt = np_cls(params, **kwargs)
    topt = torch_cls(list(tparams.values()), **kwargs)
    for _ in range(steps):
        # gradients of growing and shrinking size, some entries exactly zero
        grads = {k: (rng.standard_normal(s) * rng.choice([0.01, 1.0, 5.0])).astype(dtype)
                 for k, s in SHAPES.items()}
        grads["b"][0] = 0.0
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k].copy())
        opt.step(grads)
        topt.step()
    return params, {k: v.detach().numpy() for k, v in tparams.items()}


@pytest.mark.parametrize("np_cls,torch_cls,kwargs", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_optim_float64(np_cls, torch_cls, kwargs):
    ours, ref = _run_both(np_cls, torch_cls, kwargs)
    for k in ours:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("np_cls,torch_cls,kwargs", CASES[:1] + CASES[4:5] + CASES[8:9])
def test_float32_stays_float32_and_close(np_cls, torch_cls, kwargs):
    ours, ref = _run_both(np_cls, torch_cls, kwargs, dtype=np.float32)
    for k in ours:
        assert ours[k].dtype == np.float32
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-5, atol=1e-6)


def test_updates_in_place_and_parameters_move():
    W = np.ones((2, 2))
    opt = Adam({"W": W}, lr=0.1)
    opt.step({"W": np.ones((2, 2))})
    # Adam's first step moves each coordinate by lr (bias-corrected m/sqrt(v) = 1)
    np.testing.assert_allclose(W, 0.9, atol=1e-7)
    assert opt.t == 1


def test_adam_first_step_is_lr_times_sign():
    rng = np.random.default_rng(1)
    p0 = rng.standard_normal(5)
    g = rng.standard_normal(5)
    p = p0.copy()
    Adam({"p": p}, lr=0.01, eps=0.0).step({"p": g})
    np.testing.assert_allclose(p, p0 - 0.01 * np.sign(g), rtol=1e-12)


def test_errors_name_the_key():
    params = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    opt = SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="missing \\['b'\\]"):
        opt.step({"W": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="unexpected \\['c'\\]"):
        opt.step({"W": np.zeros((2, 3)), "b": np.zeros(3), "c": np.zeros(1)})
    with pytest.raises(ValueError, match="grads\\['W'\\].*shape"):
        opt.step({"W": np.zeros((3, 2)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="dtype"):
        opt.step({"W": np.zeros((2, 3), np.float32), "b": np.zeros(3)})
    with pytest.raises(TypeError):
        opt.step({"W": [[0.0] * 3] * 2, "b": np.zeros(3)})
    with pytest.raises(TypeError):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        Adam(params, lr=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD(params, lr=0.1, nesterov=True)
