"""Experiments of chapter 6 (deep and bidirectional networks).

- :func:`gradient_map`: how the gradient of a loss at the top layer's last step fades
  across depth as well as time, with and without residual connections (fast: the chapter
  computes it, and its explorer redraws it).
- :func:`boundary_data`: Shakespeare with the whitespace removed, each character tagged
  1 if it starts a word: the tagging task where the future matters.
- :func:`train_model`: one configurable training run (a boundary tagger or a character
  language model, any depth, one or two directions) on the shipped corpus.
- :data:`EXPERIMENTS`: the runs of ``benchmarks/ch06_deep.py``, which writes
  ``coursekit/data/results/ch06_deep.json`` and two small checkpoints that the chapter loads.
Chapter 6: Deep and bidirectional networks.
"""
from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR
from coursekit.data.shakespeare import load_shakespeare, split_text
from coursekit.data.text import CharVocab
from coursekit.models.deep import DeepTagger, count_parameters

__all__ = ["gradient_map", "boundary_data", "restore_spaces", "train_model", "matched_hidden", "tagger_parameters",
           "sample_text", "EXPERIMENTS", "RESULTS_PATH", "load_results", "plot_gradient_map",
           "depth_profile_figure", "build_depth_explorer", "load_model", "CHECKPOINTS",
           "results_rows"]

RESULTS_PATH = RESULTS_DIR / "ch06_deep.json"


# --------------------------------------------------------- gradient over depth and time
def gradient_map(num_layers=6, T=30, *, residual=False, cell="rnn", input_gain=1.0, hidden_size=32,
                 N=16, seed=0):
    """Norm of dL/dh^(l)_t for every layer l and step t of an untrained stack.

    Shapes: -> (num_layers, T) array; row l is layer l + 1 (bottom first).
    Formula: h^(l)_t = cell_l(u^(l)_t, h^(l)_{t-1}) with u^(1) = x and u^(l) = h^(l-1)
    (u^(l) = h^(l-1) + u^(l-1) with ``residual``: the layer's input skips over it);
    L = v . h^(L)_T, a random read-out of the top layer's last state. Entry (l, t) is the
    batch mean of ||dL/dh^(l)_t||, the total derivative (through time and through the
    layers above). Stepping back in time crosses one recurrent Jacobian, stepping down a
    layer one input Jacobian (or, with the residual, also the identity). ``input_gain``
    scales every layer's input weights W_xh (torch's init times the gain).
    Chapter 6.
    """
    if cell not in ("rnn", "lstm", "gru"):
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cells = [cls(hidden_size, hidden_size, dtype=torch.float64) for _ in range(num_layers)]
    with torch.no_grad():
        for layer in cells:
            layer.weight_ih.mul_(input_gain)
    u = list(torch.randn(N, T, hidden_size, generator=g, dtype=torch.float64).unbind(1))
    states = []
    for layer in cells:
        h = torch.zeros(N, hidden_size, dtype=torch.float64)
        c = torch.zeros_like(h)
        row = []
        for t in range(T):
            if cell == "lstm":
                h, c = layer(u[t], (h, c))
            else:
                h = layer(u[t], h)
            h.retain_grad()
            row.append(h)
        states.append(row)
        u = [h_t + u_t for h_t, u_t in zip(row, u)] if residual else row
    v = torch.randn(hidden_size, generator=g, dtype=torch.float64)
    (states[-1][-1] @ v).sum().backward()
    return np.array([[h.grad.norm(dim=1).mean().item() for h in row] for row in states])


def plot_gradient_map(maps: dict, *, vmin=1e-8):
    """One heat map per entry of ``maps`` (title -> (L, T) array), log colour scale."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 3.0), layout="constrained",
                             squeeze=False)
    vmax = max(float(m.max()) for m in maps.values())
    for ax, (title, m) in zip(axes[0], maps.items()):
        im = ax.imshow(np.maximum(m, vmin), aspect="auto", origin="lower",
                       norm=LogNorm(vmin=vmin, vmax=vmax), cmap="viridis",
                       extent=(0.5, m.shape[1] + 0.5, 0.5, m.shape[0] + 0.5))
        ax.set(title=title, xlabel="time step t", ylabel="layer l")
    fig.colorbar(im, ax=axes[0].tolist(), label=r"$\|\partial L / \partial h^{(l)}_t\|$")
    return fig


# ---------------------------------------------------------------- word boundaries
def boundary_data(text: str):
    """Text with its whitespace removed, and the word-start tag of every character.

    Shapes: a str -> (chars: str of length M, tags: int64 (M,)), tags[i] = 1 when chars[i]
    begins a whitespace-separated word of ``text``, else 0 (punctuation stays attached).
    Chapter 6.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    words = text.split()
    chars = "".join(words)
    tags = np.zeros(len(chars), dtype=np.int64)
    starts = np.cumsum([0] + [len(w) for w in words[:-1]]) if words else np.zeros(0, int)
    tags[starts] = 1
    return chars, tags


def restore_spaces(chars: str, tags) -> str:
    """The string with a space before every character tagged 1 (except the first)."""
    return "".join((" " if t and i else "") + c for i, (c, t) in enumerate(zip(chars, tags)))


def _windows(ids, T, N, rng):
    starts = rng.integers(0, len(ids) - T - 1, N)
    return np.stack([ids[s:s + T + 1] for s in starts])  # (N, T + 1)


@lru_cache(maxsize=2)
def _corpus(task):
    train, val = split_text(load_shakespeare())
    if task == "boundary":
        (tr, tr_tags), (va, va_tags) = boundary_data(train), boundary_data(val)
        vocab = CharVocab(tr + va)
        return vocab, (vocab.encode(tr), tr_tags), (vocab.encode(va), va_tags)
    vocab = CharVocab(train + val)
    tr, va = vocab.encode(train), vocab.encode(val)
    return vocab, (tr, None), (va, None)


def _batch(task, data, T, N, rng, reverse):
    ids, tags = data
    starts = rng.integers(0, len(ids) - T - 1, N)
    x = np.stack([ids[s:s + T] for s in starts])
    if task == "boundary":
        y = np.stack([tags[s:s + T] for s in starts])
    else:
        y = np.stack([ids[s + 1:s + T + 1] for s in starts])  # the next character
    if reverse:
        x, y = x[:, ::-1], y[:, ::-1]
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


@torch.no_grad()
def evaluate(model, task, data, *, T=200, max_chars=60_000, reverse=False):
    """Mean loss (nats) and accuracy over consecutive windows of the first ``max_chars``.

    For the boundary task also precision, recall and F1 of the tag 1 (a word start).
    """
    ids, tags = data
    M = min(len(ids) - 1, max_chars) // T * T
    x = ids[:M].reshape(-1, T)
    y = (tags[:M] if task == "boundary" else ids[1:M + 1]).reshape(-1, T)
    if reverse:
        x, y = x[:, ::-1].copy(), y[:, ::-1].copy()
    model.eval()
    scores, _ = model(torch.from_numpy(x))
    loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), torch.from_numpy(y).reshape(-1))
    pred = scores.argmax(-1).numpy()
    out = {"loss": float(loss), "accuracy": float((pred == y).mean())}
    if task == "boundary":
        tp = int(((pred == 1) & (y == 1)).sum())
        p, r = tp / max(int((pred == 1).sum()), 1), tp / max(int((y == 1).sum()), 1)
        out.update(precision=p, recall=r, f1=2 * p * r / max(p + r, 1e-12),
                   majority=float((y == 0).mean()))
    return out


def tagger_parameters(V, H, K, *, num_layers=1, cell="gru", bidirectional=False, embed_size=32):
    """The parameter count of that :class:`~coursekit.models.deep.DeepTagger`, by formula.

    Formula: V E (embedding) + sum_l dirs G (D_l H + H H + 2 H) (G = 1, 4, 3 blocks for rnn,
    lstm, gru; D_1 = E, D_l = dirs H) + dirs H K + K (the head).
    """
    G, dirs = {"rnn": 1, "lstm": 4, "gru": 3}[cell], 2 if bidirectional else 1
    E = V if embed_size is None else embed_size
    total = 0 if embed_size is None else V * E
    for layer in range(num_layers):
        D = E if layer == 0 else dirs * H
        total += dirs * G * (D * H + H * H + 2 * H)
    return total + dirs * H * K + K


def matched_hidden(target, *, V, K, num_layers, cell="gru", bidirectional=False, embed_size=32):
    """The hidden size H whose DeepTagger has the parameter count nearest to ``target``."""
    return min(range(2, 1025), key=lambda H: abs(tagger_parameters(
        V, H, K, num_layers=num_layers, cell=cell, bidirectional=bidirectional,
        embed_size=embed_size) - target))


def train_model(task, *, hidden_size, num_layers=1, bidirectional=False, reverse=False,
                residual=False, dropout=0.0, cell="gru", embed_size=32, steps=600, batch_size=32,
                T=64, lr=3e-3, eval_every=40, eval_chars=30_000, seed=0, time_limit=None,
                log=None):
    """Train a :class:`~coursekit.models.deep.DeepTagger` on ``task`` ("boundary" or "lm").

    ``reverse`` feeds every sequence right to left (a one-direction model that reads the
    future only); the final figures are measured on the first ``eval_chars`` held-out
    characters (the curve on up to 20,000). Returns ``(model, vocab, result)``: result holds the config, parameters,
    seconds, the training-loss and validation curves and the final validation figures.
    Chapter 6.
    """
    if task not in ("boundary", "lm"):
        raise ValueError(f"task must be 'boundary' or 'lm', got {task!r}")
    vocab, train, val = _corpus(task)
    K = 2 if task == "boundary" else vocab.size
    model = DeepTagger(vocab.size, hidden_size, K, num_layers=num_layers, cell=cell,
                       bidirectional=bidirectional, residual=residual, dropout=dropout,
                       embed_size=embed_size, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    curve, val_curve, t0 = [], [], time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        x, y = _batch(task, train, T, batch_size, rng, reverse)
        scores, _ = model(x)
        loss = F.cross_entropy(scores.reshape(-1, K), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(loss.item())
        if step % eval_every == 0 or step == steps:
            ev = evaluate(model, task, val, max_chars=min(20_000, eval_chars), reverse=reverse)
            val_curve.append([step, ev["loss"], ev["accuracy"]])
            if log:
                log(f"  step {step:5d}  train {np.mean(curve[-eval_every:]):.3f}  "
                    f"val {ev['loss']:.3f}  acc {ev['accuracy']:.4f}")
        if time_limit and time.perf_counter() - t0 > time_limit:
            break
    seconds = time.perf_counter() - t0
    final = evaluate(model, task, val, max_chars=eval_chars, reverse=reverse)
    config = dict(task=task, hidden_size=hidden_size, num_layers=num_layers,
                  bidirectional=bidirectional, reverse=reverse, residual=residual,
                  dropout=dropout, cell=cell, embed_size=embed_size, steps=steps,
                  batch_size=batch_size, T=T, lr=lr, seed=seed)
    result = dict(config=config, parameters=count_parameters(model), steps_done=len(curve),
                  seconds=seconds, train_loss=curve[::10], val_curve=val_curve, final=final)
    return model.eval(), vocab, result


@torch.no_grad()
def sample_text(model, vocab, prompt, n=120, *, greedy=True):
    """Generate ``n`` characters after ``prompt``, rerunning the model on the whole prefix.

    The next character is the argmax (or a sample) of the scores at the prefix's last step.
    A bidirectional model sees no future while generating: its backward direction starts
    at that last step. Chapter 6: the leak of a bidirectional language model.
    """
    ids = list(vocab.encode(prompt))
    g = torch.Generator().manual_seed(0)
    for _ in range(n):
        scores, _ = model(torch.tensor([ids]))
        p = scores[0, -1].softmax(-1)
        ids.append(int(p.argmax()) if greedy else int(torch.multinomial(p, 1, generator=g)))
    return vocab.decode(np.array(ids[len(prompt):]))


#: name -> keyword arguments of :func:`train_model`; the benchmark runs them in order.
#: Hidden sizes of "lm_depth_*" give about equal parameter counts (computed by
#: :func:`matched_hidden` in the benchmark, recorded in the JSON).
EXPERIMENTS = {
    "boundary_forward": dict(task="boundary", hidden_size=64),
    "boundary_backward": dict(task="boundary", hidden_size=64, reverse=True),
    "boundary_bidirectional": dict(task="boundary", hidden_size=64, bidirectional=True),
    "boundary_forward_wide": dict(task="boundary", hidden_size="match:boundary_bidirectional"),
    "lm_depth_1": dict(task="lm", hidden_size=96, num_layers=1),
    "lm_depth_2": dict(task="lm", hidden_size="match:lm_depth_1", num_layers=2),
    "lm_depth_3": dict(task="lm", hidden_size="match:lm_depth_1", num_layers=3),
    "lm_bidirectional": dict(task="lm", hidden_size=64, bidirectional=True),
    "lm_forward_64": dict(task="lm", hidden_size=64),
}
#: the checkpoints the chapter loads: experiment name -> file in coursekit/data/checkpoints/
CHECKPOINTS = {"boundary_bidirectional": "ch06_boundary_bi.pt",
               "boundary_forward": "ch06_boundary_fwd.pt",
               "lm_bidirectional": "ch06_lm_bi.pt"}


def load_results(path=None):
    """The JSON written by ``benchmarks/ch06_deep.py``."""
    return json.loads(Path(path or RESULTS_PATH).read_text())


#: the rows of the chapter's table of the benchmark's runs, in this order
RESULT_LABELS = {
    "boundary_forward": "spaces, left to right",
    "boundary_backward": "spaces, right to left",
    "boundary_forward_wide": "spaces, left to right, widened",
    "boundary_bidirectional": "spaces, both ways",
    "lm_forward_64": "next character, left to right, H = 64",
    "lm_depth_1": "next character, 1 layer",
    "lm_depth_2": "next character, 2 layers",
    "lm_depth_3": "next character, 3 layers",
    "lm_bidirectional": "next character, both ways (the leak)",
}


def results_rows(results: dict) -> list[tuple]:
    """Rows (run, layers, H, parameters, updates, seconds, held-out bits/char, accuracy, F1)
    of :func:`load_results`' ``results``, in the order of ``RESULT_LABELS`` (F1 of the word
    starts for the tagging runs, "" for the language models). Chapter 6."""
    missing = set(RESULT_LABELS) - set(results)
    if missing:
        raise ValueError(f"results lacks the runs {sorted(missing)}: rerun benchmarks/ch06_deep.py")
    rows = []
    for name, label in RESULT_LABELS.items():
        r = results[name]
        c, f = r["config"], r["final"]
        rows.append((label, c["num_layers"], c["hidden_size"], r["parameters"], r["steps_done"],
                     round(r["seconds"]), round(bits(f["loss"]), 3), round(f["accuracy"], 4),
                     round(f["f1"], 4) if "f1" in f else ""))
    return rows


def load_model(name, directory=None):
    """(model, vocab) of one of :data:`CHECKPOINTS`."""
    from coursekit.train.checkpoint import load_checkpoint
    model, info = load_checkpoint(Path(directory or CHECKPOINT_DIR) / CHECKPOINTS[name])
    chars = info["extra"]["chars"]
    vocab = CharVocab("".join(chars))
    return model, vocab


def bits(nats: float) -> float:
    """nats -> bits."""
    return nats / math.log(2)


# ------------------------------------------------------------------ the explorer
def depth_profile_figure(num_layers=12, T=20, input_gain=1.0, cell="rnn", seed=0):
    """Two panels, plain stack against residual: ||dL/dh^(l)_T|| over the layers l, and
    ||dL/dh^(L)_t|| over the steps t of the top layer (both from :func:`gradient_map`)."""
    import matplotlib.pyplot as plt
    fig, (ax_l, ax_t) = plt.subplots(1, 2, figsize=(9.5, 3.2), layout="constrained")
    for residual, style in ((False, "-o"), (True, "-s")):
        m = gradient_map(num_layers, T, residual=residual, cell=cell, input_gain=input_gain,
                         seed=seed)
        label = "residual" if residual else "plain"
        ax_l.semilogy(np.arange(1, num_layers + 1), m[:, -1], style, ms=3, label=label)
        ax_t.semilogy(np.arange(1, T + 1), m[-1], style, ms=3, label=label)
    ax_l.set(xlabel="layer l (1 = bottom)", ylabel=r"$\|\partial L/\partial h^{(l)}_T\|$",
             title=f"across depth, last step ({cell}, gain {input_gain:g})")
    ax_t.set(xlabel="time step t", ylabel=r"$\|\partial L/\partial h^{(L)}_t\|$",
             title="across time, top layer")
    ax_l.legend()
    return fig


def build_depth_explorer():
    """The interactive explorer (an ``ipywidgets.VBox``; nothing is displayed): layers,
    input gain, cell and seed redraw :func:`depth_profile_figure`."""
    import ipywidgets as W
    from IPython.display import display

    from coursekit.book.widgets import figure_frame
    style, layout = {"description_width": "100px"}, W.Layout(width="330px")
    controls = {
        "num_layers": W.IntSlider(value=12, min=2, max=24, description="layers L", style=style,
                                  layout=layout, continuous_update=False),
        "input_gain": W.FloatLogSlider(value=1.0, base=2, min=-2, max=2, step=0.25,
                                       description="gain of W_xh", style=style, layout=layout,
                                       continuous_update=False),
        "cell": W.Dropdown(options=["rnn", "gru", "lstm"], value="rnn", description="cell",
                           style=style, layout=layout),
        "seed": W.IntSlider(value=0, min=0, max=9, description="seed", style=style,
                            layout=layout, continuous_update=False),
    }

    def redraw(num_layers, input_gain, cell, seed):
        import matplotlib.pyplot as plt
        fig = depth_profile_figure(num_layers, 20, input_gain, cell, seed)
        display(figure_frame(fig))
        plt.close(fig)

    output = W.interactive_output(redraw, controls)
    box = W.VBox([W.HBox([W.VBox([controls["num_layers"], controls["input_gain"]]),
                          W.VBox([controls["cell"], controls["seed"]])]), output])
    box.controls, box.output = controls, output
    return box
