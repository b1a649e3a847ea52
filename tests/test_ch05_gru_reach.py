"""Chapter 5: the GRU's gradient reach is the true dL/dh_t (autograd) and follows z along the state."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.book import ch05_gru as ch05
from coursekit.nn import gru


def _autograd_norms(x, P, dh_last):
    cell = gru.to_torch(P["Wx"], P["Wh"], P["b"], P["bhn"], cell=True)
    h = torch.zeros(x.shape[0], P["Wh"].shape[0], dtype=torch.float64)
    states = []
    for t in range(x.shape[1]):
        h = cell(torch.from_numpy(x[:, t]), h)
        h.retain_grad()
        states.append(h)
    (h * torch.from_numpy(dh_last)).sum().backward()
    return np.array([s.grad.norm().item() for s in states])


def test_gru_gradient_norms_match_autograd():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 7, 4, 5
    P = gru.init_params(D, H, seed=1)
    P["b"] = rng.normal(0, 0.5, 3 * H)
    P["bhn"] = rng.normal(0, 0.5, H)
    x, dh_last = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    r = ch05.gru_gradient_norms(x, P["Wx"], P["Wh"], P["b"], P["bhn"], dh_last)
    np.testing.assert_allclose(r["h"], _autograd_norms(x, P, dh_last), rtol=1e-10)
    assert r["z"].shape == (T,) and ((r["z"] > 0) & (r["z"] < 1)).all()


def test_an_open_update_gate_carries_the_gradient_further():
    rng = np.random.default_rng(2)
    N, T, D, H = 8, 40, 4, 16
    x, dh_last = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    reach = {}
    for bz in (0.0, 4.0):
        P = gru.init_params(D, H, seed=0)
        P["b"][H:2 * H] = bz                                  # the update gate's block (r, z, n)
        r = ch05.gru_gradient_norms(x, P["Wx"], P["Wh"], P["b"], P["bhn"], dh_last)
        reach[bz] = r["h"][0] / r["h"][-1]
    assert reach[4.0] > 100 * reach[0.0]
    with pytest.raises(ValueError):
        ch05.gru_gradient_norms(x[:, :, :3], P["Wx"], P["Wh"], P["b"], P["bhn"], dh_last)


def test_gru_checkpoint_reproduces_its_figure():
    from coursekit.data import CHECKPOINT_DIR
    from coursekit.data.shakespeare import load_shakespeare, split_text
    from coursekit.models.charlm import evaluate, load_charlm

    model, vocab, info = load_charlm(CHECKPOINT_DIR / "charlm_gru.pt")
    assert info["config"]["cell"] == "gru"
    _, val = split_text(load_shakespeare())
    got = evaluate(model, vocab.encode(val[:30_000]), batch_size=8, seq_len=256)
    assert abs(got - info["metrics"]["val_loss_nats"]) < 0.1, got
    assert got < 2.0
