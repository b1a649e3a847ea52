"""Gated recurrent unit: numpy reference in both formulations, and a PyTorch module.

Gates are stacked in PyTorch's order ``r, z, n`` (reset, update, candidate):
``Wx`` is ``(D, 3H)``, ``Wh`` is ``(H, 3H)``, ``b`` is ``(3H,)``.

**The two formulations** differ in where the reset gate acts::

    r_t = sigma(W_xr x_t + W_hr h_{t-1} + b_r)
    z_t = sigma(W_xz x_t + W_hz h_{t-1} + b_z)
    original (Cho et al. 2014, the seeds):  n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_n)
    PyTorch / cuDNN (Keras reset_after):    n_t = tanh(W_xn x_t + b_n + r_t * (W_hn h_{t-1} + b_hn))

The original resets ``h_{t-1}`` *before* the matrix product, so the product
cannot start until ``r_t`` is known; PyTorch resets *after* it, so all three
hidden-side products are one matrix product ``prev_h @ Wh``, at the price of
a second bias ``b_hn`` (H,) inside the reset (it is scaled by ``r_t``, so it
cannot be folded into ``b``). The other hidden-side biases of torch
(``b_hr``, ``b_hz``) simply add to ``b``: :func:`from_torch` folds them in.
Functions: ``gru_*`` is PyTorch's formulation (it takes ``bhn``),
``gru_original_*`` (in :mod:`coursekit.nn.gru_original`) is Cho's.

**The update-gate convention.** PyTorch's ``z`` weighs the *old* state::

    PyTorch, and Cho et al. 2014 eq. 7:   h_t = z_t * h_{t-1} + (1 - z_t) * n_t   (the paper omits biases)
    the seeds and many textbooks:         h_t = (1 - z_t) * h_{t-1} + z_t * n_t

Every function takes ``z_weighs="prev"`` (PyTorch's, the default) or
``z_weighs="new"`` (the seeds'). The two describe the same family of models:
``z -> 1 - z``, which is negating the z block of ``Wx``, ``Wh`` and ``b``
(``sigma(-a) = 1 - sigma(a)``); :func:`flip_update_gate` does it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from coursekit.nn._torch_weights import torch_module_with, torch_weights
from coursekit._validate import check_array, check_like, check_positive_int, check_same_dtype
from coursekit.nn._gates import _check_tensor, _dims_from_Wh, _sigmoid_

Z_WEIGHS = ("prev", "new")


def _check_args(x_shape, z_weighs, reset_after, **arrays):
    """Validate one call; names in order: x, prev_h/h0, Wx, Wh, b[, bhn]."""
    if z_weighs not in Z_WEIGHS:
        raise ValueError(f"z_weighs must be 'prev' (PyTorch: h = z*h_prev + (1-z)*n) or 'new' "
                         f"(h = (1-z)*h_prev + z*n), got {z_weighs!r}")
    h_name = list(arrays)[1]
    dims = _dims_from_Wh(arrays["Wh"], 3)
    check_array("x", arrays["x"], x_shape, dims)
    if len(x_shape) == 3 and arrays["x"].shape[1] == 0:
        raise ValueError(f"x must have shape (N, T, D) with T >= 1, got shape {arrays['x'].shape}")
    check_array(h_name, arrays[h_name], ("N", "H"), dims)
    check_array("Wx", arrays["Wx"], ("D", "3H"), dims)
    check_array("b", arrays["b"], ("3H",), dims)
    if reset_after:
        check_array("bhn", arrays["bhn"], ("H",), dims)
    check_same_dtype(**arrays)


# --------------------------------------------------- the cell, after x @ Wx + b
def _cell_forward(xw, prev_h, Wh, bhn, z_weighs):
    """One step from the input terms ``xw = x @ Wx + b`` (N, 3H); ``bhn=None`` is Cho's formulation.

    Returns next_h (N, H), gates [r, z, n] (N, 3H), and rh (N, H): what the
    reset gate multiplies: W_hn h_{t-1} + b_hn for PyTorch; for Cho, the reset state r * h_{t-1} itself.
    """
    H = prev_h.shape[1]
    gates = np.empty_like(xw)
    if bhn is not None:  # PyTorch: reset after the product, one matmul for all gates
        hw = prev_h @ Wh  # (N, 3H)
        rh = hw[:, 2 * H:] + bhn  # W_hn h_{t-1} + b_hn
        np.add(xw[:, :2 * H], hw[:, :2 * H], out=gates[:, :2 * H])
        _sigmoid_(gates[:, :2 * H])  # r, z
        r = gates[:, :H]
        np.tanh(xw[:, 2 * H:] + r * rh, out=gates[:, 2 * H:])
    else:  # Cho: reset before the product
        np.add(xw[:, :2 * H], prev_h @ Wh[:, :2 * H], out=gates[:, :2 * H])
        _sigmoid_(gates[:, :2 * H])
        rh = gates[:, :H] * prev_h  # r * h_{t-1}
        np.tanh(xw[:, 2 * H:] + rh @ Wh[:, 2 * H:], out=gates[:, 2 * H:])
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    if z_weighs == "prev":
        next_h = n + z * (prev_h - n)  # z h_{t-1} + (1 - z) n
    else:
        next_h = prev_h + z * (n - prev_h)  # (1 - z) h_{t-1} + z n
    return next_h, gates, rh


def _cell_backward(dnext_h, gates, rh, prev_h, Wh, reset_after, z_weighs, dxw, dhw):
    """Backward of :func:`_cell_forward`; returns dprev_h (N, H).

    Writes dL/d(xw) into ``dxw`` (N, 3H) and into ``dhw`` (N, 3H) the gradient
    of the hidden-side products' outputs (the columns of ``prev_h @ Wh``, or for
    Cho's n block of ``rh @ Wh_n``), from which dWh and db_hn follow.
    """
    H = prev_h.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    if z_weighs == "prev":
        dz, dn, dprev_h = dnext_h * (prev_h - n), dnext_h * (1 - z), dnext_h * z
    else:
        dz, dn, dprev_h = dnext_h * (n - prev_h), dnext_h * z, dnext_h * (1 - z)
    da_n = dxw[:, 2 * H:]
    np.multiply(dn, 1 - n ** 2, out=da_n)  # through tanh
    if reset_after:
        np.multiply(da_n, r, out=dhw[:, 2 * H:])  # into W_hn h_{t-1} + b_hn
        dr = da_n * rh
    else:
        dhw[:, 2 * H:] = da_n
        drh = da_n @ Wh[:, 2 * H:].T  # into r * h_{t-1}
        dr = drh * prev_h
        dprev_h += drh * r
    np.multiply(dr, r * (1 - r), out=dxw[:, :H])  # through sigma
    np.multiply(dz, z * (1 - z), out=dxw[:, H:2 * H])
    dhw[:, :2 * H] = dxw[:, :2 * H]
    if reset_after:
        dprev_h += dhw @ Wh.T
    else:
        dprev_h += dhw[:, :2 * H] @ Wh[:, :2 * H].T
    return dprev_h


def _weight_grads(x, h_in, rh, dxw, dhw, reset_after):
    """dWx, dWh, db (and db_hn) from flattened rows: x (M, D), h_in = h_{t-1} (M, H), rh, dxw, dhw (M, 3H)."""
    H = h_in.shape[1]
    if reset_after:
        dWh = h_in.T @ dhw
    else:  # r, z columns saw h_{t-1}; n columns saw r * h_{t-1}
        dWh = np.concatenate([h_in.T @ dhw[:, :2 * H], rh.T @ dhw[:, 2 * H:]], axis=1)
    grads = (x.T @ dxw, dWh, dxw.sum(axis=0))
    return grads + (dhw[:, 2 * H:].sum(axis=0),) if reset_after else grads


# ------------------------------------------------------------- numpy: one step
def _step_forward(x, prev_h, Wx, Wh, b, bhn, z_weighs):
    next_h, gates, rh = _cell_forward(x @ Wx + b, prev_h, Wh, bhn, z_weighs)
    return next_h, (x, prev_h, Wx, Wh, bhn is not None, z_weighs, gates, rh, next_h)


def _step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, reset_after, z_weighs, gates, rh, next_h = cache
    check_like("dnext_h", dnext_h, next_h.shape, next_h.dtype)
    dxw, dhw = np.empty_like(gates), np.empty_like(gates)
    dprev_h = _cell_backward(dnext_h, gates, rh, prev_h, Wh, reset_after, z_weighs, dxw, dhw)
    dWx, dWh, *db = _weight_grads(x, prev_h, rh, dxw, dhw, reset_after)
    return (dxw @ Wx.T, dprev_h, dWx, dWh, *db)


def gru_step_forward(x, prev_h, Wx, Wh, b, bhn, *, z_weighs="prev"):
    """One GRU step in PyTorch's formulation (reset after the product).

    Shapes: x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,), bhn (H,) -> next_h (N, H), cache.
    Formula: r, z = sigma(W_x[r,z] x_t + W_h[r,z] h_{t-1} + b[r,z]),
    n = tanh(W_xn x_t + b_n + r * (W_hn h_{t-1} + b_hn)), h_t = z * h_{t-1} + (1 - z) * n
    (with z_weighs="new": h_t = (1 - z) * h_{t-1} + z * n).
    Chapter 5: Gated recurrent units.
    """
    _check_args(("N", "D"), z_weighs, True, x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, b=b, bhn=bhn)
    return _step_forward(x, prev_h, Wx, Wh, b, bhn, z_weighs)


def gru_step_backward(dnext_h, cache):
    """Backward of :func:`gru_step_forward`.

    Shapes: dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), dbhn (H,).
    Formula: dL/dh_{t-1} = dL/dh_t * z + (paths through r, z and n), with dL/dn = dL/dh_t * (1 - z).
    Chapter 5: Gated recurrent units.
    """
    return _step_backward(dnext_h, cache)


# --------------------------------------------------------- numpy: a sequence
def _forward(x, h0, Wx, Wh, b, bhn, z_weighs):
    N, T, D = x.shape
    H = h0.shape[1]
    xw = (x.reshape(N * T, D) @ Wx).reshape(N, T, 3 * H)  # input terms of all steps at once
    xw += b
    h = np.empty((N, T, H), dtype=x.dtype)
    gates, rh = np.empty_like(xw), np.empty_like(h)
    prev_h = h0
    for t in range(T):
        prev_h, gates[:, t], rh[:, t] = _cell_forward(xw[:, t], prev_h, Wh, bhn, z_weighs)
        h[:, t] = prev_h
    return h, (x, h0, Wx, Wh, bhn is not None, z_weighs, gates, rh, h)


def _backward(dh, cache):
    x, h0, Wx, Wh, reset_after, z_weighs, gates, rh, h = cache
    check_like("dh", dh, h.shape, h.dtype)
    N, T, D = x.shape
    dxw, dhw = np.empty_like(gates), np.empty_like(gates)  # (N, T, 3H)
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev_h = h[:, t - 1] if t > 0 else h0
        dprev_h = _cell_backward(dh[:, t] + dprev_h, gates[:, t], rh[:, t], prev_h, Wh, reset_after,
                                 z_weighs, dxw[:, t], dhw[:, t])
    M = N * T  # every (sequence, step) pair is one row below
    h_in = np.concatenate([h0[:, None], h[:, :-1]], axis=1).reshape(M, -1)  # h_{t-1}: (N*T, H)
    dWx, dWh, *db = _weight_grads(x.reshape(M, D), h_in, rh.reshape(M, -1), dxw.reshape(M, -1),
                                  dhw.reshape(M, -1), reset_after)
    dx = (dxw.reshape(M, -1) @ Wx.T).reshape(N, T, D)
    return (dx, dprev_h, dWx, dWh, *db)


def gru_forward(x, h0, Wx, Wh, b, bhn, *, z_weighs="prev"):
    """Run a GRU (PyTorch's formulation) over a sequence.

    Shapes: x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,), bhn (H,) -> h (N, T, H), cache.
    Formula: :func:`gru_step_forward` for t = 1..T, starting from h_0.
    Chapter 5: Gated recurrent units.
    """
    _check_args(("N", "T", "D"), z_weighs, True, x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, bhn=bhn)
    return _forward(x, h0, Wx, Wh, b, bhn, z_weighs)


def gru_backward(dh, cache):
    """Backpropagation through time for :func:`gru_forward`.

    Shapes: dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,), dbhn (H,).
    Formula: :func:`gru_step_backward` from t = T down to 1; weight gradients sum over t.
    Chapter 5: Gated recurrent units.
    """
    return _backward(dh, cache)


def flip_update_gate(Wx, Wh, b):
    """Convert weights between the two update-gate conventions (z -> 1 - z).

    Shapes: Wx (D, 3H), Wh (H, 3H), b (3H,) -> new copies (numpy arrays or torch
    tensors, as given), the z block negated.
    Formula: sigma(-a) = 1 - sigma(a), so negating z's pre-activation swaps
    h_t = z h_{t-1} + (1 - z) n and h_t = (1 - z) h_{t-1} + z n.
    Chapter 5: Gated recurrent units.
    """
    if isinstance(Wh, torch.Tensor):
        out = [w.clone() for w in (Wx, Wh, b)]
    else:
        dims = _dims_from_Wh(Wh, 3)  # gates r, z, n
        check_array("Wx", Wx, ("D", "3H"), dims)
        check_array("b", b, ("3H",), dims)
        out = [a.copy() for a in (Wx, Wh, b)]
    H = Wh.shape[0]
    for a in out:
        a[..., H:2 * H] *= -1
    return tuple(out)


def init_params(D, H, *, reset_after=True, seed=0, dtype=np.float64):
    """Random GRU weights, initialised like ``torch.nn.GRU``.

    Shapes: -> {"Wx": (D, 3H), "Wh": (H, 3H), "b": (3H,)} plus "bhn": (H,) if ``reset_after``.
    Formula: weights ~ U(-1/sqrt(H), 1/sqrt(H)); biases 0.
    Chapter 5: Gated recurrent units.
    """
    D, H = check_positive_int("D", D), check_positive_int("H", H)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    params = {"Wx": rng.uniform(-k, k, (D, 3 * H)), "Wh": rng.uniform(-k, k, (H, 3 * H)), "b": np.zeros(3 * H)}
    if reset_after:
        params["bhn"] = np.zeros(H)
    return {name: v.astype(dtype) for name, v in params.items()}


# ------------------------------------------------------------------- PyTorch
def _torch_cell(xw, prev_h, Wh, bhn, z_weighs):
    """:func:`_cell_forward` in tensor ops (autograd does the backward); ``bhn=None`` is Cho's."""
    H = prev_h.shape[1]
    xr, xz, xn = xw.split(H, dim=1)
    if bhn is not None:  # PyTorch: reset after the product
        hr, hz, hn = (prev_h @ Wh).split(H, dim=1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * (hn + bhn))
    else:  # Cho: reset before the product
        Whr, Whz, Whn = Wh.split(H, dim=1)
        r, z = torch.sigmoid(xr + prev_h @ Whr), torch.sigmoid(xz + prev_h @ Whz)
        n = torch.tanh(xn + (r * prev_h) @ Whn)
    return z * prev_h + (1 - z) * n if z_weighs == "prev" else (1 - z) * prev_h + z * n


class GRU(nn.Module):
    """A GRU layer written from tensor ops, batch first, in either formulation and z convention.

    Shapes: x (N, T, D), h0 (N, H) or None (zeros) -> h (N, T, H), h_last (N, H);
    parameters Wx (D, 3H), Wh (H, 3H), b (3H,), and bhn (H,) when ``reset_after``
    (PyTorch's formulation; ``reset_after=False`` is Cho et al.'s original).
    Formula: as :func:`gru_step_forward` (or the gru_original module);
    ``step`` is one time step (like nn.GRUCell).
    Chapter 5: Gated recurrent units.
    """

    def __init__(self, input_size, hidden_size, *, reset_after=True, z_weighs="prev", device=None, dtype=None):
        super().__init__()
        D, H = check_positive_int("input_size", input_size), check_positive_int("hidden_size", hidden_size)
        if z_weighs not in Z_WEIGHS:
            raise ValueError(f"z_weighs must be 'prev' or 'new', got {z_weighs!r}")
        self.input_size, self.hidden_size = D, H
        self.reset_after, self.z_weighs = bool(reset_after), z_weighs
        factory, k = {"device": device, "dtype": dtype}, 1.0 / H ** 0.5
        self.Wx = nn.Parameter(torch.empty(D, 3 * H, **factory).uniform_(-k, k))
        self.Wh = nn.Parameter(torch.empty(H, 3 * H, **factory).uniform_(-k, k))
        self.b = nn.Parameter(torch.zeros(3 * H, **factory))
        self.bhn = nn.Parameter(torch.zeros(H, **factory)) if reset_after else None

    def _h0(self, x, h0):
        if h0 is None:
            return x.new_zeros(x.shape[0], self.hidden_size)
        _check_tensor("h0", h0, (x.shape[0], self.hidden_size), x.dtype)
        return h0

    def step(self, x, h=None):
        """One time step: x (N, D), h (N, H) or None -> next_h (N, H)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            raise ValueError(f"x must be a torch.Tensor of shape (N, {self.input_size})")
        _check_tensor("x", x, (x.shape[0], self.input_size), self.Wx.dtype)
        return _torch_cell(x @ self.Wx + self.b, self._h0(x, h), self.Wh, self.bhn, self.z_weighs)

    def forward(self, x, h0=None):
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[1] == 0:
            raise ValueError(f"x must be a torch.Tensor of shape (N, T, {self.input_size}) with T >= 1")
        _check_tensor("x", x, (x.shape[0], x.shape[1], self.input_size), self.Wx.dtype)
        h = self._h0(x, h0)
        xw = x @ self.Wx + self.b  # (N, T, 3H): input terms of all steps at once
        hs = []
        for t in range(x.shape[1]):
            h = _torch_cell(xw[:, t], h, self.Wh, self.bhn, self.z_weighs)
            hs.append(h)
        return torch.stack(hs, dim=1), h  # (N, T, H), (N, H)

    @classmethod
    def from_torch(cls, module, *, z_weighs="prev"):
        """A GRU computing the same function as an ``nn.GRU``/``nn.GRUCell`` (z flipped if z_weighs="new")."""
        Wx, Wh, b, bhn = _weights_of(module)
        gru = cls(Wx.shape[0], Wh.shape[0], z_weighs=z_weighs, device=Wx.device, dtype=Wx.dtype)
        if z_weighs == "new":
            Wx, Wh, b = flip_update_gate(Wx, Wh, b)
        with torch.no_grad():
            for param, w in zip((gru.Wx, gru.Wh, gru.b, gru.bhn), (Wx, Wh, b, bhn)):
                param.copy_(w)
        return gru

    def to_torch(self, *, cell=False):
        """An ``nn.GRU(batch_first=True)`` (or ``nn.GRUCell``) computing the same function."""
        if not self.reset_after:
            raise ValueError("torch.nn.GRU uses the reset-after formulation; a reset_after=False GRU "
                             "(Cho's original) has no torch.nn equivalent")
        Wx, Wh, b = self.Wx.detach(), self.Wh.detach(), self.b.detach()
        if self.z_weighs == "new":
            Wx, Wh, b = flip_update_gate(Wx, Wh, b)
        return _nn_gru_with(Wx, Wh, b, self.bhn.detach(), cell)


# ---------------------------------------------------------------- converters
def _weights_of(module):
    """(Wx, Wh, b, bhn) tensors of a single-layer unidirectional nn.GRU or an nn.GRUCell."""
    W_ih, W_hh, b_ih, b_hh = torch_weights(module, nn.GRU, nn.GRUCell)  # gates r, z, n
    H = W_hh.shape[1]
    b = b_ih.clone()
    b[:2 * H] += b_hh[:2 * H]  # b_hr, b_hz just add; b_hn sits inside the reset
    return W_ih.T, W_hh.T, b, b_hh[2 * H:].clone()


def _nn_gru_with(Wx, Wh, b, bhn, cell):
    b_hh = torch.cat([torch.zeros_like(b[:2 * bhn.shape[0]]), bhn])  # (3H,): only b_hn
    return torch_module_with(nn.GRU, nn.GRUCell, Wx, Wh, b, b_hh, cell=cell)


def from_torch(module):
    """numpy float64 weights of an ``nn.GRU`` / ``nn.GRUCell`` (or a coursekit :class:`GRU`).

    Shapes: -> {"Wx": (D, 3H), "Wh": (H, 3H), "b": (3H,), "bhn": (H,)}; torch's z convention
    (z_weighs="prev"). A coursekit GRU gives its own parameters as they are (its z_weighs,
    no "bhn" if reset_after=False).
    Formula: Wx = weight_ih^T, Wh = weight_hh^T, b = bias_ih + [b_hr, b_hz, 0], bhn = b_hn.
    Chapter 5: Gated recurrent units.
    """
    if isinstance(module, GRU):
        params = {k: v for k, v in module.named_parameters()}
    else:
        params = dict(zip(("Wx", "Wh", "b", "bhn"), _weights_of(module)))
    return {k: v.detach().cpu().to(torch.float64).numpy().copy() for k, v in params.items()}


def to_torch(Wx, Wh, b, bhn, *, cell=False, dtype=torch.float64, device=None):
    """A ``torch.nn.GRU(batch_first=True)`` (or ``nn.GRUCell`` if ``cell``) with these weights.

    Shapes: Wx (D, 3H), Wh (H, 3H), b (3H,), bhn (H,) -> weight_ih (3H, D), weight_hh (3H, H).
    Formula: weight_ih = Wx^T, weight_hh = Wh^T, bias_ih = b, bias_hh = [0, 0, bhn]
    (weights in torch's z convention; use :func:`flip_update_gate` first for z_weighs="new").
    Chapter 5: Gated recurrent units.
    """
    dims = _dims_from_Wh(Wh, 3)  # gates r, z, n
    check_array("Wx", Wx, ("D", "3H"), dims)
    check_array("b", b, ("3H",), dims)
    check_array("bhn", bhn, ("H",), dims)
    as_t = lambda a: torch.as_tensor(a).to(device=device, dtype=dtype)  # noqa: E731
    return _nn_gru_with(as_t(Wx), as_t(Wh), as_t(b), as_t(bhn), cell)
