"""Parent-side checks of what a submission returned.

Everything here runs in the grader's own process with its own numpy, on
arrays loaded with ``allow_pickle=False``. The child never says pass or fail:
it only hands back arrays, and these functions decide, with feedback a
student can act on (expected and actual shape and dtype, largest error, first
wrong index).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

NUMERIC_KINDS = "biuf"


def _idx(index) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")" if len(index) else "()"


def _num(x) -> str:
    return f"{float(x):.6g}"


def compare_array(name: str, got, expected: np.ndarray, *, atol: float, rtol: float,
                  scalar: bool = False) -> tuple[bool, str]:
    """Check one returned value against the reference.

    Returns ``(ok, message)``; the message says what is wrong (or ``"ok"``).
    Order of checks: present, array, numeric dtype, dtype (the inputs' dtype;
    any float for a scalar), shape, finite, values within
    ``|got - expected| <= atol + rtol * |expected|``.
    """
    expected = np.asarray(expected)
    if got is None:
        return False, f"{name}: no value came back"
    if not isinstance(got, np.ndarray):
        return False, f"{name}: expected a numpy array, got {type(got).__name__}"
    if got.dtype.kind not in NUMERIC_KINDS:
        return False, f"{name}: expected a numeric array, got dtype {got.dtype}"
    if scalar:
        if got.shape not in ((), (1,)):
            return False, f"{name}: expected a single number (shape ()), got shape {got.shape}"
        got = got.reshape(())
        if got.dtype.kind != "f":
            got = got.astype(np.float64)
    elif got.dtype != expected.dtype:
        return False, (f"{name}: expected dtype {expected.dtype} (the dtype of the inputs), "
                       f"got {got.dtype}")
    if got.shape != expected.shape:
        return False, f"{name}: expected shape {expected.shape}, got shape {got.shape}"
    finite = np.isfinite(got)
    if not finite.all():
        first = np.argwhere(~finite)[0] if got.ndim else ()
        return False, (f"{name}: {int((~finite).sum())} of {got.size} entries are NaN or inf "
                       f"(first at index {_idx(first)})")
    g = got.astype(np.float64)
    e = expected.astype(np.float64)
    err = np.abs(g - e)
    bad = err > atol + rtol * np.abs(e)
    if not bad.any():
        return True, f"{name}: ok (largest error {_num(err.max()) if err.size else 0})"
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    first = np.argwhere(bad)[0] if err.ndim else ()
    return False, (f"{name}: {int(bad.sum())} of {bad.size} entries are wrong; largest error "
                   f"{_num(err[worst])} at index {_idx(worst)} (expected {_num(e[worst])}, "
                   f"got {_num(g[worst])}); first wrong index {_idx(first)}")


def match(question, case, inputs: dict, got: dict, expected: dict) -> tuple[float, list[str]]:
    """All outputs must match the reference: fraction 1.0 or 0.0, and a line per output."""
    atol, rtol = question.tolerance(case.dtype)
    lines, ok_all = [], True
    for out in question.outputs:
        ok, msg = compare_array(out.name, got.get(out.name), expected[out.name],
                                atol=atol, rtol=rtol, scalar=out.scalar)
        ok_all &= ok
        lines.append(msg)
    return (1.0 if ok_all else 0.0), lines


CHARLM_PARAMS = {"W_embed": ("V", "D"), "Wx": ("D", "H"), "Wh": ("H", "H"), "b": ("H",),
                 "W_out": ("H", "V"), "b_out": ("V",)}


def charlm_loss(params: dict, ids: np.ndarray) -> float:
    """Per-character cross-entropy of a char RNN on ``ids``, with the coursekit references.

    Shapes: params as :data:`CHARLM_PARAMS`, ids (L,) ints -> loss in nats per character.
    Formula: embed, run the tanh RNN from h_0 = 0, o_t = W_out^T h_t + b_out,
    loss = -(1/(L-1)) sum_t log softmax(o_t)[ids_{t+1}].
    """
    from coursekit import layers, rnn
    x, y = ids[None, :-1], ids[None, 1:]  # (1, L-1)
    emb, _ = layers.embedding_forward(x, params["W_embed"])  # (1, L-1, D)
    h0 = np.zeros((1, params["Wh"].shape[0]), params["Wh"].dtype)
    h, _ = rnn.rnn_forward(emb, h0, params["Wx"], params["Wh"], params["b"])  # (1, L-1, H)
    scores, _ = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, _ = layers.temporal_softmax_loss(scores, y)
    return float(loss) / x.shape[1]


def charlm_loss_drops(question, case, inputs: dict, got: dict, expected) -> tuple[float, list[str]]:
    """A trained char model must predict its training text well.

    The grader recomputes the loss from the returned weights with its own
    reference functions and compares it with ln V (the loss of a uniform guess).
    Full points when the loss is below ``options["ratio"] * ln V``.
    """
    V = int(case.sizes["V"])
    dims: dict = {"V": V}
    lines = []
    for name, shape in CHARLM_PARAMS.items():
        a = got.get(name)
        if a is None or not isinstance(a, np.ndarray):
            return 0.0, [f"{name}: the trained parameters must include {name} as a numpy array"]
        if a.dtype != np.float64:
            return 0.0, [f"{name}: expected dtype float64, got {a.dtype}"]
        if a.ndim != len(shape):
            return 0.0, [f"{name}: expected shape {shape}, got shape {a.shape}"]
        for sym, n in zip(shape, a.shape):
            if dims.setdefault(sym, n) != n:
                return 0.0, [f"{name}: expected shape {shape} with {sym}={dims[sym]}, "
                             f"got shape {a.shape}"]
        if not np.isfinite(a).all():
            return 0.0, [f"{name}: contains NaN or inf"]
    loss = charlm_loss({k: got[k] for k in CHARLM_PARAMS}, inputs[question.options["data"]])
    target = question.options["ratio"] * math.log(V)
    lines.append(f"loss of your trained model on the training text, recomputed by the grader: "
                 f"{loss:.4f} nats/char (uniform guessing: ln {V} = {math.log(V):.4f}; "
                 f"needed below {target:.4f})")
    return (1.0 if loss < target else 0.0), lines


#: check name -> function(question, case, inputs, got, expected) -> (fraction, feedback lines)
CHECKS: dict[str, Callable] = {"match": match, "charlm_loss_drops": charlm_loss_drops}


def resolve_check(name: str) -> Callable:
    """The check function a question names.

    ``name`` is a key of :data:`CHECKS`, or ``"module:function"`` for a check
    that an assignment adds in its own module inside ``coursekit.grading``
    (importable both by the grader and in the student's kernel for ``check()``).
    """
    if name in CHECKS:
        return CHECKS[name]
    module, sep, func = name.partition(":")
    if not sep or not module.startswith("coursekit.grading."):
        raise ValueError(f"unknown check {name!r}: use one of {sorted(CHECKS)} or "
                         f"'coursekit.grading.<module>:<function>'")
    import importlib
    return getattr(importlib.import_module(module), func)
