"""The torch character language model (coursekit.models.charlm): sampling, evaluation, checkpoints."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.decode import sample
from coursekit.metrics import nats_to_bits, perplexity
from coursekit.models.charlm import (CharLM, evaluate, load_charlm, save_charlm)
from coursekit.data import CHECKPOINT_DIR
from coursekit.data.shakespeare import load_shakespeare, split_text
from coursekit.data.text import CharVocab

torch.set_num_threads(1)
TEXT = "to be, or not to be: that is the question.\n" * 3
VOCAB = CharVocab(TEXT)


def _model(cell="rnn", seed=0, **kw):
    torch.manual_seed(seed)
    model = CharLM(VOCAB.size, 24, cell=cell, **kw)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)                   # sharper distributions than a fresh init
    return model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("embed_dim", [None, 6])
def test_forward_shapes_and_hidden_continuation(cell, embed_dim):
    model = _model(cell, embed_dim=embed_dim, num_layers=2)
    ids = torch.from_numpy(VOCAB.encode(TEXT[:40])).view(2, 20)
    scores, hidden = model(ids)
    assert scores.shape == (2, 20, VOCAB.size)
    s1, h1 = model(ids[:, :7])
    s2, _ = model(ids[:, 7:], h1)
    torch.testing.assert_close(torch.cat([s1, s2], 1), scores, rtol=1e-5, atol=1e-5)


def test_bad_config():
    with pytest.raises(ValueError, match="cell"):
        CharLM(5, 4, cell="transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        CharLM(5, 0)
    with pytest.raises(ValueError, match="dropout"):
        CharLM(5, 4, dropout=1.0)
    with pytest.raises(ValueError, match="ids"):
        CharLM(5, 4)(torch.zeros(3, dtype=torch.long))


def test_sample_reproducible_and_prefix():
    model = _model()
    a = sample(model, VOCAB, 60, prefix="to be", temperature=1.0, seed=1)
    b = sample(model, VOCAB, 60, prefix="to be", temperature=1.0, seed=1)
    c = sample(model, VOCAB, 60, prefix="to be", temperature=1.0, seed=2)
    assert a == b and a != c
    assert a.startswith("to be") and len(a) == 65
    assert len(sample(model, VOCAB, 10, seed=0)) == 10
    assert sample(model, VOCAB, 0, prefix="or") == "or"


def test_temperature_zero_is_greedy():
    model = _model("gru")
    got = sample(model, VOCAB, 25, prefix="that", temperature=0)
    ids = list(VOCAB.encode("that"))
    with torch.no_grad():
        for _ in range(25):                          # re-run the whole prefix each time
            scores, _ = model(torch.tensor([ids]))
            ids.append(int(scores[0, -1].argmax()))
    assert got == VOCAB.decode(np.array(ids))
    assert got == sample(model, VOCAB, 25, prefix="that", temperature=0, seed=99)
    # a tiny temperature samples the greedy text too
    assert sample(model, VOCAB, 25, prefix="that", temperature=1e-4, seed=3) == got


def test_high_temperature_flattens():
    model = _model()
    cold = sample(model, VOCAB, 400, prefix="t", temperature=0.3, seed=0)
    hot = sample(model, VOCAB, 400, prefix="t", temperature=5.0, seed=0)
    assert len(set(hot)) > len(set(cold))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_evaluate_matches_a_direct_computation(cell):
    model = _model(cell)
    ids = VOCAB.encode(TEXT)
    x = torch.from_numpy(ids[:-1])[None]
    y = torch.from_numpy(ids[1:])
    with torch.no_grad():
        direct = F.cross_entropy(model(x)[0][0], y).item()
    # one stream read 16 characters at a time: the carried state makes it exact
    assert evaluate(model, ids, batch_size=1, seq_len=16) == pytest.approx(direct, rel=1e-5)
    # several streams: each predicts its own characters; the mean is still a per-char loss
    two = evaluate(model, ids, batch_size=2, seq_len=1000)
    half = (len(ids) - 1) // 2
    with torch.no_grad():
        s = model(torch.from_numpy(ids[:2 * half]).view(2, half))[0]
        manual = F.cross_entropy(s.reshape(-1, VOCAB.size),
                                 torch.from_numpy(ids[1:2 * half + 1])).item()
    assert two == pytest.approx(manual, rel=1e-5)
    assert model.training                              # mode restored


def test_units():
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert nats_to_bits(1.5) == pytest.approx(1.5 / math.log(2))
    assert perplexity(math.log(65)) == pytest.approx(65.0)
    assert perplexity(0.0) == 1.0


@pytest.mark.parametrize("half", [False, True])
def test_checkpoint_round_trip(tmp_path, half):
    model = _model("lstm", embed_dim=5, num_layers=2, dropout=0.1)
    path = save_charlm(tmp_path / "m.pt", model, VOCAB, metrics={"val_loss_nats": 1.23, "steps": 7},
                           half=half)
    loaded, vocab, info = load_charlm(path)
    assert vocab.chars == VOCAB.chars
    assert info["metrics"] == {"val_loss_nats": 1.23, "steps": 7}
    assert info["config"] == model.config
    assert not loaded.training
    model.eval()
    ids = torch.from_numpy(VOCAB.encode(TEXT[:30]))[None]
    with torch.no_grad():
        a, b = model(ids)[0], loaded(ids)[0]
    if half:
        torch.testing.assert_close(a, b, rtol=0, atol=0.05)
    else:
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    blob = torch.load(path, weights_only=True)          # plain, safe types only
    assert blob["format"] == "coursekit-checkpoint-v1" and blob["model"].endswith("CharLM")
    dt = torch.float16 if half else torch.float32
    assert all(v.dtype == dt for v in blob["state_dict"].values())


def test_load_rejects_other_files(tmp_path):
    p = tmp_path / "x.pt"
    torch.save({"hello": torch.zeros(2)}, p)
    with pytest.raises(ValueError, match="checkpoint"):
        load_charlm(p)


@pytest.mark.parametrize("name", ["charlm_rnn.pt", "charlm_lstm.pt"])
def test_committed_checkpoint_reproduces_its_figure(name):
    path = CHECKPOINT_DIR / name
    if not path.exists():
        pytest.skip(f"{path} not trained yet (python benchmarks/train_charlm.py)")
    assert path.stat().st_size < 5_000_000
    model, vocab, info = load_charlm(path)
    stored = info["metrics"]["val_loss_nats"]
    text = load_shakespeare()
    assert vocab.chars == CharVocab(text).chars
    _, val = split_text(text)
    ids = vocab.encode(val[:30_000])
    got = evaluate(model, ids, batch_size=8, seq_len=256)
    assert abs(got - stored) < 0.1, (got, stored)
    assert got < 2.0                                     # far below a unigram model (~3.3)
    assert sample(model, vocab, 200, prefix="ROMEO:\n", temperature=0.5).count(" ") > 20


def test_checkpoint_metrics_are_plain(tmp_path):
    model = _model()
    metrics = {"torch": torch.__version__, "loss": np.float64(1.5), "steps": np.int64(3)}
    path = save_charlm(tmp_path / "m.pt", model, VOCAB, metrics=metrics)
    _, _, info = load_charlm(path)                   # loads with weights_only=True
    assert info["metrics"] == {"torch": str(torch.__version__), "loss": 1.5, "steps": 3}
    assert type(info["metrics"]["torch"]) is str
    with pytest.raises(TypeError, match="metrics"):
        save_charlm(tmp_path / "n.pt", model, VOCAB, metrics={"bad": object()})
