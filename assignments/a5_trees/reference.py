"""Solutions of assignment 5's graded functions (the grader runs them; students never get it).

Variants of chapter 8: trees arrive as *parent arrays in any node order* (the head
arrays a dependency parser writes: ``parent[j]`` is node j's parent, -1 at a root),
not as coursekit's child lists with children first; every node carries a token,
embedded by a lookup ``E[ids]``; the recursive network sums its children (it reads
trees of any arity), and the child-sum Tree-LSTM reads embedded tokens.
"""
from __future__ import annotations

import numpy as np


def _children(parent):
    kids = [[] for _ in range(len(parent))]
    for j, p in enumerate(parent):
        if p >= 0:
            kids[int(p)].append(j)
    return kids


def tree_levels(parent):
    """Topological level of every node: 0 at a leaf, 1 + the highest child elsewhere. (n,) int64."""
    n = len(parent)
    kids = _children(parent)
    level = np.zeros(n, dtype=np.int64)
    order = [j for j in range(n) if parent[j] < 0]  # roots, then breadth first
    for j in order:
        order.extend(kids[j])
    for j in reversed(order):  # children before parents
        if kids[j]:
            level[j] = 1 + max(level[k] for k in kids[j])
    return level


def _schedule(parent):
    level = tree_levels(parent)
    groups = [np.flatnonzero(level == k) for k in range(int(level.max()) + 1)]
    has_parent = np.flatnonzero(parent >= 0)
    return level, groups, has_parent


def tree_rnn_forward(ids, parent, E, W, b):
    """h_j = tanh(E[ids_j] + (sum_{k: parent_k = j} h_k) W + b) -> h (n, H), cache."""
    _level, groups, has_parent = _schedule(parent)
    n, H = len(ids), W.shape[0]
    h = np.zeros((n, H), dtype=E.dtype)
    s = np.zeros((n, H), dtype=E.dtype)  # the sum of each node's children's h
    for nodes in groups:
        h[nodes] = np.tanh(E[ids[nodes]] + s[nodes] @ W + b)
        done = has_parent[np.isin(has_parent, nodes)]
        np.add.at(s, parent[done], h[done])
    return h, (ids, parent, E, W, groups, h, s)


def tree_rnn_backward(dh, cache):
    """-> dE (V, H), dW (H, H), db (H,)."""
    ids, parent, E, W, groups, h, s = cache
    g = dh.astype(E.dtype, copy=True)
    dE, dW, db = np.zeros_like(E), np.zeros_like(W), np.zeros(W.shape[0], dtype=E.dtype)
    for nodes in reversed(groups):  # parents before children
        da = g[nodes] * (1 - h[nodes] ** 2)
        np.add.at(dE, ids[nodes], da)
        dW += s[nodes].T @ da
        db += da.sum(axis=0)
        ds = da @ W.T  # every child of node j receives the same ds_j
        lower = np.flatnonzero(np.isin(parent, nodes))
        pos = np.searchsorted(nodes, parent[lower])
        g[lower] += ds[pos]
    return dE, dW, db


def _sig(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def childsum_forward(ids, parent, E, Wx, Wh, b):
    """Child-sum Tree-LSTM over embedded tokens, gates i, f, g, o -> h (n, H), c (n, H)."""
    _level, groups, _has_parent = _schedule(parent)
    n, H = len(ids), Wh.shape[0]
    x = E[ids]
    ax = x @ Wx + b
    h, c = np.zeros((n, H), dtype=E.dtype), np.zeros((n, H), dtype=E.dtype)
    for nodes in groups:
        kids = np.flatnonzero(np.isin(parent, nodes))  # every child of this level's nodes
        pos = np.searchsorted(nodes, parent[kids])
        hsum = np.zeros((len(nodes), H), dtype=E.dtype)
        np.add.at(hsum, pos, h[kids])
        a = ax[nodes] + hsum @ Wh
        f = _sig(ax[parent[kids], H:2 * H] + h[kids] @ Wh[:, H:2 * H])  # one gate per child
        fc = np.zeros((len(nodes), H), dtype=E.dtype)
        np.add.at(fc, pos, f * c[kids])
        c[nodes] = _sig(a[:, :H]) * np.tanh(a[:, 2 * H:3 * H]) + fc
        h[nodes] = _sig(a[:, 3 * H:]) * np.tanh(c[nodes])
    return h, c


def listops_batch(exprs):
    """ListOps expressions as one forest: ids (n,), parent (n,), roots (N,)."""
    return join_trees([listops_tree(e) for e in exprs])


def listops_tree(expr):
    """One expression's n-ary tree: ids (operators at internal nodes, digits at leaves), parent."""
    from coursekit.data import listops
    from coursekit.data.trees import parents

    labels, children = listops.nary_tree(expr)
    ids = np.array([listops.TOKEN_ID[f"[{lab}" if lab in listops.OPERATORS else lab]
                    for lab in labels], dtype=np.int64)
    return ids, parents(children)


def join_trees(trees):
    """[(ids, parent)] -> one forest (ids, parent, roots), node numbers offset."""
    ids, parent, roots, offset = [], [], [], 0
    for i, p in trees:
        ids.append(i)
        parent.append(np.where(p >= 0, p + offset, -1))
        roots.append(offset + int(np.flatnonzero(p < 0)[0]))
        offset += len(i)
    return np.concatenate(ids), np.concatenate(parent), np.array(roots)


def train_listops(n_train, hidden, seed):
    """A child-sum recursive net + softmax on the root, trained with Adam on ListOps of depth
    1-2 (MAX and MIN) -> {"E", "W", "b", "Wy", "by"}."""
    from coursekit.data import listops

    exprs, values, _ = listops.dataset(n_train // 2, (1, 2), seed=seed, operators=("MAX", "MIN"))
    trees = [listops_tree(e) for e in exprs]
    rng = np.random.default_rng(seed)
    V, H = len(listops.VOCAB), hidden
    p = {"E": rng.normal(0, 0.5, (V, H)), "W": rng.normal(0, 1 / np.sqrt(H), (H, H)),
         "b": np.zeros(H), "Wy": rng.normal(0, 1 / np.sqrt(H), (H, 10)), "by": np.zeros(10)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    lr, b1, b2 = 0.01, 0.9, 0.999
    for t in range(1, 601):
        idx = rng.choice(len(exprs), 64, replace=False)
        ids, parent, roots = join_trees([trees[i] for i in idx])
        h, cache = tree_rnn_forward(ids, parent, p["E"], p["W"], p["b"])
        scores = h[roots] @ p["Wy"] + p["by"]
        prob = np.exp(scores - scores.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        prob[np.arange(len(idx)), values[idx]] -= 1
        dscores = prob / len(idx)
        dh = np.zeros_like(h)
        dh[roots] = dscores @ p["Wy"].T
        dE, dW, db = tree_rnn_backward(dh, cache)
        grads = {"E": dE, "W": dW, "b": db, "Wy": h[roots].T @ dscores, "by": dscores.sum(0)}
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            v2[k] = b2 * v2[k] + (1 - b2) * grads[k] ** 2
            p[k] -= lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v2[k] / (1 - b2 ** t)) + 1e-8)
    return p
