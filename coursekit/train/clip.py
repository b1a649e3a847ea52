"""Gradient clipping for numpy gradients (the remedy for exploding gradients).

- ``clip_grad_norm(grads, max_norm)``: if the global L2 norm
  ``||g|| = sqrt(sum over all arrays of sum g^2)`` exceeds ``max_norm``, scale
  every gradient by ``max_norm / (||g|| + 1e-6)`` (direction kept). Returns
  the norm before clipping. Same rule as ``torch.nn.utils.clip_grad_norm_``.
- ``clip_grad_value(grads, clip_value)``: clamp every entry to
  ``[-clip_value, clip_value]`` (direction may change), as
  ``torch.nn.utils.clip_grad_value_``.

Both work in place on a dict of arrays. Torch training uses ``torch.nn.utils``.
Chapter 2 (vanishing and exploding gradients: remedies).
"""
from __future__ import annotations

import math

import numpy as np

from coursekit._validate import check_array

__all__ = ["global_norm", "clip_grad_norm", "clip_grad_value"]


def _check(grads: dict) -> dict:
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of name -> numpy array, got {type(grads).__name__}")
    for k, g in grads.items():
        check_array(f"grads[{k!r}]", g)
    return grads


def global_norm(grads: dict) -> float:
    """``sqrt(sum_k sum g_k^2)`` over all arrays of ``grads`` (a dict), as a float."""
    _check(grads)
    return math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))


def clip_grad_norm(grads: dict, max_norm: float) -> float:
    """Rescale ``grads`` in place so their global L2 norm is at most ``max_norm``.

    ``g <- g * min(1, max_norm / (||g|| + 1e-6))``. Returns ``||g||`` before clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    total = global_norm(grads)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads.values():
            g *= g.dtype.type(coef)
    return total


def clip_grad_value(grads: dict, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]``, in place."""
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value!r}")
    for g in _check(grads).values():
        np.clip(g, -clip_value, clip_value, out=g)
