"""coursekit.book.ch04_lstm: models, loss, accuracy, gate recording, gradient reach,
tiny runs of every experiment, and the committed JSON results (schema and config)."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.book import ch04_lstm as ge
from coursekit.book import ch05_gru as ch05
from coursekit.models.sequence import CELLS, SequenceNet
from coursekit.train.loop import sequence_loss
from coursekit.nn import lstm, rnn
from coursekit.data.tasks import answer_targets, first_symbol_recall, recall_vocab_size

torch.set_num_threads(1)
TINY = dict(n_symbols=3, hidden_size=4, batch_size=8, lr=1e-2, clip=1.0, forget_bias=1.0)


# ------------------------------------------------------------ the model
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_sequencenet_shapes_and_seed(cell):
    V, H, K = 6, 5, 3
    ids = torch.as_tensor(first_symbol_recall(2, 7, K, seed=0)[0])
    a = SequenceNet(V, H, K, cell=cell, seed=3)
    b = SequenceNet(V, H, K, cell=cell, seed=3)
    c = SequenceNet(V, H, K, cell=cell, seed=4)
    scores, _ = a(ids)
    assert scores.shape == (2, 7, K)
    assert torch.equal(scores, b(ids)[0])
    assert not torch.equal(scores, c(ids)[0])


def test_sequencenet_leaves_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    SequenceNet(6, 5, 3, cell="lstm", seed=11)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("cell", ["lstm", "lstm_vanilla", "lstm_peephole", "lstm_coupled"])
@pytest.mark.parametrize("bias", [0.0, 1.0])
def test_forget_bias_is_set(cell, bias):
    H = 5
    model = SequenceNet(6, H, 3, cell=cell, forget_bias=bias, seed=0)
    b = lstm.from_torch(model.rnn)["b"]  # the total bias in coursekit's layout
    j = lstm.GATES["vanilla" if cell == "lstm" else cell[5:]].index("f")
    np.testing.assert_allclose(b[j * H:(j + 1) * H], bias, atol=1e-7)


def test_bad_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceNet(6, 5, 3, cell="transformer")


def test_sequence_loss_of_answer_targets_matches_a_loop():
    model = SequenceNet(6, 4, 3, cell="gru", seed=0)
    x, y = (torch.as_tensor(a) for a in first_symbol_recall(5, 6, 3, seed=1))
    loss, _ = sequence_loss(model, x, torch.as_tensor(answer_targets(y.numpy(), 6)))
    scores, _ = model(x)
    by_hand = np.mean([F.cross_entropy(scores[n, t][None], y[n][None]).item()
                       for n in range(5) for t in range(1, 6)])
    assert abs(loss.item() - by_hand) < 1e-6


def test_sequence_loss_of_answers_from_a_later_step():
    model = SequenceNet(6, 4, 3, cell="rnn", seed=0)
    x, y = (torch.as_tensor(a) for a in first_symbol_recall(4, 7, 3, seed=2))
    loss, _ = sequence_loss(model, x, torch.as_tensor(answer_targets(y.numpy(), 7, first=5)))
    scores, _ = model(x)
    by_hand = np.mean([F.cross_entropy(scores[n, t][None], y[n][None]).item()
                       for n in range(4) for t in (5, 6)])
    assert abs(loss.item() - by_hand) < 1e-6
    with pytest.raises(ValueError, match="answer_from"):
        ge.train_recall("rnn", 5, steps=1, answer_from=5, **TINY)


class _Oracle(torch.nn.Module):
    """Reads the key at step 0 and reports it at every step (or always answers ``fixed``)."""

    def __init__(self, K, fixed=None):
        super().__init__()
        self.K, self.fixed, self.w = K, fixed, torch.nn.Parameter(torch.zeros(1))

    def forward(self, ids, hidden=None):
        key = ids[:, 0] - self.K if self.fixed is None else torch.full_like(ids[:, 0], self.fixed)
        return F.one_hot(key, self.K)[:, None].expand(-1, ids.shape[1], -1).float(), hidden


def test_accuracy_by_distance():
    K, T = 4, 9
    acc = ge.accuracy_by_distance(_Oracle(K), T, n_symbols=K, N=200)
    assert acc.shape == (T,) and (acc == 1.0).all()
    _, y = first_symbol_recall(200, T, K, seed=ge.EVAL_SEED)
    acc0 = ge.accuracy_by_distance(_Oracle(K, fixed=0), T, n_symbols=K, N=200)
    np.testing.assert_allclose(acc0, (y == 0).mean())


# ------------------------------------------------------------ training and experiments
def test_train_recall_history_and_determinism():
    m1, h1 = ge.train_recall("lstm", 6, steps=6, eval_every=3, eval_n=16, **TINY)
    m2, h2 = ge.train_recall("lstm", 6, steps=6, eval_every=3, eval_n=16, **TINY)
    assert h1["step"] == list(range(1, 7)) and len(h1["loss"]) == 6
    assert h1["eval_step"] == [3, 6] and len(h1["eval_acc"]) == 2
    assert all(0.0 <= a <= 1.0 for a in h1["eval_acc"])
    assert h1["loss"] == h2["loss"]
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


def test_training_learns_a_short_recall():
    """A real (small) check that the setup learns: an LSTM solves length 5 quickly."""
    _, hist = ge.train_recall("lstm", 5, steps=150, seed=0, eval_n=200,
                              **dict(ge.TRAIN_DEFAULTS, hidden_size=16))
    assert hist["eval_acc"][-1] > 0.9


def test_length_experiment_structure():
    cfg = dict(TINY, cells=["rnn", "lstm"], lengths=[3, 5], seeds=[0, 1], steps=2, eval_n=8)
    out = ge.length_experiment(cfg)
    assert out["config"] == cfg
    assert set(out["accuracy"]) == {"rnn", "lstm"}
    for cell in ("rnn", "lstm"):
        assert set(out["accuracy"][cell]) == {"3", "5"}
        assert all(len(v) == 2 and all(0 <= a <= 1 for a in v) for v in out["accuracy"][cell].values())
    json.dumps(out)  # JSON-ready


def test_forget_bias_experiment_structure():
    cfg = dict(TINY, biases=[0.0, 1.0], T=4, answer_from=2, seeds=[0], steps=4, eval_every=2, eval_n=8)
    out = ge.forget_bias_experiment(cfg)
    assert out["eval_step"] == [2, 4]
    assert set(out["accuracy"]) == {"0.0", "1.0"}
    assert len(out["accuracy"]["1.0"]) == 1 and len(out["accuracy"]["1.0"][0]) == 2
    assert len(out["loss"]["0.0"][0]) == 4
    json.dumps(out)


def test_variant_experiment_structure():
    cfg = dict(TINY, cells=list(ch05.GREFF_CELLS), T=4, seeds=[0, 1], steps=4, eval_every=2, eval_n=8,
               solved_at=0.95)
    out = ch05.variant_experiment(cfg)
    assert set(out["results"]) == set(ch05.GREFF_CELLS)
    for cell, r in out["results"].items():
        for key in ("final_acc", "steps_to_solve", "final_loss", "n_params", "accuracy", "seconds"):
            assert len(r[key]) == 2, (cell, key)
        assert all(s is None or s in out["eval_step"] for s in r["steps_to_solve"])
    p = {c: out["results"][c]["n_params"][0] for c in ch05.GREFF_CELLS}
    V, H = recall_vocab_size(3), 4
    assert p["lstm_vanilla"] == 4 * H * (V + H + 1)
    assert p["lstm_peephole"] == p["lstm_vanilla"] + 3 * H
    assert p["lstm_coupled"] == p["lstm_no_forget"] == 3 * H * (V + H + 1)
    assert p["gru_ops"] == 3 * H * (V + H + 1) + H
    json.dumps(out)


def test_summarize():
    assert ge.summarize([1.0, 3.0, None]) == (2.0, 1.0, 2)
    mean, std, n = ge.summarize([None])
    assert n == 0 and np.isnan(mean)


# ------------------------------------------------------------ gates and gradients
def _lstm_case(seed=0, N=3, T=7, D=4, H=5):
    rng = np.random.default_rng(seed)
    P = lstm.init_params(D, H, seed=seed, forget_bias=1.0)
    P["b"] += rng.normal(0, 0.3, P["b"].shape)
    return rng.normal(size=(N, T, D)), P


def test_lstm_gates_recompose_the_state():
    x, P = _lstm_case()
    g = ge.lstm_gates(x, P["Wx"], P["Wh"], P["b"])
    for k in "ifo":
        assert ((g[k] > 0) & (g[k] < 1)).all()
    c_prev = np.concatenate([np.zeros_like(g["c"][:, :1]), g["c"][:, :-1]], axis=1)
    np.testing.assert_allclose(g["c"], g["f"] * c_prev + g["i"] * g["g"], atol=1e-12)
    np.testing.assert_allclose(g["h"], g["o"] * np.tanh(g["c"]), atol=1e-12)
    m = lstm.to_torch(P["Wx"], P["Wh"], P["b"])
    h_torch, _ = m(torch.as_tensor(x))
    np.testing.assert_allclose(g["h"], h_torch.detach().numpy(), atol=1e-10)


def test_lstm_gradient_norms_match_autograd():
    x, P = _lstm_case(seed=1)
    N, T, _ = x.shape
    H = P["Wh"].shape[0]
    dh_last = np.random.default_rng(5).normal(size=(N, H))
    out = ge.lstm_gradient_norms(x, P["Wx"], P["Wh"], P["b"], dh_last)
    cell = lstm.LSTM(x.shape[2], H, dtype=torch.float64)
    with torch.no_grad():
        for name in ("Wx", "Wh", "b"):
            getattr(cell, name).copy_(torch.as_tensor(P[name]))
    h = c = torch.zeros(N, H, dtype=torch.float64)
    hs, cs = [], []
    for t in range(T):
        h, c = cell.step(torch.as_tensor(x[:, t]), (h, c))
        h.retain_grad(), c.retain_grad()
        hs.append(h), cs.append(c)
    (h * torch.as_tensor(dh_last)).sum().backward()
    np.testing.assert_allclose(out["h"], [v.grad.norm().item() for v in hs], rtol=1e-10)
    np.testing.assert_allclose(out["c"], [v.grad.norm().item() for v in cs], rtol=1e-10)
    np.testing.assert_allclose(out["f"], ge.lstm_gates(x, P["Wx"], P["Wh"], P["b"])["f"].mean(axis=(0, 2)))


def test_rnn_gradient_norms_match_autograd():
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 6, 3, 4
    P = rnn.init_params(D, H, seed=2)
    x, dh_last = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    norms = ge.rnn_gradient_norms(x, P["Wx"], P["Wh"], P["b"], dh_last)
    Wx, Wh, b = (torch.tensor(P[k], requires_grad=True) for k in ("Wx", "Wh", "b"))
    h, hs = torch.zeros(N, H, dtype=torch.float64), []
    for t in range(T):
        h = torch.tanh(torch.as_tensor(x[:, t]) @ Wx + h @ Wh + b)
        h.retain_grad()
        hs.append(h)
    (h * torch.as_tensor(dh_last)).sum().backward()
    np.testing.assert_allclose(norms, [v.grad.norm().item() for v in hs], rtol=1e-10)


def test_train_adding_is_seeded_and_checks_the_cell():
    a = ge.train_adding("lstm", 6, steps=4, eval_every=2, eval_n=16, hidden_size=3)
    b = ge.train_adding("lstm", 6, steps=4, eval_every=2, eval_n=16, hidden_size=3)
    assert a["eval_step"] == [2, 4] and a["test_mse"] == b["test_mse"]
    with pytest.raises(ValueError, match="cell"):
        ge.train_adding("gru", 6, steps=1)


def test_committed_adding_results_reproduce_and_beat_the_baseline():
    """Schema, the first evaluation of one run retrained with the current code, and the
    exercise's answer: at T = 20 the LSTM ends far below the 1/6 of always answering 1."""
    res, cfg = ge.load_results("adding"), ge.ADDING_CONFIG
    for cell in cfg["cells"]:
        for T in cfg["lengths"]:
            curves = res["test_mse"][cell][str(T)]
            assert len(curves) == len(cfg["seeds"]) and all(len(c) == len(res["eval_step"]) for c in curves)
    kw = {k: cfg[k] for k in ("hidden_size", "batch_size", "lr", "clip", "eval_n")}
    again = ge.train_adding("lstm", 20, steps=cfg["eval_every"], eval_every=cfg["eval_every"],
                            seed=cfg["seeds"][0], **kw)
    assert again["test_mse"][0] == pytest.approx(res["test_mse"]["lstm"]["20"][0][0], rel=1e-4)
    assert max(c[-1] for c in res["test_mse"]["lstm"]["20"]) < 1 / 60


def test_standard_errors_skip_unsolved_runs():
    mean, se, n = ch05.standard_errors([50, None, 100, 75])
    assert n == 3 and mean == 75.0
    assert se == pytest.approx(np.std([50, 100, 75], ddof=1) / np.sqrt(3))
    assert ch05.standard_errors([None])[2] == 0 and np.isnan(ch05.standard_errors([4.0])[1])


def test_solution_config_adds_chos_gru_and_seeds():
    cfg = ch05.SOLUTION_CONFIG
    assert cfg["cells"][-1] == "gru_cho" and "gru_cho" in CELLS
    assert cfg["seeds"][:3] == ch05.VARIANT_CONFIG["seeds"] and len(cfg["seeds"]) == 8
    a = SequenceNet(6, 5, 3, cell="gru_cho", seed=0)
    b = SequenceNet(6, 5, 3, cell="gru_ops", seed=0)
    assert not a.rnn.reset_after and b.rnn.reset_after


# ------------------------------------------------------------ the committed results
CONFIGS = {"length": ge.LENGTH_CONFIG, "forget_bias": ge.FORGET_CONFIG, "variants": ch05.VARIANT_CONFIG,
           "solutions": ch05.SOLUTION_CONFIG, "adding": ge.ADDING_CONFIG}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_committed_results_match_current_config(name):
    res = ge.load_results(name)
    assert res["config"] == json.loads(json.dumps(CONFIGS[name])), (
        f"gated_{name}.json was made with another config: rerun benchmarks/gated_experiments.py")


def test_committed_length_results_schema():
    res, cfg = ge.load_results("length"), ge.LENGTH_CONFIG
    assert set(res["accuracy"]) == set(cfg["cells"])
    for cell in cfg["cells"]:
        assert set(res["accuracy"][cell]) == {str(T) for T in cfg["lengths"]}
        for accs in res["accuracy"][cell].values():
            assert len(accs) == len(cfg["seeds"]) and all(0 <= a <= 1 for a in accs)


def test_committed_forget_bias_results_schema():
    res, cfg = ge.load_results("forget_bias"), ge.FORGET_CONFIG
    n_eval = len(range(cfg["eval_every"], cfg["steps"], cfg["eval_every"])) + 1
    assert len(res["eval_step"]) == n_eval and res["eval_step"][-1] == cfg["steps"]
    assert set(res["accuracy"]) == {str(b) for b in cfg["biases"]}
    for bias in res["accuracy"]:
        assert len(res["accuracy"][bias]) == len(cfg["seeds"])
        assert all(len(c) == n_eval and all(0 <= a <= 1 for a in c) for c in res["accuracy"][bias])
        assert all(len(c) == cfg["steps"] for c in res["loss"][bias])


@pytest.mark.parametrize("name", ["variants", "solutions"])
def test_committed_variant_results_schema(name):
    res, cfg = ge.load_results(name), CONFIGS[name]
    assert set(res["results"]) == set(cfg["cells"])
    for r in res["results"].values():
        assert all(len(r[k]) == len(cfg["seeds"]) for k in ("final_acc", "steps_to_solve", "final_loss"))
        assert all(0 <= a <= 1 for a in r["final_acc"])
        assert all(s is None or s in res["eval_step"] for s in r["steps_to_solve"])


def test_committed_forget_bias_result_reproduces():
    """One run of the stored experiment (about a second), retrained with the current code."""
    res, cfg = ge.load_results("forget_bias"), ge.FORGET_CONFIG
    kw = {k: cfg[k] for k in ge.TRAIN_DEFAULTS}
    kw["forget_bias"] = 1.0
    _, hist = ge.train_recall("lstm", cfg["T"], steps=cfg["steps"], seed=cfg["seeds"][0],
                              answer_from=cfg["answer_from"], eval_every=cfg["eval_every"],
                              eval_n=cfg["eval_n"], **kw)
    stored = res["accuracy"]["1.0"][0]
    assert hist["eval_step"] == res["eval_step"]
    # identical on one machine; float rounding may shift a curve by an evaluation on another CPU
    assert abs(hist["eval_acc"][-1] - stored[-1]) <= 0.1
    assert abs(np.mean(hist["eval_acc"]) - np.mean(stored)) <= 0.1
