"""Many-to-one heads: one vector per sequence from the states of its valid steps; numpy and torch.

A padded batch of hidden states ``h`` ``(N, T, H)`` holds, for sequence ``n``, only
``lengths[n]`` real steps; the rest is padding and must not reach the summary
``z`` ``(N, H)``. With the mask ``m_t = [t < len]``::

    last   z = h_len                                 (the state after the last real word)
    mean   z = (1 / len) sum_t m_t h_t
    max    z_j = max over t with m_t = 1 of h_{t,j}  (per feature)

Backward: ``last`` puts ``dz`` on step ``len - 1``; ``mean`` spreads ``dz / len`` over
the valid steps; ``max`` routes each feature's ``dz_j`` to the step that won it
(the first such step on a tie). Padding steps always get a gradient of exactly 0.

numpy: ``pool_forward(h, lengths, mode) -> (z, cache)``, ``pool_backward(dz, cache) -> dh``;
``lengths_to_mask``. torch: ``pool_torch(h, lengths, mode)`` and :class:`Pool` (the twin,
from tensor ops; autograd gives the backward).
Chapter 7: Applications (sentiment, a many-to-one task).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit._validate import Dims, check_array, check_int_array, check_like

MODES = ("last", "mean", "max")

__all__ = ["MODES", "lengths_to_mask", "pool_forward", "pool_backward", "pool_torch", "Pool"]


def lengths_to_mask(lengths, T: int) -> np.ndarray:
    """``lengths`` (N,) ints in [1, T] -> mask (N, T) bool, ``mask[n, t] = t < lengths[n]``."""
    lengths = check_int_array("lengths", np.asarray(lengths), ("N",), low=1, high=T + 1)
    return np.arange(T)[None, :] < lengths[:, None]


def _check(h, lengths, mode):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    dims = Dims()
    check_array("h", h, ("N", "T", "H"), dims)
    if h.shape[1] == 0:
        raise ValueError(f"h must have shape (N, T, H) with T >= 1, got {h.shape}")
    if not isinstance(lengths, np.ndarray):
        raise TypeError(f"lengths must be a numpy.ndarray of shape (N,), got "
                        f"{type(lengths).__name__}")
    check_int_array("lengths", lengths, ("N",), dims, low=1, high=h.shape[1] + 1)
    return lengths_to_mask(lengths, h.shape[1])


def pool_forward(h, lengths, mode="mean"):
    """Summarise each sequence's valid steps: ``h`` (N, T, H), ``lengths`` (N,) -> ``z`` (N, H).

    ``mode``: ``"last"`` (z = h_len), ``"mean"`` (z = sum_t m_t h_t / len) or ``"max"``
    (z_j = max_{t: m_t=1} h_tj). ``lengths`` are ints in [1, T]; steps ``t >= len`` are
    padding and never affect ``z``. Returns ``(z, cache)``.
    Chapter 7: Applications.
    """
    mask = _check(h, lengths, mode)
    N, T, H = h.shape
    rows = np.arange(N)
    if mode == "last":
        z = h[rows, lengths - 1]                                        # (N, H)
        where = None
    elif mode == "mean":
        z = (h * mask[:, :, None]).sum(axis=1) / lengths[:, None].astype(h.dtype)
        where = None
    else:
        masked = np.where(mask[:, :, None], h, -np.inf)                 # (N, T, H)
        where = masked.argmax(axis=1)                                   # (N, H), first on ties
        z = np.take_along_axis(h, where[:, None, :], axis=1)[:, 0]      # (N, H)
    return z.astype(h.dtype, copy=False), (mode, h.shape, h.dtype, lengths, mask, where)


def pool_backward(dz, cache):
    """Gradient of the pooled summary: ``dz`` (N, H) -> ``dh`` (N, T, H), zero on padding.

    last: dh_{len-1} = dz; mean: dh_t = m_t dz / len; max: dh_{t*_j, j} = dz_j where
    t*_j is the valid step that held the maximum of feature j.
    Chapter 7: Applications.
    """
    mode, shape, dtype, lengths, mask, where = cache
    N, T, H = shape
    check_like("dz", dz, (N, H), dtype)
    dh = np.zeros(shape, dtype=dtype)
    rows = np.arange(N)
    if mode == "last":
        dh[rows, lengths - 1] = dz
    elif mode == "mean":
        dh[:] = mask[:, :, None] * (dz / lengths[:, None].astype(dtype))[:, None, :]
    else:
        np.put_along_axis(dh, where[:, None, :], dz[:, None, :], axis=1)
    return dh


# ----------------------------------------------------------------------- torch
def pool_torch(h: torch.Tensor, lengths: torch.Tensor, mode: str = "mean") -> torch.Tensor:
    """The torch twin of :func:`pool_forward`: ``h`` (N, T, H), ``lengths`` (N,) -> (N, H).

    Written from tensor ops (``gather``, a mask, ``masked_fill``) so autograd gives
    the backward; ``lengths`` may live on the CPU while ``h`` is on another device.
    Chapter 7: Applications.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if h.dim() != 3:
        raise ValueError(f"h must have shape (N, T, H), got {tuple(h.shape)}")
    N, T, H = h.shape
    lengths = torch.as_tensor(lengths, device=h.device).long()
    if lengths.shape != (N,) or bool((lengths < 1).any()) or bool((lengths > T).any()):
        raise ValueError(f"lengths must have shape ({N},) with values in [1, {T}], got "
                         f"shape {tuple(lengths.shape)}")
    if mode == "last":
        idx = (lengths - 1).view(N, 1, 1).expand(N, 1, H)
        return h.gather(1, idx).squeeze(1)
    mask = (torch.arange(T, device=h.device)[None, :] < lengths[:, None]).unsqueeze(-1)
    if mode == "mean":
        return (h * mask).sum(1) / lengths[:, None].to(h.dtype)
    return h.masked_fill(~mask, float("-inf")).max(dim=1).values


class Pool(nn.Module):
    """A many-to-one head as a module: ``Pool("max")(h, lengths)`` -> (N, H).

    ``mode="meanmax"`` concatenates mean and max pooling -> (N, 2H).
    Chapter 7: Applications.
    """

    def __init__(self, mode: str = "mean"):
        super().__init__()
        if mode not in MODES + ("meanmax",):
            raise ValueError(f"mode must be one of {MODES + ('meanmax',)}, got {mode!r}")
        self.mode = mode

    def out_features(self, H: int) -> int:
        return 2 * H if self.mode == "meanmax" else H

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.mode == "meanmax":
            return torch.cat([pool_torch(h, lengths, "mean"), pool_torch(h, lengths, "max")], -1)
        return pool_torch(h, lengths, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
