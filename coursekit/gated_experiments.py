"""Experiments of chapters 4 and 5: gated cells against the vanilla RNN on a long-range task.

Everything runs on :func:`coursekit.tasks.first_symbol_recall`: the first,
marked symbol must be reported at every later step, so the accuracy at step
``t`` is the accuracy at dependency length ``t``. A :class:`RecallNet` reads
one-hot ids, runs a recurrent layer and scores the ``n_symbols`` answers at
every step; :func:`train_recall` trains it with :func:`coursekit.train.train`.

The experiments (each returns a JSON-ready dict that holds its own config):

* :func:`length_experiment`: accuracy against dependency length for RNN,
  LSTM and GRU (chapter 4);
* :func:`forget_bias_experiment`: LSTM with forget-gate bias 0 against 1
  (Jozefowicz et al. 2015), accuracy during training (chapter 4);
* :func:`variant_experiment`: vanilla LSTM, no forget gate, peepholes,
  coupled gates and GRU over several seeds, in the spirit of Greff et al.
  (chapter 5).

``benchmarks/gated_experiments.py`` runs them with the ``*_CONFIG`` settings
below and writes ``coursekit/data/results/*.json``, which the chapters load.
Also here: :func:`lstm_gates` (every gate's activation over a sequence, for the
heat maps), :func:`lstm_gradient_norms` (how far the gradient reaches
along ``c_t`` and ``h_t``) and :func:`rnn_gradient_norms` (the same for a tanh RNN).
"""
from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit import gru as ck_gru
from coursekit import lstm as ck_lstm
from coursekit import rnn as ck_rnn
from coursekit._validate import check_positive_int
from coursekit.tasks import first_symbol_recall, recall_vocab_size
from coursekit.train import train

__all__ = ["CELLS", "GREFF_CELLS", "RESULTS_DIR", "LENGTH_CONFIG", "FORGET_CONFIG", "VARIANT_CONFIG",
           "RecallNet", "recall_loss", "accuracy_by_distance", "train_recall", "length_experiment",
           "forget_bias_experiment", "variant_experiment", "lstm_gates", "lstm_gradient_norms",
           "rnn_gradient_norms",
           "load_results", "summarize"]

#: cell name -> the recurrent layer it uses.
CELLS = {
    "rnn": "torch.nn.RNN (tanh)",
    "lstm": "torch.nn.LSTM",
    "gru": "torch.nn.GRU",
    "lstm_vanilla": "coursekit.lstm.LSTM(variant='vanilla')",
    "lstm_no_forget": "coursekit.lstm.LSTM(variant='no_forget')",
    "lstm_peephole": "coursekit.lstm.LSTM(variant='peephole')",
    "lstm_coupled": "coursekit.lstm.LSTM(variant='coupled')",
    "gru_ops": "coursekit.gru.GRU (PyTorch's formulation, from tensor ops)",
}
#: The cells of the Greff-style comparison: all written from tensor ops in coursekit.
GREFF_CELLS = ("lstm_vanilla", "lstm_no_forget", "lstm_peephole", "lstm_coupled", "gru_ops")

RESULTS_DIR = Path(__file__).resolve().parent / "data" / "results"
EVAL_SEED = 10_000  # evaluation sequences never appear in training (training seeds are < EVAL_SEED)

#: Settings shared by every experiment (the chapters' short live runs use them too).
TRAIN_DEFAULTS = dict(n_symbols=4, hidden_size=32, batch_size=64, lr=1e-2, clip=1.0, forget_bias=1.0)
#: benchmarks/gated_experiments.py runs these; the tests check that the JSON matches them.
LENGTH_CONFIG = dict(TRAIN_DEFAULTS, cells=["rnn", "lstm", "gru"], lengths=[20, 50, 100, 200],
                     seeds=[0, 1], steps=500, eval_n=500)
FORGET_CONFIG = dict(TRAIN_DEFAULTS, biases=[0.0, 1.0], T=24, answer_from=12, seeds=[0, 1, 2, 3, 4],
                     steps=500, eval_every=25, eval_n=256)
VARIANT_CONFIG = dict(TRAIN_DEFAULTS, cells=list(GREFF_CELLS), T=40, seeds=[0, 1, 2], steps=400,
                      eval_every=25, eval_n=256, solved_at=0.95)


class RecallNet(nn.Module):
    """A recurrent layer with a linear read-out at every step: ids (N, T) -> scores (N, T, K).

    Args:
        n_inputs: V, the number of input ids (one-hot inputs, D = V).
        hidden_size: H.
        n_classes: K, the number of answers.
        cell: a key of :data:`CELLS`.
        forget_bias: the forget gate's bias b_f at initialisation (LSTM cells with a forget gate).
        seed: seeds the initialisation (the global torch RNG is left untouched).

    Formula: h_t = cell(x_t, h_{t-1}), o_t = W_hy h_t + b_y. Chapters 4 and 5.
    """

    def __init__(self, n_inputs, hidden_size, n_classes, *, cell="lstm", forget_bias=1.0, seed=0,
                 device=None, dtype=None):
        super().__init__()
        V, H, K = (check_positive_int(k, v) for k, v in
                   (("n_inputs", n_inputs), ("hidden_size", hidden_size), ("n_classes", n_classes)))
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.n_inputs, self.cell = V, cell
        kw = dict(device=device, dtype=dtype)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if cell in ("rnn", "lstm", "gru"):
                self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](V, H, batch_first=True, **kw)
                if cell == "lstm":
                    with torch.no_grad():  # gates i, f, g, o: b_f = bias_ih + bias_hh = forget_bias
                        self.rnn.bias_ih_l0[H:2 * H] = forget_bias
                        self.rnn.bias_hh_l0[H:2 * H] = 0.0
            elif cell.startswith("lstm_"):
                self.rnn = ck_lstm.LSTM(V, H, variant=cell[5:], forget_bias=forget_bias, **kw)
            else:
                self.rnn = ck_gru.GRU(V, H, **kw)
            self.head = nn.Linear(H, K, **kw)

    def forward(self, ids, hidden=None):
        x = F.one_hot(ids, self.n_inputs).to(self.head.weight.dtype)  # (N, T, V)
        h, hidden = self.rnn(x, hidden)  # (N, T, H)
        return self.head(h), hidden  # (N, T, K)


def recall_loss(model, x, y, hidden=None, *, n_last=None, first=1):
    """Mean cross-entropy of the answer ``y`` (N,) over steps first..T-1: ``loss_fn`` for ``train``.

    ``L = -(1 / (N (T-first))) sum_n sum_{t>=first} log softmax(o_t)[y_n]``; the default
    ``first=1`` asks for the answer at every step after the key (step 0 shows the key
    itself), a larger ``first`` only from step ``first`` on, so no dependency shorter
    than ``first`` steps gives a gradient. Returns ``(loss, hidden)``.
    """
    scores, hidden = model(x)
    scores = scores[:, first:]  # (N, T-first, K)
    target = y[:, None].expand(-1, scores.shape[1])  # (N, T-first)
    return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), target.reshape(-1)), hidden


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


def _batches(T, n_symbols, batch_size, seed):
    """Endless training batches: batch k uses data seed ``(seed * 1000 + k) % EVAL_SEED``.

    Runs of up to 1000 steps with seeds 0..9 never share a batch, and no batch uses
    the evaluation seeds (``EVAL_SEED`` and above).
    """
    for k in itertools.count():
        yield first_symbol_recall(batch_size, T, n_symbols, seed=(seed * 1000 + k) % EVAL_SEED)


def train_recall(cell, T, *, steps=500, seed=0, n_symbols=4, hidden_size=32, batch_size=64, lr=1e-2,
                 clip=1.0, forget_bias=1.0, answer_from=1, eval_every=None, eval_n=256, progress=False,
                 device="cpu"):
    """Train a :class:`RecallNet` on :func:`first_symbol_recall` sequences of length ``T``.

    Adam with gradient clipping (global norm ``clip``), one fresh batch per step; the loss
    is :func:`recall_loss` over the steps ``answer_from .. T-1``.
    Returns ``(model, history)``: the history of :func:`coursekit.train.train`
    plus ``eval_step`` and ``eval_acc`` (accuracy at the last step, distance
    ``T - 1``, on ``eval_n`` fixed evaluation sequences, every ``eval_every`` steps
    and at the end).
    """
    model = RecallNet(recall_vocab_size(n_symbols), hidden_size, n_symbols, cell=cell,
                      forget_bias=forget_bias, seed=seed)
    eval_fn = lambda m: accuracy_by_distance(m, T, n_symbols=n_symbols, N=eval_n)[-1]  # noqa: E731
    if not 1 <= answer_from < T:
        raise ValueError(f"answer_from must be in 1..T-1 = 1..{T - 1}, got {answer_from!r}")
    hist = train(model, _batches(T, n_symbols, batch_size, seed), steps=steps, lr=lr, clip=clip,
                 loss_fn=functools.partial(recall_loss, first=answer_from), eval_fn=eval_fn, eval_every=eval_every, seed=seed,
                 progress=progress, device=device)
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


def variant_experiment(config=None, *, progress=False):
    """Greff-style comparison: each cell in ``cells`` trained with each seed on the same task.

    Per cell and seed: ``final_acc`` (accuracy at the last step after training),
    ``steps_to_solve`` (first evaluation step with accuracy >= ``solved_at``,
    ``None`` if never), ``final_loss`` (mean training loss over the last 50
    steps), ``n_params`` and the ``accuracy`` curve at ``eval_step``.
    Returns ``{"config": config, "eval_step": [...], "results": {cell: {name: [per seed]}}}``.
    """
    config = dict(VARIANT_CONFIG if config is None else config)
    results, steps = {}, None
    for cell in config["cells"]:
        r = results[cell] = {"final_acc": [], "steps_to_solve": [], "final_loss": [], "n_params": [],
                             "accuracy": [], "seconds": []}
        for seed in config["seeds"]:
            model, hist = train_recall(cell, config["T"], steps=config["steps"], seed=seed,
                                       eval_every=config["eval_every"], eval_n=config["eval_n"],
                                       progress=progress, **_train_kwargs(config))
            steps = hist["eval_step"]
            solved = [s for s, a in zip(steps, hist["eval_acc"]) if a >= config["solved_at"]]
            r["final_acc"].append(float(hist["eval_acc"][-1]))
            r["steps_to_solve"].append(solved[0] if solved else None)
            r["final_loss"].append(round(float(np.mean(hist["loss"][-50:])), 5))
            r["n_params"].append(sum(p.numel() for p in model.rnn.parameters()))
            r["accuracy"].append([float(a) for a in hist["eval_acc"]])
            r["seconds"].append(round(hist["seconds"][-1], 2))
    return {"config": config, "eval_step": steps, "results": results}


def summarize(values):
    """``(mean, std, n)`` of the numbers in ``values`` that are not ``None`` (std with ddof=0)."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std()), int(v.size)


def load_results(name, directory=None):
    """The JSON written by ``benchmarks/gated_experiments.py``: ``name`` is "length", "forget_bias" or "variants"."""
    path = Path(directory or RESULTS_DIR) / f"gated_{name}.json"
    return json.loads(path.read_text())


# ------------------------------------------------------------ looking inside an LSTM
def lstm_gates(x, Wx, Wh, b, h0=None, c0=None):
    """Every gate's activation over a sequence of a vanilla LSTM (numpy).

    Shapes: x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), h0, c0 (N, H) or None (zeros) ->
    dict with "i", "f", "g", "o", "c", "h", each (N, T, H).
    Formula: h, c from :func:`coursekit.lstm.lstm_forward`; then with h_{t-1} known at every step,
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
    Formula: one :func:`coursekit.lstm.lstm_step_backward` per step, from t = T down to 1;
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
    Formula: one :func:`coursekit.rnn.rnn_step_backward` per step:
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
