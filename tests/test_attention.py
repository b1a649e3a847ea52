"""coursekit.nn.attention: additive, dot and general attention over a padded source.

Forward parity with torch in float64 (the twin, formulas written out independently, and
scaled_dot_product_attention), backward against autograd and finite differences, the mask
(padding gets weight 0 and no gradient), dtypes, bad input, shapes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.train.gradcheck import grad_check, numerical_gradient_array, rel_error
from coursekit.nn import attention as att

N, T, HQ, HK, A = 3, 5, 4, 6, 7
LENGTHS = (5, 3, 1)


def make(kind, *, n=N, t=T, hq=HQ, hk=HK, seed=0, dtype=np.float64, lengths=LENGTHS):
    rng = np.random.default_rng(seed)
    if kind == "dot":
        hq = hk
    query = rng.normal(size=(n, hq))
    keys = rng.normal(size=(n, t, hk))
    mask = np.arange(t)[None, :] < np.asarray(lengths)[:, None]  # (N, T), prefix of real tokens
    params = att.init_params(kind, hq, hk, A if kind == "additive" else None, seed=seed + 1)
    params = {k: v * 2 for k, v in params.items()}  # larger weights: peakier, less trivial softmax
    return (query.astype(dtype), keys.astype(dtype), mask,
            {k: v.astype(dtype) for k, v in params.items()})


FORWARD = {"additive": att.additive_attention_forward, "dot": att.dot_attention_forward,
           "general": att.general_attention_forward}
BACKWARD = {"additive": att.additive_attention_backward, "dot": att.dot_attention_backward,
            "general": att.general_attention_backward}
ORDER = {"additive": ("Wq", "Wk", "v"), "dot": (), "general": ("Wa",)}


def forward(kind, query, keys, mask, params, **kw):
    return FORWARD[kind](query, keys, mask, *(params[k] for k in ORDER[kind]), **kw)


def formula(kind, q, k, m, p, scale=1.0):
    """The three scores written out in torch, independently of coursekit."""
    if kind == "additive":
        e = torch.stack([torch.tanh(q @ p["Wq"] + k[:, t] @ p["Wk"]) @ p["v"]
                         for t in range(k.shape[1])], dim=1)
    elif kind == "dot":
        e = scale * (k * q[:, None, :]).sum(-1)
    else:
        e = ((q @ p["Wa"])[:, None, :] * k).sum(-1)
    e = torch.where(m, e, torch.tensor(-math.inf, dtype=e.dtype))
    alpha = torch.exp(e - e.max(dim=1, keepdim=True).values)
    alpha = alpha / alpha.sum(dim=1, keepdim=True)
    return (alpha[:, :, None] * k).sum(1), alpha


def tensors(*arrays, grad=False):
    return [torch.tensor(a, requires_grad=grad and a.dtype != bool) for a in arrays]


@pytest.mark.parametrize("kind", att.KINDS)
def test_forward_matches_formula_and_twin_float64(kind):
    query, keys, mask, params = make(kind)
    (ctx, alpha), _ = forward(kind, query, keys, mask, params)
    q, k, m = tensors(query, keys, mask)
    p = {name: torch.tensor(w) for name, w in params.items()}
    ref_ctx, ref_alpha = formula(kind, q, k, m, p)
    assert np.allclose(ctx, ref_ctx.numpy(), atol=1e-10, rtol=0)
    assert np.allclose(alpha, ref_alpha.numpy(), atol=1e-10, rtol=0)
    twin = att.Attention.from_numpy(kind, params) if params else att.Attention("dot", HK, HK,
                                                                               dtype=torch.float64)
    t_ctx, t_alpha = twin(q, k, m)
    assert np.allclose(ctx, t_ctx.detach().numpy(), atol=1e-10, rtol=0)
    assert np.allclose(alpha, t_alpha.detach().numpy(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("scale", [1.0, 1 / math.sqrt(HK), 0.3])
def test_dot_matches_scaled_dot_product_attention(scale):
    query, keys, mask, _ = make("dot")
    (ctx, alpha), _ = att.dot_attention_forward(query, keys, mask, scale=scale)
    q, k, m = tensors(query, keys, mask)
    # SDPA: query (N, 1, H), key = value (N, T, H), boolean mask True = attend
    ref = F.scaled_dot_product_attention(q[:, None, :], k, k, attn_mask=m[:, None, :], scale=scale)
    assert np.allclose(ctx, ref[:, 0].numpy(), atol=1e-10, rtol=0)
    if scale == 1 / math.sqrt(HK):  # SDPA's default scale is 1/sqrt(H)
        default = F.scaled_dot_product_attention(q[:, None, :], k, k, attn_mask=m[:, None, :])
        assert np.allclose(ctx, default[:, 0].numpy(), atol=1e-10, rtol=0)
    twin = att.Attention("dot", HK, HK, scale=scale, dtype=torch.float64)
    assert np.allclose(alpha, twin(q, k, m)[1].numpy(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", att.KINDS)
def test_backward_matches_autograd(kind):
    query, keys, mask, params = make(kind, seed=3)
    (ctx, alpha), cache = forward(kind, query, keys, mask, params)
    rng = np.random.default_rng(9)
    dctx, dalpha = rng.normal(size=ctx.shape), rng.normal(size=alpha.shape)
    grads = BACKWARD[kind](dctx, cache, dalpha)
    q, k = tensors(query, keys, grad=True)
    p = {name: torch.tensor(w, requires_grad=True) for name, w in params.items()}
    twin = att.Attention.from_numpy(kind, params) if params else att.Attention("dot", HK, HK,
                                                                               dtype=torch.float64)
    if params:
        twin.load_state_dict(p, strict=True)
    t_ctx, t_alpha = twin(q, k, torch.tensor(mask))
    ((t_ctx * torch.tensor(dctx)).sum() + (t_alpha * torch.tensor(dalpha)).sum()).backward()
    expected = [q.grad, k.grad] + [dict(twin.named_parameters())[n].grad for n in ORDER[kind]]
    assert len(grads) == len(expected)
    for g, e in zip(grads, expected):
        assert rel_error(g, e.numpy()) < 1e-9


@pytest.mark.parametrize("kind", att.KINDS)
@pytest.mark.parametrize("with_dalpha", [False, True])
def test_backward_matches_finite_differences(kind, with_dalpha):
    query, keys, mask, params = make(kind, seed=5)
    (ctx, alpha), cache = forward(kind, query, keys, mask, params)
    rng = np.random.default_rng(2)
    dctx = rng.normal(size=ctx.shape)
    dalpha = rng.normal(size=alpha.shape) if with_dalpha else None
    grads = BACKWARD[kind](dctx, cache, dalpha)
    arrays = {"query": query, "keys": keys, **params}

    def f():
        (c, a), _ = forward(kind, arrays["query"], arrays["keys"], mask, params)
        return float((c * dctx).sum() + (0 if dalpha is None else (a * dalpha).sum()))

    names = ["query", "keys"] + list(ORDER[kind])
    errors = grad_check(f, {n: arrays[n] for n in names}, dict(zip(names, grads)))
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kind", att.KINDS)
def test_padding_gets_zero_weight_no_gradient_and_no_influence(kind):
    query, keys, mask, params = make(kind, seed=7)
    (ctx, alpha), cache = forward(kind, query, keys, mask, params)
    assert np.all(alpha[~mask] == 0.0)
    assert np.allclose(alpha.sum(axis=1), 1.0, atol=1e-12)  # softmax over the source axis
    dkeys = BACKWARD[kind](np.ones_like(ctx), cache)[1]
    assert np.all(dkeys[~mask] == 0.0)
    noisy = keys.copy()
    noisy[~mask] = 1e3  # whatever sits in the padding
    (ctx2, alpha2), _ = forward(kind, query, noisy, mask, params)
    assert np.array_equal(ctx, ctx2) and np.array_equal(alpha, alpha2)


def test_no_mask_is_all_real_tokens():
    query, keys, _, params = make("general", lengths=(T,) * N)
    (c1, a1), _ = forward("general", query, keys, None, params)
    (c2, a2), _ = forward("general", query, keys, np.ones((N, T), bool), params)
    assert np.array_equal(c1, c2) and np.array_equal(a1, a2)


def test_masked_softmax_and_its_backward():
    e = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 9.0]])
    m = np.array([[1, 1, 0], [1, 0, 0]])
    alpha = att.masked_softmax(e, m)
    assert np.allclose(alpha, [[1 / (1 + math.e), math.e / (1 + math.e), 0], [1, 0, 0]])
    dalpha = np.array([[0.3, -0.2, 5.0], [1.0, 2.0, 3.0]])
    g = numerical_gradient_array(lambda: att.masked_softmax(e, m), e, dalpha)
    assert rel_error(att.masked_softmax_backward(dalpha, alpha), g) < 1e-7
    with pytest.raises(ValueError, match="at least one"):
        att.masked_softmax(e, np.array([[1, 1, 0], [0, 0, 0]]))


@pytest.mark.parametrize("kind", att.KINDS)
def test_float32_in_float32_out(kind):
    query, keys, mask, params = make(kind, dtype=np.float32)
    (ctx, alpha), cache = forward(kind, query, keys, mask, params)
    assert ctx.dtype == alpha.dtype == np.float32
    grads = BACKWARD[kind](np.ones_like(ctx), cache)
    assert all(g.dtype == np.float32 for g in grads)
    ref, _ = forward(kind, *make(kind)[:3], make(kind)[3])
    assert np.allclose(ctx, ref[0], atol=1e-5)


def test_twin_batches_decoder_steps_and_prepares_keys():
    query, keys, mask, params = make("additive")
    twin = att.Attention.from_numpy("additive", params)
    k, m = torch.tensor(keys), torch.tensor(mask)
    qs = torch.tensor(np.random.default_rng(0).normal(size=(N, 4, HQ)))  # S = 4 steps
    ctx, alpha = twin(qs, k, m)
    assert ctx.shape == (N, 4, HK) and alpha.shape == (N, 4, T)
    for s in range(4):
        c1, a1 = twin(qs[:, s], k, m, prepared=twin.prepare(k))
        assert torch.allclose(c1, ctx[:, s], atol=1e-12) and torch.allclose(a1, alpha[:, s], atol=1e-12)


def test_twin_is_device_and_dtype_agnostic():
    twin = att.Attention("general", 3, 5, dtype=torch.float32, device="cpu")
    ctx, alpha = twin(torch.zeros(2, 3), torch.ones(2, 4, 5))
    assert ctx.dtype == torch.float32 and ctx.device.type == "cpu"
    assert torch.allclose(alpha, torch.full((2, 4), 0.25))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_twin_on_cuda_matches_cpu():
    query, keys, mask, params = make("additive")
    cpu = att.Attention.from_numpy("additive", params)
    gpu = att.Attention.from_numpy("additive", params, device="cuda")
    q, k, m = tensors(query, keys, mask)
    assert torch.allclose(cpu(q, k, m)[0], gpu(q.cuda(), k.cuda(), m.cuda())[0].cpu(), atol=1e-10)


def test_bad_input_names_the_argument():
    query, keys, mask, params = make("additive")
    with pytest.raises(ValueError, match="keys"):
        att.additive_attention_forward(query, keys[:, :, :2], mask, **params)
    with pytest.raises(ValueError, match="Wq"):
        att.additive_attention_forward(query, keys, mask, params["Wq"].T, params["Wk"], params["v"])
    with pytest.raises(ValueError, match="mask"):
        att.additive_attention_forward(query, keys, mask[:, :2], **params)
    with pytest.raises(ValueError, match="mask"):
        att.additive_attention_forward(query, keys, mask * 2.0, **params)
    with pytest.raises(ValueError, match="dtype"):
        att.additive_attention_forward(query.astype(np.float32), keys, mask, **params)
    with pytest.raises(ValueError, match="same size|one size"):
        att.dot_attention_forward(query, keys, mask)  # Hq != Hk
    with pytest.raises(TypeError, match="query"):
        att.dot_attention_forward(query.tolist(), keys, mask)
    (ctx, _), cache = att.additive_attention_forward(query, keys, mask, **params)
    with pytest.raises(ValueError, match="dcontext"):
        att.additive_attention_backward(ctx[:, :2], cache)
    with pytest.raises(ValueError, match="kind"):
        att.init_params("concat", 2, 2)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), t=st.integers(1, 6), hq=st.integers(1, 5), hk=st.integers(1, 5),
       kind=st.sampled_from(att.KINDS), seed=st.integers(0, 10_000))
def test_shapes_and_simplex(n, t, hq, hk, kind, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, t + 1, size=n)
    query, keys, mask, params = make(kind, n=n, t=t, hq=hq, hk=hk, seed=seed, lengths=lengths)
    (ctx, alpha), cache = forward(kind, query, keys, mask, params)
    assert ctx.shape == (n, keys.shape[2]) and alpha.shape == (n, t)
    assert np.allclose(alpha.sum(1), 1) and np.all(alpha >= 0) and np.all(alpha[~mask] == 0)
    grads = BACKWARD[kind](np.ones_like(ctx), cache)
    assert [g.shape for g in grads] == [query.shape, keys.shape] + [params[k].shape
                                                                    for k in ORDER[kind]]
