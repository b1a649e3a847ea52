"""Chapter 8 (recursive networks): tree drawings, the worked example, the ListOps results and the
node-value explorer.

The experiments' figures come from ``benchmarks/train_listops.py`` (``listops.json`` and the
Tree-LSTM checkpoint) and ``benchmarks/bench_tree.py`` (``tree_timing.json``).
"""
from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np

from coursekit.data import CHECKPOINT_DIR, RESULTS_DIR, listops
from coursekit.data.trees import check_children, levels, parse_tree

__all__ = [
    "EXAMPLES",
    "accuracy_table",
    "build_explorer",
    "draw_tree",
    "explorer_figure",
    "load_results",
    "load_timing",
    "load_treelstm",
    "node_values",
    "plot_accuracy_by_depth",
    "tiny_example",
    "tree_layout",
]

#: expressions the explorer offers (any bracketed ListOps expression can be typed).
EXAMPLES = ("(MAX 2 (MIN 3 4) 5)", "(SM 4 (MAX 2 9) (MIN 7 8))", "(MED 1 (SM 5 9) 8 (MAX 0 3))",
            "(MIN (MAX 3 (SM 6 7) 2) (MED 9 4 (MAX 1 8)) 7)",
            "(SM (SM (SM 9 8) 7) (MAX (MIN 5 6) 2) 4)")


def tree_layout(children):
    """x, y of every node: leaves spaced left to right, a parent above the mean of its children,
    y = topological level (leaves at 0)."""
    kids = check_children(children)
    x = np.zeros(len(kids))
    nxt = 0
    for j, row in enumerate(kids):  # post-order: leaves appear left to right
        if not row:
            x[j], nxt = nxt, nxt + 1
        else:
            x[j] = np.mean([x[k] for k in row])
    return x, levels(kids).astype(float)


def draw_tree(labels, children, *, notes=None, colors=None, ax=None, title=None, fontsize=10):
    """Draw a tree bottom-up (leaves below); ``notes[j]`` is printed under node j's label."""
    x, y = tree_layout(children)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.55 * (x.max() + 1) + 1), 0.6 * (y.max() + 1) + 1.2),
                             layout="constrained")
    for j, row in enumerate(children):
        for k in row:
            ax.plot([x[j], x[k]], [y[j], y[k]], color="0.6", lw=1, zorder=1)
    for j, lab in enumerate(labels):
        face = "white" if colors is None else colors[j]
        text = "" if lab is None else str(lab)
        if notes is not None and notes[j]:
            text = f"{text}\n{notes[j]}" if text else notes[j]
        ax.text(x[j], y[j], text, ha="center", va="center", fontsize=fontsize, zorder=2,
                bbox={"boxstyle": "round,pad=0.3", "fc": face, "ec": "0.4"})
    ax.set_xlim(x.min() - 0.7, x.max() + 0.7)
    ax.set_ylim(-0.6, y.max() + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax.figure


def tiny_example(seed: int = 0):
    """A four-leaf binary tree ``((a b) (c d))`` with one-hot leaves and TreeRNN weights, H = 2.

    Returns labels, children, x (7, 4) (one-hot rows at the leaves, zero rows at internal
    nodes), We (4, 2), W (4, 2), b (2,).
    """
    labels = ["a", "b", None, "c", "d", None, None]
    children = [[], [], [0, 1], [], [], [3, 4], [2, 5]]
    x = np.zeros((7, 4))
    for row, j in enumerate((0, 1, 3, 4)):
        x[j, row] = 1.0
    rng = np.random.default_rng(seed)
    return (labels, children, x, np.round(rng.normal(size=(4, 2)), 1),
            np.round(rng.normal(scale=0.7, size=(4, 2)), 1), np.round(rng.normal(scale=0.3, size=2), 1))


def load_results(name: str = "listops.json"):
    """The results JSON a benchmark wrote into ``coursekit/data/results``."""
    return json.loads((RESULTS_DIR / name).read_text())


def load_timing():
    return load_results("tree_timing.json")


LABELS = {"treelstm": "binary Tree-LSTM (true trees)", "lstm": "LSTM (tokens)",
          "bilstm": "bidirectional LSTM (tokens)"}


def accuracy_table(results):
    """{model: {depth: (mean, min, max) over seeds}} from ``listops.json``."""
    out = {}
    for name, runs in results["runs"].items():
        depths = sorted(runs[0]["accuracy_by_depth"], key=int)
        out[name] = {int(d): tuple(f([r["accuracy_by_depth"][d] for r in runs])
                                   for f in (np.mean, np.min, np.max)) for d in depths}
    return out


def plot_accuracy_by_depth(results, ax=None):
    """Test accuracy against expression depth: mean over seeds, each seed a faint dot."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for c, (name, runs) in enumerate(results["runs"].items()):
        depths = sorted(int(d) for d in runs[0]["accuracy_by_depth"])
        accs = np.array([[r["accuracy_by_depth"][str(d)] for d in depths] for r in runs])
        ax.plot(depths, accs.mean(0), "o-", color=f"C{c}", label=f"{LABELS.get(name, name)}")
        for row in accs:
            ax.plot(depths, row, ".", color=f"C{c}", alpha=0.4)
    ax.axhline(0.1, color="0.5", ls=":", lw=1, label="chance (10 classes)")
    ax.set(xlabel="expression depth", ylabel="test accuracy", ylim=(0, 1.02),
           xticks=depths, title=f"ListOps, {results['steps']} updates of {results['batch_size']}, "
                                f"{len(next(iter(results['runs'].values())))} seeds")
    ax.legend(fontsize=8, loc="lower left")
    return ax.figure


def load_treelstm():
    """The Tree-LSTM ``benchmarks/train_listops.py`` saved, and its checkpoint's metrics."""
    from coursekit.train.checkpoint import load_checkpoint
    model, ckpt = load_checkpoint(CHECKPOINT_DIR / "listops_treelstm.pt")
    model.eval()
    return model, ckpt["metrics"]


def node_values(model, text):
    """Every operator of the expression: (labels, children) of its n-ary tree and, per node,
    (true value, model's most likely value, its probability), read at the node that closes it."""
    from coursekit.models.listops import node_scores

    expr = listops.from_string(text)
    labels, children = parse_tree(listops.to_string(expr))
    _, _, probs = node_scores(model, expr)
    subs = iter(listops.subexpressions(expr))
    values = []
    for j, row in enumerate(children):
        if not row:
            values.append(None)
            continue
        _, true, node = next(subs)  # operators in post-order, as the subexpressions
        values.append((true, int(probs[node].argmax()), float(probs[node].max())))
    return labels, children, values


def explorer_figure(model, text):
    """The expression's tree; under each operator its value and the model's reading of it."""
    labels, children, values = node_values(model, text)
    notes = [None if v is None else f"= {v[0]}\nmodel {v[1]} ({v[2]:.2f})" for v in values]
    colors = ["white" if v is None else ("#cdeccd" if v[0] == v[1] else "#f6c9c4") for v in values]
    fig = draw_tree(labels, children, notes=notes, colors=colors, fontsize=9,
                    title=f"{text}\ngreen: the model holds the right value at that node")
    fig.set_size_inches(max(5.0, fig.get_size_inches()[0]), fig.get_size_inches()[1] + 0.6)
    return fig


def build_explorer(model, examples=EXAMPLES):
    """Pick or type an expression; see each operator's value and the Tree-LSTM's reading."""
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    pick = w.Dropdown(options=list(examples), description="example")
    text = w.Text(value=examples[0], description="expression", layout=w.Layout(width="460px"))
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            try:
                fig = explorer_figure(model, text.value)
            except ValueError as err:
                print(f"not a ListOps expression: {err}")
                return
            display(figure_frame(fig))
            plt.close(fig)

    pick.observe(lambda ch: setattr(text, "value", ch["new"]), names="value")
    text.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([pick, text]), out])
