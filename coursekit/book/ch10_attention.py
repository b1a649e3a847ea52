"""Chapter 10 (attention): a tiny attention step for the three scores, alignment heat maps of
the shipped G2P and translation models, and the alignment-and-beam explorer.

Models come from :mod:`coursekit.book.ch09_seq2seq` (``load_g2p``, ``load_translation``).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.data import cmudict, verses
from coursekit.data.text import BOS, EOS
from coursekit.decode import beam_search
from coursekit.nn import attention as att

__all__ = ["tiny_attention_example", "plot_alignment", "align", "explorer_figure",
           "build_alignment_explorer", "softmax_axis_demo", "entropy"]


def tiny_attention_example(seed: int = 3):
    """One decoder state and a padded batch of two sources, small enough to print.

    Returns query (2, 3), keys (2, 4, 3) (the second source has 2 real tokens), mask (2, 4)
    and weights for each score: Wq (3, 2), Wk (3, 2), v (2,) for additive, Wa (3, 3) for general.
    """
    rng = np.random.default_rng(seed)
    keys = rng.normal(size=(2, 4, 3))
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=bool)
    keys[~mask] = 0.0  # what an encoder leaves on padding
    return dict(query=rng.normal(size=(2, 3)), keys=keys, mask=mask,
                Wq=rng.normal(size=(3, 2)), Wk=rng.normal(size=(3, 2)), v=rng.normal(size=2),
                Wa=rng.normal(size=(3, 3)))


def plot_alignment(alpha, src_tokens, tgt_tokens, *, ax=None, title=None):
    """Heat map of attention weights: rows = output tokens (+ <eos>), columns = source tokens."""
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * len(src_tokens) + 1.6, 0.36 * len(tgt_tokens) + 1.4),
                             layout="constrained")
    ax.imshow(alpha, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(src_tokens)), src_tokens, rotation=60 if max(map(len, src_tokens)) > 2
                  else 0, fontsize=9)
    ax.set_yticks(range(len(tgt_tokens)), tgt_tokens, fontsize=9)
    ax.tick_params(top=True, bottom=False, labeltop=True, labelbottom=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def _source(kind, text, src_vocab):
    if kind == "g2p":
        word = "".join(ch for ch in text.lower() if ch in cmudict.GRAPHEMES) or "a"
        return list(word), src_vocab.encode(word)
    tokens = verses.tokenize(text) or ["."]
    return tokens, src_vocab.encode(tokens)


def align(model, src_vocab, tgt_vocab, text, *, kind="g2p", beam_size=5, alpha=0.6):
    """Decode ``text`` with beam search and return the alignment of the best output.

    Returns ``(src_tokens, out_tokens, weights (len(out)+1, len(src)), ranked)`` where ``ranked``
    lists the finished beam hypotheses [(tokens, normalised score, log p)], best first.
    """
    src_tokens, ids = _source(kind, text, src_vocab)
    src = torch.tensor([ids])
    state = model.init_state(src, torch.tensor([len(ids)]))

    def step(token, st):
        with torch.no_grad():
            lp, st = model.decoder_step(torch.tensor([token]), st)
        return lp[0].double().numpy(), st

    max_len = 30 if kind == "g2p" else 45  # verses have up to 29 English tokens
    ranked = beam_search(step, state, BOS, EOS, beam_size, max_len, alpha, return_all=True)
    best = [t for t in ranked[0][0] if t != EOS]
    weights = model.alignment(ids, best)
    show = lambda ids_: [tgt_vocab.itos[i] for i in ids_]  # noqa: E731
    return src_tokens, show(best), weights, [(show([t for t in r[0] if t != EOS]), r[1], r[2])
                                              for r in ranked]


def explorer_figure(model, src_vocab, tgt_vocab, text, *, kind="g2p", beam_size=5, alpha=0.6):
    """The alignment of the best output (left) and the beam's finished hypotheses (right)."""
    src_tokens, out, weights, ranked = align(model, src_vocab, tgt_vocab, text, kind=kind,
                                             beam_size=beam_size, alpha=alpha)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 0.33 * max(len(out), len(ranked)) + 2.4),
                                     layout="constrained", gridspec_kw=dict(width_ratios=[3, 2]))
    plot_alignment(weights, src_tokens, out + ["<eos>"], ax=ax_a, title="where the decoder looks")
    labels = [" ".join(t)[:38] for t, _, _ in ranked][::-1]
    ax_b.barh(range(len(ranked)), [s for _, s, _ in ranked][::-1], color="C0")
    ax_b.set_yticks(range(len(ranked)), labels, fontsize=8)
    ax_b.set(xlabel=f"log p / |y|^{alpha:g}", title=f"beam of {beam_size}: finished outputs")
    ax_b.set_xlim(min(s for _, s, _ in ranked) * 1.15 - 0.05, 0)
    return fig


def build_alignment_explorer(models: dict, examples: dict):
    """Choose a model ("g2p" or "es-en"), choose or type an input; move the beam size and alpha.

    ``models``: kind -> (model, src vocab, tgt vocab); ``examples``: kind -> list of inputs.
    """
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    kind = w.ToggleButtons(options=list(models), description="model")
    pick = w.Dropdown(options=examples[kind.value], description="example")
    text = w.Text(value=examples[kind.value][0], description="input", layout=w.Layout(width="420px"))
    k = w.IntSlider(value=5, min=1, max=8, description="beam size")
    a = w.FloatSlider(value=0.6, min=0.0, max=1.5, step=0.1, description="alpha")
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            m, sv, tv = models[kind.value]
            fig = explorer_figure(m, sv, tv, text.value, kind="g2p" if kind.value == "g2p" else "mt",
                                  beam_size=k.value, alpha=a.value)
            display(figure_frame(fig))
            plt.close(fig)

    def on_kind(_):
        pick.options = examples[kind.value]
        text.value = examples[kind.value][0]

    kind.observe(on_kind, names="value")
    pick.observe(lambda ch: setattr(text, "value", ch["new"]) if ch["new"] else None, names="value")
    for c in (text, k, a):
        c.observe(redraw, names="value")
    redraw()
    return w.VBox([kind, w.HBox([pick, text]), w.HBox([k, a]), out])


def softmax_axis_demo(scores, mask):
    """The masked softmax over the source axis (right) and over the wrong axis (wrong)."""
    right = att.masked_softmax(scores, mask)
    wrong = np.exp(scores - scores.max(0)) * mask
    wrong = wrong / np.maximum(wrong.sum(0, keepdims=True), 1e-300)
    return right, wrong


def entropy(alpha):
    """Entropy (nats) of each attention distribution, 0 log 0 = 0: peaked = low."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(alpha > 0, alpha * np.log(alpha), 0.0).sum(-1)

