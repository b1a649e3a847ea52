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

from coursekit.book.ch04_lstm import TRAIN_DEFAULTS, _train_kwargs, train_recall

__all__ = ["GREFF_CELLS", "VARIANT_CONFIG", "variant_experiment"]

#: The cells of the Greff-style comparison: all written from tensor ops in coursekit.
GREFF_CELLS = ("lstm_vanilla", "lstm_no_forget", "lstm_peephole", "lstm_coupled", "gru_ops")
#: benchmarks/gated_experiments.py runs this; the tests check that the JSON matches it.
VARIANT_CONFIG = dict(TRAIN_DEFAULTS, cells=list(GREFF_CELLS), T=40, seeds=[0, 1, 2], steps=400,
                      eval_every=25, eval_n=256, solved_at=0.95)


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
