"""Small tools for chapter 3 (character-level language models).

- Baselines for scale: ``ngram_cross_entropy`` and ``ngram_contexts``, from
  :mod:`coursekit.book.ch03_ngrams` (add-alpha n-gram models counted on the
  training text, scored on held-out text), re-exported here.
- For a trained :class:`coursekit.models.charlm.CharLM`: ``next_char_scores``,
  ``char_losses`` and ``loss_vs_context`` (how much of the past the model uses).
  Sampling with temperature is :mod:`coursekit.decode`.
- Character level versus word level: ``word_tokens``, ``steps_to_word``,
  ``loss_by_word_position``.
- Pictures: ``temperature_figure`` (bars of the next-character distribution
  at several temperatures), ``temperature_explorer`` (that static figure,
  then an ipywidgets explorer over the temperature), ``LiveLossPlot`` (a loss
  curve redrawn in place while a model trains: pass it as ``log=``).

Chapter 3.
"""
from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

from coursekit._validate import check_array, check_int_array, check_positive_int
from coursekit.book.ch03_ngrams import DENSE_MAX, ngram_contexts, ngram_cross_entropy
from coursekit.book.widgets import explore, figure_frame, figure_png
from coursekit.decode import sample, softmax_temperature
from coursekit.metrics import entropy_bits
from coursekit.nn.layers import log_softmax

__all__ = ["DENSE_MAX", "ngram_cross_entropy", "ngram_contexts", "next_char_scores", "char_losses",
           "loss_vs_context", "WORD_RE", "word_tokens", "steps_to_word", "loss_by_word_position",
           "temperature_figure", "build_temperature_explorer", "temperature_explorer", "LiveLossPlot"]


# ------------------------------------------------------------------ a trained model
def next_char_scores(model, vocab, prefix: str) -> np.ndarray:
    """Scores ``o_t`` (V,) float64 for the character after ``prefix`` (hidden state from zero).

    ``model`` is a ``coursekit.models.charlm.CharLM``; ``prefix`` must be non-empty.
    """
    import torch

    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty str")
    device = next(model.parameters()).device
    ids = torch.as_tensor(vocab.encode(prefix), device=device)[None]     # (1, T)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        scores, _ = model(ids)                                           # (1, T, V)
    model.train(was_training)
    return scores[0, -1].double().cpu().numpy()


def char_losses(model, vocab, text: str) -> np.ndarray:
    """Per-character loss ``-log p(c_{t+1} | c_1..c_t)`` in nats, shape ``(len(text) - 1,)``.

    The model reads ``text`` as one sequence from a zero hidden state.
    """
    import torch

    if not isinstance(text, str) or len(text) < 2:
        raise ValueError("text must be a str of at least 2 characters")
    device = next(model.parameters()).device
    ids = torch.as_tensor(vocab.encode(text), device=device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        scores, _ = model(ids[None, :-1])                                # (1, T-1, V)
    model.train(was_training)
    logp = log_softmax(scores[0].double().cpu().numpy())                 # (T-1, V)
    y = ids[1:].cpu().numpy()
    return -logp[np.arange(len(y)), y]


def loss_vs_context(model, ids: np.ndarray, contexts=(1, 3, 10, 30, 100, 300), *,
                    target_len: int = 50, n_windows: int = 64, seed: int = 0,
                    warmup: int = 0) -> np.ndarray:
    """Mean loss (nats per character) of the same targets read after ``k`` characters of context.

    ``n_windows`` random places in the id stream ``ids`` each give ``target_len``
    target characters; for each ``k`` in ``contexts`` the model starts from a
    zero state ``k`` characters before the first target, so only those ``k``
    characters (and the targets before each one) can inform the predictions.
    Returns an array shaped like ``contexts``. A model that uses no more than
    ``m`` characters of the past shows a flat curve beyond ``k = m``.

    ``warmup > 0`` first runs the model over ``warmup`` characters taken from
    another random place, so that it starts the context from a *typical* state
    (as in training, where the state is carried over) that carries nothing about
    the context; their predictions are not scored. Chapter 3.
    """
    import torch
    import torch.nn.functional as F

    check_int_array("ids", ids, ("L",))
    contexts = [check_positive_int("context", k) for k in contexts]
    target_len = check_positive_int("target_len", target_len)
    n_windows = check_positive_int("n_windows", n_windows)
    warmup = int(warmup)
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    k_max = max(contexts)
    if len(ids) < k_max + target_len + 1 + warmup:
        raise ValueError(f"ids has {len(ids)} ids, too few for context {k_max} + {target_len} targets")
    rng = np.random.default_rng(seed)
    starts = rng.integers(k_max, len(ids) - target_len, size=n_windows)
    others = (starts + rng.integers(len(ids) // 4, 3 * len(ids) // 4, size=n_windows)) % (len(ids) - warmup)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for k in contexts:
            win = np.stack([np.concatenate([ids[u:u + warmup], ids[s - k:s + target_len]])
                            for s, u in zip(starts, others)])              # (n, w + k + target_len)
            win = torch.as_tensor(win.astype(np.int64), device=device)
            scores, _ = model(win[:, :-1])                                   # (n, w + k + L - 1, V)
            scores = scores[:, warmup + k - 1:]                              # predictions of the targets
            win = win[:, warmup:]
            out.append(F.cross_entropy(scores.reshape(-1, scores.shape[-1]).double(),
                                       win[:, k:].reshape(-1)).item())
    model.train(was_training)
    return np.array(out)


# ------------------------------------------------------------------ words
#: A word is a run of letters (with inner apostrophes); every other
#: non-space character is a token of its own.
WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|[^\sA-Za-z]")


def word_tokens(text: str) -> list[str]:
    """Split ``text`` into word-level tokens: words and single punctuation marks.

    Example: ``"Fair is foul, and foul is fair."`` ->
    ``['Fair', 'is', 'foul', ',', 'and', 'foul', 'is', 'fair', '.']``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return WORD_RE.findall(text)


def steps_to_word(text: str, k: int) -> tuple[int, int]:
    """Predictions needed to reach the ``k``-th token of ``text``, at word and at character level.

    Given the first token (word level) or the first character (character
    level), a model writes one symbol per prediction. Returns
    ``(word_steps, char_steps)``: ``k - 1`` and the number of characters
    before the first character of the ``k``-th token. Chapter 3.
    """
    k = check_positive_int("k", k)
    starts = [m.start() for m in WORD_RE.finditer(text)]
    if len(starts) < k:
        raise ValueError(f"text has {len(starts)} tokens, fewer than k={k}")
    return k - 1, starts[k - 1] - starts[0]


def loss_by_word_position(text: str, losses: np.ndarray, max_pos: int = 8):
    """Mean loss of the characters at position 1, 2, ... of their word.

    ``losses`` has shape ``(len(text) - 1,)``: ``losses[i]`` is the loss of
    ``text[i + 1]`` (as ``char_losses`` returns). Only letters inside words of
    ``WORD_RE`` count; positions above ``max_pos`` are pooled into ``max_pos``.
    Returns ``(positions, mean_loss, count)``, arrays of length ``max_pos``.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.shape != (len(text) - 1,):
        raise ValueError(f"losses must have shape ({len(text) - 1},), got {losses.shape}")
    max_pos = check_positive_int("max_pos", max_pos)
    total, count = np.zeros(max_pos), np.zeros(max_pos, dtype=np.int64)
    for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)*", text):
        for i in range(max(m.start(), 1), m.end()):          # text[0] has no prediction
            if text[i].isalpha():
                pos = min(i - m.start(), max_pos - 1)
                total[pos] += losses[i - 1]
                count[pos] += 1
    mean = np.divide(total, count, out=np.full(max_pos, np.nan), where=count > 0)
    return np.arange(1, max_pos + 1), mean, count


# ------------------------------------------------------------------ pictures
def _label(ch: str) -> str:
    return {"\n": "\\n", " ": "' '", "$": r"\$"}.get(ch, ch)


def _bars(ax, p, chars, top, title):
    order = np.argsort(-p, kind="stable")[:top]
    ax.bar(range(len(order)), p[order], color="C0")
    ax.set_xticks(range(len(order)), [_label(chars[i]) for i in order], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)


def temperature_figure(scores: np.ndarray, chars, temperatures=(0.3, 0.6, 1.0, 1.5), *,
                       top: int = 10, context: str | None = None) -> Figure:
    """Bars of the ``top`` most likely next characters at each temperature.

    ``scores`` (V,) are the model's scores ``o_t``; ``chars`` the vocabulary in id order.
    Each panel's title gives tau and the entropy of the whole distribution.
    """
    check_array("scores", scores, ("V",))
    fig = Figure(figsize=(2.5 * len(temperatures) + 0.5, 2.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(temperatures), sharey=True))
    for ax, tau in zip(axes, temperatures):
        p = softmax_temperature(scores, tau)
        _bars(ax, p, chars, top, f"τ = {tau:g}: entropy {entropy_bits(p):.2f} bits")
    axes[0].set_ylabel("probability of next char")
    if context is not None:
        fig.suptitle(f"after ...{context[-30:]!r}", fontsize=10)
    return fig


def build_temperature_explorer(model, vocab, *, prefix: str = "ROMEO:\n", temperature: float = 1.0,
                               n: int = 200, top: int = 12):
    """The explorer as an ``ipywidgets.VBox`` (nothing displayed).

    Controls: temperature, prefix (the priming text), seed. The output shows
    the next-character distribution after the prefix at that temperature and
    a sample of ``n`` characters drawn with ``coursekit.decode.sample``.
    The box has ``.controls`` (name -> widget) and ``.output``.
    """
    import ipywidgets as W
    from IPython.display import display

    style, layout = {"description_width": "90px"}, W.Layout(width="360px")
    controls = {
        "temperature": W.FloatSlider(value=temperature, min=0.0, max=2.0, step=0.05, style=style,
                                     layout=layout, description="temperature τ",
                                     continuous_update=False),
        "prefix": W.Text(value=prefix, style=style, layout=layout, description="prefix",
                         continuous_update=False),
        "seed": W.IntSlider(value=0, min=0, max=9, style=style, layout=layout, description="seed",
                            continuous_update=False),
    }

    def redraw(temperature, prefix, seed):
        unknown = sorted({c for c in prefix if c not in vocab})
        if not prefix or unknown:
            print(f"type a non-empty prefix using only the model's characters (not {unknown})")
            return
        fig = Figure(figsize=(7, 2.4), layout="constrained")
        p = softmax_temperature(next_char_scores(model, vocab, prefix), temperature)
        _bars(fig.subplots(), p, vocab.chars, top,
              f"next character at τ = {temperature:g} (entropy {entropy_bits(p):.2f} bits)")
        display(figure_frame(fig))
        print(sample(model, vocab, n, prefix=prefix, temperature=temperature, seed=seed))

    output = W.interactive_output(redraw, controls)
    box = W.VBox([W.HBox([controls["temperature"], controls["seed"]]), controls["prefix"], output])
    box.controls, box.output = controls, output
    return box


def temperature_explorer(model, vocab, *, prefix: str = "ROMEO:\n",
                         temperatures=(0.3, 0.6, 1.0, 1.5), **kwargs) -> None:
    """Display the static ``temperature_figure`` after ``prefix``, then the live explorer.

    The static figure is what the rendered book shows where no kernel runs.
    """
    scores = next_char_scores(model, vocab, prefix)
    explore(temperature_figure(scores, vocab.chars, temperatures, context=prefix),
            lambda: build_temperature_explorer(model, vocab, prefix=prefix, **kwargs))


class LiveLossPlot:
    """A loss curve that redraws in place while a model trains.

    Pass an instance as ``log=`` to ``coursekit.train.loop.train`` or
    ``coursekit.models.charrnn.train_charrnn``: each call with ``loss`` (or
    ``smooth_loss``) and/or ``val_loss`` adds a point to one display.
    ``baselines`` (label -> nats) are drawn as horizontal lines.

    Drawing costs a fraction of a second, so the figure is redrawn only on
    calls that bring a ``val_loss`` (``train`` evaluates at the end, so the
    last picture is complete) and, if ``redraw_every`` is set, on every
    ``redraw_every``-th call; call :meth:`redraw` yourself after a run
    without validation.
    """

    def __init__(self, *, baselines: dict | None = None, title: str = "training",
                 ylabel: str = "loss (nats per character)", redraw_every: int | None = None,
                 display: bool = True):
        self.baselines = dict(baselines or {})
        self.title, self.ylabel, self.display = title, ylabel, display
        self.redraw_every = (None if redraw_every is None
                             else check_positive_int("redraw_every", redraw_every))
        self.steps, self.losses, self.val_steps, self.val_losses = [], [], [], []
        self.calls, self._handle = 0, None

    def __call__(self, record: dict) -> None:
        self.calls += 1
        loss = record.get("loss", record.get("smooth_loss"))
        if loss is not None:
            self.steps.append(record["step"])
            self.losses.append(float(loss))
        has_val = record.get("val_loss") is not None
        if has_val:
            self.val_steps.append(record["step"])
            self.val_losses.append(float(record["val_loss"]))
        if self.display and (has_val or (self.redraw_every is not None
                                         and self.calls % self.redraw_every == 0)):
            self.redraw()

    def figure(self) -> Figure:
        fig = Figure(figsize=(6.4, 3.0), layout="constrained")
        ax = fig.subplots()
        ax.plot(self.steps, self.losses, label="training loss (smoothed)")
        if self.val_steps:
            ax.plot(self.val_steps, self.val_losses, "o-", label="validation loss")
        for i, (label, value) in enumerate(self.baselines.items()):
            ax.axhline(value, color=f"C{i + 2}", linestyle="--", linewidth=1,
                       label=f"{label} ({value:.2f})")
        ax.set_xlabel("update")
        ax.set_ylabel(self.ylabel)
        ax.set_title(self.title, fontsize=10)
        ax.legend(fontsize=8)
        return fig

    def redraw(self) -> None:
        from IPython.display import display

        image = figure_png(self.figure())
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
