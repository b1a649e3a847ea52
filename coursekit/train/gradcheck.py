"""Finite-difference gradient checking.

Every backward pass in coursekit is checked against centred finite
differences (chapter 1, "Checking a gradient"):

.. math::

    \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h}

with a relative error

.. math::

    \\mathrm{rel}(a, b) = \\max_i \\frac{|a_i - b_i|}{\\max(|a_i| + |b_i|, \\epsilon)}

Use float64 for checks: in float32 the rounding error of the difference
quotient swamps the truncation error and relative errors near 1e-3 are normal.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def rel_error(a, b, eps: float = 1e-12) -> float:
    """Largest elementwise relative error ``|a-b| / max(|a|+|b|, eps)``.

    Accepts arrays of any (equal) shape or scalars; returns a float.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got a{a.shape} and b{b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Gradient of the scalar ``f()`` with respect to ``x``, by centred differences.

    ``f`` takes no arguments and reads ``x`` (which is perturbed in place and
    restored). Returns an array shaped like ``x``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = float(f())
        x[i] = old - h
        fm = float(f())
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_array(f: Callable[[], np.ndarray], x: np.ndarray, df: np.ndarray,
                             h: float = 1e-6) -> np.ndarray:
    """Gradient of ``sum(f() * df)`` with respect to ``x``: the vector-Jacobian product.

    This checks a layer's backward pass in isolation: ``df`` plays the
    upstream gradient, and the result is what ``backward(df)`` must return
    for ``x``.
    """
    if not isinstance(df, np.ndarray):
        raise TypeError(f"df must be a numpy.ndarray, got {type(df).__name__}")
    return numerical_gradient(lambda: float(np.sum(f() * df)), x, h)


def grad_check(f: Callable[[], float], params: dict[str, np.ndarray],
               analytic: dict[str, np.ndarray], h: float = 1e-6) -> dict[str, float]:
    """Relative error between ``analytic`` gradients and finite differences of ``f``.

    Args:
        f: scalar function of no arguments that reads the arrays in ``params``.
        params: name -> array (float64), perturbed in place and restored.
        analytic: name -> the gradient your backward pass computed.

    Returns:
        name -> relative error. Below about 1e-7 in float64 is a pass.
    """
    missing = set(params) - set(analytic)
    if missing:
        raise ValueError(f"analytic is missing gradients for {sorted(missing)}")
    return {k: rel_error(analytic[k], numerical_gradient(f, params[k], h)) for k in params}
