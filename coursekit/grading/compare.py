"""Parent-side checks of what a submission returned.

Everything here runs in the grader's own process with its own numpy, on
arrays loaded with ``allow_pickle=False``. The child never says pass or fail:
it only hands back arrays, and these functions decide, with feedback a
student can act on (expected and actual shape and dtype, largest error, first
wrong index).
"""
from __future__ import annotations

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


def check_params(got: dict, shapes: dict, dims: dict | None = None, *,
                 dtype=np.float64) -> tuple[dict | None, str]:
    """Trained parameters a submission returned: present, ``dtype``, the named shapes, finite.

    ``shapes``: name -> tuple of size symbols (``{"Wx": ("D", "H"), "b": ("H",)}``);
    symbols in ``dims`` are fixed, the others are read from the first array that has
    them and must agree after that. Returns ``({name: array}, "")`` or ``(None, problem)``,
    the problem in words a student can act on. For the checks of training questions.
    """
    dims = dict(dims or {})
    for name, shape in shapes.items():
        a = got.get(name)
        if not isinstance(a, np.ndarray):
            return None, f"{name}: the trained parameters must include {name} as a numpy array"
        if a.dtype != np.dtype(dtype):
            return None, f"{name}: expected dtype {np.dtype(dtype)}, got {a.dtype}"
        if a.ndim != len(shape):
            return None, f"{name}: expected shape {shape}, got shape {a.shape}"
        for sym, n in zip(shape, a.shape):
            if dims.setdefault(sym, n) != n:
                return None, (f"{name}: expected shape {shape} with {sym}={dims[sym]}, "
                              f"got shape {a.shape}")
        if not np.isfinite(a).all():
            return None, f"{name}: contains NaN or inf"
    return {k: got[k] for k in shapes}, ""


#: check name -> function(question, case, inputs, got, expected) -> (fraction, feedback lines).
#: Checks of one assignment live in its folder (``checks.py``) and are named
#: ``"checks:function"``; see :func:`coursekit.grading.loader.resolve_check`.
CHECKS: dict[str, Callable] = {"match": match}
