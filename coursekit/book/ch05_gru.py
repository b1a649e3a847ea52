"""Experiments of chapter 5 (gated recurrent units): LSTM variants and the GRU, after Greff et al.

:func:`variant_experiment` trains the vanilla LSTM, the LSTM without a forget gate,
with peepholes and with coupled gates, and the GRU, all written from tensor ops in
coursekit, over several seeds on the task of chapter 4
(:func:`coursekit.book.ch04_lstm.train_recall`). ``benchmarks/gated_experiments.py``
runs it with :data:`VARIANT_CONFIG` and writes
``coursekit/data/results/gated_variants.json``, which the chapter loads.
"""
from __future__ import annotations

import numpy as np

from coursekit.book.ch04_lstm import TRAIN_DEFAULTS, _train_kwargs, summarize, train_recall
from coursekit.nn import gru as ck_gru

__all__ = ["GREFF_CELLS", "VARIANT_CONFIG", "SOLUTION_CONFIG", "variant_experiment",
           "standard_errors", "gru_gradient_norms"]

#: The cells of the Greff-style comparison: all written from tensor ops in coursekit.
GREFF_CELLS = ("lstm_vanilla", "lstm_no_forget", "lstm_peephole", "lstm_coupled", "gru_ops")
#: benchmarks/gated_experiments.py runs this; the tests check that the JSON matches it.
VARIANT_CONFIG = dict(TRAIN_DEFAULTS, cells=list(GREFF_CELLS), T=40, seeds=[0, 1, 2], steps=400,
                      eval_every=25, eval_n=256, solved_at=0.95)
#: Exercises 3 and 5: the same comparison with Cho's GRU added and eight seeds (the
#: chapter's three and five more); benchmarks/gated_experiments.py --only solutions.
SOLUTION_CONFIG = dict(VARIANT_CONFIG, cells=[*GREFF_CELLS, "gru_cho"], seeds=list(range(8)))


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


def standard_errors(values) -> tuple[float, float, int]:
    """Mean, standard error ``s / sqrt(n)`` (``s`` with ``n - 1`` in the denominator) and
    ``n`` of the numbers in ``values`` that are not ``None`` (a run that never solved the
    task has ``steps_to_solve = None``); from :func:`summarize`'s ``ddof=0`` spread, since
    ``s / sqrt(n) = std_0 / sqrt(n - 1)``. Chapter 5, exercise 5."""
    mean, std0, n = summarize(values)
    return mean, (std0 / np.sqrt(n - 1) if n > 1 else float("nan")), n


def gru_gradient_norms(x, Wx, Wh, b, bhn, dh_last, h0=None):
    """How far a gradient at the last step reaches back through a GRU (numpy, PyTorch's form).

    Shapes: x (N, T, D), Wx (D, 3H), Wh (H, 3H), b (3H,), bhn (H,), dh_last (N, H) = dL/dh_T
    -> dict with "h" (T,): ||dL/dh_t|| for t = 1..T (Frobenius norm over the batch), and
    "z" (T,): the mean update gate at each step.
    Formula: one :func:`coursekit.nn.gru.gru_step_backward` per step, from t = T down to 1.
    With h_t = (1 - z_t) * n_t + z_t * h_{t-1} (z weighs the old state), the direct path
    gives dL/dh_{t-1} = dL/dh_t * z_t, elementwise, plus the paths through the gates and
    the candidate, which go through W_h like the RNN's.
    Chapter 5: how far the GRU's gradient reaches (as chapter 4 measures the LSTM's).
    """
    N, T, D = x.shape
    H = Wh.shape[0]
    h = np.zeros((N, H), dtype=x.dtype) if h0 is None else h0
    caches, z_mean = [], np.empty(T)
    for t in range(T):
        a_z = x[:, t] @ Wx[:, H:2 * H] + h @ Wh[:, H:2 * H] + b[H:2 * H]
        z_mean[t] = np.mean(1.0 / (1.0 + np.exp(-a_z)))
        h, cache = ck_gru.gru_step_forward(x[:, t], h, Wx, Wh, b, bhn)
        caches.append(cache)
    dh, norms = dh_last, np.empty(T)
    for t in reversed(range(T)):
        norms[t] = np.linalg.norm(dh)
        dh = ck_gru.gru_step_backward(dh, caches[t])[1]  # dL/dh_{t-1}
    return {"h": norms, "z": z_mean}
