"""Pieces shared by the gated families (LSTM, its variants, GRU): gate layout and checks.

Private: the families import these so that :mod:`coursekit.nn.lstm` and
:mod:`coursekit.nn.lstm_variants` need not import each other.
"""
from __future__ import annotations

import numpy as np
import torch

from coursekit._validate import Dims, check_array

#: Gate names per variant, in the order their column blocks appear in Wx, Wh, b.
GATES = {
    "vanilla": ("i", "f", "g", "o"),
    "peephole": ("i", "f", "g", "o"),
    "coupled": ("f", "g", "o"),
    "no_forget": ("i", "g", "o"),
}


def _sigmoid_(a):
    """In-place logistic sigmoid, computed as (1 + tanh(a/2)) / 2: no overflow for large |a|."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _dims_from_Wh(Wh, G):
    """Dims with H taken from Wh (H, G*H): the weights fix H, the states must follow."""
    check_array("Wh", Wh, ("H", "GH"))  # type, dtype and 2-D
    H = Wh.shape[0]
    dims = Dims(H=H, **{f"{G}H": G * H})
    dims.where.update(H="Wh", **{f"{G}H": f"{G} gates x H={H} from Wh"})
    check_array("Wh", Wh, ("H", f"{G}H"), dims)
    return dims


def _output_backward(dnext_h, dnext_c, o, tanh_c, da_o):
    """Through h_t = o_t * tanh(c_t) (every variant): writes dL/da_o, returns dL/dc_t (N, H).

    ``dnext_c`` is the gradient reaching c_t from outside h_t (from step t+1
    and from any loss on c_t).
    """
    np.multiply(dnext_h * tanh_c, o * (1 - o), out=da_o)  # through sigma
    dc = dnext_h * o * (1 - tanh_c ** 2)  # through tanh
    dc += dnext_c
    return dc


def _check_tensor(name, t, shape, dtype):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {shape}, got {type(t).__name__}")
    if tuple(t.shape) != shape or t.dtype != dtype:
        raise ValueError(f"{name} must have shape {shape} and dtype {dtype}, got {tuple(t.shape)} {t.dtype}")
