"""LSTM variants: the cell computations of the peephole, coupled and no-forget LSTMs.

Use them through :mod:`coursekit.nn.lstm` with ``variant=...``
(``lstm_forward(x, h0, Wx, Wh, b, variant="coupled")``, ``LSTM(D, H,
variant="peephole")``); this module holds only what happens after the matrix
product ``a = x @ Wx + prev_h @ Wh + b``, which every variant shares. Column
blocks of ``Wx``, ``Wh``, ``b`` follow :data:`coursekit.nn.lstm.GATES`.

* **Peephole** (Gers & Schmidhuber 2000), blocks ``i, f, g, o`` (4H) and
  diagonal peephole weights ``p`` (3, H), rows ``p_i, p_f, p_o``: the gates
  look at the cell::

      i_t = sigma(a_i + p_i * c_{t-1})      f_t = sigma(a_f + p_f * c_{t-1})
      c_t = f_t * c_{t-1} + i_t * g_t       o_t = sigma(a_o + p_o * c_t)   (the new cell)

* **Coupled input and forget gates**, blocks ``f, g, o`` (3H): one gate
  decides both what to forget and what to write, ``i_t = 1 - f_t``::

      c_t = f_t * c_{t-1} + (1 - f_t) * g_t

* **No forget gate** (the 1997 LSTM; Greff et al. 2015's NFG), blocks
  ``i, g, o`` (3H), ``f_t = 1``: the cell only adds, and its gradient passes
  back unchanged (dL/dc_{t-1} = dL/dc_t along the cell)::

      c_t = c_{t-1} + i_t * g_t

In all of them ``h_t = o_t * tanh(c_t)``. Chapter 4 introduces the variants,
chapter 5 compares them.
"""
from __future__ import annotations

import numpy as np
import torch

from coursekit.nn._gates import GATES, _output_backward, _sigmoid_


def _finish(o, next_c):
    tanh_c = np.tanh(next_c)
    return o * tanh_c, next_c, tanh_c


# ------------------------------------------------------------------ peephole
def peephole_forward(a, prev_c, p):
    """Peephole cell. a (N, 4H) pre-activations, overwritten with the gates i, f, g, o."""
    H = prev_c.shape[1]
    a[:, :H] += p[0] * prev_c  # i looks at c_{t-1}
    a[:, H:2 * H] += p[1] * prev_c  # f looks at c_{t-1}
    i, f = _sigmoid_(a[:, :H]), _sigmoid_(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
    next_c = f * prev_c + i * g
    a[:, 3 * H:] += p[2] * next_c  # o looks at c_t
    return _finish(_sigmoid_(a[:, 3 * H:]), next_c)


def peephole_backward(dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, p, da):
    H = prev_c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    dc = _output_backward(dnext_h, dnext_c, o, tanh_c, da[:, 3 * H:])
    dc += da[:, 3 * H:] * p[2]  # o_t looked at c_t
    np.multiply(dc * g, i * (1 - i), out=da[:, :H])
    np.multiply(dc * prev_c, f * (1 - f), out=da[:, H:2 * H])
    np.multiply(dc * i, 1 - g ** 2, out=da[:, 2 * H:3 * H])
    dprev_c = dc * f + da[:, :H] * p[0] + da[:, H:2 * H] * p[1]  # c_{t-1} also fed i and f
    dp = np.stack([(da[:, :H] * prev_c).sum(axis=0), (da[:, H:2 * H] * prev_c).sum(axis=0),
                   (da[:, 3 * H:] * next_c).sum(axis=0)])  # (3, H)
    return dprev_c, dp


# ------------------------------------------------------------------- coupled
def coupled_forward(a, prev_c, p=None):
    """Coupled-gates cell. a (N, 3H) pre-activations, overwritten with the gates f, g, o."""
    H = prev_c.shape[1]
    f = _sigmoid_(a[:, :H])
    g = np.tanh(a[:, H:2 * H], out=a[:, H:2 * H])
    next_c = f * prev_c + (1 - f) * g  # the input gate is 1 - f
    return _finish(_sigmoid_(a[:, 2 * H:]), next_c)


def coupled_backward(dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, p, da):
    H = prev_c.shape[1]
    f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dc = _output_backward(dnext_h, dnext_c, o, tanh_c, da[:, 2 * H:])
    np.multiply(dc * (prev_c - g), f * (1 - f), out=da[:, :H])  # c_t = g + f (c_{t-1} - g)
    np.multiply(dc * (1 - f), 1 - g ** 2, out=da[:, H:2 * H])
    return dc * f, None


# ----------------------------------------------------------------- no forget
def no_forget_forward(a, prev_c, p=None):
    """No-forget-gate cell. a (N, 3H) pre-activations, overwritten with the gates i, g, o."""
    H = prev_c.shape[1]
    i = _sigmoid_(a[:, :H])
    g = np.tanh(a[:, H:2 * H], out=a[:, H:2 * H])
    return _finish(_sigmoid_(a[:, 2 * H:]), prev_c + i * g)  # f = 1: purely additive


def no_forget_backward(dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, p, da):
    H = prev_c.shape[1]
    i, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dc = _output_backward(dnext_h, dnext_c, o, tanh_c, da[:, 2 * H:])
    np.multiply(dc * g, i * (1 - i), out=da[:, :H])
    np.multiply(dc * i, 1 - g ** 2, out=da[:, H:2 * H])
    return dc, None  # dc_t / dc_{t-1} = 1


#: variant name -> (numpy cell forward, numpy cell backward)
CELLS = {
    "peephole": (peephole_forward, peephole_backward),
    "coupled": (coupled_forward, coupled_backward),
    "no_forget": (no_forget_forward, no_forget_backward),
}


def torch_cell(a, prev_c, variant, p):
    """The same three cells in tensor ops (autograd does the backward) -> (next_h, next_c)."""
    z = dict(zip(GATES[variant], a.split(prev_c.shape[1], dim=1)))  # gate name -> (N, H)
    if variant == "peephole":
        z["i"], z["f"] = z["i"] + p[0] * prev_c, z["f"] + p[1] * prev_c
    g = torch.tanh(z["g"])
    f = torch.sigmoid(z["f"]) if "f" in z else None  # no_forget: f = 1
    i = torch.sigmoid(z["i"]) if "i" in z else 1 - f  # coupled: i = 1 - f
    next_c = i * g + (prev_c if f is None else f * prev_c)
    if variant == "peephole":
        z["o"] = z["o"] + p[2] * next_c
    return torch.sigmoid(z["o"]) * torch.tanh(next_c), next_c
