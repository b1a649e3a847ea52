"""Stacked (deep) and bidirectional recurrent networks: numpy reference and torch converters.

A stack of ``L`` layers feeds each layer's output sequence to the next one::

    h^(1)_t = cell(x_t,        h^(1)_{t-1})
    h^(l)_t = cell(h^(l-1)_t,  h^(l)_{t-1})          l = 2..L

A bidirectional layer runs two independent cells over the same input, one
left to right and one right to left, and concatenates their states::

    ->h_t = cell_f(x_t, ->h_{t-1})        <-h_t = cell_b(x_t, <-h_{t+1})
    h_t   = [->h_t ; <-h_t]               (N, T, 2H): forward half first, as torch

The right-to-left pass is the left-to-right pass run on the time-reversed
input, its output flipped back. The cells are the numpy references of
:mod:`~coursekit.nn.rnn`, :mod:`~coursekit.nn.lstm` and :mod:`~coursekit.nn.gru`
(``cell="rnn"``, ``"lstm"``, ``"gru"``), with their parameter dicts:
``{"Wx", "Wh", "b"}`` (rnn, lstm) and ``{"Wx", "Wh", "b", "bhn"}`` (gru).

``layers`` is a list with one entry per layer, each a list of one (forward)
or two (forward, backward) parameter dicts: the structure of
:func:`stacked_from_torch`. Initial and final states are shaped like torch's
``h_0``/``h_n``: ``(L * dirs, N, H)``, index ``l * dirs + d``. Dropout between
layers is a training device; this reference computes the evaluation pass.
Chapter 6: Deep and bidirectional networks.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit._validate import check_array, check_like
from coursekit.nn import gru as ck_gru
from coursekit.nn import lstm as ck_lstm
from coursekit.nn import rnn as ck_rnn

#: cell name -> (names of its parameters, its torch layer, its torch cell, its family module)
CELLS = {
    "rnn": (("Wx", "Wh", "b"), nn.RNN, nn.RNNCell, ck_rnn),
    "lstm": (("Wx", "Wh", "b"), nn.LSTM, nn.LSTMCell, ck_lstm),
    "gru": (("Wx", "Wh", "b", "bhn"), nn.GRU, nn.GRUCell, ck_gru),
}

__all__ = ["CELLS", "stacked_from_torch", "stacked_to_torch", "stacked_forward",
           "stacked_backward", "bidirectional_forward", "bidirectional_backward",
           "direction_forward", "direction_backward"]


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell][0]


def _check_params(name, p, cell):
    names = _check_cell(cell)
    if not isinstance(p, dict) or set(p) != set(names):
        got = sorted(p) if isinstance(p, dict) else type(p).__name__
        raise ValueError(f"{name} must be a dict with keys {list(names)} (cell={cell!r}), got {got}")
    for k in names:
        check_array(f"{name}[{k!r}]", p[k])
    return p["Wh"].shape[0]


# ------------------------------------------------------------ one direction
def direction_forward(x, p, *, cell, h0=None, c0=None, reverse=False):
    """Run one cell over a sequence, left to right or (``reverse``) right to left.

    Shapes: x (N, T, D), p the cell's parameter dict, h0/c0 (N, H) or None (zeros) ->
    h (N, T, H) in the input's time order, h_last (N, H), c_last (N, H) or None, cache.
    Formula: reverse: <-h = flip(cell(flip(x))) with flip(x)_t = x_{T+1-t}; h_last is the
    state after the last step *taken*: h_T forwards, h_1 (<-h_1) in reverse.
    Chapter 6: Deep and bidirectional networks.
    """
    H = _check_params("p", p, cell)
    check_array("x", x, ("N", "T", "D"))
    if x.shape[1] == 0:
        raise ValueError(f"x must have shape (N, T, D) with T >= 1, got {x.shape}")
    if c0 is not None and cell != "lstm":
        raise ValueError(f"c0 is only used with cell='lstm', got cell={cell!r}")
    xs = x[:, ::-1] if reverse else x
    h0 = np.zeros((x.shape[0], H), dtype=x.dtype) if h0 is None else h0
    c_last = None
    if cell == "rnn":
        h, fcache = ck_rnn.rnn_forward(xs, h0, p["Wx"], p["Wh"], p["b"])
    elif cell == "lstm":
        h, c, fcache = ck_lstm.lstm_forward(xs, h0, p["Wx"], p["Wh"], p["b"], c0)
        c_last = c[:, -1]
    else:
        h, fcache = ck_gru.gru_forward(xs, h0, p["Wx"], p["Wh"], p["b"], p["bhn"])
    h_last = h[:, -1]
    out = np.ascontiguousarray(h[:, ::-1]) if reverse else h  # back in the input's time order
    return out, h_last, c_last, (cell, reverse, fcache, h.shape, x.dtype)


def direction_backward(dh, cache, dh_last=None, dc_last=None):
    """Backward pass of :func:`direction_forward`.

    Shapes: dh (N, T, H) upstream gradient of every output state (input time order),
    dh_last/dc_last (N, H) or None: of the final states ->
    dx (N, T, D), dh0 (N, H), dc0 (N, H) or None, dp (dict like p).
    Formula: reverse: flip dh, backpropagate through time, flip dx back.
    Chapter 6: Deep and bidirectional networks.
    """
    cell, reverse, fcache, shape, dtype = cache
    check_like("dh", dh, shape, dtype)
    if dc_last is not None and cell != "lstm":
        raise ValueError(f"dc_last is only used with cell='lstm', got cell={cell!r}")
    dhs = dh[:, ::-1] if reverse else dh
    dhs = np.array(dhs)  # a copy: the final-state gradient is added in place
    if dh_last is not None:
        check_like("dh_last", dh_last, (shape[0], shape[2]), dhs.dtype)
        dhs[:, -1] += dh_last
    dc0 = None
    if cell == "rnn":
        dx, dh0, dWx, dWh, db = ck_rnn.rnn_backward(dhs, fcache)
        dp = {"Wx": dWx, "Wh": dWh, "b": db}
    elif cell == "lstm":
        dc = None
        if dc_last is not None:
            check_like("dc_last", dc_last, (shape[0], shape[2]), dhs.dtype)
            dc = np.zeros_like(dhs)
            dc[:, -1] = dc_last
        dx, dh0, dc0, dWx, dWh, db = ck_lstm.lstm_backward(dhs, fcache, dc)
        dp = {"Wx": dWx, "Wh": dWh, "b": db}
    else:
        dx, dh0, dWx, dWh, db, dbhn = ck_gru.gru_backward(dhs, fcache)
        dp = {"Wx": dWx, "Wh": dWh, "b": db, "bhn": dbhn}
    dx = np.ascontiguousarray(dx[:, ::-1]) if reverse else dx
    return dx, dh0, dc0, dp


# ------------------------------------------------------------- one layer
def _layer_forward(x, dir_params, cell, h0, c0):
    """h0/c0: (dirs, N, H) or None. -> out (N, T, dirs*H), h_n, c_n (dirs, N, H), caches."""
    outs, hs, cs, caches = [], [], [], []
    for d, p in enumerate(dir_params):
        out, h_last, c_last, cache = direction_forward(
            x, p, cell=cell, h0=None if h0 is None else h0[d], c0=None if c0 is None else c0[d],
            reverse=d == 1)
        outs.append(out)
        hs.append(h_last)
        cs.append(c_last)
        caches.append(cache)
    out = np.concatenate(outs, axis=2) if len(outs) > 1 else outs[0]  # (N, T, dirs*H)
    return out, np.stack(hs), (np.stack(cs) if cell == "lstm" else None), caches


def _layer_backward(dout, caches, dh_n, dc_n):
    H = caches[0][3][2]
    dx, dps, dh0, dc0 = 0, [], [], []
    for d, cache in enumerate(caches):
        dx_d, dh0_d, dc0_d, dp = direction_backward(
            dout[:, :, d * H:(d + 1) * H], cache, None if dh_n is None else dh_n[d],
            None if dc_n is None else dc_n[d])
        dx = dx + dx_d  # both directions read the same input
        dps.append(dp)
        dh0.append(dh0_d)
        dc0.append(dc0_d)
    return dx, dps, np.stack(dh0), (np.stack(dc0) if caches[0][0] == "lstm" else None)


def _check_states(name, s, shape, dtype, cell):
    if s is None:
        return None
    if name == "c0" and cell != "lstm":
        raise ValueError(f"c0 is only used with cell='lstm', got cell={cell!r}")
    return check_like(name, s, shape, dtype)


def bidirectional_forward(x, params, *, cell, h0=None, c0=None):
    """One bidirectional layer: a forward and a backward pass, states concatenated.

    Shapes: x (N, T, D), params [p_forward, p_backward] (cell parameter dicts),
    h0/c0 (2, N, H) or None -> out (N, T, 2H), h_n (2, N, H) [, c_n (2, N, H)], cache.
    Formula: h_t = [->h_t ; <-h_t], ->h_t = cell_f(x_t, ->h_{t-1}), <-h_t = cell_b(x_t, <-h_{t+1});
    h_n[0] = ->h_T, h_n[1] = <-h_1 (as torch's h_n of a one-layer bidirectional module).
    Chapter 6: Deep and bidirectional networks.
    """
    if not isinstance(params, (list, tuple)) or len(params) != 2:
        raise ValueError("params must be a list [p_forward, p_backward] of two parameter dicts, "
                         f"got {type(params).__name__} of length {len(params) if hasattr(params, '__len__') else '?'}")
    H = _check_params("params[0]", params[0], cell)
    _check_params("params[1]", params[1], cell)
    check_array("x", x, ("N", "T", "D"))
    h0 = _check_states("h0", h0, (2, x.shape[0], H), x.dtype, cell)
    c0 = _check_states("c0", c0, (2, x.shape[0], H), x.dtype, cell)
    out, h_n, c_n, caches = _layer_forward(x, params, cell, h0, c0)
    return (out, h_n, c_n, caches) if cell == "lstm" else (out, h_n, caches)


def bidirectional_backward(dout, cache, dh_n=None, dc_n=None):
    """Backward pass of :func:`bidirectional_forward`.

    Shapes: dout (N, T, 2H), dh_n/dc_n (2, N, H) or None ->
    dx (N, T, D), dparams [dp_forward, dp_backward], dh0 (2, N, H) [, dc0 (2, N, H)].
    Formula: dL/dx_t = (from ->h_t) + (from <-h_t): the two passes share only the input.
    Chapter 6: Deep and bidirectional networks.
    """
    cell, _, _, (N, T, H), dtype = cache[0]
    check_like("dout", dout, (N, T, 2 * H), dtype)
    dh_n = _check_states("dh_n", dh_n, (2, N, H), dtype, "any")
    dc_n = _check_states("dc_n", dc_n, (2, N, H), dtype, "any")
    if dc_n is not None and cell != "lstm":
        raise ValueError(f"dc_n is only used with cell='lstm', got cell={cell!r}")
    dx, dps, dh0, dc0 = _layer_backward(dout, cache, dh_n, dc_n)
    return (dx, dps, dh0, dc0) if cell == "lstm" else (dx, dps, dh0)


# ------------------------------------------------------------ the whole stack
def _check_layers(layers, cell):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"layers must be a non-empty list of layers, got {type(layers).__name__}")
    dirs = None
    for l, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) not in (1, 2):
            raise ValueError(f"layers[{l}] must be a list of one or two parameter dicts "
                             f"(forward[, backward]), got {type(layer).__name__}")
        if dirs is not None and len(layer) != dirs:
            raise ValueError(f"every layer needs the same number of directions: layers[0] has "
                             f"{dirs}, layers[{l}] has {len(layer)}")
        dirs = len(layer)
        for d, p in enumerate(layer):
            _check_params(f"layers[{l}][{d}]", p, cell)
    return len(layers), dirs, layers[0][0]["Wh"].shape[0]


def stacked_forward(x, layers, *, cell, h0=None, c0=None):
    """A stack of (uni- or bidirectional) recurrent layers, as ``torch.nn.RNN/LSTM/GRU``.

    Shapes: x (N, T, D), layers (L lists of dirs parameter dicts), h0/c0 (L*dirs, N, H)
    or None (zeros) -> out (N, T, dirs*H), h_n (L*dirs, N, H) [, c_n (L*dirs, N, H)], cache.
    ``out`` equals torch's ``output`` (batch_first=True), ``h_n``/``c_n`` its final states.
    Formula: h^(1) = layer_1(x), h^(l) = layer_l(h^(l-1)); out = h^(L).
    Chapter 6: Deep and bidirectional networks.
    """
    L, dirs, H = _check_layers(layers, cell)
    check_array("x", x, ("N", "T", "D"))
    h0 = _check_states("h0", h0, (L * dirs, x.shape[0], H), x.dtype, cell)
    c0 = _check_states("c0", c0, (L * dirs, x.shape[0], H), x.dtype, cell)
    caches, h_n, c_n, inp = [], [], [], x
    for l, layer in enumerate(layers):
        s = slice(l * dirs, (l + 1) * dirs)
        try:
            inp, h_l, c_l, cache = _layer_forward(inp, layer, cell, None if h0 is None else h0[s],
                                                  None if c0 is None else c0[s])
        except ValueError as e:
            raise ValueError(f"layer {l}: {e}") from e
        caches.append(cache)
        h_n.append(h_l)
        c_n.append(c_l)
    h_n = np.concatenate(h_n)  # (L*dirs, N, H)
    cache = (cell, dirs, caches)
    if cell == "lstm":
        return inp, h_n, np.concatenate(c_n), cache
    return inp, h_n, cache


def stacked_backward(dout, cache, dh_n=None, dc_n=None):
    """Backward pass of :func:`stacked_forward`, from the top layer down.

    Shapes: dout (N, T, dirs*H), dh_n/dc_n (L*dirs, N, H) or None (final-state gradients) ->
    dx (N, T, D), dlayers (the structure of ``layers``), dh0 (L*dirs, N, H) [, dc0].
    Formula: dL/dh^(l-1)_t = the dx of layer l: the gradient crosses every layer below,
    as well as every step back in time.
    Chapter 6: Deep and bidirectional networks.
    """
    cell, dirs, caches = cache
    (N, T, H), dtype = caches[-1][0][3:]
    check_like("dout", dout, (N, T, dirs * H), dtype)
    L = len(caches)
    dh_n = _check_states("dh_n", dh_n, (L * dirs, N, H), dtype, "any")
    dc_n = _check_states("dc_n", dc_n, (L * dirs, N, H), dtype, "any")
    if dc_n is not None and cell != "lstm":
        raise ValueError(f"dc_n is only used with cell='lstm', got cell={cell!r}")
    dlayers, dh0, dc0, d = [None] * L, [None] * L, [None] * L, dout
    for l in reversed(range(L)):
        s = slice(l * dirs, (l + 1) * dirs)
        d, dlayers[l], dh0[l], dc0[l] = _layer_backward(
            d, caches[l], None if dh_n is None else dh_n[s], None if dc_n is None else dc_n[s])
    if cell == "lstm":
        return d, dlayers, np.concatenate(dh0), np.concatenate(dc0)
    return d, dlayers, np.concatenate(dh0)


# --------------------------------------------------------------- converters
def _check_module(module):
    for cell, (_, layer_cls, _, _) in CELLS.items():
        if isinstance(module, layer_cls):
            break
    else:
        raise TypeError(f"module must be a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"LSTM projections are not supported, got proj_size={module.proj_size}")
    return cell  # batch_first does not change the weights


def stacked_from_torch(module):
    """numpy float64 ``layers`` of an ``nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU``, any depth.

    Shapes: -> L lists (L = num_layers) of dirs (1, or 2 if bidirectional) parameter dicts
    in the family's layout (see :func:`coursekit.nn.rnn.from_torch` and friends).
    Formula: layer l, direction d reads ``weight_ih_l{l}[_reverse]`` etc.: Wx = weight_ih^T,
    Wh = weight_hh^T, biases folded as the family's ``from_torch`` does.
    Chapter 6: Deep and bidirectional networks.
    """
    cell = _check_module(module)
    _, _, cell_cls, family = CELLS[cell]
    kw = {"nonlinearity": module.nonlinearity} if cell == "rnn" else {}
    layers = []
    for l in range(module.num_layers):
        layer = []
        for sfx in ("", "_reverse")[:1 + module.bidirectional]:
            W_ih = getattr(module, f"weight_ih_l{l}{sfx}")
            one = cell_cls(W_ih.shape[1], module.hidden_size, bias=module.bias, **kw)
            for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if module.bias else ()):
                setattr(one, name, nn.Parameter(getattr(module, f"{name}_l{l}{sfx}").detach().clone()))
            layer.append(family.from_torch(one))
        layers.append(layer)
    return layers


def stacked_to_torch(layers, *, cell, dtype=torch.float64, device=None):
    """An ``nn.RNN/LSTM/GRU(batch_first=True)`` with ``num_layers=L`` holding these weights.

    Shapes: layers as :func:`stacked_from_torch` returns them.
    Formula: weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = b, bias_hh = 0 (gru: [0, 0, bhn]).
    Chapter 6: Deep and bidirectional networks.
    """
    L, dirs, H = _check_layers(layers, cell)
    _, layer_cls, _, _ = CELLS[cell]
    D = layers[0][0]["Wx"].shape[0]
    m = layer_cls(D, H, num_layers=L, bidirectional=dirs == 2, batch_first=True,
                  device=device, dtype=dtype)
    for l, layer in enumerate(layers):
        for d, p in enumerate(layer):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            t = {k: torch.as_tensor(v).to(device=device, dtype=dtype) for k, v in p.items()}
            b_hh = torch.zeros_like(t["b"])
            if cell == "gru":
                b_hh[2 * H:] = t["bhn"]
            with torch.no_grad():
                getattr(m, "weight_ih" + sfx).copy_(t["Wx"].T)
                getattr(m, "weight_hh" + sfx).copy_(t["Wh"].T)
                getattr(m, "bias_ih" + sfx).copy_(t["b"])
                getattr(m, "bias_hh" + sfx).copy_(b_hh)
    return m
