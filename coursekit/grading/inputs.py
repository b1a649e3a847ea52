"""How the grader draws an input array (:class:`Arg`), including learnable text with a known entropy.

Used by the questions of :mod:`coursekit.grading.spec`; hidden cases draw from a
seed derived from the instructor's secret and the submission, public cases from a
fixed seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Arg", "markov_chain", "markov_matrix", "random_parent_array"]


@dataclass(frozen=True)
class Arg:
    """One input array and how to draw it.

    kind: ``normal`` (scale * N(0, 1)), ``uniform`` (U(-scale, scale)),
    ``unit`` (U[0, 1): the random stream of a sampler), ``int`` (integers in
    ``[0, high)``), ``mask`` (booleans, True with probability ``p``, at least
    one True per row), ``cycle`` (a random permutation of ``range(high)``
    repeated to the shape: learnable text), ``markov`` (text from a random
    first-order Markov chain over ``high`` symbols whose rows have sharpness
    ``scale``: learnable text with a known entropy), ``tree`` (a parent array of shape ``(n,)``:
    a random tree whose nodes are numbered in a random order, ``parent[root] = -1``; each
    node hangs under one of the ``high`` nodes placed just before it, all of them when
    ``high`` is None, so a small ``high`` draws deep trees). A kind ``"module:function"``
    (``"checks:imdb_ids"``) is drawn by that function of the assignment, not here: see
    :func:`coursekit.grading.spec.draw_inputs`.
    Shapes and ``high`` may name sizes (``"N"``) fixed by each :class:`Case`.
    """
    name: str
    shape: tuple = ()
    kind: str = "normal"
    scale: float = 1.0
    high: int | str | None = None
    p: float = 0.7

    def draw(self, rng: np.random.Generator, sizes: dict, dtype: str) -> np.ndarray:
        shape = tuple(int(sizes[s]) if isinstance(s, str) else int(s) for s in self.shape)
        high = int(sizes[self.high]) if isinstance(self.high, str) else self.high
        if self.kind == "normal":
            return (self.scale * rng.standard_normal(shape)).astype(dtype)
        if self.kind == "uniform":
            return rng.uniform(-self.scale, self.scale, shape).astype(dtype)
        if self.kind == "unit":
            return rng.random(shape).astype(dtype)
        if self.kind == "int":
            return rng.integers(0, high, shape).astype(np.int64)
        if self.kind == "mask":
            m = rng.random(shape) < self.p
            m[..., 0] = True  # every sequence keeps at least one step
            return m
        if self.kind == "cycle":
            period = rng.permutation(high)
            n = int(np.prod(shape))
            return np.resize(period, n).reshape(shape).astype(np.int64)
        if self.kind == "markov":
            P = markov_matrix(rng, high, self.scale)
            start = int(rng.integers(high))
            return markov_chain(P, int(np.prod(shape)), rng, start).reshape(shape)
        if self.kind == "tree":
            return random_parent_array(rng, shape, high)
        raise ValueError(f"unknown Arg kind {self.kind!r} for {self.name}")


def markov_matrix(rng: np.random.Generator, V: int, sharpness: float) -> np.ndarray:
    """A random transition matrix: row a is softmax(sharpness * z_a), z_a ~ N(0, I)."""
    z = sharpness * rng.standard_normal((V, V))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def markov_chain(P: np.ndarray, length: int, rng: np.random.Generator, start: int) -> np.ndarray:
    """``length`` states of the chain with transitions ``P`` (V, V) from ``start``, int64."""
    cdf = np.cumsum(P, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(length)
    out = np.empty(length, dtype=np.int64)
    s = int(start)
    for t in range(length):
        out[t] = s
        s = int(np.searchsorted(cdf[s], u[t], side="right"))
    return out


def random_parent_array(rng: np.random.Generator, shape: tuple, window: int | None = None) -> np.ndarray:
    """A random tree of ``n = shape[0]`` nodes as a parent array (int64, -1 at the root).

    Node ``i`` of a hidden construction order hangs under a uniform choice among the
    ``window`` nodes placed before it (all of them if ``window`` is None); the nodes are
    then renumbered by a random permutation, so parents may come before or after children.
    """
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"a tree Arg has shape (n,) with n >= 1, got {shape}")
    n = int(shape[0])
    built = np.full(n, -1, dtype=np.int64)
    for i in range(1, n):
        low = 0 if window is None else max(0, i - int(window))
        built[i] = int(rng.integers(low, i))
    label = rng.permutation(n)  # construction index -> node number
    parent = np.full(n, -1, dtype=np.int64)
    parent[label[1:]] = label[built[1:]]
    return parent
