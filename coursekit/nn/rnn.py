"""The vanilla (Elman) recurrent network: numpy reference and a PyTorch module.

Book notation (column vectors) and code (batch rows) side by side::

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)      next_h = tanh(x @ Wx + prev_h @ Wh + b)

so ``Wx = W_xh^T`` is ``(D, H)``, ``Wh = W_hh^T`` is ``(H, H)`` and ``b = b_h``
is ``(H,)``. ``torch.nn.RNN`` stores ``weight_ih_l0 = W_xh`` ``(H, D)``,
``weight_hh_l0 = W_hh`` ``(H, H)`` and two biases whose sum is ``b``;
:func:`from_torch` and :func:`to_torch` convert between the two.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit._validate import Dims, check_array, check_like, check_positive_int, check_same_dtype
from coursekit.nn._torch_weights import torch_module_with, torch_weights


def _check_rnn_args(x, h0, Wx, Wh, b, x_shape, h_name):
    """Shapes agree (N, D, H bound across arguments) and all share one float dtype."""
    dims = Dims()
    check_array("x", x, x_shape, dims)
    check_array(h_name, h0, ("N", "H"), dims)
    check_array("Wx", Wx, ("D", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_array("b", b, ("H",), dims)
    check_same_dtype(x=x, **{h_name: h0}, Wx=Wx, Wh=Wh, b=b)


# ----------------------------------------------------------------- numpy: one step
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One time step of a tanh RNN for a batch.

    Shapes: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H).
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h).
    Chapter 1: Recurrent neural networks.
    """
    _check_rnn_args(x, prev_h, Wx, Wh, b, ("N", "D"), "prev_h")
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Backward pass of one RNN step.

    Shapes: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    Formula: with a_t = W_hh h_{t-1} + W_xh x_t + b_h, dL/da_t = dL/dh_t * (1 - h_t^2).
    Chapter 2: Backpropagation through time.
    """
    x, prev_h, Wx, Wh, next_h = cache
    check_like("dnext_h", dnext_h, next_h.shape, next_h.dtype)
    da = dnext_h * (1 - next_h ** 2)  # (N, H): through tanh, tanh' = 1 - tanh^2
    dx = da @ Wx.T  # (N, D)
    dprev_h = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, H)
    dWh = prev_h.T @ da  # (H, H)
    db = da.sum(axis=0)  # (H,)
    return dx, dprev_h, dWx, dWh, db


# ------------------------------------------------------------- numpy: a sequence
def rnn_forward(x, h0, Wx, Wh, b):
    """Run the RNN over a whole sequence, the same weights at every step.

    Shapes: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) -> h (N, T, H).
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h) for t = 1..T, starting from h_0.
    Chapter 1: Recurrent neural networks.
    """
    _check_rnn_args(x, h0, Wx, Wh, b, ("N", "T", "D"), "h0")
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)  # (N, T, H)
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, (caches, x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backpropagation through time over the whole sequence.

    Shapes: dh (N, T, H) upstream gradients of every h_t ->
    dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    Formula: dL/dh_t = dh_t + W_hh^T dL/da_{t+1}; weight gradients sum over t.
    Chapter 2: Backpropagation through time.
    """
    caches, x, h0, Wx, Wh, h = cache
    check_like("dh", dh, h.shape, h.dtype)
    dx = np.empty_like(x)  # (N, T, D)
    dprev_h = np.zeros_like(h0)  # (N, H): gradient flowing back from step t+1
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0], x.dtype)
    for t in reversed(range(x.shape[1])):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def init_params(D, H, *, seed=0, dtype=np.float64):
    """Random RNN weights, initialised like ``torch.nn.RNN``.

    Shapes: -> {"Wx": (D, H), "Wh": (H, H), "b": (H,)}.
    Formula: every entry of W_xh and W_hh ~ U(-1/sqrt(H), 1/sqrt(H)); b_h = 0.
    Chapter 1: Recurrent neural networks.
    """
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    return {"Wx": rng.uniform(-k, k, (D, H)).astype(dtype),
            "Wh": rng.uniform(-k, k, (H, H)).astype(dtype),
            "b": np.zeros(H, dtype=dtype)}


def recurrent_matrix(H: int, radius: float, *, seed: int = 0) -> np.ndarray:
    """A random ``Wh`` ``(H, H)`` whose spectral radius (largest |eigenvalue|) is ``radius``.

    Formula: Wh = radius * G / max_i |lambda_i(G)| with G ~ N(0, 1) entries.
    ``Wh = W_hh^T`` has the same eigenvalues as ``W_hh``. Chapters 1 and 2.
    """
    if not radius >= 0:
        raise ValueError(f"radius must be >= 0, got {radius!r}")
    G = np.random.default_rng(seed).standard_normal((H, H))
    return radius * G / np.abs(np.linalg.eigvals(G)).max()



# ------------------------------------------------------------------- PyTorch
class RNN(nn.Module):
    """A tanh RNN layer written from tensor ops (batch first), parity-tested against nn.RNN.

    Shapes: x (N, T, D), h0 (N, H) or None (zeros) -> h (N, T, H), h_last (N, H).
    Formula: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h); parameters Wx (D, H), Wh (H, H), b (H,).
    Chapter 1: Recurrent neural networks.
    """

    def __init__(self, input_size, hidden_size, *, device=None, dtype=None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        factory = {"device": device, "dtype": dtype}
        k = 1.0 / self.hidden_size ** 0.5
        self.Wx = nn.Parameter(torch.empty(input_size, hidden_size, **factory).uniform_(-k, k))
        self.Wh = nn.Parameter(torch.empty(hidden_size, hidden_size, **factory).uniform_(-k, k))
        self.b = nn.Parameter(torch.zeros(hidden_size, **factory))

    def forward(self, x, h0=None):
        N, T = self._check_input(x, h0)
        h = x.new_zeros(N, self.hidden_size) if h0 is None else h0
        xw = x @ self.Wx + self.b  # (N, T, H): input terms of all steps at once
        hs = []
        for t in range(T):
            h = torch.tanh(xw[:, t] + h @ self.Wh)  # (N, H)
            hs.append(h)
        return torch.stack(hs, dim=1), h  # (N, T, H), (N, H)

    def _check_input(self, x, h0):
        D, H = self.input_size, self.hidden_size
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor of shape (N, T, {D}), got {type(x).__name__}")
        if x.dim() != 3 or x.shape[2] != D or x.shape[1] == 0:
            raise ValueError(f"x must have shape (N, T, {D}) with T >= 1, got {tuple(x.shape)}")
        if x.dtype != self.Wx.dtype:
            raise ValueError(f"x has dtype {x.dtype} but the parameters have {self.Wx.dtype}")
        if h0 is not None:
            if not isinstance(h0, torch.Tensor):
                raise TypeError(f"h0 must be a torch.Tensor or None, got {type(h0).__name__}")
            if tuple(h0.shape) != (x.shape[0], H) or h0.dtype != x.dtype:
                raise ValueError(f"h0 must have shape ({x.shape[0]}, {H}) and dtype {x.dtype}, "
                                 f"got {tuple(h0.shape)} {h0.dtype}")
        return x.shape[0], x.shape[1]

    @classmethod
    def from_torch(cls, module):
        """Copy an ``nn.RNN``/``nn.RNNCell`` (1 layer, tanh) into a new RNN on its device/dtype."""
        Wx, Wh, b = _weights_of(module)
        rnn = cls(Wx.shape[0], Wx.shape[1], device=Wx.device, dtype=Wx.dtype)
        with torch.no_grad():
            for p, w in zip((rnn.Wx, rnn.Wh, rnn.b), (Wx, Wh, b)):
                p.copy_(w)
        return rnn

    def to_torch(self):
        """An ``nn.RNN(batch_first=True)`` with these weights, on this module's device/dtype."""
        return _nn_rnn_with(self.Wx.detach(), self.Wh.detach(), self.b.detach())


# ---------------------------------------------------------------- converters
def _weights_of(module):
    """(Wx, Wh, b) tensors of a single-layer tanh nn.RNN or nn.RNNCell (b = b_ih + b_hh)."""
    W_ih, W_hh, b_ih, b_hh = torch_weights(module, nn.RNN, nn.RNNCell)  # (H, D), (H, H), (H,)
    if module.nonlinearity != "tanh":
        raise ValueError(f"only nonlinearity='tanh' is supported, got {module.nonlinearity!r}")
    return W_ih.T, W_hh.T, b_ih + b_hh


def _nn_rnn_with(Wx, Wh, b):
    """nn.RNN(batch_first=True) holding Wx (D, H), Wh (H, H), b (H,) (all bias in bias_ih)."""
    return torch_module_with(nn.RNN, nn.RNNCell, Wx, Wh, b, torch.zeros_like(b))


def from_torch(module):
    """numpy float64 weights of a single-layer tanh ``nn.RNN`` or ``nn.RNNCell``.

    Shapes: -> {"Wx": (D, H), "Wh": (H, H), "b": (H,)}.
    Formula: Wx = weight_ih^T, Wh = weight_hh^T, b = bias_ih + bias_hh (zeros if bias=False).
    Chapter 1: Recurrent neural networks.
    """
    Wx, Wh, b = _weights_of(module)
    return {k: v.cpu().to(torch.float64).numpy().copy() for k, v in zip(("Wx", "Wh", "b"), (Wx, Wh, b))}


def to_torch(Wx, Wh, b, *, dtype=torch.float64, device=None):
    """A ``torch.nn.RNN(batch_first=True)`` computing the same function as these weights.

    Shapes: Wx (D, H), Wh (H, H), b (H,) -> nn.RNN(D, H) with weight_ih_l0 (H, D), weight_hh_l0 (H, H).
    Formula: weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = b, bias_hh = 0.
    Chapter 1: Recurrent neural networks.
    """
    dims = Dims()
    check_array("Wx", Wx, ("D", "H"), dims)
    check_array("Wh", Wh, ("H", "H"), dims)
    check_array("b", b, ("H",), dims)
    Wx, Wh, b = (torch.as_tensor(a).to(device=device, dtype=dtype) for a in (Wx, Wh, b))
    return _nn_rnn_with(Wx, Wh, b)
