"""Experiments of chapter 4 (and the training they share with chapter 5) on a long-range task.

Everything runs on :func:`coursekit.data.tasks.first_symbol_recall`: the first,
marked symbol must be reported at every later step, so the accuracy at step
``t`` is the accuracy at dependency length ``t``. A
:class:`coursekit.models.sequence.SequenceNet` reads one-hot ids, runs a recurrent
layer and scores the ``n_symbols`` answers at every step; :func:`train_recall`
trains it with :func:`coursekit.train.loop.train` and the one loss,
:func:`coursekit.train.loop.sequence_loss`.

The experiments (each returns a JSON-ready dict that holds its own config):

* :func:`length_experiment`: accuracy against dependency length for RNN,
  LSTM and GRU;
* :func:`forget_bias_experiment`: LSTM with forget-gate bias 0 against 1
  (Jozefowicz et al. 2015), accuracy during training.

(Chapter 5's comparison of variants is :mod:`coursekit.book.ch05_gru`.)
``benchmarks/gated_experiments.py`` runs them with the ``*_CONFIG`` settings
below and writes ``coursekit/data/results/*.json``, which the chapters load.
Also here: :func:`lstm_gates` (every gate's activation over a sequence, for the
heat maps), :func:`lstm_gradient_norms` (how far the gradient reaches
along ``c_t`` and ``h_t``) and :func:`rnn_gradient_norms` (the same for a tanh RNN).
"""
from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from coursekit.data import RESULTS_DIR
from coursekit.data.tasks import adding_problem, answer_targets, first_symbol_recall, recall_vocab_size
from coursekit.models.sequence import CELLS, SequenceNet
from coursekit.nn import lstm as ck_lstm
from coursekit.nn import rnn as ck_rnn
from coursekit.train.loop import train

__all__ = ["CELLS", "LENGTH_CONFIG", "FORGET_CONFIG", "ADDING_CONFIG", "TRAIN_DEFAULTS", "EVAL_SEED",
           "accuracy_by_distance", "train_recall", "length_experiment", "forget_bias_experiment",
           "train_adding", "adding_experiment",
           "lstm_gates", "lstm_gradient_norms", "rnn_gradient_norms", "load_results", "summarize"]

EVAL_SEED = 10_000  # evaluation sequences never appear in training (training seeds are < EVAL_SEED)

#: Settings shared by every experiment (the chapters' short live runs use them too).
TRAIN_DEFAULTS = dict(n_symbols=4, hidden_size=32, batch_size=64, lr=1e-2, clip=1.0, forget_bias=1.0)
#: benchmarks/gated_experiments.py runs these; the tests check that the JSON matches them.
LENGTH_CONFIG = dict(TRAIN_DEFAULTS, cells=["rnn", "lstm", "gru"], lengths=[20, 50, 100, 200],
                     seeds=[0, 1], steps=500, eval_n=500)
FORGET_CONFIG = dict(TRAIN_DEFAULTS, biases=[0.0, 1.0], T=24, answer_from=12, seeds=[0, 1, 2, 3, 4],
                     steps=500, eval_every=25, eval_n=256)
#: Exercise 5, the adding problem: ``benchmarks/gated_experiments.py --only adding``.
ADDING_CONFIG = dict(cells=["rnn", "lstm"], lengths=[20, 50], seeds=[0, 1, 2], steps=2000,
                     eval_every=100, eval_n=1000, hidden_size=16, batch_size=64, lr=1e-2, clip=1.0)


@torch.no_grad()
def accuracy_by_distance(model, T, *, n_symbols=4, N=500, seed=EVAL_SEED):
    """Accuracy of the answer at every step on fresh sequences: array (T,), entry t = distance t.

    Entry 0 (the key itself is the input) is included for completeness. Chance is 1 / n_symbols.
    """
    x, y = first_symbol_recall(N, T, n_symbols, seed=seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    scores, _ = model(torch.as_tensor(x, device=device))
    model.train(was_training)
    return (scores.argmax(-1).cpu().numpy() == y[:, None]).mean(axis=0)


def _batches(T, n_symbols, batch_size, seed, first):
    """Endless training batches ``(x (B, T), answer targets (B, T))``: batch k uses data seed
    ``(seed * 1000 + k) % EVAL_SEED``, so runs of up to 1000 steps with seeds 0..9 never share
    a batch and no batch uses the evaluation seeds (``EVAL_SEED`` and above). The answer is
    the target from step ``first`` on (:func:`coursekit.data.tasks.answer_targets`).
    """
    for k in itertools.count():
        x, y = first_symbol_recall(batch_size, T, n_symbols, seed=(seed * 1000 + k) % EVAL_SEED)
        yield x, answer_targets(y, T, first)


def train_recall(cell, T, *, steps=500, seed=0, n_symbols=4, hidden_size=32, batch_size=64, lr=1e-2,
                 clip=1.0, forget_bias=1.0, answer_from=1, eval_every=None, eval_n=256, progress=False,
                 device="cpu"):
    """Train a :class:`~coursekit.models.sequence.SequenceNet` on :func:`first_symbol_recall`.

    Adam with gradient clipping (global norm ``clip``), one fresh batch of length ``T`` per
    step; the loss is the mean cross-entropy of the answer over the steps
    ``answer_from .. T-1`` (a larger ``answer_from`` gives no gradient to shorter
    dependencies). Returns ``(model, history)``: the history of
    :func:`coursekit.train.loop.train` plus ``eval_step`` and ``eval_acc`` (accuracy at the
    last step, distance ``T - 1``, on ``eval_n`` fixed evaluation sequences, every
    ``eval_every`` steps and at the end).
    """
    if not 1 <= answer_from < T:
        raise ValueError(f"answer_from must be in 1..T-1 = 1..{T - 1}, got {answer_from!r}")
    model = SequenceNet(recall_vocab_size(n_symbols), hidden_size, n_symbols, cell=cell,
                        forget_bias=forget_bias, seed=seed)
    eval_fn = lambda m: accuracy_by_distance(m, T, n_symbols=n_symbols, N=eval_n)[-1]  # noqa: E731
    hist = train(model, _batches(T, n_symbols, batch_size, seed, answer_from), steps=steps, lr=lr,
                 clip=clip, eval_fn=eval_fn, eval_every=eval_every, seed=seed, progress=progress,
                 device=device)
    hist["eval_step"], hist["eval_acc"] = hist.pop("val_step"), hist.pop("val_loss")
    return model, hist


def _train_kwargs(config):
    return {k: config[k] for k in TRAIN_DEFAULTS}


def length_experiment(config=None, *, progress=False):
    """Accuracy at dependency length T - 1 after training on length T, for each cell, length and seed.

    Returns ``{"config": config, "accuracy": {cell: {str(T): [acc per seed]}},
    "seconds": {cell: {str(T): [s per seed]}}}`` (accuracy on ``eval_n`` fresh sequences).
    """
    config = dict(LENGTH_CONFIG if config is None else config)
    acc, secs = {}, {}
    for cell in config["cells"]:
        acc[cell], secs[cell] = {}, {}
        for T in config["lengths"]:
            acc[cell][str(T)], secs[cell][str(T)] = [], []
            for seed in config["seeds"]:
                _, hist = train_recall(cell, T, steps=config["steps"], seed=seed, eval_n=config["eval_n"],
                                       progress=progress, **_train_kwargs(config))
                acc[cell][str(T)].append(float(hist["eval_acc"][-1]))
                secs[cell][str(T)].append(round(hist["seconds"][-1], 2))
    return {"config": config, "accuracy": acc, "seconds": secs}


def forget_bias_experiment(config=None, *, progress=False):
    """LSTM accuracy during training with the forget-gate bias set to each value in ``biases``.

    The answer is asked only from step ``answer_from`` on, so every gradient must cross
    at least that many steps (with an answer at every step the bias matters little:
    short dependencies are learned first and extend).

    Returns ``{"config": config, "eval_step": [...], "accuracy": {str(bias): [[acc per eval step]
    per seed]}, "loss": {str(bias): [[training loss per step] per seed]}}`` (losses rounded to 4 digits).
    """
    config = dict(FORGET_CONFIG if config is None else config)
    kw = _train_kwargs(config)
    acc, loss, steps = {}, {}, None
    for bias in config["biases"]:
        acc[str(bias)], loss[str(bias)] = [], []
        for seed in config["seeds"]:
            _, hist = train_recall("lstm", config["T"], steps=config["steps"], seed=seed,
                                   answer_from=config["answer_from"], eval_every=config["eval_every"],
                                   eval_n=config["eval_n"],
                                   progress=progress, **dict(kw, forget_bias=bias))
            steps = hist["eval_step"]
            acc[str(bias)].append([float(a) for a in hist["eval_acc"]])
            loss[str(bias)].append([round(v, 4) for v in hist["loss"]])
    return {"config": config, "eval_step": steps, "accuracy": acc, "loss": loss}


def train_adding(cell, T, *, steps=2000, seed=0, hidden_size=16, batch_size=64, lr=1e-2,
                 clip=1.0, eval_every=100, eval_n=1000):
    """Train ``torch.nn.RNN`` (tanh) or ``torch.nn.LSTM`` with a linear read-out of h_T on
    :func:`coursekit.data.tasks.adding_problem` (squared error, Adam, clipping).

    Batch ``k`` is ``adding_problem(batch_size, T, seed=k)``; every ``eval_every`` updates the
    mean squared error on ``eval_n`` sequences drawn with ``EVAL_SEED`` (never trained on).
    Always answering 1 scores about 1/6. Returns ``{"eval_step": [...], "test_mse": [...],
    "seconds": s}``. Chapter 4, exercise 5.
    """
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(2, hidden_size, batch_first=True)
        read = torch.nn.Linear(hidden_size, 1)
    params = [*layer.parameters(), *read.parameters()]
    opt = torch.optim.Adam(params, lr=lr)

    def predict(x):                                               # x (N, T, 2) -> (N,)
        return read(layer(torch.from_numpy(x).float())[0][:, -1])[:, 0]

    x_test, y_test = adding_problem(eval_n, T, seed=EVAL_SEED)
    y_test = torch.from_numpy(y_test).float()
    out = {"eval_step": [], "test_mse": []}
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = adding_problem(batch_size, T, seed=step - 1)
        loss = ((predict(x) - torch.from_numpy(y).float()) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                out["eval_step"].append(step)
                out["test_mse"].append(round(((predict(x_test) - y_test) ** 2).mean().item(), 6))
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def adding_experiment(config=None):
    """:func:`train_adding` for every cell, length and seed of ``config`` (default
    :data:`ADDING_CONFIG`). Returns ``{"config": config, "eval_step": [...], "test_mse":
    {cell: {str(T): [[mse per eval step] per seed]}}, "seconds": {cell: {str(T): [...]}}}``."""
    config = dict(ADDING_CONFIG if config is None else config)
    kw = {k: config[k] for k in ("steps", "hidden_size", "batch_size", "lr", "clip", "eval_every",
                                 "eval_n")}
    mse, secs, steps = {}, {}, None
    for cell in config["cells"]:
        mse[cell], secs[cell] = {}, {}
        for T in config["lengths"]:
            runs = [train_adding(cell, T, seed=seed, **kw) for seed in config["seeds"]]
            steps = runs[0]["eval_step"]
            mse[cell][str(T)] = [r["test_mse"] for r in runs]
            secs[cell][str(T)] = [r["seconds"] for r in runs]
    return {"config": config, "eval_step": steps, "test_mse": mse, "seconds": secs}


def summarize(values):
    """``(mean, std, n)`` of the numbers in ``values`` that are not ``None`` (std with ddof=0)."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std()), int(v.size)


def load_results(name, directory=None):
    """The JSON written by ``benchmarks/gated_experiments.py``: ``name`` is "length",
    "forget_bias", "adding", "variants" or "solutions" (the files are gated_<name>.json)."""
    path = Path(directory or RESULTS_DIR) / f"gated_{name}.json"
    return json.loads(path.read_text())


# ------------------------------------------------------------ looking inside an LSTM
def lstm_gates(x, Wx, Wh, b, h0=None, c0=None):
    """Every gate's activation over a sequence of a vanilla LSTM (numpy).

    Shapes: x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), h0, c0 (N, H) or None (zeros) ->
    dict with "i", "f", "g", "o", "c", "h", each (N, T, H).
    Formula: h, c from :func:`coursekit.nn.lstm.lstm_forward`; then with h_{t-1} known at every step,
    [i; f; g; o] = [sigma; sigma; tanh; sigma](W_x x_t + W_h h_{t-1} + b) for all t in one product.
    Chapter 4: the gate explorer.
    """
    N, T, D = x.shape
    H = Wh.shape[0]
    h0 = np.zeros((N, H), dtype=x.dtype) if h0 is None else h0
    h, c, _ = ck_lstm.lstm_forward(x, h0, Wx, Wh, b, c0)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (N, T, H): h_{t-1}
    a = x @ Wx + h_prev @ Wh + b  # (N, T, 4H)
    sig = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731  (overflow-free sigmoid)
    i, f, g, o = (a[..., k * H:(k + 1) * H] for k in range(4))
    return {"i": sig(i), "f": sig(f), "g": np.tanh(g), "o": sig(o), "c": c, "h": h}


def lstm_gradient_norms(x, Wx, Wh, b, dh_last, h0=None, c0=None):
    """How far a gradient at the last step reaches back through an LSTM (numpy).

    Shapes: x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), dh_last (N, H) = dL/dh_T ->
    dict with "c" and "h", each (T,): the norms ||dL/dc_t|| and ||dL/dh_t|| for t = 1..T
    (Frobenius norm over the batch), and "f" (T,): the mean forget gate at each step.
    Formula: one :func:`coursekit.nn.lstm.lstm_step_backward` per step, from t = T down to 1;
    along the cell, dL/dc_{t-1} = dL/dc_t * f_t + (the paths through h_{t-1}).
    Chapter 4: the constant error carousel.
    """
    N, T, D = x.shape
    H = Wh.shape[0]
    h = np.zeros((N, H), dtype=x.dtype) if h0 is None else h0
    c = np.zeros((N, H), dtype=x.dtype) if c0 is None else c0
    caches = []
    for t in range(T):
        h, c, cache = ck_lstm.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)
    gates = lstm_gates(x, Wx, Wh, b, h0, c0)  # o_t and c_t for the h_t -> c_t path
    dh, dc = dh_last, np.zeros_like(dh_last)
    norm_h, norm_c = np.empty(T), np.empty(T)
    for t in reversed(range(T)):
        o, tanh_c = gates["o"][:, t], np.tanh(gates["c"][:, t])
        norm_h[t] = np.linalg.norm(dh)
        norm_c[t] = np.linalg.norm(dc + dh * o * (1 - tanh_c ** 2))  # all of dL/dc_t
        _, dh, dc, *_ = ck_lstm.lstm_step_backward(dh, dc, caches[t])  # dh, dc now at step t-1
    return {"c": norm_c, "h": norm_h, "f": gates["f"].mean(axis=(0, 2))}


def rnn_gradient_norms(x, Wx, Wh, b, dh_last, h0=None):
    """||dL/dh_t|| for t = 1..T of a tanh RNN for a gradient ``dh_last`` at the last step (numpy).

    Shapes: x (N, T, D), Wx (D, H), Wh (H, H), b (H,), dh_last (N, H) -> (T,).
    Formula: one :func:`coursekit.nn.rnn.rnn_step_backward` per step:
    dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) W_hh (a matrix product at every step).
    Chapter 4: the constant error carousel (the comparison).
    """
    N, T, D = x.shape
    h = np.zeros((N, Wh.shape[0]), dtype=x.dtype) if h0 is None else h0
    caches = []
    for t in range(T):
        h, cache = ck_rnn.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        caches.append(cache)
    dh, norms = dh_last, np.empty(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        _, dh, *_ = ck_rnn.rnn_step_backward(dh, caches[t])
    return norms
