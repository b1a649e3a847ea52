"""Synthetic long-range sequence tasks: seeded data generators (chapters 2, 4 and 5).

Each task is built so that the answer depends on an input a known number of
steps back (the *dependency length*), so accuracy can be measured against
that length. All generators are pure numpy and deterministic given ``seed``.

* :func:`first_symbol_recall`: remember the first (marked) symbol of a
  sequence through a stream of distractors ("she grew up in *France* ... so
  she speaks fluent ___"). The target is the same at every step, so the
  prediction at step ``t`` measures a memory of ``t`` steps.
  Chapters 4 and 5 run their experiments on it.
* :func:`adding_problem`: Hochreiter and Schmidhuber's (1997) adding problem:
  add the two numbers marked among ``T`` random ones (a regression).
* :func:`copy_memory`: read a short string, wait ``delay`` blank steps, then
  write the string back (many-to-many with ignored targets).

* :func:`delayed_recall`: at every step, output the symbol seen ``lag`` steps
  ago (many-to-many); chapter 2 trains on it.

Targets that a loss must skip are :data:`IGNORE` (``-100``, torch's default
``ignore_index``); :func:`answer_targets` spreads a per-sequence answer over the
steps that must give it, so every task trains with the one loss
:func:`coursekit.train.loop.sequence_loss`.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import check_positive_int

__all__ = ["IGNORE", "first_symbol_recall", "recall_vocab_size", "recall_inputs", "answer_targets",
           "delayed_recall", "adding_problem", "copy_memory"]

IGNORE = -100


def recall_vocab_size(n_symbols: int) -> int:
    """Number of distinct input ids of :func:`first_symbol_recall`: ``2 * n_symbols``."""
    return 2 * check_positive_int("n_symbols", n_symbols)


def first_symbol_recall(N, T, n_symbols=4, *, seed=0):
    """Sequences whose first symbol must be remembered for ``T - 1`` steps.

    Shapes: -> x (N, T) int64 input ids, y (N,) int64 the symbol to recall.
    Step 0 holds the *marked* key ``x[:, 0] = n_symbols + y`` (ids
    ``n_symbols .. 2 n_symbols - 1``); steps ``1 .. T-1`` hold unmarked
    distractors drawn uniformly from the *same* symbols (ids ``0 .. n_symbols - 1``),
    so a model cannot remember the key by ignoring one kind of input: it must
    store it when the mark arrives and protect it from every later symbol.
    The target at every step ``t >= 1`` is ``y``: the prediction at step ``t``
    tests a dependency of length ``t``. Chance accuracy is ``1 / n_symbols``.
    Chapter 4 (accuracy against dependency length) and chapter 5.
    """
    N, T, K = (check_positive_int(k, v) for k, v in (("N", N), ("T", T), ("n_symbols", n_symbols)))
    if T < 2:
        raise ValueError(f"T must be at least 2 (a key and one step to recall it), got T={T}")
    if K < 2:
        raise ValueError(f"n_symbols must be at least 2, got {K}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, size=N, dtype=np.int64)
    x = rng.integers(0, K, size=(N, T), dtype=np.int64)  # distractors
    x[:, 0] = K + y  # the marked key
    return x, y


def recall_inputs(seqs: np.ndarray, K: int, dtype=np.float64) -> np.ndarray:
    """One-hot inputs of first-symbol recall from plain symbol sequences (the first one marked).

    Shapes: seqs (N, T) ints in [0, K) -> x (N, T, 2K) of ``dtype``; x[n, 0] is the
    one-hot of ``K + seqs[n, 0]`` (the marked key), x[n, t] of ``seqs[n, t]`` for t >= 1:
    the ids of :func:`first_symbol_recall`, one-hot. Pure numpy, for models written
    from scratch (assignment 3).
    """
    ids = np.array(seqs, dtype=np.int64)
    ids[:, 0] += K
    return np.eye(2 * K, dtype=dtype)[ids]


def answer_targets(y, T, first=1):
    """Per-step targets for a per-sequence answer: ``y`` at steps ``first .. T-1``, IGNORE before.

    Shapes: y (N,) ints -> (N, T) int64. With :func:`first_symbol_recall` the
    default ``first=1`` asks for the answer at every step after the key;
    a larger ``first`` gives no gradient to dependencies shorter than ``first`` steps.
    """
    y = np.asarray(y, dtype=np.int64)
    T = check_positive_int("T", T)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (N,), got shape {y.shape}")
    if not isinstance(first, (int, np.integer)) or not 0 <= first < T:
        raise ValueError(f"first must be an int in 0..T-1 = 0..{T - 1}, got {first!r}")
    out = np.full((y.shape[0], T), IGNORE, dtype=np.int64)
    out[:, first:] = y[:, None]
    return out


def delayed_recall(N, T, lag, n_symbols=2, *, seed=0):
    """The delayed-recall task: at every step, output the symbol seen ``lag`` steps ago.

    Shapes: -> x (N, T) int64 symbols drawn uniformly from 0..n_symbols-1, and
    y (N, T) int64 with y[:, t] = x[:, t - lag] for t >= lag and y[:, t] = IGNORE
    (-100, skipped by the losses) for t < lag.
    Solving it needs a memory of exactly ``lag`` steps, so the gradient must
    carry the error at step t back to the input at step t - lag.
    Chapter 2: truncated BPTT, ReLU with identity initialisation.
    """
    N, T, lag, n_symbols = (check_positive_int(k, v) for k, v in
                            (("N", N), ("T", T), ("lag", lag), ("n_symbols", n_symbols)))
    if lag >= T:
        raise ValueError(f"lag must be smaller than T={T}, got lag={lag}")
    x = np.random.default_rng(seed).integers(0, n_symbols, size=(N, T), dtype=np.int64)
    y = np.full((N, T), IGNORE, dtype=np.int64)
    y[:, lag:] = x[:, :-lag]
    return x, y



def adding_problem(N, T, *, seed=0):
    """The adding problem (Hochreiter and Schmidhuber 1997): sum the two marked numbers.

    Shapes: -> x (N, T, 2) float64, y (N,) float64.
    Channel 0 holds values ``u_t ~ U(0, 1)``; channel 1 is a marker that is 1
    at exactly two steps, one in the first half (``t1 < T // 2``) and one in the
    second half (``t2 >= T // 2``), and 0 elsewhere. The target is
    ``y = u_{t1} + u_{t2}``. Always predicting 1 gives a mean squared error of
    about 1/6; solving the task needs a memory of ``t2 - t1`` steps (at least 1,
    up to ``T - 1``).
    Chapter 4, exercises.
    """
    N, T = check_positive_int("N", N), check_positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be at least 2, got T={T}")
    rng = np.random.default_rng(seed)
    x = np.zeros((N, T, 2))
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(N, T))
    half = T // 2
    t1 = rng.integers(0, half, size=N)
    t2 = rng.integers(half, T, size=N)
    rows = np.arange(N)
    x[rows, t1, 1] = 1.0
    x[rows, t2, 1] = 1.0
    y = x[rows, t1, 0] + x[rows, t2, 0]
    return x, y


def copy_memory(N, length=10, delay=50, n_symbols=8, *, seed=0):
    """The copy-memory task: read a string, wait, then write it back.

    Shapes: -> x (N, T) int64, y (N, T) int64 with ``T = 2 * length + delay``.
    Ids: ``0 .. n_symbols - 1`` are the symbols, ``n_symbols`` is the blank and
    ``n_symbols + 1`` the "go" signal. ``x`` holds ``length`` random symbols,
    then ``delay - 1`` blanks, the go signal, and ``length`` blanks; ``y`` is
    ``IGNORE`` everywhere except the last ``length`` steps, which hold the
    string. Every symbol must be remembered for ``length + delay`` steps.
    Chapter 4, exercises.
    """
    N, length, delay, K = (check_positive_int(k, v) for k, v in
                           (("N", N), ("length", length), ("delay", delay), ("n_symbols", n_symbols)))
    rng = np.random.default_rng(seed)
    string = rng.integers(0, K, size=(N, length), dtype=np.int64)
    T = 2 * length + delay
    x = np.full((N, T), K, dtype=np.int64)  # blanks
    x[:, :length] = string
    x[:, length + delay - 1] = K + 1  # go
    y = np.full((N, T), IGNORE, dtype=np.int64)
    y[:, -length:] = string
    return x, y
