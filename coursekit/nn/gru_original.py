"""Cho et al.'s original GRU (reset before the product): the numpy functions.

The cell is the one of :mod:`coursekit.nn.gru` with no ``bhn``: there the
``gru_*`` functions run PyTorch's formulation, here the ``gru_original_*``
functions run Cho et al.'s (2014)::

    n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_n)

The PyTorch module of both is :class:`coursekit.nn.gru.GRU` (``reset_after=False``
for this one); ``torch.nn.GRU`` has no equivalent.
"""
from __future__ import annotations

from coursekit.nn.gru import _backward, _check_args, _forward, _step_backward, _step_forward

__all__ = ["gru_original_step_forward", "gru_original_step_backward", "gru_original_forward",
           "gru_original_backward"]


def gru_original_step_forward(x, prev_h, Wx, Wh, b, *, z_weighs="prev"):
    """One GRU step in Cho et al.'s original formulation (reset before the product).

    Shapes: x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) -> next_h (N, H), cache.
    Formula: r, z as in :func:`gru_step_forward`, n = tanh(W_xn x_t + W_hn (r * h_{t-1}) + b_n),
    h_t = z * h_{t-1} + (1 - z) * n (z_weighs="new": h_t = (1 - z) * h_{t-1} + z * n).
    Chapter 5: Gated recurrent units.
    """
    _check_args(("N", "D"), z_weighs, False, x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, b=b)
    return _step_forward(x, prev_h, Wx, Wh, b, None, z_weighs)


def gru_original_step_backward(dnext_h, cache):
    """Backward of :func:`gru_original_step_forward`.

    Shapes: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    Formula: as :func:`gru_step_backward`, with dL/d(r * h_{t-1}) = dL/da_n W_hn^T.
    Chapter 5: Gated recurrent units.
    """
    return _step_backward(dnext_h, cache)


def gru_original_forward(x, h0, Wx, Wh, b, *, z_weighs="prev"):
    """Run a GRU (Cho et al.'s original formulation) over a sequence.

    Shapes: x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) -> h (N, T, H), cache.
    Formula: :func:`gru_original_step_forward` for t = 1..T.
    Chapter 5: Gated recurrent units.
    """
    _check_args(("N", "T", "D"), z_weighs, False, x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    return _forward(x, h0, Wx, Wh, b, None, z_weighs)


def gru_original_backward(dh, cache):
    """Backpropagation through time for :func:`gru_original_forward`.

    Shapes: dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).
    Formula: :func:`gru_original_step_backward` from t = T down to 1.
    Chapter 5: Gated recurrent units.
    """
    return _backward(dh, cache)
