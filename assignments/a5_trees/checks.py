"""Checks of assignment 5 (networks over trees), named in its ``tests.py``.

- :func:`listops_accuracy`: the grader takes the weights a submission trained
  (``E``, ``W``, ``b`` of the child-sum recursive network, ``Wy``, ``by`` of the read-out),
  draws fresh ListOps expressions itself (depths 1 and 2, ``MAX`` and ``MIN``, from a seed
  derived from the case's inputs), runs them through the *reference* forward pass and scores
  the fraction whose root is classified right.

Signature of :data:`coursekit.grading.compare.CHECKS`:
``check(question, case, inputs, got, expected) -> (fraction, feedback lines)``.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .reference import listops_batch, tree_rnn_forward


def listops_accuracy(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """Root accuracy of the submitted recursive network on ``options["n_eval"]`` fresh trees."""
    from coursekit.data import listops
    from coursekit.grading.compare import check_params

    H = int(question.options["hidden"])
    V = len(listops.VOCAB)
    shapes = {"E": ("V", "H"), "W": ("H", "H"), "b": ("H",), "Wy": ("H", "K"), "by": ("K",)}
    params, problem = check_params(got, shapes, {"V": V, "H": H, "K": 10})
    if params is None:
        return 0.0, [problem + f" (V={V} tokens, H={H}, K=10 classes)"]
    p = {k: np.asarray(a, dtype=np.float64) for k, a in params.items()}
    u = np.ascontiguousarray(inputs[question.options["data"]])
    seed = int.from_bytes(hashlib.sha256(u.tobytes()).digest()[:8], "little")
    n = int(question.options["n_eval"]) // 2
    exprs, values, _ = listops.dataset(n, (1, 2), seed=seed, operators=("MAX", "MIN"))
    ids, parent, roots = listops_batch(exprs)
    h, _ = tree_rnn_forward(ids, parent, p["E"], p["W"], p["b"])
    pred = (h[roots] @ p["Wy"] + p["by"]).argmax(axis=1)
    acc = float((pred == values).mean())
    full, half = question.options["accuracy"], question.options["half_accuracy"]
    frac = 1.0 if acc >= full else 0.5 if acc >= half else 0.0
    lines = [(f"accuracy of your trained network on {len(exprs)} fresh ListOps expressions (depths "
             f"1-2, MAX and MIN), computed by the grader: {acc:.3f} (full points from {full:.2f}, "
             f"half from {half:.2f}; chance is about 0.10)")]
    if frac < 1.0:
        lines.append("the grader reads the root of each tree: scores = h_root @ Wy + by, with h "
                     "from the child-sum recursive network of q2 on the n-ary tree (operator "
                     "tokens at the internal nodes, digits at the leaves, ids from "
                     "coursekit.data.listops.TOKEN_ID)")
    return frac, lines
