"""Reading and writing the weights of ``torch.nn`` recurrent layers and cells.

``torch.nn.RNN``/``LSTM``/``GRU`` (one layer, unidirectional) store
``weight_ih_l0`` ``(G*H, D)``, ``weight_hh_l0`` ``(G*H, H)`` and two biases;
their ``*Cell`` twins store the same without the ``_l0`` suffix. coursekit keeps
the transposes ``Wx = weight_ih^T`` ``(D, G*H)`` and ``Wh = weight_hh^T``
``(H, G*H)``. ``rnn``, ``lstm`` and ``gru`` convert through these two helpers
and only say how their biases combine.
"""
from __future__ import annotations

import torch


def torch_weights(module, layer_cls: type, cell_cls: type):
    """``(W_ih, W_hh, b_ih, b_hh)`` detached tensors of a one-layer unidirectional module or cell.

    Shapes: W_ih (G*H, D), W_hh (G*H, H), b_ih and b_hh (G*H,) (zeros when ``bias=False``).
    Raises ``TypeError`` for another kind of module and ``ValueError`` for
    ``num_layers > 1``, ``bidirectional`` or a projection (``proj_size``).
    """
    name = layer_cls.__name__
    if isinstance(module, layer_cls):
        if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
            raise ValueError(f"only single-layer unidirectional nn.{name} without projection "
                             f"can be converted, got num_layers={module.num_layers}, "
                             f"bidirectional={module.bidirectional}, "
                             f"proj_size={getattr(module, 'proj_size', 0)}")
        suffix = "_l0"
    elif isinstance(module, cell_cls):
        suffix = ""
    else:
        raise TypeError(f"module must be a torch.nn.{name} or torch.nn.{cell_cls.__name__}, "
                        f"got {type(module).__name__}")
    W_ih = getattr(module, "weight_ih" + suffix).detach()
    W_hh = getattr(module, "weight_hh" + suffix).detach()
    if module.bias:
        b_ih = getattr(module, "bias_ih" + suffix).detach()
        b_hh = getattr(module, "bias_hh" + suffix).detach()
    else:
        b_ih = b_hh = W_ih.new_zeros(W_ih.shape[0])
    return W_ih, W_hh, b_ih, b_hh


def torch_module_with(layer_cls: type, cell_cls: type, Wx, Wh, b_ih, b_hh, *, cell: bool = False):
    """A new ``layer_cls(batch_first=True)`` (or ``cell_cls`` if ``cell``) holding these weights.

    Shapes: Wx (D, G*H), Wh (H, G*H), b_ih and b_hh (G*H,), all tensors of one
    device and dtype, which the module gets too. weight_ih = Wx^T, weight_hh = Wh^T.
    """
    D, H = Wx.shape[0], Wh.shape[0]
    factory = {"device": Wx.device, "dtype": Wx.dtype}
    m = cell_cls(D, H, **factory) if cell else layer_cls(D, H, batch_first=True, **factory)
    suffix = "" if cell else "_l0"
    with torch.no_grad():
        getattr(m, "weight_ih" + suffix).copy_(Wx.T)
        getattr(m, "weight_hh" + suffix).copy_(Wh.T)
        getattr(m, "bias_ih" + suffix).copy_(b_ih)
        getattr(m, "bias_hh" + suffix).copy_(b_hh)
    return m


__all__ = ["torch_weights", "torch_module_with"]
