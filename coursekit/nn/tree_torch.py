"""PyTorch twins of :mod:`coursekit.nn.tree`, batched by topological level.

Every node of one level, across every tree of a batch (a forest, see
:func:`coursekit.data.trees.forest`), is computed in one matrix product; the
levels run in order, leaves first. :func:`level_plan` turns a child list into
the index tensors of that schedule once, so a batch can be reused. Autograd does
the backward pass (backpropagation through structure, level by level in reverse).

- :class:`TreeRNN`: leaf ``h_j = x_j W_e``, binary node ``h_j = tanh([h_l; h_r] W + b)``;
- :class:`ChildSumTreeLSTM`: gates ``i, f, g, o``, one forget gate per child;
- :class:`BinaryTreeLSTM`: gates ``i, f_l, f_r, g, o``, left and right weights apart;
- :func:`node_by_node`: the same module, one node at a time (the recursion that the
  level batching replaces; chapter 8 times the two).

The parameters have the numpy names and shapes (``Wx``, ``Wh``, ``b``, ...):
``module.load_numpy(params)`` / ``module.numpy_params()`` convert.
Chapter 8: Recursive networks.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from coursekit._validate import check_positive_int
from coursekit.data.trees import check_children, levels

__all__ = ["BinaryTreeLSTM", "ChildSumTreeLSTM", "TreeRNN", "level_plan", "node_by_node"]


def level_plan(children, *, binary, device=None):
    """The schedule of a level-batched pass, as index tensors on ``device``.

    Returns a dict: ``n`` (nodes), ``levels`` a list, level 0 first, of
    ``(nodes, left, right)`` (binary; a leaf's children point to the zero row ``n``)
    or ``(nodes, pos, chi)`` (edge ``e`` joins child ``chi[e]`` to ``nodes[pos[e]]``).
    """
    kids = check_children(children)
    n = len(kids)
    if binary:
        bad = [j for j, row in enumerate(kids) if len(row) not in (0, 2)]
        if bad:
            raise ValueError(f"children[{bad[0]}] has {len(kids[bad[0]])} children; a binary tree "
                             f"network needs 0 or 2 (see coursekit.data.trees.binarize)")
    lev = levels(kids)
    order = np.argsort(lev, kind="stable")
    bounds = np.searchsorted(lev[order], np.arange(int(lev.max()) + 2))
    as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64), device=device)
    out = []
    for k in range(len(bounds) - 1):
        nodes = order[bounds[k]:bounds[k + 1]]
        if binary:
            left = [kids[j][0] if kids[j] else n for j in nodes]
            right = [kids[j][1] if kids[j] else n for j in nodes]
            out.append((as_t(nodes), as_t(left), as_t(right)))
        else:
            pos = [p for p, j in enumerate(nodes) for _ in kids[j]]
            chi = [c for j in nodes for c in kids[j]]
            out.append((as_t(nodes), as_t(pos), as_t(chi)))
    return {"n": n, "binary": binary, "levels": out}


class _TreeModule(nn.Module):
    """Shared parts: parameters from shapes, numpy conversion, input checks."""

    binary = True
    shapes: ClassVar[dict] = {}

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        D, H = check_positive_int("input_size", input_size), check_positive_int("hidden_size", hidden_size)
        self.input_size, self.hidden_size = D, H
        k = 1.0 / H ** 0.5
        for name, shape in self.shapes.items():
            size = tuple(D if s == "D" else int(s[0]) * H for s in shape)  # "4H" -> 4 * H
            t = torch.empty(size, device=device, dtype=dtype)
            setattr(self, name, nn.Parameter(t.zero_() if name == "b" else t.uniform_(-k, k)))

    def load_numpy(self, params):
        """Copy numpy arrays (the names of :func:`coursekit.nn.tree.init_params`) into the parameters."""
        with torch.no_grad():
            for name in self.shapes:
                p = getattr(self, name)
                value = torch.as_tensor(np.asarray(params[name]))
                if tuple(value.shape) != tuple(p.shape):
                    raise ValueError(f"params[{name!r}] must have shape {tuple(p.shape)}, got {tuple(value.shape)}")
                p.copy_(value.to(p))
        return self

    def numpy_params(self):
        """The parameters as float64 numpy arrays."""
        return {name: getattr(self, name).detach().cpu().to(torch.float64).numpy().copy()
                for name in self.shapes}

    def _inputs(self, x, tree):
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"x must be a torch.Tensor of shape (n, {self.input_size})")
        plan = tree if isinstance(tree, dict) else level_plan(tree, binary=self.binary, device=x.device)
        if plan["binary"] != self.binary or plan["n"] != x.shape[0]:
            raise ValueError(f"the tree plan must be {'binary' if self.binary else 'child-sum'} with "
                             f"{x.shape[0]} nodes (one per row of x), got {plan['n']} nodes")
        return plan


class TreeRNN(_TreeModule):
    """Socher's recursive network over binary trees, level-batched.

    Shapes: x (n, D), tree (children or a :func:`level_plan`) -> h (n, H);
    parameters We (D, H), W (2H, H), b (H,).
    Formula: leaf h_j = x_j W_e; internal h_j = tanh([h_l; h_r] W + b).
    Chapter 8: Recursive networks.
    """

    shapes: ClassVar[dict] = {"We": ("D", "1H"), "W": ("2H", "1H"), "b": ("1H",)}

    def forward(self, x, tree):
        plan = self._inputs(x, tree)
        n, H = plan["n"], self.hidden_size
        h = x.new_zeros(n + 1, H)
        leaves = plan["levels"][0][0]
        h = h.index_copy(0, leaves, x[leaves] @ self.We)
        for nodes, left, right in plan["levels"][1:]:
            new = torch.tanh(torch.cat([h[left], h[right]], dim=1) @ self.W + self.b)  # (m, H)
            h = h.index_copy(0, nodes, new)
        return h[:n]

    def cell(self, x_j, kids):
        """One node: x_j (1, D), kids a list of (h_k,) -> (h_j,)."""
        if not kids:
            return (x_j @ self.We,)
        return (torch.tanh(torch.cat([kids[0][0], kids[1][0]], dim=1) @ self.W + self.b),)


class ChildSumTreeLSTM(_TreeModule):
    """The child-sum Tree-LSTM (Tai et al. 2015), level-batched; gates i, f, g, o.

    Shapes: x (n, D), tree (children or a :func:`level_plan`) -> h (n, H), c (n, H);
    parameters Wx (D, 4H), Wh (H, 4H), b (4H,).
    Formula: as :func:`coursekit.nn.tree.childsum_treelstm_forward`.
    Chapter 8: Recursive networks.
    """

    binary = False
    shapes: ClassVar[dict] = {"Wx": ("D", "4H"), "Wh": ("1H", "4H"), "b": ("4H",)}

    def forward(self, x, tree):
        plan = self._inputs(x, tree)
        n, H = plan["n"], self.hidden_size
        ax = x @ self.Wx + self.b  # (n, 4H): input terms of every node at once
        h, c = x.new_zeros(n, H), x.new_zeros(n, H)
        for nodes, pos, chi in plan["levels"]:
            m = nodes.shape[0]
            hsum = x.new_zeros(m, H).index_add(0, pos, h[chi])  # h~ = sum of the children's h
            a = ax[nodes] + hsum @ self.Wh  # (m, 4H)
            f = torch.sigmoid(ax[nodes[pos], H:2 * H] + h[chi] @ self.Wh[:, H:2 * H])  # (E, H)
            fc = x.new_zeros(m, H).index_add(0, pos, f * c[chi])
            c_new = torch.sigmoid(a[:, :H]) * torch.tanh(a[:, 2 * H:3 * H]) + fc
            h = h.index_copy(0, nodes, torch.sigmoid(a[:, 3 * H:]) * torch.tanh(c_new))
            c = c.index_copy(0, nodes, c_new)
        return h, c

    def cell(self, x_j, kids):
        """One node: x_j (1, D), kids a list of (h_k, c_k) -> (h_j, c_j)."""
        H = self.hidden_size
        ax = x_j @ self.Wx + self.b
        hsum = sum((k[0] for k in kids), x_j.new_zeros(1, H))
        a = ax + hsum @ self.Wh
        c = torch.sigmoid(a[:, :H]) * torch.tanh(a[:, 2 * H:3 * H])
        for h_k, c_k in kids:
            c = c + torch.sigmoid(ax[:, H:2 * H] + h_k @ self.Wh[:, H:2 * H]) * c_k
        return torch.sigmoid(a[:, 3 * H:]) * torch.tanh(c), c


class BinaryTreeLSTM(_TreeModule):
    """The binary (N-ary) Tree-LSTM (Tai et al. 2015), level-batched; gates i, f_l, f_r, g, o.

    Shapes: x (n, D), tree (binary children or a :func:`level_plan`) -> h (n, H), c (n, H);
    parameters Wx (D, 5H), Wh (2H, 5H), b (5H,).
    Formula: as :func:`coursekit.nn.tree.nary_treelstm_forward`.
    Chapter 8: Recursive networks.
    """

    shapes: ClassVar[dict] = {"Wx": ("D", "5H"), "Wh": ("2H", "5H"), "b": ("5H",)}

    def _node(self, a, c_l, c_r):
        H = self.hidden_size
        i, fl, fr, o = (torch.sigmoid(a[:, k * H:(k + 1) * H]) for k in (0, 1, 2, 4))
        c = i * torch.tanh(a[:, 3 * H:4 * H]) + fl * c_l + fr * c_r
        return o * torch.tanh(c), c

    def forward(self, x, tree):
        plan = self._inputs(x, tree)
        n, H = plan["n"], self.hidden_size
        ax = x @ self.Wx + self.b  # (n, 5H)
        h, c = x.new_zeros(n + 1, H), x.new_zeros(n + 1, H)
        for nodes, left, right in plan["levels"]:
            a = ax[nodes] + torch.cat([h[left], h[right]], dim=1) @ self.Wh
            h_new, c_new = self._node(a, c[left], c[right])
            h, c = h.index_copy(0, nodes, h_new), c.index_copy(0, nodes, c_new)
        return h[:n], c[:n]

    def cell(self, x_j, kids):
        """One node: x_j (1, D), kids [] or [(h_l, c_l), (h_r, c_r)] -> (h_j, c_j)."""
        zero = x_j.new_zeros(1, self.hidden_size)
        (hl, cl), (hr, cr) = kids if kids else ((zero, zero), (zero, zero))
        return self._node(x_j @ self.Wx + self.b + torch.cat([hl, hr], dim=1) @ self.Wh, cl, cr)


def node_by_node(module, x, children):
    """Run a tree module one node at a time (the plain recursion), children before parents.

    Shapes: x (n, D) -> h (n, H) (and c (n, H) for the Tree-LSTMs), as ``module(x, children)``.
    Chapter 8: Recursive networks.
    """
    kids = check_children(children)
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] != len(kids):
        raise ValueError(f"x must be a torch.Tensor of shape ({len(kids)}, D), one row per node")
    states = []
    for j, row in enumerate(kids):
        states.append(module.cell(x[j:j + 1], [states[k] for k in row]))
    out = tuple(torch.cat([s[i] for s in states], dim=0) for i in range(len(states[0])))
    return out[0] if len(out) == 1 else out
