"""Chapter 11 (image captioning): the numpy CaptioningRNN on a handful of emoji, the shipped
torch captioners (Show and Tell, Show, Attend and Tell), their captions, attention overlays
and the caption-and-attention explorer.

The checkpoints and figures come from ``benchmarks/train_captioning.py``
(``coursekit/data/checkpoints/caption_*.pt``, ``coursekit/data/results/captioning.json``).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.data import emoji
from coursekit.decode import beam_search
from coursekit.models.captioners import END, START, images_to_tensor
from coursekit.models.captioning import CaptioningRNN, decode_captions
from coursekit.train.checkpoint import load_checkpoint
from coursekit.train.optim import Adam

__all__ = ["CHECKPOINTS", "RESULTS", "pixel_features", "tiny_problem", "overfit_numpy",
           "load_results", "load_captioners", "show_images", "caption_table", "mean_features",
           "nearest_neighbours",
           "beam_captions", "plot_attention", "explorer_figure", "build_caption_explorer"]

_DATA = Path(__file__).resolve().parents[1] / "data"
CHECKPOINTS = _DATA / "checkpoints"
RESULTS = _DATA / "results" / "captioning.json"


def pixel_features(images: np.ndarray) -> np.ndarray:
    """A stand-in for a CNN: 4 x 4 average-pooled pixels, centred and scaled.

    Shapes: images (N, 32, 32, 3) uint8 -> features (N, 192) float64.
    """
    x = images.astype(np.float64).reshape(len(images), 8, 4, 8, 4, 3).mean(axis=(2, 4))
    x = x.reshape(len(images), -1) / 255
    return (x - x.mean(axis=1, keepdims=True)) / 0.25


def tiny_problem(n: int = 3, *, input_dim: int = 10, seed: int = 0):
    """A batch small enough to print and to check numerically: n emoji captions, random
    features (N, input_dim), their words as the vocabulary. -> (word_to_idx, features, captions)."""
    data = emoji.load_emoji("train")
    short = [i for i, c in enumerate(data.captions) if 2 <= len(c) <= 3]
    idx = np.random.default_rng(seed).choice(short, n, replace=False)
    caps = [data.captions[i] for i in idx]
    w2i = emoji.build_vocab(caps)
    features = np.random.default_rng(seed + 1).standard_normal((n, input_dim))
    return w2i, features, emoji.encode_captions(caps, w2i)


def overfit_numpy(n: int = 8, *, steps: int = 150, hidden: int = 64, cell_type: str = "lstm",
                  lr: float = 1e-2, seed: int = 0):
    """Train the numpy CaptioningRNN on ``n`` emoji until it has memorised their names.

    Features are :func:`pixel_features`. Returns (model, losses, images, references,
    greedy captions as strings).
    """
    data = emoji.load_emoji("train")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice([i for i, c in enumerate(data.captions) if len(c) <= 6], n,
                             replace=False))
    caps = [data.captions[i] for i in idx]
    w2i = emoji.build_vocab(caps)
    feats, ids = pixel_features(data.images[idx]), emoji.encode_captions(caps, w2i)
    model = CaptioningRNN(w2i, feats.shape[1], 32, hidden, cell_type=cell_type, seed=seed)
    opt = Adam(model.params, lr=lr)
    losses = []
    for _ in range(steps):
        loss, grads = model.loss(feats, ids)
        opt.step(grads)
        losses.append(float(loss))
    said = decode_captions(model.sample(feats, ids.shape[1]), model.idx_to_word)
    return model, losses, data.images[idx], [" ".join(c) for c in caps], said


def load_results() -> dict:
    """The figures ``benchmarks/train_captioning.py`` measured (BLEU-4, times, samples)."""
    return json.loads(RESULTS.read_text())


def load_captioners() -> dict:
    """name -> (model in eval mode, itos) for "show_tell", "attend" and "scenes"."""
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    out = {}
    for name in ("show_tell", "attend", "scenes"):
        model, info = load_checkpoint(CHECKPOINTS / f"caption_{name}.pt")
        out[name] = (model, info["extra"]["itos"])
    return out


def _words(ids, itos):
    return [itos[i] for i in ids if itos[i] not in emoji.SPECIALS]


def show_images(images, titles, *, ncols: int = 4, width: float = 2.7):
    """A grid of images, each with a (multi-line) title."""
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 2.9 * nrows),
                             layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, title in zip(axes.flat, images, titles):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=8, loc="left")
    return fig


@torch.no_grad()
def mean_features(model, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """The encoder's mean feature of each uint8 image: (N, 32, 32, 3) -> (N, C) float32."""
    out = [model.features(images_to_tensor(images[i:i + batch])).mean(1).numpy()
           for i in range(0, len(images), batch)]
    return np.concatenate(out)


def nearest_neighbours(train_feats: np.ndarray, test_feats: np.ndarray) -> np.ndarray:
    """Index of the training row of highest cosine similarity to each test row: (M,)."""
    unit = lambda f: f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)  # noqa: E731
    return np.argmax(unit(test_feats) @ unit(train_feats).T, axis=1)


def caption_table(models: dict, data, indices, *, beam_size: int = 3, alpha: float = 0.6):
    """For images ``indices`` of ``data``: the reference and both models' beam captions.

    Returns a list of dicts with keys reference, show_tell, attend."""
    x = images_to_tensor(data.images[list(indices)])
    rows = [{"reference": " ".join(data.captions[i])} for i in indices]
    for name in ("show_tell", "attend"):
        model, itos = models[name]
        for row, ids in zip(rows, model.generate(x, beam_size=beam_size, alpha=alpha,
                                                 max_len=16)):
            row[name] = " ".join(_words(ids, itos))
    return rows


def beam_captions(model, itos, image: np.ndarray, *, beam_size: int = 5, alpha: float = 0.6,
                  max_len: int = 16):
    """Every finished hypothesis of a beam search on one uint8 image (32, 32, 3):
    [(words, normalised score, log p)], best first (``coursekit.decode.beam_search``)."""
    with torch.no_grad():
        state = model.init_state(images_to_tensor(image[None]))

    def step(token, st):
        with torch.no_grad():
            lp, st = model.decoder_step(torch.tensor([token]), st)
        return lp[0].double().numpy(), st

    ranked = beam_search(step, state, START, END, beam_size, max_len, alpha, return_all=True)
    return [(_words([t for t in toks if t != END], itos), s, lp) for toks, s, lp in ranked]


def plot_attention(model, itos, image: np.ndarray, words, *, masks=None, axes=None):
    """The image, then one panel per word (and <END>): the attention weights, upsampled to
    the image, over a faded copy of it. ``masks`` (k, 32, 32) outlines ground-truth objects."""
    w2i = {w: i for i, w in enumerate(itos)}
    tokens = [w2i.get(w, w2i["<UNK>"]) for w in words]
    maps = model.attention_maps(images_to_tensor(image[None])[0], tokens)  # (T+1, h, w)
    labels = list(words) + ["<END>"]
    if axes is None:
        fig, axes = plt.subplots(1, len(labels) + 1, figsize=(1.55 * (len(labels) + 1), 2.0),
                                 layout="constrained")
    fig = axes[0].figure
    axes[0].imshow(image, interpolation="nearest")
    axes[0].set_title("image", fontsize=8)
    scale = image.shape[0] // maps.shape[1]
    for ax, m, label in zip(axes[1:], maps, labels):
        up = np.kron(m, np.ones((scale, scale)))  # (32, 32): each cell covers scale x scale px
        ax.imshow(image, alpha=0.35, interpolation="nearest")
        ax.imshow(up, cmap="magma", alpha=0.65, vmin=0, vmax=max(float(maps.max()), 1e-6),
                  interpolation="nearest")
        if masks is not None:
            for k in range(len(masks)):
                ax.contour(masks[k], levels=[0.5], colors=["cyan", "lime"][k % 2],
                           linewidths=0.8)
        ax.set_title(label, fontsize=8)
    for ax in axes:
        ax.axis("off")
    return fig


def explorer_figure(models: dict, data, index: int, *, beam_size: int = 5, alpha: float = 0.6):
    """One test image: the attention model's beam (right) and where it looked at each word of
    its best caption (top row); the reference and Show and Tell's caption in the title."""
    model, itos = models["attend"]
    image = data.images[index]
    ranked = beam_captions(model, itos, image, beam_size=beam_size, alpha=alpha)
    best = ranked[0][0]
    st_model, st_itos = models["show_tell"]
    st = " ".join(_words(st_model.generate(images_to_tensor(image[None]), beam_size=beam_size,
                                           alpha=alpha)[0], st_itos))
    n = len(best) + 2
    fig = plt.figure(figsize=(max(1.5 * n, 9), 4.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.1, 1])
    plot_attention(model, itos, image, best, axes=top.subplots(1, n))
    top.suptitle(f"reference: {' '.join(data.captions[index])}    |    "
                 f"Show and Tell: {st}", fontsize=9)
    ax = bottom.subplots()
    labels = [" ".join(w) for w, _, _ in ranked][::-1]
    ax.barh(range(len(ranked)), [s for _, s, _ in ranked][::-1], color="C0")
    ax.set_yticks(range(len(ranked)), labels, fontsize=8)
    ax.set(xlabel=f"log p / |y|^{alpha:g}",
           title=f"Show, Attend and Tell: the beam's {len(ranked)} finished captions")
    return fig


def build_caption_explorer(models: dict, data, choices):
    """Pick a test image (``choices``: label -> index) and the beam size; see the beam's
    captions and the attention at each word."""
    import ipywidgets as w
    from IPython.display import display

    from coursekit.book.widgets import figure_frame

    pick = w.Dropdown(options=list(choices.items()), description="image",
                      layout=w.Layout(width="420px"))
    k = w.IntSlider(value=5, min=1, max=8, description="beam size")
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            fig = explorer_figure(models, data, pick.value, beam_size=k.value)
            display(figure_frame(fig))
            plt.close(fig)

    for c in (pick, k):
        c.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([pick, k]), out])
