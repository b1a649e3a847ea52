"""coursekit.models.captioning: the numpy CaptioningRNN (CS231n API).

Loss parity with an equivalent torch computation built from torch.nn modules (nn.Linear,
nn.Embedding, nn.RNN / nn.LSTM holding the same weights, cross_entropy with ignore_index)
in float64; every parameter's gradient against autograd and against finite differences;
<NULL> masking; per-caption (not per-token) averaging; greedy sampling against a torch
loop; float32; bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.models.captioning import PARAM_NAMES, CaptioningRNN, decode_captions
from coursekit.nn import lstm, rnn
from coursekit.train.gradcheck import grad_check, rel_error
from coursekit.train.optim import Adam

WORDS = ["<NULL>", "<START>", "<END>", "a", "red", "cat", "on", "mat", "dog"]
W2I = {w: i for i, w in enumerate(WORDS)}
N, D, WD, H = 4, 6, 5, 7


def make(cell, *, seed=0, dtype=np.float64, scale=1.0):
    model = CaptioningRNN(W2I, input_dim=D, wordvec_dim=WD, hidden_dim=H, cell_type=cell,
                          dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 10)
    for k in model.params:  # non-zero biases and larger embeddings: every path matters
        model.params[k] = (model.params[k] + scale * 0.3 * rng.standard_normal(
            model.params[k].shape)).astype(dtype)
    features = rng.standard_normal((N, D)).astype(dtype)
    captions = np.array([[1, 3, 4, 5, 2, 0, 0],
                         [1, 8, 6, 3, 7, 2, 0],
                         [1, 5, 2, 0, 0, 0, 0],
                         [1, 3, 5, 6, 3, 4, 7]])  # the last has no <END> within T+1
    return model, features, captions


def torch_loss(model, features, captions):
    """The same captioner written with torch.nn modules; returns (loss, {name: grad})."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    feats = torch.tensor(features)
    cap = torch.tensor(captions)
    h0 = F.linear(feats, p["W_proj"].T, p["b_proj"])  # (N, H)
    x = F.embedding(cap[:, :-1], p["W_embed"])  # (N, T, W)
    family = rnn if model.cell_type == "rnn" else lstm  # nn.RNN / nn.LSTM, same weights
    net = family.to_torch(model.params["Wx"], model.params["Wh"], model.params["b"])
    names = {"weight_ih_l0": "Wx", "weight_hh_l0": "Wh", "bias_ih_l0": "b"}
    if model.cell_type == "rnn":
        h, _ = net(x, h0[None])
    else:
        h, _ = net(x, (h0[None], torch.zeros_like(h0)[None]))
    scores = F.linear(h, p["W_vocab"].T, p["b_vocab"])  # (N, T, V)
    loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), cap[:, 1:].reshape(-1),
                           ignore_index=W2I["<NULL>"], reduction="sum") / cap.shape[0]
    loss.backward()
    grads = {k: p[k].grad.numpy() for k in ("W_proj", "b_proj", "W_embed", "W_vocab", "b_vocab")}
    for tname, ours in names.items():
        g = getattr(net, tname).grad.numpy()
        grads[ours] = g if ours == "b" else g.T
    grads["b_hh"] = net.bias_hh_l0.grad.numpy()  # equals the grad of b (b = b_ih + b_hh)
    return loss.item(), grads


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_loss_and_grads_match_torch(cell):
    model, features, captions = make(cell)
    loss, grads = model.loss(features, captions)
    t_loss, t_grads = torch_loss(model, features, captions)
    assert abs(loss - t_loss) < 1e-10 * max(1.0, abs(t_loss))
    assert set(grads) == set(PARAM_NAMES)
    for k in PARAM_NAMES:
        assert grads[k].shape == model.params[k].shape
        np.testing.assert_allclose(grads[k], t_grads[k], atol=1e-10, rtol=1e-9, err_msg=k)
    np.testing.assert_allclose(grads["b"], t_grads["b_hh"], atol=1e-10)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_parameter_passes_a_numeric_gradient_check(cell):
    model, features, captions = make(cell, seed=3)
    _, grads = model.loss(features, captions)
    errors = grad_check(lambda: model.loss(features, captions)[0], model.params, grads, h=1e-5)
    assert set(errors) == set(PARAM_NAMES)
    for k, e in errors.items():
        assert e < 1e-6, (k, e)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_null_targets_are_masked(cell):
    model, features, captions = make(cell)
    loss, grads = model.loss(features, captions)
    padded = np.concatenate([captions, np.zeros((N, 3), captions.dtype)], axis=1)
    loss2, grads2 = model.loss(features, padded)  # more <NULL> steps: nothing changes
    assert abs(loss - loss2) < 1e-12
    for k in PARAM_NAMES:
        np.testing.assert_allclose(grads[k], grads2[k], atol=1e-12)
    # a caption of only <NULL> targets contributes nothing but still counts in the batch
    empty = np.zeros_like(captions[:1])
    empty[0, 0] = W2I["<START>"]
    loss3, _ = model.loss(np.concatenate([features, features[:1]]),
                          np.concatenate([captions, empty]))
    assert abs(loss3 - loss * N / (N + 1)) < 1e-12


def test_loss_is_summed_over_time_averaged_over_captions():
    model, features, captions = make("lstm")
    per_caption = [model.loss(features[i:i + 1], captions[i:i + 1])[0] for i in range(N)]
    loss, _ = model.loss(features, captions)
    assert abs(loss - np.mean(per_caption)) < 1e-12
    tokens = (captions[:, 1:] != 0).sum()
    assert abs(loss * N / tokens - loss) > 1e-3  # a per-token mean would differ here


def test_initial_loss_is_near_log_V():
    model = CaptioningRNN(W2I, input_dim=D, wordvec_dim=WD, hidden_dim=H, cell_type="lstm")
    rng = np.random.default_rng(0)
    captions = make("lstm")[2]
    model.params = {k: v * 1e-3 for k, v in model.params.items()}
    loss, _ = model.loss(rng.standard_normal((N, D)), captions)
    tokens = (captions[:, 1:] != 0).sum()
    assert abs(loss - tokens / N * np.log(len(WORDS))) < 1e-3


def torch_greedy(model, features, max_length):
    """Greedy decoding with torch.nn cells holding the model's weights."""
    p = {k: torch.tensor(v) for k, v in model.params.items()}
    h = torch.tensor(features) @ p["W_proj"] + p["b_proj"]
    c = torch.zeros_like(h)
    if model.cell_type == "rnn":
        cell = rnn.to_torch(model.params["Wx"], model.params["Wh"], model.params["b"])
    else:
        cell = lstm.to_torch(model.params["Wx"], model.params["Wh"], model.params["b"], cell=True)
    word = torch.full((features.shape[0],), W2I["<START>"])
    out = []
    with torch.no_grad():
        for _ in range(max_length):
            x = p["W_embed"][word]
            if model.cell_type == "rnn":
                h = cell(x[:, None], h[None])[1][0]
            else:
                h, c = cell(x, (h, c))
            word = (h @ p["W_vocab"] + p["b_vocab"]).argmax(1)
            out.append(word)
    return torch.stack(out, 1).numpy()


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sample_is_greedy_and_pads_after_end(cell):
    for seed in range(6):
        model, features, _ = make(cell, seed=seed, scale=3.0)
        sampled = model.sample(features, max_length=9)
        assert sampled.shape == (N, 9) and np.issubdtype(sampled.dtype, np.integer)
        ref = torch_greedy(model, features, 9)
        for row, ref_row in zip(sampled, ref):
            ends = np.flatnonzero(ref_row == W2I["<END>"])
            k = ends[0] + 1 if ends.size else 9
            np.testing.assert_array_equal(row[:k], ref_row[:k])  # CS231n's words up to <END>
            assert (row[k:] == W2I["<NULL>"]).all()


def test_overfits_a_tiny_batch():
    model, features, captions = make("lstm", seed=1)
    opt = Adam(model.params, lr=2e-2)
    first = None
    for step in range(200):
        loss, grads = model.loss(features, captions)
        first = loss if first is None else first
        opt.step(grads)
    assert loss < 0.05 * first
    sampled = model.sample(features, max_length=captions.shape[1] - 1)
    target = captions[:, 1:]
    for row, tgt in zip(sampled, target):
        k = int((tgt != 0).sum())
        np.testing.assert_array_equal(row[:k], tgt[:k])


def test_float32():
    model, features, captions = make("lstm", dtype=np.float32)
    loss, grads = model.loss(features, captions)
    assert all(g.dtype == np.float32 for g in grads.values())
    m64, f64, _ = make("lstm")
    assert abs(loss - m64.loss(f64, captions)[0]) < 1e-4 * abs(loss)
    assert model.sample(features, 5).shape == (N, 5)


def test_decode_captions():
    i2w = dict(enumerate(WORDS))
    caps = np.array([[3, 4, 5, 2, 0], [1, 8, 0, 6, 7]])
    assert decode_captions(caps, i2w) == ["a red cat", "dog on mat"]
    assert decode_captions(caps[0], i2w) == "a red cat"


def test_bad_input():
    model, features, captions = make("rnn")
    with pytest.raises(ValueError, match="features"):
        model.loss(features[:, :3], captions)
    with pytest.raises(ValueError, match="captions"):
        model.loss(features, captions[:3])
    with pytest.raises(ValueError, match="captions"):
        model.loss(features, captions.astype(float))
    with pytest.raises(ValueError, match="captions"):
        model.loss(features, captions + len(WORDS))
    with pytest.raises(ValueError, match="captions"):
        model.loss(features, captions[:, :1])
    with pytest.raises(ValueError, match="features"):
        model.loss(features.astype(np.float32), captions)
    with pytest.raises(ValueError, match="max_length"):
        model.sample(features, 0)
    with pytest.raises(ValueError, match="cell_type"):
        CaptioningRNN(W2I, 4, 4, 4, cell_type="gru")
    with pytest.raises(ValueError, match="<END>"):
        CaptioningRNN({"<NULL>": 0, "<START>": 1}, 4, 4, 4)
    with pytest.raises(ValueError, match="word_to_idx"):
        CaptioningRNN({"<NULL>": 0, "<START>": 1, "<END>": 5}, 4, 4, 4)
    with pytest.raises(ValueError, match="hidden_dim"):
        CaptioningRNN(W2I, 4, 4, 0)
    with pytest.raises(ValueError, match="dtype"):
        CaptioningRNN(W2I, 4, 4, 4, dtype=np.int32)


def test_params_have_the_cs231n_keys_and_shapes():
    V = len(WORDS)
    for cell, G in (("rnn", 1), ("lstm", 4)):
        model = CaptioningRNN(W2I, input_dim=D, wordvec_dim=WD, hidden_dim=H, cell_type=cell)
        shapes = {k: v.shape for k, v in model.params.items()}
        assert shapes == {"W_proj": (D, H), "b_proj": (H,), "W_embed": (V, WD),
                          "Wx": (WD, G * H), "Wh": (H, G * H), "b": (G * H,),
                          "W_vocab": (H, V), "b_vocab": (V,)}
    a = CaptioningRNN(W2I, D, WD, H, seed=4).params
    b = CaptioningRNN(W2I, D, WD, H, seed=4).params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert rel_error(a["Wx"], CaptioningRNN(W2I, D, WD, H, seed=5).params["Wx"]) > 0.1
