"""Chapter 7 (applications): the shipped sentiment model and its figures, the word-by-word
sentiment explorer, the accuracy table, and the sunspot forecasting figures.

The figures come from ``benchmarks/train_sentiment.py`` and ``benchmarks/forecast.py``
(JSON in ``coursekit/data/results/``, checkpoints in ``coursekit/data/checkpoints/``).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.data.imdb import tokenize
from coursekit.data.text import TokenVocab
from coursekit.models.sentiment import prefix_proba
from coursekit.train.checkpoint import load_checkpoint

__all__ = ["load_sentiment", "load_results", "encode", "accuracy_rows", "confident_errors",
           "plot_prefix", "build_sentiment_explorer", "packing_demo", "plot_forecasts",
           "forecast_rows"]


def load_sentiment(path=None):
    """The shipped sentiment RNN: ``(model, vocab, info)`` (eval mode, float32, CPU)."""
    model, info = load_checkpoint(Path(path or CHECKPOINT_DIR / "sentiment_rnn.pt"))
    return model, TokenVocab.from_itos(info["extra"]["itos"]), info


def load_results(name: str, folder=None) -> dict:
    """A results JSON written by a benchmark: ``"sentiment"`` or ``"forecast_sunspots"``."""
    return json.loads((Path(folder or RESULTS_DIR) / f"{name}.json").read_text())


def encode(text: str, vocab: TokenVocab, max_len: int | None = None):
    """``(tokens, ids)`` of one review as the model reads it (unknown words -> ``<unk>``)."""
    toks = tokenize(text)[:max_len]
    return toks, vocab.encode(toks)


def accuracy_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(model, valid accuracy, test accuracy, training) rows of the benchmark's table."""
    rows = [("bag of words (1-2 grams), logistic regression", results["bow"]["valid_acc"],
             results["bow"]["test_acc"], f"{results['bow']['seconds']:.0f} s, L-BFGS")]
    for name in sorted(k for k in results if k.startswith(("gru_", "lstm_"))):
        r = results[name]
        cell, way = name.split("_")
        label = f"{cell.upper()} {'bidirectional' if way == 'bi' else 'one direction'}, mean+max"
        rows.append((label, r["valid_acc"], r["test_acc"],
                     f"{r['updates']} updates, {r['epochs_seconds'][-1]:.0f} s"))
    return [(a, f"{b:.2%}", f"{c:.2%}", d) for a, b, c, d in rows]


def confident_errors(proba, labels, k: int = 3):
    """Indices of the ``k`` most confident mistakes of each kind: (false positives, false negatives)."""
    proba, labels = np.asarray(proba), np.asarray(labels)
    fp = np.flatnonzero((proba > 0.5) & (labels == 0))
    fn = np.flatnonzero((proba <= 0.5) & (labels == 1))
    return fp[np.argsort(-proba[fp], kind="stable")][:k], fn[np.argsort(proba[fn], kind="stable")][:k]


def plot_prefix(model, vocab, text: str, *, ax=None, max_words: int = 40):
    """P(positive) after each word of ``text`` (the model reads only the prefix)."""
    toks, ids = encode(text, vocab, max_words)
    p = prefix_proba(model, ids)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(0.32 * len(toks) + 2, 12), 3.0), layout="constrained")
    colors = plt.cm.RdYlGn(p)
    ax.bar(range(len(toks)), p - 0.5, bottom=0.5, color=colors, edgecolor="k", linewidth=0.3)
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set_ylim(0, 1)
    ax.set_xticks(range(len(toks)), [t if ids[i] != 3 else f"{t}?" for i, t in enumerate(toks)],
                  rotation=60, fontsize=8)
    ax.set_ylabel("P(positive) so far")
    return ax.figure, p


def build_sentiment_explorer(model, vocab, examples: list[str]):
    """Type (or pick) a review and watch P(positive) evolve word by word."""
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    pick = w.Dropdown(options=examples, description="example", layout=w.Layout(width="520px"))
    text = w.Textarea(value=examples[0], description="review", layout=w.Layout(width="520px"))
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            if not tokenize(text.value):
                print("type a few words")
                return
            fig, p = plot_prefix(model, vocab, text.value)
            display(figure_frame(fig))
            plt.close(fig)
            print(f"final P(positive) = {p[-1]:.3f}")

    pick.observe(lambda ch: setattr(text, "value", ch["new"]), names="value")
    text.observe(redraw, names="value")
    redraw()
    return w.VBox([pick, text, out])


def packing_demo(lengths=(4, 2, 3)):
    """A padded batch of ``lengths`` and its packed form: (ids (N, T), packed data, batch_sizes)."""
    from torch.nn.utils.rnn import pack_padded_sequence
    T = max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.int64)
    for n, L in enumerate(lengths):
        ids[n, :L] = torch.arange(1, L + 1) + 10 * (n + 1)
    packed = pack_padded_sequence(ids, torch.tensor(lengths), batch_first=True,
                                  enforce_sorted=False)
    return ids, packed.data, packed.batch_sizes


def forecast_rows(res: dict, horizon: str) -> list[tuple[str, str, str]]:
    """(model, MAE, RMSE) rows for one horizon ("1" or "10") of the forecast JSON."""
    return [(k, f"{v['mae']:.2f}", f"{v['rmse']:.2f}")
            for k, v in res["results"][horizon]["scores"].items()]


def plot_forecasts(years, spots, res: dict, *, start: int | None = None):
    """Left: the series and its split by time. Right: one-step forecasts on the test tail,
    and the 10-step forecasts of the first test window."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained",
                               gridspec_kw=dict(width_ratios=(1.3, 1)))
    a.plot(years, spots, color="k", lw=0.9)
    for (name, (y0, y1)), c in zip(res["split_years"].items(), ("C0", "C1", "C3")):
        a.axvspan(y0 - 0.5, y1 + 0.5, color=c, alpha=0.15, label=name)
    a.set_xlabel("year")
    a.set_ylabel("sunspot number")
    a.legend(loc="upper left", fontsize=8)
    one, ten = res["results"]["1"], res["results"]["10"]
    ty = np.array(one["target_years"])
    b.plot(ty, np.array(one["truth"])[:, 0], "k-", lw=1.5, label="truth")
    for k, style in zip(one["forecasts"], ("C7:", "C2--", "C3-")):
        b.plot(ty, np.array(one["forecasts"][k])[:, 0], style, lw=1.2, label=f"{k} (1 step)")
    y10 = ten["target_years"][0] + np.arange(int(res["horizon"]))
    for k, style in zip(ten["forecasts"], ("C7o", "C2s", "C4^", "C1v")):
        b.plot(y10, ten["forecasts"][k][0], style, ms=4, alpha=0.8, label=f"{k} (10 steps)")
    b.set_xlabel("year (test tail)")
    b.legend(fontsize=7, ncol=2)
    return fig
