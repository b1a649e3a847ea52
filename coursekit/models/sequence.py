"""One small configurable model for the synthetic tasks: ids -> recurrent layer -> scores per step.

``SequenceNet`` reads one-hot ids ``(N, T)``, runs one recurrent layer and
scores ``n_classes`` answers at every step::

    x_t = onehot(c_t),   h_t = cell(x_t, h_{t-1}),   o_t = W_hy h_t + b_y

The cell is ``torch.nn``'s fused RNN (tanh or ReLU), LSTM or GRU, or one of
coursekit's from-tensor-ops layers (the LSTM variants of chapter 4 and the GRU of
chapter 5), so every cell the chapters compare runs in the same model. For the
RNN, ``init`` chooses torch's default, the identity (with ReLU: Le, Jaitly and
Hinton's IRNN) or a random ``W_hh`` of a given spectral radius. It trains with
:func:`coursekit.train.loop.train` and :func:`~coursekit.train.loop.sequence_loss`.
Chapters 2 (delayed recall), 4 and 5 (first-symbol recall).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from coursekit._validate import check_positive_int
from coursekit.nn import gru as ck_gru
from coursekit.nn import lstm as ck_lstm
from coursekit.nn.rnn import recurrent_matrix

__all__ = ["CELLS", "SequenceNet"]

#: cell name -> the recurrent layer it uses.
CELLS = {
    "rnn": "torch.nn.RNN (tanh, or relu with nonlinearity='relu')",
    "lstm": "torch.nn.LSTM",
    "gru": "torch.nn.GRU",
    "lstm_vanilla": "coursekit.nn.lstm.LSTM(variant='vanilla')",
    "lstm_no_forget": "coursekit.nn.lstm.LSTM(variant='no_forget')",
    "lstm_peephole": "coursekit.nn.lstm.LSTM(variant='peephole')",
    "lstm_coupled": "coursekit.nn.lstm.LSTM(variant='coupled')",
    "gru_ops": "coursekit.nn.gru.GRU (PyTorch's formulation, from tensor ops)",
    "gru_cho": "coursekit.nn.gru.GRU(reset_after=False) (Cho et al. 2014: r_t before W_hn)",
}
_TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceNet(nn.Module):
    """A recurrent layer with a linear read-out at every step: ids (N, T) -> scores (N, T, K).

    Args:
        n_inputs: V, the number of input ids (one-hot inputs, D = V).
        hidden_size: H.
        n_classes: K, the number of answers (default V: predict a symbol).
        cell: a key of :data:`CELLS`.
        nonlinearity: ``"tanh"`` or ``"relu"`` (cell ``"rnn"`` only).
        init: cell ``"rnn"`` only: ``"default"`` (torch's U(-1/sqrt(H), 1/sqrt(H))),
            ``"identity"`` (W_hh = I, zero biases, W_xh ~ N(0, 0.1^2)), or a number
            rho: W_hh random with spectral radius rho.
        forget_bias: LSTM cells with a forget gate: b_f at initialisation (None:
            torch's default init for ``"lstm"``, 0 for coursekit's cells).
        seed: seeds the initialisation (the global torch RNG is left untouched).

    ``forward(ids, hidden=None) -> (scores (N, T, K), hidden)``, the interface of
    :func:`coursekit.train.loop.train`. ``config`` holds the constructor arguments.
    Formula: h_t = cell(x_t, h_{t-1}), o_t = W_hy h_t + b_y. Chapters 2, 4 and 5.
    """

    def __init__(self, n_inputs, hidden_size, n_classes=None, *, cell="rnn", nonlinearity="tanh",
                 init="default", forget_bias=None, seed=0, device=None, dtype=None):
        super().__init__()
        V, H = check_positive_int("n_inputs", n_inputs), check_positive_int("hidden_size", hidden_size)
        K = V if n_classes is None else check_positive_int("n_classes", n_classes)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if nonlinearity not in ("tanh", "relu") or (nonlinearity == "relu" and cell != "rnn"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu' (relu only with cell='rnn'), "
                             f"got {nonlinearity!r} with cell={cell!r}")
        if init != "default" and cell != "rnn":
            raise ValueError(f"init is only for cell='rnn', got init={init!r} with cell={cell!r}")
        self.config = dict(n_inputs=V, hidden_size=H, n_classes=K, cell=cell,
                           nonlinearity=nonlinearity, init=init, forget_bias=forget_bias, seed=seed)
        self.n_inputs, self.n_classes, self.cell = V, K, cell
        kw = dict(device=device, dtype=dtype)
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(seed)
            if cell == "rnn":
                self.rnn = nn.RNN(V, H, nonlinearity=nonlinearity, batch_first=True, **kw)
            elif cell in _TORCH:
                self.rnn = _TORCH[cell](V, H, batch_first=True, **kw)
            elif cell.startswith("lstm_"):
                self.rnn = ck_lstm.LSTM(V, H, variant=cell[5:], forget_bias=forget_bias or 0.0, **kw)
            else:
                self.rnn = ck_gru.GRU(V, H, reset_after=(cell == "gru_ops"), **kw)
            self.head = nn.Linear(H, K, **kw)
            self._initialise(init, forget_bias, seed)

    @torch.no_grad()
    def _initialise(self, init, forget_bias, seed):
        H = self.config["hidden_size"]
        if self.cell == "lstm" and forget_bias is not None:  # gates i, f, g, o
            self.rnn.bias_ih_l0[H:2 * H] = forget_bias       # b_f = bias_ih + bias_hh
            self.rnn.bias_hh_l0[H:2 * H] = 0.0
        if isinstance(init, str) and init == "identity":
            g = torch.Generator().manual_seed(seed)
            self.rnn.weight_hh_l0.copy_(torch.eye(H))
            self.rnn.weight_ih_l0.copy_(0.1 * torch.randn(H, self.n_inputs, generator=g))
            self.rnn.bias_ih_l0.zero_()
            self.rnn.bias_hh_l0.zero_()
        elif isinstance(init, (int, float)) and not isinstance(init, bool):
            self.rnn.weight_hh_l0.copy_(torch.as_tensor(recurrent_matrix(H, float(init), seed=seed)))
        elif init != "default":
            raise ValueError(f"init must be 'default', 'identity' or a spectral radius, got {init!r}")

    def numpy_weights(self):
        """The RNN's recurrence as numpy float64: Wx (V, H), Wh (H, H), b (H,) (cell ``"rnn"``).

        ``Wx = W_xh^T``, ``Wh = W_hh^T``, ``b = b_ih + b_hh``, the course's layout.
        """
        if self.cell != "rnn":
            raise ValueError(f"numpy_weights is for cell='rnn', this model has cell={self.cell!r}")
        r = self.rnn
        as_np = lambda t: t.detach().cpu().to(torch.float64).numpy().copy()  # noqa: E731
        return {"Wx": as_np(r.weight_ih_l0.T), "Wh": as_np(r.weight_hh_l0.T),
                "b": as_np(r.bias_ih_l0 + r.bias_hh_l0)}

    def forward(self, ids, hidden=None):
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
            raise ValueError(f"ids must be a torch.Tensor of shape (N, T), got "
                             f"{getattr(ids, 'shape', type(ids).__name__)}")
        x = F.one_hot(ids, self.n_inputs).to(self.head.weight.dtype)  # (N, T, V)
        h, hidden = self.rnn(x, hidden)  # (N, T, H)
        return self.head(h), hidden  # (N, T, K)
