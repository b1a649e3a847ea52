"""Trees as plain data: child lists, bracketed strings, depths, topological levels and forests.

A tree (or a forest of trees) with ``n`` nodes is ``children``: a list over the
nodes ``0..n-1`` of child-index lists, every child before its parent, so the
root of a tree is its last node. Node inputs are a separate array ``x`` of shape
``(n, D)`` (zero rows where an internal node has no input of its own).

Labels are listed in the same order as the nodes, children first (post-order):
:func:`parse_tree` turns ``"(MAX 2 (MIN 3 4) 5)"`` into the nodes
``2, 3, 4, MIN, 5, MAX`` with ``children = [[], [], [], [1, 2], [], [0, 3, 4]]``.

- :func:`depths`: distance from the root (the root is 0);
- :func:`levels`: the topological level (height): leaves are 0, a parent is one
  more than its highest child. Every node of level ``k`` needs only nodes of
  levels ``< k``, so a whole level is computed at once (chapter 8's batching);
- :func:`forest`: many trees as one, their node indices offset;
- :func:`binarize`: an n-ary tree as a binary one, the operator as first leaf
  folded left with its arguments (the layout of ListOps' trees).

Chapter 8: Recursive networks.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "binarize",
    "check_children",
    "depths",
    "forest",
    "level_groups",
    "levels",
    "parents",
    "parse_tree",
    "roots",
    "to_bracketed",
]


def check_children(children, name: str = "children") -> list[list[int]]:
    """Validate a child list: every child an earlier node, each node the child of at most one.

    Returns the children as a list of lists of Python ints. Raises ``ValueError``
    naming ``name`` and the first offending node.
    """
    if not isinstance(children, (list, tuple)):
        raise TypeError(f"{name} must be a list over nodes of child-index lists, "
                        f"got {type(children).__name__}")
    if len(children) == 0:
        raise ValueError(f"{name} must describe at least one node, got an empty list")
    out, parent = [], {}
    for j, kids in enumerate(children):
        if not isinstance(kids, (list, tuple, np.ndarray)):
            raise TypeError(f"{name}[{j}] must be a list of child indices, got {type(kids).__name__}")
        row = []
        for k in kids:
            if type(k) is not int:
                if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
                    raise ValueError(f"{name}[{j}] must hold integer node indices, got {k!r}")
                k = int(k)
            if not 0 <= k < j:
                raise ValueError(f"{name}[{j}] lists child {k}: every child must be an earlier "
                                 f"node (children before their parents, 0 <= child < {j})")
            if k in parent:
                raise ValueError(f"{name}: node {k} is a child of both node {parent[k]} and node {j}")
            parent[k] = j
            row.append(k)
        out.append(row)
    return out


def roots(children) -> list[int]:
    """The nodes that are nobody's child (one per tree of a forest), in index order."""
    kids = check_children(children)
    used = {k for row in kids for k in row}
    return [j for j in range(len(kids)) if j not in used]


def _tokens(text: str) -> list[str]:
    return text.replace("(", " ( ").replace(")", " ) ").split()


def parse_tree(text: str) -> tuple[list[str], list[list[int]]]:
    """Parse a bracketed string: ``(LABEL child child ...)``, a bare token is a leaf.

    Returns ``(labels, children)`` with nodes in post-order (children before
    parents, the root last). ``"(MAX 2 (MIN 3 4) 5)"`` gives labels
    ``['2', '3', '4', 'MIN', '5', 'MAX']`` and children
    ``[[], [], [], [1, 2], [], [0, 3, 4]]``.
    Chapter 8: Recursive networks.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    toks = _tokens(text)
    if not toks:
        raise ValueError("text must hold a tree, got an empty string")
    labels, children, pos = [], [], 0

    def node():
        nonlocal pos
        if pos >= len(toks):
            raise ValueError(f"text ends inside a bracket: {text!r}")
        tok = toks[pos]
        pos += 1
        if tok == ")":
            raise ValueError(f"text has an unexpected ')' at token {pos - 1}: {text!r}")
        if tok != "(":
            labels.append(tok)
            children.append([])
            return len(labels) - 1
        if pos >= len(toks) or toks[pos] in "()":
            raise ValueError(f"text: every '(' must be followed by a label, in {text!r}")
        label = toks[pos]
        pos += 1
        kids = []
        while pos < len(toks) and toks[pos] != ")":
            kids.append(node())
        if pos >= len(toks):
            raise ValueError(f"text ends inside a bracket (missing ')'): {text!r}")
        pos += 1
        labels.append(label)
        children.append(kids)
        return len(labels) - 1

    node()
    if pos != len(toks):
        raise ValueError(f"text must hold one tree; extra tokens after position {pos}: {text!r}")
    return labels, children


def to_bracketed(labels, children, node: int | None = None) -> str:
    """The inverse of :func:`parse_tree`: the bracketed string of ``node`` (default: the last)."""
    kids = check_children(children)
    if len(labels) != len(kids):
        raise ValueError(f"labels must have one entry per node ({len(kids)}), got {len(labels)}")
    j = len(kids) - 1 if node is None else node
    if not kids[j]:
        return str(labels[j])
    return "(" + " ".join([str(labels[j])] + [to_bracketed(labels, kids, k) for k in kids[j]]) + ")"


def levels(children) -> np.ndarray:
    """Topological level of every node: 0 for a leaf, 1 + the largest child level otherwise.

    Shapes: children of n nodes -> (n,) int64.
    Formula: level(j) = 0 if C(j) is empty, else 1 + max_{k in C(j)} level(k).
    Chapter 8: Recursive networks.
    """
    kids = check_children(children)
    out = np.zeros(len(kids), dtype=np.int64)
    for j, row in enumerate(kids):  # children come first, so their levels are known
        if row:
            out[j] = 1 + max(out[k] for k in row)
    return out


def level_groups(children) -> list[np.ndarray]:
    """Node indices of each level, level 0 (the leaves) first: the schedule of a batched pass."""
    lev = levels(children)
    return [np.flatnonzero(lev == k) for k in range(int(lev.max()) + 1)]


def depths(children) -> np.ndarray:
    """Depth of every node: the number of edges up to its tree's root (a root is 0).

    Shapes: children of n nodes -> (n,) int64.
    Chapter 8: Recursive networks.
    """
    kids = check_children(children)
    out = np.zeros(len(kids), dtype=np.int64)
    for j in reversed(range(len(kids))):  # parents come after children: walk down from the roots
        for k in kids[j]:
            out[k] = out[j] + 1
    return out


def forest(trees) -> tuple[list[list[int]], list[int]]:
    """Many trees as one child list, node indices offset: -> (children, root of each tree).

    ``trees`` is a sequence of child lists. Children still come before parents,
    so every function here (and every tree network) runs on the forest at once.
    """
    out, root_ids, offset = [], [], 0
    for t, tree in enumerate(trees):
        kids = check_children(tree, f"trees[{t}]")
        out.extend([[k + offset for k in row] for row in kids])
        offset += len(kids)
        root_ids.append(offset - 1)
    return out, root_ids


def binarize(labels, children, end: str | None = None) -> tuple[list[str | None], list[list[int]]]:
    """An n-ary tree as a binary one: a node ``(OP a1 ... ak)`` becomes ``((((OP a1) a2) ...) ak)``.

    The operator becomes the first leaf and is folded left with its arguments (with
    ``end``, a closing leaf such as ``"]"`` is folded in last, as in ListOps). New
    internal nodes have the label ``None``. Returns ``(labels, children)``, every
    internal node with exactly two children.
    Chapter 8: Recursive networks.
    """
    kids = check_children(children)
    new_labels, new_children = [], []

    def add(label, row):
        new_labels.append(label)
        new_children.append(row)
        return len(new_labels) - 1

    def build(j):
        if not kids[j]:
            return add(labels[j], [])
        acc = add(labels[j], [])
        tail = [build(k) for k in kids[j]]
        for k in tail:
            acc = add(None, [acc, k])
        if end is not None:
            acc = add(None, [acc, add(end, [])])
        return acc

    build(len(kids) - 1)
    return new_labels, new_children


def parents(children) -> np.ndarray:
    """The parent of every node, -1 for a root: (n,) int64 (the "head" array a dependency
    parser writes). The children of a node are the nodes naming it, in index order."""
    kids = check_children(children)
    out = np.full(len(kids), -1, dtype=np.int64)
    for j, row in enumerate(kids):
        out[row] = j
    return out
