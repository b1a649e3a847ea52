"""ListOps (Nangia and Bowman 2018): nested list operations on digits, generated with fixed seeds.

An expression is a digit ``0..9`` or an operator applied to 2..``max_args``
arguments, each an expression::

    (MAX 2 (MIN 3 4) 5)  = 5        MAX, MIN   largest / smallest argument
    (MED 1 7 (SM 5 9))   = 4        MED        median (of an even count: the mean of the
                                               middle two, truncated, as the paper's code)
                                    SM         sum modulo 10

The answer is one of ten classes. Structure matters: the value of a
subexpression is needed before its parent can be computed, so a model that
reads the tree bottom-up has each intermediate result where it needs it,
while a sequential model must keep a stack of partial results in its state.

Expressions are nested tuples ``(op, [args])`` (a digit is an ``int``). The
generator follows the paper's rules (operators, digits, 2..``max_args``
arguments, nesting under a depth limit); unlike its one-pass sampler, it draws
an expression of an *exact* depth (one argument on the deepest path, the others
digits or shallower subexpressions), so every depth gets the same number of test
examples. The views a model reads:

- :func:`tokens`: ``[MAX 2 [MIN 3 4 ] 5 ]``, the paper's token sequence (for the
  sequential LSTM and bidirectional LSTM);
- :func:`binary_tree`: those same tokens as the leaves of a binary tree, each
  operator folded left with its arguments and a closing ``]`` (the paper's trees);
- :func:`to_string` / :func:`from_string`: the bracketed form ``(MAX 2 (MIN 3 4) 5)``.

Nothing is downloaded: the data is this generator with fixed seeds.
Chapter 8: Recursive networks; assignment 5.
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import check_positive_int
from coursekit.data.trees import binarize, parse_tree

__all__ = [
    "OPERATORS",
    "VOCAB",
    "binary_tree",
    "dataset",
    "depth",
    "evaluate",
    "from_string",
    "nary_tree",
    "random_expression",
    "subexpressions",
    "to_string",
    "token_ids",
    "tokens",
]

OPERATORS = ("MAX", "MIN", "MED", "SM")
END = "]"
#: token vocabulary: id 0 is padding (and the input of internal tree nodes).
VOCAB = ("<pad>",) + tuple(f"[{op}" for op in OPERATORS) + (END,) + tuple(str(d) for d in range(10))
TOKEN_ID = {t: i for i, t in enumerate(VOCAB)}


def _apply(op, values):
    if op == "MAX":
        return max(values)
    if op == "MIN":
        return min(values)
    if op == "MED":
        return int(np.median(values))
    if op == "SM":
        return sum(values) % 10
    raise ValueError(f"op must be one of {OPERATORS}, got {op!r}")


def evaluate(expr) -> int:
    """The value (0..9) of an expression: a digit, or ``(op, [args])``."""
    if isinstance(expr, (int, np.integer)) and not isinstance(expr, bool):
        if not 0 <= expr <= 9:
            raise ValueError(f"expr: a leaf must be a digit 0..9, got {expr}")
        return int(expr)
    if not (isinstance(expr, tuple) and len(expr) == 2 and isinstance(expr[1], (list, tuple))
            and len(expr[1]) >= 1):
        raise ValueError(f"expr must be a digit or a pair (op, [args]), got {expr!r}")
    return _apply(expr[0], [evaluate(a) for a in expr[1]])


def depth(expr) -> int:
    """Nesting depth: 0 for a digit, 1 + the deepest argument for an operator."""
    if not isinstance(expr, tuple):
        return 0
    return 1 + max(depth(a) for a in expr[1])


def random_expression(rng, d, *, max_args=4, p_digit=0.65, operators=OPERATORS):
    """One expression of depth exactly ``d`` (``d = 0``: a digit).

    The operator is uniform over ``operators`` (default all of :data:`OPERATORS`), the argument
    count uniform in
    2..``max_args``; one argument (at a random position) has depth ``d - 1``, each other
    is a digit with probability ``p_digit``, else an expression of a depth uniform in
    ``1..d-1``.
    """
    if d == 0:
        return int(rng.integers(10))
    op = operators[int(rng.integers(len(operators)))]
    k = int(rng.integers(2, max_args + 1))
    spine = int(rng.integers(k))
    args = []
    for a in range(k):
        if a == spine:
            args.append(random_expression(rng, d - 1, max_args=max_args, p_digit=p_digit,
                                          operators=operators))
        elif d == 1 or rng.random() < p_digit:
            args.append(int(rng.integers(10)))
        else:
            args.append(random_expression(rng, int(rng.integers(1, d)), max_args=max_args,
                                          p_digit=p_digit, operators=operators))
    return (op, args)


def dataset(n_per_depth, depths, *, seed=0, max_args=4, p_digit=0.65, operators=OPERATORS):
    """``n_per_depth`` expressions of each depth in ``depths``, with their values.

    Returns ``(exprs, values (N,) int64, depths (N,) int64)``, ordered by depth.
    The same arguments give the same data (``numpy.random.default_rng(seed)``).
    """
    n = check_positive_int("n_per_depth", n_per_depth)
    bad = [op for op in operators if op not in OPERATORS]
    if bad or not operators:
        raise ValueError(f"operators must be a non-empty subset of {OPERATORS}, got {operators!r}")
    rng = np.random.default_rng(seed)
    exprs, ds = [], []
    for d in depths:
        d = check_positive_int("depths[i]", d)
        for _ in range(n):
            exprs.append(random_expression(rng, d, max_args=max_args, p_digit=p_digit,
                                           operators=tuple(operators)))
            ds.append(d)
    return exprs, np.array([evaluate(e) for e in exprs], dtype=np.int64), np.array(ds, dtype=np.int64)


def to_string(expr) -> str:
    """``(MAX 2 (MIN 3 4) 5)``."""
    if not isinstance(expr, tuple):
        return str(expr)
    return "(" + " ".join([expr[0]] + [to_string(a) for a in expr[1]]) + ")"


def from_string(text: str):
    """The inverse of :func:`to_string` (through :func:`coursekit.data.trees.parse_tree`)."""
    labels, children = parse_tree(text)

    def build(j):
        if not children[j]:
            if not labels[j].isdigit():
                raise ValueError(f"text: a leaf must be a digit, got {labels[j]!r}")
            return int(labels[j])
        if labels[j] not in OPERATORS:
            raise ValueError(f"text: {labels[j]!r} is not an operator of {OPERATORS}")
        return (labels[j], [build(k) for k in children[j]])
    return build(len(labels) - 1)


def tokens(expr) -> list[str]:
    """The paper's token sequence: ``[MAX 2 [MIN 3 4 ] 5 ]``."""
    if not isinstance(expr, tuple):
        return [str(expr)]
    return [f"[{expr[0]}"] + [t for a in expr[1] for t in tokens(a)] + [END]


def token_ids(expr) -> np.ndarray:
    """:func:`tokens` as ids into :data:`VOCAB`, (T,) int64."""
    return np.array([TOKEN_ID[t] for t in tokens(expr)], dtype=np.int64)


def nary_tree(expr):
    """``(labels, children)`` of the n-ary tree: operators at internal nodes, digits at leaves."""
    return parse_tree(to_string(expr))


def binary_tree(expr):
    """The binary tree over the tokens: -> (ids (n,) int64, children, is_leaf (n,) bool).

    Leaves, read left to right, are exactly :func:`tokens`; internal nodes have id 0
    (no input of their own). A node that closes a subexpression (its right child is a
    ``]``) holds that subexpression's value once a model has read it.
    """
    labels, children = nary_tree(expr)
    labels = [f"[{lab}" if lab in OPERATORS and children[j] else lab for j, lab in enumerate(labels)]
    blabels, bchildren = binarize(labels, children, end=END)
    ids = np.array([0 if lab is None else TOKEN_ID[lab] for lab in blabels], dtype=np.int64)
    return ids, bchildren, np.array([lab is not None for lab in blabels])


def subexpressions(expr):
    """Every operator subexpression, innermost first: [(expr, value, node)], where ``node``
    is the index in :func:`binary_tree` of the node that closes it (its right child is ``]``)."""
    ids, children, _ = binary_tree(expr)
    closing = [j for j, row in enumerate(children) if row and ids[row[1]] == TOKEN_ID[END]]
    out = []

    def walk(e):  # post-order: the order in which the closing nodes were created
        if isinstance(e, tuple):
            for a in e[1]:
                walk(a)
            out.append((e, evaluate(e)))
    walk(expr)
    return [(e, v, j) for (e, v), j in zip(out, closing)]
