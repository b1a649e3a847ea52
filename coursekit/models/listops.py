"""ListOps classifiers: a Tree-LSTM given the true trees against sequential readers of the tokens.

- :class:`TreeClassifier`: embedded tokens at the leaves of the binary tree of
  :func:`coursekit.data.listops.binary_tree`, a level-batched tree network
  (:mod:`coursekit.nn.tree_torch`: ``"nary"`` the binary Tree-LSTM, ``"childsum"``,
  or ``"treernn"``), a linear read-out of the root: ``scores = W_y h_root + b_y``.
- :class:`SequenceClassifier`: the same embeddings read left to right by a
  ``torch.nn.LSTM`` (``bidirectional=False``) or in both directions (``True``); the read-out
  sees the last state (both directions' final states when bidirectional).

Both take a batch made by :func:`tree_batch` / :func:`sequence_batch` and return
``scores (N, 10)``; ``config`` holds the constructor arguments (for
:mod:`coursekit.train.checkpoint`). :func:`node_scores` reads out every node of a
tree (what the chapter's explorer shows). Chapter 8: Recursive networks.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit._validate import check_positive_int
from coursekit.data import listops
from coursekit.data.trees import forest
from coursekit.nn.tree_torch import (
    BinaryTreeLSTM,
    ChildSumTreeLSTM,
    TreeRNN,
    level_plan,
)

__all__ = [
    "SequenceClassifier",
    "TreeClassifier",
    "accuracy_by_depth",
    "fit",
    "make_batch",
    "node_scores",
    "predict",
    "prepare",
    "sequence_batch",
    "tree_batch",
]

CELLS = {"nary": BinaryTreeLSTM, "childsum": ChildSumTreeLSTM, "treernn": TreeRNN}


def prepare(model, exprs):
    """What ``model`` reads of each expression, computed once: its binary tree
    ``(ids, children)`` (a :class:`TreeClassifier`) or its token ids (a :class:`SequenceClassifier`)."""
    if isinstance(model, TreeClassifier):
        return [listops.binary_tree(e)[:2] for e in exprs]
    return [listops.token_ids(e) for e in exprs]


def tree_batch(exprs, device=None):
    """A forest of binary trees: {"ids" (n,), "plan" (level_plan), "roots" (N,)}.

    ``exprs``: expressions, or their ``(ids, children)`` from :func:`prepare`.
    """
    trees = [e if isinstance(e, tuple) and isinstance(e[0], np.ndarray)
             else listops.binary_tree(e) for e in exprs]
    children, roots = forest([t[1] for t in trees])
    return {"ids": torch.as_tensor(np.concatenate([t[0] for t in trees]), device=device),
            "plan": level_plan(children, binary=True, device=device),
            "roots": torch.as_tensor(roots, device=device)}


def sequence_batch(exprs, device=None):
    """Padded token ids (N, T) (id 0 is padding) and lengths (N,); ``exprs`` may be token ids."""
    seqs = [e if isinstance(e, np.ndarray) else listops.token_ids(e) for e in exprs]
    lengths = np.array([len(s) for s in seqs])
    ids = np.zeros((len(seqs), lengths.max()), dtype=np.int64)
    for r, s in enumerate(seqs):
        ids[r, :len(s)] = s
    return {"ids": torch.as_tensor(ids, device=device), "lengths": torch.as_tensor(lengths)}


class TreeClassifier(nn.Module):
    """Embedding -> tree network over the binary ListOps tree -> 10 scores at the root.

    Shapes: batch from :func:`tree_batch` -> scores (N, 10).
    Formula: x_j = E[token_j] (zero for internal nodes), h = TreeLSTM(x, tree), s = h_root W_y + b_y.
    Chapter 8: Recursive networks.
    """

    def __init__(self, hidden_size=64, embed_size=32, cell="nary", n_classes=10, seed=0,
                 device=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        H, E = check_positive_int("hidden_size", hidden_size), check_positive_int("embed_size", embed_size)
        self.config = {"hidden_size": H, "embed_size": E, "cell": cell, "n_classes": n_classes, "seed": seed}
        factory = {"device": device, "dtype": dtype}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = nn.Embedding(len(listops.VOCAB), E, padding_idx=0, **factory)
            self.tree = CELLS[cell](E, H, **factory)
            self.out = nn.Linear(H, n_classes, **factory)

    def states(self, batch):
        """h of every node (n, H)."""
        out = self.tree(self.embed(batch["ids"]), batch["plan"])
        return out if isinstance(out, torch.Tensor) else out[0]

    def forward(self, batch):
        return self.out(self.states(batch)[batch["roots"]])


class SequenceClassifier(nn.Module):
    """Embedding -> LSTM (or bidirectional LSTM) over the tokens -> 10 scores.

    Shapes: batch from :func:`sequence_batch` -> scores (N, 10).
    Formula: h_t = LSTM(E[token_t], h_{t-1}); s = h_T W_y + b_y (bidirectional: [h_T^fwd; h_1^bwd]).
    Chapter 8: Recursive networks.
    """

    def __init__(self, hidden_size=64, embed_size=32, bidirectional=False, n_classes=10, seed=0,
                 device=None, dtype=None):
        super().__init__()
        H, E = check_positive_int("hidden_size", hidden_size), check_positive_int("embed_size", embed_size)
        self.config = {"hidden_size": H, "embed_size": E, "bidirectional": bool(bidirectional),
                       "n_classes": n_classes, "seed": seed}
        factory = {"device": device, "dtype": dtype}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = nn.Embedding(len(listops.VOCAB), E, padding_idx=0, **factory)
            self.rnn = nn.LSTM(E, H, batch_first=True, bidirectional=bool(bidirectional), **factory)
            self.out = nn.Linear(H * (2 if bidirectional else 1), n_classes, **factory)

    def forward(self, batch):
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(batch["ids"]), batch["lengths"].cpu(),
                                                   batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.rnn(packed)  # (directions, N, H): final states of each direction
        return self.out(torch.cat(list(h_n), dim=1))


@torch.no_grad()
def node_scores(model: TreeClassifier, expr):
    """Read out every node of one expression's tree: -> (ids (n,), children, probs (n, 10))."""
    ids, children, _ = listops.binary_tree(expr)
    batch = tree_batch([expr], device=next(model.parameters()).device)
    probs = torch.softmax(model.out(model.states(batch)), dim=1)
    return ids, children, probs.cpu().numpy()


def make_batch(model, exprs, device=None):
    """The batch ``model`` reads: :func:`tree_batch` or :func:`sequence_batch`."""
    return (tree_batch if isinstance(model, TreeClassifier) else sequence_batch)(exprs, device)


def fit(model, exprs, values, *, steps, batch_size=64, lr=2e-3, clip=5.0, seed=0, device=None,
        progress=None, prepared=None):
    """Train with Adam and cross-entropy on random minibatches: -> history {"step", "loss"}.

    The same ``seed`` draws the same minibatches for every model, so two models
    trained with the same budget see the same examples in the same order.
    ``prepared``: :func:`prepare`'s output for ``exprs``, if already computed.
    """
    rng = np.random.default_rng(seed)
    inputs = prepare(model, exprs) if prepared is None else prepared
    values = torch.as_tensor(np.asarray(values), device=device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history = {"step": [], "loss": []}
    steps_iter = range(steps) if progress is None else progress(range(steps))
    for step in steps_iter:
        idx = rng.choice(len(exprs), size=batch_size, replace=False)
        scores = model(make_batch(model, [inputs[i] for i in idx], device))
        loss = nn.functional.cross_entropy(scores, values[idx])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        history["step"].append(step + 1)
        history["loss"].append(float(loss.detach()))
    model.eval()
    return history


@torch.no_grad()
def predict(model, exprs, *, batch_size=256, device=None, prepared=None):
    """Predicted classes (N,) int64 numpy."""
    model.eval()
    inputs = prepare(model, exprs) if prepared is None else prepared
    out = [model(make_batch(model, inputs[i:i + batch_size], device)).argmax(1).cpu().numpy()
           for i in range(0, len(exprs), batch_size)]
    return np.concatenate(out)


def accuracy_by_depth(pred, values, depths):
    """{depth: accuracy} over the examples of each depth (plain floats)."""
    pred, values, depths = (np.asarray(a) for a in (pred, values, depths))
    return {int(d): float((pred[depths == d] == values[depths == d]).mean()) for d in np.unique(depths)}
