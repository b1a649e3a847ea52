"""coursekit.models.captioners: Show and Tell and Show, Attend and Tell in torch.

Shapes, one attention step against the formula written out, decoding (beam of one is
greedy, beams return ids without <END>), attention maps sum to one, checkpoint round trip,
a few updates lower the loss, bad input."""
import numpy as np
import pytest
import torch

from coursekit.models.captioners import (END, START, ShowAndTell, ShowAttendTell,
                                         caption_loss, images_to_tensor)
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint

V = 12


def batch(n=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    caps = torch.tensor(rng.integers(3, V, (n, 6)))
    caps[:, 0] = START
    caps[:, -1] = END
    caps[0, 3:] = 0
    caps[0, 3] = END
    return images_to_tensor(images), caps


def make(cls, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(V, embed=8, hidden=16, channels=(4, 8), pools=(4, 2), dropout=0.0,
               attn_size=6, **kw).eval()


@pytest.mark.parametrize("cls", [ShowAndTell, ShowAttendTell])
def test_shapes(cls):
    model = make(cls)
    x, caps = batch()
    logits, alpha = model(x, caps[:, :-1])
    assert logits.shape == (5, 5, V)
    if cls is ShowAttendTell:
        assert alpha.shape == (5, 5, 16)  # 32 / 8 = 4 x 4 cells
        torch.testing.assert_close(alpha.sum(-1), torch.ones(5, 5))
    else:
        assert alpha is None


def test_attention_step_matches_the_formula():
    model = make(ShowAttendTell).double()
    x, caps = batch()
    x = x.double()
    state = model.init_state(x)
    a = model.features(x)  # (N, L, C)
    h, c = state["h"], state["c"]
    Wq, Wk, v = model.attn.Wq, model.attn.Wk, model.attn.v
    e = torch.tanh((h @ Wq)[:, None] + a @ Wk) @ v  # (N, L)
    alpha = torch.softmax(e, dim=1)
    z = (alpha[:, :, None] * a).sum(1)
    h1, _ = model.cell(torch.cat([model.embed(caps[:, 0]), z], 1), (h, c))
    want = model.out(torch.cat([h1, z], 1))
    logits, got_alpha = model(x, caps[:, :1])
    torch.testing.assert_close(logits[:, 0], want, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(got_alpha[:, 0], alpha, atol=1e-12, rtol=1e-12)
    mean = a.mean(1)
    torch.testing.assert_close(state["h"], torch.tanh(model.init_h(mean)))


@pytest.mark.parametrize("grid", [2, 4])
def test_initial_state_reads_the_pooled_grid(grid):
    # init_grid g: h_0 = tanh(W_h abar) with abar the map's g x g cell means, channel-major
    torch.manual_seed(0)
    model = ShowAndTell(V, embed=8, hidden=16, channels=(4, 8), pools=(4, 2), dropout=0.0,
                        init_grid=grid).double().eval()
    x, _ = batch()
    x = x.double()
    fmap = model.encoder(x)  # (N, C, 4, 4)
    k = 4 // grid
    abar = fmap.reshape(5, 8, grid, k, grid, k).mean(dim=(3, 5)).reshape(5, -1)
    state = model.init_state(x)
    assert model.init_h.in_features == 8 * grid ** 2
    torch.testing.assert_close(state["h"], torch.tanh(model.init_h(abar)), atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(state["c"], torch.tanh(model.init_c(abar)), atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError, match="init_grid"):
        ShowAndTell(V, init_grid=0)


def test_image_as_first_input():
    # image_input: (h_0, c_0) = LSTM(W_I abar, (0, 0)), Vinyals et al.'s x_{-1}
    model = make(ShowAndTell, image_input=True).double()
    x, caps = batch()
    x = x.double()
    abar = model.encoder(x).mean(dim=(2, 3))
    zero = torch.zeros(5, 16, dtype=torch.float64)
    h0, c0 = model.cell(model.init_x(abar), (zero, zero))
    state = model.init_state(x)
    torch.testing.assert_close(state["h"], h0, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(state["c"], c0, atol=1e-12, rtol=1e-12)
    h1, _ = model.cell(model.embed(caps[:, 0]), (h0, c0))
    logits, _ = model(x, caps[:, :1])
    torch.testing.assert_close(logits[:, 0], model.out(h1), atol=1e-12, rtol=1e-12)
    assert not hasattr(model, "init_h")
    with pytest.raises(ValueError, match="image_input"):
        make(ShowAttendTell, image_input=True)


@pytest.mark.parametrize("cls", [ShowAndTell, ShowAttendTell])
def test_generate_greedy_and_beam(cls):
    model = make(cls, seed=2)
    x, _ = batch(4)
    greedy = model.generate(x, max_len=7)
    assert greedy == model.generate(x, beam_size=1, max_len=7)
    beam = model.generate(x, beam_size=3, max_len=7)
    assert len(beam) == 4 and all(END not in s and len(s) <= 7 for s in beam + greedy)
    # greedy, step by step, by hand
    state = model.init_state(x[:1])
    tok, seq = torch.tensor([START]), []
    for _ in range(7):
        lp, state = model.decoder_step(tok, state)
        tok = lp.argmax(-1)
        if int(tok) == END:
            break
        seq.append(int(tok))
    assert greedy[0] == seq


def test_attention_maps():
    model = make(ShowAttendTell)
    x, _ = batch(1)
    maps = model.attention_maps(x[0], [4, 5, 6])
    assert maps.shape == (4, 4, 4)
    np.testing.assert_allclose(maps.sum((1, 2)), 1, atol=1e-6)
    with pytest.raises(ValueError, match="attention"):
        make(ShowAndTell).attention_maps(x[0], [4])


@pytest.mark.parametrize("cls,kw", [(ShowAndTell, {"init_grid": 4}),
                                    (ShowAndTell, {"image_input": True}),
                                    (ShowAttendTell, {})])
def test_checkpoint_round_trip(cls, kw, tmp_path):
    model = make(cls, **kw)
    x, caps = batch()
    path = save_checkpoint(tmp_path / "m.pt", model, extra={"itos": list("abc")}, half=False)
    loaded, info = load_checkpoint(path)
    assert type(loaded) is cls and info["extra"]["itos"] == list("abc")
    torch.testing.assert_close(loaded(x, caps[:, :-1])[0], model(x, caps[:, :-1])[0])


def test_training_lowers_the_loss():
    model = make(ShowAttendTell).train()
    x, caps = batch(8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = caption_loss(model(x, caps[:, :-1])[0], caps[:, 1:])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_caption_loss_ignores_null():
    logits = torch.randn(2, 3, V)
    t = torch.tensor([[4, 2, 0], [5, 6, 2]])
    ref = torch.nn.functional.cross_entropy(logits[t != 0], t[t != 0])
    torch.testing.assert_close(caption_loss(logits, t), ref)


def test_bad_input():
    model = make(ShowAndTell)
    x, caps = batch()
    with pytest.raises(ValueError, match="captions_in"):
        model(x, caps[:3])
    with pytest.raises(ValueError, match="images"):
        images_to_tensor(np.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match="vocab_size"):
        ShowAndTell(0)
