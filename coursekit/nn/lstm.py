"""Long short-term memory: numpy reference (forward and backward), PyTorch module, converters.

Book notation (column vectors) and code (batch rows)::

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i)       input gate
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)       forget gate
    g_t = tanh (W_xg x_t + W_hg h_{t-1} + b_g)       candidate c~_t
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)       output gate
    c_t = f_t * c_{t-1} + i_t * g_t                  cell state (the conveyor belt)
    h_t = o_t * tanh(c_t)

    a = x @ Wx + prev_h @ Wh + b      # (N, 4H): all gates in one matrix product

The gates are stacked in PyTorch's order ``i, f, g, o``: ``Wx`` is ``(D, 4H)``,
``Wh`` is ``(H, 4H)``, ``b`` is ``(4H,)`` and columns ``[k*H:(k+1)*H]`` belong
to gate ``k``. The variants of chapter 4 (compared in chapter 5, after Greff
et al. 2015) are chosen with ``variant=``; :data:`GATES` gives each one's
column blocks, and :mod:`coursekit.nn.lstm_variants` their cells and formulas:
``"vanilla"`` (``i, f, g, o``, as ``torch.nn.LSTM``), ``"peephole"``
(``i, f, g, o`` plus peephole weights ``p`` (3, H)), ``"coupled"``
(``f, g, o``; ``c_t = f_t * c_{t-1} + (1 - f_t) * g_t``) and ``"no_forget"``
(``i, g, o``; ``c_t = c_{t-1} + i_t * g_t``).

:class:`LSTM` is the same model as a PyTorch module written from tensor ops
(every variant); :func:`from_torch` / :func:`to_torch` convert weights to and
from ``torch.nn.LSTM`` / ``torch.nn.LSTMCell`` (``weight_ih = Wx^T``,
``weight_hh = Wh^T``, ``bias_ih + bias_hh = b``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit._validate import Dims, check_array, check_like, check_positive_int, check_same_dtype
from coursekit.nn import lstm_variants
from coursekit.nn._gates import GATES, _check_tensor, _dims_from_Wh, _output_backward, _sigmoid_
from coursekit.nn._torch_weights import torch_module_with, torch_weights

def _check_args(variant, p, x_shape, **arrays):
    """Validate one call's arrays (names in the order given); returns the gate count G."""
    if variant not in GATES:
        raise ValueError(f"variant must be one of {sorted(GATES)}, got {variant!r}")
    G = len(GATES[variant])
    names = list(arrays)
    dims = _dims_from_Wh(arrays["Wh"], G)
    check_array("x", arrays["x"], x_shape, dims)
    if len(x_shape) == 3 and arrays["x"].shape[1] == 0:
        raise ValueError(f"x must have shape (N, T, D) with T >= 1, got shape {arrays['x'].shape}")
    for name in names[1:3]:  # prev_h/h0 then prev_c/c0 (c0 may be None)
        if arrays[name] is not None:
            check_array(name, arrays[name], ("N", "H"), dims)
    check_array("Wx", arrays["Wx"], ("D", f"{G}H"), dims)
    check_array("b", arrays["b"], (f"{G}H",), dims)
    if variant == "peephole":
        if p is None:
            raise ValueError("variant='peephole' needs p, the peephole weights of shape (3, H)")
        check_array("p", p, (3, "H"), dims)
    elif p is not None:
        raise ValueError(f"p (peephole weights) is only used with variant='peephole', got variant={variant!r}")
    check_same_dtype(**arrays, p=p)
    return G


# --------------------------------------------------- the cell, after the matmul
def _variant_cell(variant):
    """(forward, backward) cell functions of a non-vanilla variant."""
    return lstm_variants.CELLS[variant]


def _cell_forward(a, prev_c, variant="vanilla", p=None):
    """Gates and new state from the pre-activations ``a`` (N, G*H), overwritten with the gates.

    Returns next_h (N, H), next_c (N, H), tanh(next_c) (N, H). After the call
    ``a`` holds the gate activations (i, f, g, o for the vanilla LSTM).
    """
    if variant != "vanilla":
        return _variant_cell(variant)[0](a, prev_c, p)
    H = prev_c.shape[1]
    _sigmoid_(a[:, :2 * H])  # i, f
    np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])  # g
    _sigmoid_(a[:, 3 * H:])  # o
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    next_c = f * prev_c + i * g  # forget some of the old cell, write some of the candidate
    tanh_c = np.tanh(next_c)
    return o * tanh_c, next_c, tanh_c


def _cell_backward(dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, variant, p, da):
    """Backward of :func:`_cell_forward`: writes dL/da into ``da`` (N, G*H).

    Returns dprev_c (N, H) and, for the peephole variant, dp (3, H) (else None).
    """
    if variant != "vanilla":
        return _variant_cell(variant)[1](dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, p, da)
    H = prev_c.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    dc = _output_backward(dnext_h, dnext_c, o, tanh_c, da[:, 3 * H:])
    np.multiply(dc * g, i * (1 - i), out=da[:, :H])  # di, through sigma
    np.multiply(dc * prev_c, f * (1 - f), out=da[:, H:2 * H])  # df
    np.multiply(dc * i, 1 - g ** 2, out=da[:, 2 * H:3 * H])  # dg, through tanh
    return dc * f, None  # the constant error carousel: elementwise, no matrix product


# ------------------------------------------------------------ one time step
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, *, variant="vanilla", p=None):
    """One LSTM time step for a batch.

    Shapes: x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, G*H), Wh (H, G*H),
    b (G*H,), p (3, H) for variant="peephole" -> next_h (N, H), next_c (N, H), cache.
    G = 4 for "vanilla"/"peephole", 3 for "coupled"/"no_forget" (layouts in GATES).
    Formula: [i; f; g; o] = [sigma; sigma; tanh; sigma](W_x x_t + W_h h_{t-1} + b),
    c_t = f_t * c_{t-1} + i_t * g_t, h_t = o_t * tanh(c_t).
    Chapter 4: Long short-term memory.
    """
    _check_args(variant, p, ("N", "D"), x=x, prev_h=prev_h, prev_c=prev_c, Wx=Wx, Wh=Wh, b=b)
    a = x @ Wx + prev_h @ Wh + b  # (N, G*H): every gate's pre-activation at once
    next_h, next_c, tanh_c = _cell_forward(a, prev_c, variant, p)
    cache = (x, prev_h, prev_c, Wx, Wh, p, variant, a, next_c, tanh_c, next_h)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of one LSTM step.

    Shapes: dnext_h (N, H), dnext_c (N, H) -> dx (N, D), dprev_h (N, H),
    dprev_c (N, H), dWx (D, G*H), dWh (H, G*H), db (G*H,), and for the
    peephole variant a seventh item dp (3, H).
    Formula: dL/dc_{t-1} = dL/dc_t * f_t (elementwise: the constant error carousel);
    dL/da = gate-wise derivatives, then dx = da W_x^T, dW_x = x^T da, ...
    Chapter 4: Long short-term memory.
    """
    x, prev_h, prev_c, Wx, Wh, p, variant, gates, next_c, tanh_c, next_h = cache
    check_like("dnext_h", dnext_h, next_h.shape, next_h.dtype)
    check_like("dnext_c", dnext_c, next_c.shape, next_c.dtype)
    da = np.empty_like(gates)  # (N, G*H)
    dprev_c, dp = _cell_backward(dnext_h, dnext_c, gates, prev_c, next_c, tanh_c, variant, p, da)
    grads = (da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0))
    return grads + (dp,) if variant == "peephole" else grads


# ------------------------------------------------------------ a whole sequence
def lstm_forward(x, h0, Wx, Wh, b, c0=None, *, variant="vanilla", p=None):
    """Run an LSTM over a sequence, the same weights at every step.

    Shapes: x (N, T, D), h0 (N, H), Wx (D, G*H), Wh (H, G*H), b (G*H,),
    c0 (N, H) or None (zeros), p (3, H) for "peephole" ->
    h (N, T, H), c (N, T, H) (every hidden and cell state; h[:, -1], c[:, -1] are the last), cache.
    Formula: c_t = f_t * c_{t-1} + i_t * g_t, h_t = o_t * tanh(c_t) for t = 1..T.
    Chapter 4: Long short-term memory.
    """
    _check_args(variant, p, ("N", "T", "D"), x=x, h0=h0, c0=c0, Wx=Wx, Wh=Wh, b=b)
    N, T, D = x.shape
    H = h0.shape[1]
    if c0 is None:
        c0 = np.zeros_like(h0)
    gates = (x.reshape(N * T, D) @ Wx).reshape(N, T, -1)  # (N, T, G*H): input terms of all steps
    gates += b
    h = np.empty((N, T, H), dtype=x.dtype)
    c = np.empty((N, T, H), dtype=x.dtype)
    tanh_c = np.empty((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, c0
    for t in range(T):
        a = gates[:, t]  # a view: the cell overwrites it with the gate activations
        a += prev_h @ Wh
        prev_h, prev_c, tanh_c[:, t] = _cell_forward(a, prev_c, variant, p)
        h[:, t], c[:, t] = prev_h, prev_c
    return h, c, (x, h0, c0, Wx, Wh, p, variant, gates, h, c, tanh_c)


def lstm_backward(dh, cache, dc=None):
    """Backpropagation through time for the LSTM.

    Shapes: dh (N, T, H) upstream gradients of every h_t, dc (N, T, H) of every
    c_t or None (zeros) -> dx (N, T, D), dh0 (N, H), dc0 (N, H), dWx (D, G*H),
    dWh (H, G*H), db (G*H,), and for the peephole variant a seventh item dp (3, H).
    Formula: dL/dc_{t-1} = dL/dc_t * f_t + (gate paths); weight gradients sum over t
    (computed as one matrix product over all steps).
    Chapter 4: Long short-term memory.
    """
    x, h0, c0, Wx, Wh, p, variant, gates, h, c, tanh_c = cache
    check_like("dh", dh, h.shape, h.dtype)
    if dc is not None:
        check_like("dc", dc, c.shape, c.dtype)
    N, T, D = x.shape
    da = np.empty_like(gates)  # (N, T, G*H)
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    dp = None if p is None else np.zeros_like(p)
    for t in reversed(range(T)):
        dnext_h = dh[:, t] + dprev_h
        dnext_c = dprev_c if dc is None else dprev_c + dc[:, t]
        prev_c = c[:, t - 1] if t > 0 else c0
        dprev_c, dp_t = _cell_backward(dnext_h, dnext_c, gates[:, t], prev_c, c[:, t], tanh_c[:, t],
                                       variant, p, da[:, t])
        dprev_h = da[:, t] @ Wh.T  # (N, H)
        if dp is not None:
            dp += dp_t
    da_flat = da.reshape(N * T, -1)  # (N*T, G*H)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1).reshape(N * T, -1)  # h_{t-1}: (N*T, H)
    dx = (da_flat @ Wx.T).reshape(N, T, D)
    grads = (dx, dprev_h, dprev_c, x.reshape(N * T, D).T @ da_flat, h_prev.T @ da_flat, da_flat.sum(axis=0))
    return grads + (dp,) if variant == "peephole" else grads


def init_params(D, H, *, variant="vanilla", forget_bias=0.0, seed=0, dtype=np.float64):
    """Random LSTM weights, initialised like ``torch.nn.LSTM``.

    Shapes: -> {"Wx": (D, G*H), "Wh": (H, G*H), "b": (G*H,)} plus "p": (3, H) for "peephole".
    Formula: weights (and peepholes) ~ U(-1/sqrt(H), 1/sqrt(H)); b = 0 except the
    forget gate's block, set to ``forget_bias`` (1 in Jozefowicz et al. 2015).
    Chapter 4: Long short-term memory.
    """
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    if variant not in GATES:
        raise ValueError(f"variant must be one of {sorted(GATES)}, got {variant!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    gates = GATES[variant]
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    params = {"Wx": rng.uniform(-k, k, (D, len(gates) * H)), "Wh": rng.uniform(-k, k, (H, len(gates) * H)),
              "b": np.zeros(len(gates) * H)}
    if "f" in gates:
        j = gates.index("f")
        params["b"][j * H:(j + 1) * H] = forget_bias
    if variant == "peephole":
        params["p"] = rng.uniform(-k, k, (3, H))
    return {name: v.astype(dtype) for name, v in params.items()}


# ------------------------------------------------------------------- PyTorch
def _torch_cell(a, prev_c, variant, p):
    """:func:`_cell_forward` in tensor ops (autograd does the backward) -> (next_h, next_c)."""
    if variant != "vanilla":
        return lstm_variants.torch_cell(a, prev_c, variant, p)
    i, f, g, o = a.split(prev_c.shape[1], dim=1)  # (N, H) each
    next_c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(next_c), next_c


class LSTM(nn.Module):
    """An LSTM layer (any variant in GATES) written from tensor ops, batch first.

    Shapes: x (N, T, D), state (h0, c0) each (N, H) or None (zeros) ->
    h (N, T, H), (h_T, c_T); parameters Wx (D, G*H), Wh (H, G*H), b (G*H,), p (3, H) for "peephole".
    Formula: as :func:`lstm_step_forward`; ``step`` is one time step (like nn.LSTMCell).
    Chapter 4: Long short-term memory.
    """

    def __init__(self, input_size, hidden_size, *, variant="vanilla", forget_bias=0.0, device=None, dtype=None):
        super().__init__()
        D, H = check_positive_int("input_size", input_size), check_positive_int("hidden_size", hidden_size)
        if variant not in GATES:
            raise ValueError(f"variant must be one of {sorted(GATES)}, got {variant!r}")
        self.input_size, self.hidden_size, self.variant = D, H, variant
        G, factory, k = len(GATES[variant]), {"device": device, "dtype": dtype}, 1.0 / H ** 0.5
        self.Wx = nn.Parameter(torch.empty(D, G * H, **factory).uniform_(-k, k))
        self.Wh = nn.Parameter(torch.empty(H, G * H, **factory).uniform_(-k, k))
        self.b = nn.Parameter(torch.zeros(G * H, **factory))
        if "f" in GATES[variant]:
            j = GATES[variant].index("f")
            with torch.no_grad():
                self.b[j * H:(j + 1) * H] = forget_bias
        self.p = nn.Parameter(torch.empty(3, H, **factory).uniform_(-k, k)) if variant == "peephole" else None

    def _state(self, x, state):
        N, H = x.shape[0], self.hidden_size
        if state is None:
            return x.new_zeros(N, H), x.new_zeros(N, H)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError("state must be a pair (h0, c0) of tensors or None")
        for name, s in zip(("h0", "c0"), state):
            _check_tensor(name, s, (N, H), x.dtype)
        return tuple(state)

    def step(self, x, state=None):
        """One time step: x (N, D), state (prev_h, prev_c) or None -> (next_h, next_c)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            raise ValueError(f"x must be a torch.Tensor of shape (N, {self.input_size})")
        _check_tensor("x", x, (x.shape[0], self.input_size), self.Wx.dtype)
        prev_h, prev_c = self._state(x, state)
        return _torch_cell(x @ self.Wx + prev_h @ self.Wh + self.b, prev_c, self.variant, self.p)

    def forward(self, x, state=None):
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[1] == 0:
            raise ValueError(f"x must be a torch.Tensor of shape (N, T, {self.input_size}) with T >= 1")
        _check_tensor("x", x, (x.shape[0], x.shape[1], self.input_size), self.Wx.dtype)
        h, c = self._state(x, state)
        xw = x @ self.Wx + self.b  # (N, T, G*H): input terms of all steps at once
        hs = []
        for t in range(x.shape[1]):
            h, c = _torch_cell(xw[:, t] + h @ self.Wh, c, self.variant, self.p)
            hs.append(h)
        return torch.stack(hs, dim=1), (h, c)  # (N, T, H), ((N, H), (N, H))

    @classmethod
    def from_torch(cls, module):
        """A vanilla LSTM holding the weights of an ``nn.LSTM``/``nn.LSTMCell``, on its device/dtype."""
        Wx, Wh, b = _weights_of(module)
        lstm = cls(Wx.shape[0], Wh.shape[0], device=Wx.device, dtype=Wx.dtype)
        with torch.no_grad():
            for param, w in zip((lstm.Wx, lstm.Wh, lstm.b), (Wx, Wh, b)):
                param.copy_(w)
        return lstm

    def to_torch(self, *, cell=False):
        """An ``nn.LSTM(batch_first=True)`` (or ``nn.LSTMCell``) with these weights (vanilla only)."""
        if self.variant != "vanilla":
            raise ValueError(f"torch.nn has no {self.variant!r} LSTM; only variant='vanilla' converts")
        return _nn_lstm_with(self.Wx.detach(), self.Wh.detach(), self.b.detach(), cell)


# ---------------------------------------------------------------- converters
def _weights_of(module):
    """(Wx, Wh, b) tensors of a single-layer unidirectional nn.LSTM or an nn.LSTMCell."""
    W_ih, W_hh, b_ih, b_hh = torch_weights(module, nn.LSTM, nn.LSTMCell)  # gates i, f, g, o
    return W_ih.T, W_hh.T, b_ih + b_hh


def _nn_lstm_with(Wx, Wh, b, cell):
    return torch_module_with(nn.LSTM, nn.LSTMCell, Wx, Wh, b, torch.zeros_like(b), cell=cell)


def from_torch(module):
    """numpy float64 weights of an ``nn.LSTM`` / ``nn.LSTMCell`` (or a coursekit :class:`LSTM`).

    Shapes: -> {"Wx": (D, 4H), "Wh": (H, 4H), "b": (4H,)} (plus "p": (3, H) for a peephole LSTM).
    Formula: Wx = weight_ih^T, Wh = weight_hh^T, b = bias_ih + bias_hh (zeros if bias=False).
    Chapter 4: Long short-term memory.
    """
    if isinstance(module, LSTM):
        params = {k: v for k, v in module.named_parameters()}
    else:
        params = dict(zip(("Wx", "Wh", "b"), _weights_of(module)))
    return {k: v.detach().cpu().to(torch.float64).numpy().copy() for k, v in params.items()}


def to_torch(Wx, Wh, b, *, cell=False, dtype=torch.float64, device=None):
    """A ``torch.nn.LSTM(batch_first=True)`` (or ``nn.LSTMCell`` if ``cell``) with these weights.

    Shapes: Wx (D, 4H), Wh (H, 4H), b (4H,) -> weight_ih (4H, D), weight_hh (4H, H).
    Formula: weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = b, bias_hh = 0.
    Chapter 4: Long short-term memory.
    """
    dims = Dims()
    check_array("Wh", Wh, ("H", "4H"), dims)
    if dims["4H"] != 4 * dims["H"]:
        raise ValueError(f"Wh must have shape (H, 4H) (gates i, f, g, o), got shape {Wh.shape}")
    check_array("Wx", Wx, ("D", "4H"), dims)
    check_array("b", b, ("4H",), dims)
    as_t = lambda a: torch.as_tensor(a).to(device=device, dtype=dtype)  # noqa: E731
    return _nn_lstm_with(as_t(Wx), as_t(Wh), as_t(b), cell)
