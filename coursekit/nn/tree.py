"""Recursive (tree) networks in numpy: the TreeRNN, the child-sum and the binary Tree-LSTM.

One set of weights is applied at every node of a tree, children before parents,
up to the root (trees are plain data, see :mod:`coursekit.data.trees`: ``children``
lists every node's child indices, children first; ``x`` is ``(n, D)``). Book
notation, batch rows in code (``C(j)`` are the children of node ``j``)::

    TreeRNN (Socher et al.)   leaf      h_j = x_j W_e                   (the leaf's embedding)
                              binary    h_j = tanh([h_l; h_r] W + b)
    child-sum Tree-LSTM       h~_j  = sum_{k in C(j)} h_k
    (Tai et al. 2015)         i, g, o = sigma / tanh / sigma (x_j W_x + h~_j W_h + b)   blocks i, g, o
                              f_jk  = sigma(x_j W_xf + h_k W_hf + b_f)    one forget gate per child
                              c_j   = i * g + sum_k f_jk * c_k,   h_j = o * tanh(c_j)
    binary (N-ary) Tree-LSTM  [i; f_l; f_r; g; o] = act(x_j W_x + [h_l; h_r] W_h + b)
                              c_j = i * g + f_l * c_l + f_r * c_r,   h_j = o * tanh(c_j)

The child-sum gates are stacked ``i, f, g, o`` as in :func:`coursekit.nn.lstm.lstm_forward`
(``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``): on a chain (each node one child) it
*is* that LSTM. The binary Tree-LSTM stacks ``i, f_l, f_r, g, o`` (``Wx (D, 5H)``,
``Wh (2H, 5H)``: separate weights for the left and the right child).

Every pass runs one topological level at a time: all nodes of a level (over every
tree of a forest) in one matrix product. The backward passes walk the levels in
reverse; a node's gradient is the sum of what its parent sends it and its own
upstream gradient, and splits among its children (backpropagation through structure).
The PyTorch twins are in :mod:`coursekit.nn.tree_torch`. Chapter 8: Recursive networks.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import (
    Dims,
    check_array,
    check_like,
    check_positive_int,
    check_same_dtype,
)
from coursekit.data.trees import check_children, levels
from coursekit.nn._gates import _sigmoid_

__all__ = [
    "childsum_treelstm_backward",
    "childsum_treelstm_forward",
    "init_params",
    "nary_treelstm_backward",
    "nary_treelstm_forward",
    "treernn_backward",
    "treernn_forward",
]


def _sigmoid(a):
    return _sigmoid_(np.array(a, copy=True))


# ------------------------------------------------------------------ structure
def _plan(children, n, binary):
    """Per level: (nodes, left, right) for binary trees, else (nodes, edge parent positions, edge children)."""
    kids = check_children(children)
    if len(kids) != n:
        raise ValueError(f"x must have one row per node: children lists {len(kids)} nodes, x has {n} rows")
    if binary:
        for j, row in enumerate(kids):
            if len(row) not in (0, 2):
                raise ValueError(f"children[{j}] has {len(row)} children; this network needs a binary "
                                 f"tree (every node 0 or 2 children; see coursekit.data.trees.binarize)")
    lev = levels(kids)
    plan = []
    for k in range(int(lev.max()) + 1):
        nodes = np.flatnonzero(lev == k)
        if binary:  # a leaf's children point to row n, a zero row that is never written
            left = np.array([kids[j][0] if kids[j] else n for j in nodes], dtype=np.int64)
            right = np.array([kids[j][1] if kids[j] else n for j in nodes], dtype=np.int64)
            plan.append((nodes, left, right))
        else:
            pos = np.array([p for p, j in enumerate(nodes) for _ in kids[j]], dtype=np.int64)
            chi = np.array([c for j in nodes for c in kids[j]], dtype=np.int64)
            plan.append((nodes, pos, chi))  # edge e: child chi[e] of node nodes[pos[e]]
    return plan


def _check(x, children, shapes, binary):
    dims = Dims()
    check_array("x", x, ("n", "D"), dims)
    for name, (w, shape) in shapes.items():
        check_array(name, w, shape, dims)
    check_same_dtype(x=x, **{k: w for k, (w, _) in shapes.items()})
    return _plan(children, x.shape[0], binary)


# ------------------------------------------------------------------- TreeRNN
def treernn_forward(x, children, We, W, b):
    """The recursive network of Socher et al. over a binary tree (or forest).

    Shapes: x (n, D) node inputs (one-hot leaf tokens: x_j W_e is an embedding lookup;
    internal rows are ignored), children (n lists, 0 or 2 children each), We (D, H),
    W (2H, H), b (H,) -> h (n, H), cache.
    Formula: leaf h_j = x_j W_e; internal h_j = tanh([h_l; h_r] W + b).
    Chapter 8: Recursive networks.
    """
    plan = _check(x, children, {"We": (We, ("D", "H")), "W": (W, ("K", "H")), "b": (b, ("H",))}, True)
    if W.shape[0] != 2 * W.shape[1]:
        raise ValueError(f"W must have shape (2H, H) (left and right child stacked), got shape {W.shape}")
    n, H = x.shape[0], We.shape[1]
    h = np.zeros((n + 1, H), dtype=x.dtype)  # row n: the zero "child" of a leaf
    leaves = plan[0][0]
    h[leaves] = x[leaves] @ We  # every leaf is on level 0
    for nodes, left, right in plan[1:]:
        h[nodes] = np.tanh(np.concatenate([h[left], h[right]], axis=1) @ W + b)
    return h[:n], (x, We, W, plan, h)


def treernn_backward(dh, cache):
    """Backpropagation through structure for :func:`treernn_forward`.

    Shapes: dh (n, H) upstream gradient of every node's h -> dx (n, D), dWe (D, H),
    dW (2H, H), db (H,).
    Formula: g_j = dh_j + (what the parent sends); da_j = g_j (1 - h_j^2);
    [g_l; g_r] += da_j W^T (the gradient splits between the two children);
    dW = sum_j [h_l; h_r]^T da_j; at a leaf dx_j = g_j W_e^T, dW_e += x_j^T g_j.
    Chapter 8: Recursive networks.
    """
    x, We, W, plan, h = cache
    n, H = x.shape[0], We.shape[1]
    check_like("dh", dh, (n, H), x.dtype)
    g = np.zeros_like(h)
    g[:n] = dh
    dW, db = np.zeros_like(W), np.zeros(H, dtype=x.dtype)
    for nodes, left, right in reversed(plan[1:]):  # parents before children
        da = g[nodes] * (1 - h[nodes] ** 2)  # (m, H)
        dW += np.concatenate([h[left], h[right]], axis=1).T @ da
        db += da.sum(axis=0)
        dchild = da @ W.T  # (m, 2H): the split
        np.add.at(g, left, dchild[:, :H])
        np.add.at(g, right, dchild[:, H:])
    leaves = plan[0][0]
    dx = np.zeros_like(x)
    dx[leaves] = g[leaves] @ We.T
    return dx, x[leaves].T @ g[leaves], dW, db


# ------------------------------------------------------- child-sum Tree-LSTM
def childsum_treelstm_forward(x, children, Wx, Wh, b):
    """The child-sum Tree-LSTM of Tai et al. (2015) over a tree or forest of any arity.

    Shapes: x (n, D), children (n lists), Wx (D, 4H), Wh (H, 4H), b (4H,), gates i, f, g, o
    -> h (n, H), c (n, H), cache.
    Formula: h~_j = sum_{k in C(j)} h_k; i, g, o from x_j W_x + h~_j W_h + b;
    f_jk = sigma(x_j W_xf + h_k W_hf + b_f) for every child k;
    c_j = i * g + sum_k f_jk * c_k; h_j = o * tanh(c_j). On a chain: lstm_forward.
    Chapter 8: Recursive networks.
    """
    if isinstance(Wh, np.ndarray) and Wh.ndim == 2 and Wh.shape[1] != 4 * Wh.shape[0]:
        raise ValueError(f"Wh must have shape (H, 4H) (gates i, f, g, o), got shape {Wh.shape}")
    plan = _check(x, children, {"Wx": (Wx, ("D", "G")), "Wh": (Wh, ("H", "G")), "b": (b, ("G",))}, False)
    n, H = x.shape[0], Wh.shape[0]
    ax = x @ Wx + b  # (n, 4H): every node's input terms at once
    h, c, tanh_c = (np.zeros((n, H), dtype=x.dtype) for _ in range(3))
    gates = np.zeros((n, 4 * H), dtype=x.dtype)  # i, (unused), g, o per node
    f_edge = []  # per level: the forget gate of each (parent, child) edge, (E, H)
    htil = np.zeros((n, H), dtype=x.dtype)
    for nodes, pos, chi in plan:
        m = len(nodes)
        hsum = np.zeros((m, H), dtype=x.dtype)
        np.add.at(hsum, pos, h[chi])  # h~_j = sum of the children's h
        htil[nodes] = hsum
        a = ax[nodes] + hsum @ Wh  # (m, 4H)
        i, g, o = _sigmoid(a[:, :H]), np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
        f = _sigmoid(ax[nodes[pos], H:2 * H] + h[chi] @ Wh[:, H:2 * H])  # (E, H): one gate per child
        fc = np.zeros((m, H), dtype=x.dtype)
        np.add.at(fc, pos, f * c[chi])
        c[nodes] = i * g + fc
        tanh_c[nodes] = np.tanh(c[nodes])
        h[nodes] = o * tanh_c[nodes]
        gates[nodes, :H], gates[nodes, 2 * H:3 * H], gates[nodes, 3 * H:] = i, g, o
        f_edge.append(f)
    return h, c, (x, Wx, Wh, plan, h, c, tanh_c, gates, f_edge, htil)


def childsum_treelstm_backward(dh, cache, dc=None):
    """Backpropagation through structure for :func:`childsum_treelstm_forward`.

    Shapes: dh (n, H) (and dc (n, H) or None) upstream gradients of every node ->
    dx (n, D), dWx (D, 4H), dWh (H, 4H), db (4H,).
    Formula: dc_j += dh_j o (1 - tanh^2 c_j); each child k receives dc_k += dc_j f_jk and
    dh_k += da_{igo,j} W_h^T + da_{f,jk} W_hf^T (the same h~ gradient to every child,
    plus its own forget gate's).
    Chapter 8: Recursive networks.
    """
    x, Wx, Wh, plan, h, c, tanh_c, gates, f_edge, htil = cache
    n, H = h.shape
    check_like("dh", dh, h.shape, h.dtype)
    gh = dh.copy()
    gc = np.zeros_like(c) if dc is None else check_like("dc", dc, c.shape, c.dtype).copy()
    dax = np.zeros((n, 4 * H), dtype=x.dtype)
    dWh = np.zeros_like(Wh)
    for (nodes, pos, chi), f in zip(reversed(plan), reversed(f_edge)):
        i, g, o = gates[nodes, :H], gates[nodes, 2 * H:3 * H], gates[nodes, 3 * H:]
        tc = tanh_c[nodes]
        dcn = gc[nodes] + gh[nodes] * o * (1 - tc ** 2)  # (m, H)
        da = np.zeros((len(nodes), 4 * H), dtype=x.dtype)
        da[:, :H] = dcn * g * i * (1 - i)
        da[:, 2 * H:3 * H] = dcn * i * (1 - g ** 2)
        da[:, 3 * H:] = gh[nodes] * tc * o * (1 - o)
        df = dcn[pos] * c[chi] * f * (1 - f)  # (E, H): forget pre-activation of each edge
        np.add.at(da[:, H:2 * H], pos, df)
        dax[nodes] = da
        gc[chi] += dcn[pos] * f  # each child has one parent: no repeated index
        dhtil = da.copy()
        dhtil[:, H:2 * H] = 0  # the forget gates read h_k, not h~
        gh[chi] += (dhtil @ Wh.T)[pos] + df @ Wh[:, H:2 * H].T
        dWh += htil[nodes].T @ dhtil
        dWh[:, H:2 * H] += h[chi].T @ df
    return dax @ Wx.T, x.T @ dax, dWh, dax.sum(axis=0)


# ---------------------------------------------------------- binary Tree-LSTM
def nary_treelstm_forward(x, children, Wx, Wh, b):
    """The binary (N-ary, N = 2) Tree-LSTM of Tai et al. (2015): left and right weights apart.

    Shapes: x (n, D), children (0 or 2 each), Wx (D, 5H), Wh (2H, 5H), b (5H,), gates
    i, f_l, f_r, g, o -> h (n, H), c (n, H), cache. A leaf's children are zero states.
    Formula: a = x_j W_x + [h_l; h_r] W_h + b; c_j = i * g + f_l * c_l + f_r * c_r;
    h_j = o * tanh(c_j).
    Chapter 8: Recursive networks.
    """
    if isinstance(Wh, np.ndarray) and Wh.ndim == 2 and Wh.shape[1] * 2 != 5 * Wh.shape[0]:
        raise ValueError(f"Wh must have shape (2H, 5H) (gates i, f_l, f_r, g, o), got shape {Wh.shape}")
    plan = _check(x, children, {"Wx": (Wx, ("D", "G")), "Wh": (Wh, ("K", "G")), "b": (b, ("G",))}, True)
    n, H = x.shape[0], Wh.shape[0] // 2
    ax = x @ Wx + b  # (n, 5H)
    h, c = np.zeros((n + 1, H), dtype=x.dtype), np.zeros((n + 1, H), dtype=x.dtype)
    gates = np.zeros((n, 5 * H), dtype=x.dtype)
    for nodes, left, right in plan:
        a = ax[nodes] + np.concatenate([h[left], h[right]], axis=1) @ Wh  # (m, 5H)
        act = _sigmoid(a)
        act[:, 3 * H:4 * H] = np.tanh(a[:, 3 * H:4 * H])  # g
        i, fl, fr, g, o = (act[:, k * H:(k + 1) * H] for k in range(5))
        c[nodes] = i * g + fl * c[left] + fr * c[right]
        h[nodes] = o * np.tanh(c[nodes])
        gates[nodes] = act
    return h[:n].copy(), c[:n].copy(), (x, Wx, Wh, plan, h, c, gates)


def nary_treelstm_backward(dh, cache, dc=None):
    """Backpropagation through structure for :func:`nary_treelstm_forward`.

    Shapes: dh (n, H) (and dc (n, H) or None) -> dx (n, D), dWx (D, 5H), dWh (2H, 5H), db (5H,).
    Formula: dc_l += dc_j f_l, dc_r += dc_j f_r; [dh_l; dh_r] += da_j W_h^T.
    Chapter 8: Recursive networks.
    """
    x, Wx, Wh, plan, h, c, gates = cache
    n, H = x.shape[0], Wh.shape[0] // 2
    check_like("dh", dh, (n, H), x.dtype)
    gh, gc = np.zeros_like(h), np.zeros_like(c)
    gh[:n] = dh
    if dc is not None:
        gc[:n] = check_like("dc", dc, (n, H), x.dtype)
    dax = np.zeros((n, 5 * H), dtype=x.dtype)
    dWh = np.zeros_like(Wh)
    for nodes, left, right in reversed(plan):
        i, fl, fr, g, o = (gates[nodes, k * H:(k + 1) * H] for k in range(5))
        tc = np.tanh(c[nodes])
        dcn = gc[nodes] + gh[nodes] * o * (1 - tc ** 2)
        da = np.concatenate([dcn * g * i * (1 - i), dcn * c[left] * fl * (1 - fl),
                             dcn * c[right] * fr * (1 - fr), dcn * i * (1 - g ** 2),
                             gh[nodes] * tc * o * (1 - o)], axis=1)  # (m, 5H)
        dax[nodes] = da
        hlr = np.concatenate([h[left], h[right]], axis=1)  # (m, 2H)
        dWh += hlr.T @ da
        dchild = da @ Wh.T
        np.add.at(gh, left, dchild[:, :H])
        np.add.at(gh, right, dchild[:, H:])
        np.add.at(gc, left, dcn * fl)
        np.add.at(gc, right, dcn * fr)
    return dax @ Wx.T, x.T @ dax, dWh, dax.sum(axis=0)


# --------------------------------------------------------------------- init
def init_params(kind, D, H, *, seed=0, dtype=np.float64):
    """Random weights U(-1/sqrt(H), 1/sqrt(H)), zero biases, for ``kind`` in
    ``"treernn"`` ({We (D, H), W (2H, H), b (H,)}), ``"childsum"`` ({Wx (D, 4H), Wh (H, 4H),
    b (4H,)}) or ``"nary"`` ({Wx (D, 5H), Wh (2H, 5H), b (5H,)}). Chapter 8.
    """
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    shapes = {"treernn": {"We": (D, H), "W": (2 * H, H), "b": (H,)},
              "childsum": {"Wx": (D, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,)},
              "nary": {"Wx": (D, 5 * H), "Wh": (2 * H, 5 * H), "b": (5 * H,)}}
    if kind not in shapes:
        raise ValueError(f"kind must be one of {sorted(shapes)}, got {kind!r}")
    rng, k = np.random.default_rng(seed), 1.0 / np.sqrt(H)
    return {name: (np.zeros(s) if name == "b" else rng.uniform(-k, k, s)).astype(dtype)
            for name, s in shapes[kind].items()}
