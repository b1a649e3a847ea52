"""Chapter 9 (sequence to sequence): the seeds' encoder-decoder on a tiny example, the greedy
trap, BLEU by hand, exposure bias and the fixed-context bottleneck measured on the shipped
checkpoints, and the beam explorer.

The checkpoints are written by ``benchmarks/train_g2p.py`` (``g2p_attention.pt``) and
``benchmarks/train_translation.py`` (``es_en_attention.pt``, Spanish->English Bible verses,
whose metrics also hold the no-attention system's test BLEU by source length).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.data import cmudict
from coursekit.data.text import BOS, EOS, TokenVocab
from coursekit.decode import beam_search
from coursekit.nn.seq2seq import load_checkpoint

__all__ = ["CHECKPOINTS", "load_g2p", "load_translation", "tiny_seeds_example", "TRAP",
           "trap_step", "draw_trap", "exposure_bias", "plot_exposure_bias",
           "plot_bleu_by_length", "g2p_beams", "beam_figure", "build_beam_explorer"]

CHECKPOINTS = Path(__file__).resolve().parents[1] / "data" / "checkpoints"


def load_g2p():
    """The shipped G2P model: (model, grapheme vocab, phoneme vocab, metrics)."""
    model, src, tgt, metrics = load_checkpoint(CHECKPOINTS / "g2p_attention.pt")
    return model, TokenVocab.from_itos(src), TokenVocab.from_itos(tgt), metrics


def load_translation():
    """The shipped Spanish->English attention model (Reina-Valera 1909 -> King James verses,
    ``coursekit.data.verses``): (model, es vocab, en vocab, metrics of the benchmark record)."""
    model, src, tgt, metrics = load_checkpoint(CHECKPOINTS / "es_en_attention.pt")
    return model, TokenVocab.from_itos(src), TokenVocab.from_itos(tgt), metrics


# --------------------------------------------------------- the seeds' formulas
def tiny_seeds_example(seed: int = 0):
    """Weights and inputs for the encoder-decoder of the seeds, small enough to print.

    Source: 3 one-hot tokens over a vocabulary of 4 (D = 4); encoder H = 3; decoder
    state size 3; output vocabulary K = 4 (0 = <bos>/<eos> here, to keep it tiny).
    Returns a dict of float64 arrays: x (1, 3, 4), h0 (1, 3), Wx, Wh, bh (encoder),
    Wy, Ws, Wc, bs (decoder), Wo, bo (softmax layer).
    """
    rng = np.random.default_rng(seed)
    D, H, K = 4, 3, 4
    x = np.eye(D)[[1, 3, 2]][None]  # (1, T=3, D)
    w = lambda *s: rng.normal(0, 0.8, s)  # noqa: E731
    return dict(x=x, h0=np.zeros((1, H)), Wx=w(D, H), Wh=w(H, H), bh=w(H),
                Wy=w(K, H), Ws=w(H, H), Wc=w(H, H), bs=w(H), Wo=w(H, K), bo=w(K))


# -------------------------------------------------------------- the greedy trap
#: Next-token probabilities after each prefix; tokens 0 <bos>, 1 <eos>, 2 "A", 3 "B".
TRAP = {(): [0, 0.0, 0.6, 0.4], (2,): [0, 0.4, 0.3, 0.3], (3,): [0, 0.9, 0.05, 0.05],
        (2, 2): [0, 1.0, 0, 0], (2, 3): [0, 1.0, 0, 0], (3, 2): [0, 1.0, 0, 0],
        (3, 3): [0, 1.0, 0, 0]}
TRAP_NAMES = {1: "<eos>", 2: "A", 3: "B"}


def trap_step(token, prefix):
    """A step function over :data:`TRAP`: the state is the prefix generated so far."""
    prefix = prefix + ((token,) if token != 0 else ())
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(TRAP[prefix], dtype=np.float64)), prefix


def draw_trap(greedy, best):
    """The tree of :data:`TRAP` with the greedy path and the best sequence marked."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    fig.subplots_adjust(left=0.02, right=0.98, top=0.98, bottom=0.02)
    pos = {(): (0, 0), (2,): (1, 0.9), (3,): (1, -0.9)}
    for first, y0 in ((2, 0.9), (3, -0.9)):
        for k, tok in enumerate((1, 2, 3)):
            pos[(first, tok)] = (2, y0 + (1 - k) * 0.45)
    for prefix, (x, y) in pos.items():
        if prefix:
            px, py = pos[prefix[:-1]]
            p = TRAP[prefix[:-1]][prefix[-1]]
            on = list(prefix) == greedy[:len(prefix)] or list(prefix) == best[:len(prefix)]
            color = ("C3" if list(prefix) == greedy[:len(prefix)] else "C0") if on else "0.7"
            ax.annotate("", (x - 0.08, y), (px + 0.08, py),
                        arrowprops=dict(arrowstyle="->", color=color, lw=2.4 if on else 1))
            ax.text((x + px) / 2, (y + py) / 2 + 0.08, f"{p:.2f}", ha="center", fontsize=9)
        label = TRAP_NAMES.get(prefix[-1], "") if prefix else "<bos>"
        ax.text(x, y, label, ha="center", va="center", fontsize=10,
                bbox=dict(boxstyle="round", fc="white", ec="0.5"))
    ax.plot([], [], color="C3", lw=2.4, label=f"greedy: p = {0.6 * 0.4:.2f}")
    ax.plot([], [], color="C0", lw=2.4, label=f"beam (2): p = {0.4 * 0.9:.2f}")
    ax.legend(loc="lower right", fontsize=9)
    ax.set_axis_off()
    ax.set_xlim(-0.3, 2.4)
    return fig


# --------------------------------------------------------------- exposure bias
@torch.no_grad()
def exposure_bias(model, src_vocab, tgt_vocab, entries, max_pos: int = 10):
    """Token accuracy by output position, teacher-forced (true prefix) and free-running.

    Teacher-forced: at position t the decoder is fed the reference's first t-1 phonemes;
    free-running: its own greedy outputs so far (what happens at test time). Compared
    with the word's first pronunciation. Returns (positions, forced, free, counts).
    """
    sources = [src_vocab.encode(w) for w, _ in entries]
    targets = [tgt_vocab.encode(prons[0]) for _, prons in entries]
    free = model.generate(sources, max_len=40)
    hits_forced, hits_free, counts = np.zeros(max_pos), np.zeros(max_pos), np.zeros(max_pos)
    for idx, src, lengths in model._batches(sources, 512):
        tgt_in = torch.zeros(len(idx), max(len(targets[i]) for i in idx) + 1, dtype=torch.long)
        for row, i in enumerate(idx):
            tgt_in[row, :len(targets[i]) + 1] = torch.tensor([BOS] + targets[i])
        logits, _ = model(src, lengths, tgt_in)
        pred = logits.argmax(-1)
        for row, i in enumerate(idx):
            for t, y in enumerate(targets[i][:max_pos]):
                counts[t] += 1
                hits_forced[t] += int(pred[row, t]) == y
                hits_free[t] += t < len(free[i]) and free[i][t] == y
    keep = counts > 0
    return (np.arange(1, max_pos + 1)[keep], hits_forced[keep] / counts[keep],
            hits_free[keep] / counts[keep], counts[keep])


def plot_exposure_bias(positions, forced, free):
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    ax.plot(positions, forced, "o-", label="teacher-forced (true prefix)")
    ax.plot(positions, free, "s-", label="free-running (own prefix)")
    ax.set(xlabel="output position t", ylabel="token accuracy",
           title="Exposure bias: errors feed on earlier errors")
    ax.legend()
    return fig


def plot_bleu_by_length(systems: dict, labels: dict, *, key: str = "greedy", ax=None):
    """Test BLEU by source length for the systems of the translation benchmark record."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    for name, label in labels.items():
        buckets = systems[name][key]["by_source_length"]
        ax.plot(list(buckets), [100 * b["bleu"] for b in buckets.values()], "o-", label=label)
    sizes = [b["sentences"] for b in systems[next(iter(labels))][key]["by_source_length"].values()]
    ax.set(xlabel="source length (Spanish tokens; sentences)", ylabel="BLEU (x 100)")
    ax.set_xticks(range(len(sizes)), [f"{k}\n({n})" for k, n in
                                      zip(systems[next(iter(labels))][key]["by_source_length"], sizes)])
    ax.legend()
    return ax.figure


# --------------------------------------------------------------- beam explorer
def g2p_beams(model, src_vocab, tgt_vocab, word: str, beam_size: int, alpha: float):
    """All finished hypotheses of the plain :func:`~coursekit.decode.beam_search` on ``word``,
    best first: [(phonemes, normalised score, log p)]."""
    word = "".join(ch for ch in word.lower() if ch in cmudict.GRAPHEMES) or "a"
    src = torch.tensor([src_vocab.encode(word)])
    state = model.init_state(src, torch.tensor([src.shape[1]]))

    def step(token, st):
        with torch.no_grad():
            lp, st = model.decoder_step(torch.tensor([token]), st)
        return lp[0].double().numpy(), st

    ranked = beam_search(step, state, BOS, EOS, beam_size, 30, alpha, return_all=True)
    return word, [(tgt_vocab.decode(t), s, lp) for t, s, lp in ranked]


def beam_figure(model, src_vocab, tgt_vocab, word="pronunciation", beam_size=5, alpha=0.6):
    word, ranked = g2p_beams(model, src_vocab, tgt_vocab, word, beam_size, alpha)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(ranked) + 1.0), layout="constrained")
    names = [" ".join(p) for p, _, _ in ranked][::-1]
    ax.barh(range(len(ranked)), [math.exp(lp) for _, _, lp in ranked][::-1], color="C0")
    ax.set_yticks(range(len(ranked)), names, fontsize=9)
    ax.set(xlabel="p(phonemes | word)",
           title=f"'{word}': finished hypotheses, beam {beam_size}, alpha {alpha} (best on top)")
    return fig


def build_beam_explorer(model, src_vocab, tgt_vocab):
    """A text box (the word), a beam-width slider and an alpha slider -> the beam's outputs."""
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    box = w.Text(value="pronunciation", description="word")
    k = w.IntSlider(value=5, min=1, max=10, description="beam size")
    a = w.FloatSlider(value=0.6, min=0.0, max=1.5, step=0.1, description="alpha")
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            fig = beam_figure(model, src_vocab, tgt_vocab, box.value, k.value, a.value)
            display(figure_frame(fig))
            plt.close(fig)

    for c in (box, k, a):
        c.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([box, k, a]), out])
