"""Forecasting a series from its past: baselines, a linear AR model and an LSTM/GRU forecaster.

Inputs are the 3-D windows of :func:`coursekit.data.timeseries.make_windows`,
``X`` (S, p, F) with the target in feature 0, and forecasts are ``(S, horizon)``:

    persistence   y_hat_{t+k} = y_t                                 (the naive forecast)
    AR(p)         y_hat_{t+1} = c + sum_{i=1..p} a_i y_{t+1-i}       (least squares)
    RNN           h = GRU(x_{t-p+1..t}),  y_hat_{t+1..t+K} = W h + b  (direct: K outputs)
                  or y_hat_{t+1} = w^T h + b, fed back K times      (recursive)

Recursive forecasts (AR, the one-output RNN) feed each prediction back in as
the newest input; the direct RNN predicts all K steps at once. Errors:
``mae`` = mean |y - y_hat|, ``rmse`` = sqrt(mean (y - y_hat)^2).
Chapter 7: Applications (forecasting).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursekit._validate import check_array, check_positive_int

__all__ = ["mae", "rmse", "persistence_forecast", "fit_ar", "ar_forecast", "Forecaster",
           "rnn_forecast", "train_forecaster"]


def mae(y, y_hat) -> float:
    """Mean absolute error over all entries (same shapes)."""
    y, y_hat = np.asarray(y, np.float64), np.asarray(y_hat, np.float64)
    if y.shape != y_hat.shape:
        raise ValueError(f"y_hat must have the shape of y {y.shape}, got {y_hat.shape}")
    return float(np.abs(y - y_hat).mean())


def rmse(y, y_hat) -> float:
    """Root mean squared error over all entries (same shapes)."""
    y, y_hat = np.asarray(y, np.float64), np.asarray(y_hat, np.float64)
    if y.shape != y_hat.shape:
        raise ValueError(f"y_hat must have the shape of y {y.shape}, got {y_hat.shape}")
    return float(np.sqrt(((y - y_hat) ** 2).mean()))


def _windows(X):
    X = np.asarray(X, dtype=np.float64)
    check_array("X", X, ("S", "p", "F"))
    return X


def persistence_forecast(X, horizon: int = 1) -> np.ndarray:
    """Repeat each window's last value of feature 0: X (S, p, F) -> (S, horizon)."""
    X = _windows(X)
    return np.repeat(X[:, -1, :1], check_positive_int("horizon", horizon), axis=1)


def fit_ar(X, y) -> np.ndarray:
    """Least-squares AR(p) on windows: X (S, p, F) (feature 0 used), y (S,) or (S, 1) -> coef (p+1,).

    ``coef[0]`` is the intercept c, ``coef[i]`` multiplies the value i steps back (a_i).
    """
    X = _windows(X)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)[:, 0]
    lags = X[:, ::-1, 0]                                  # (S, p): newest first
    A = np.hstack([np.ones((len(X), 1)), lags])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef


def ar_forecast(X, coef, horizon: int = 1) -> np.ndarray:
    """Recursive AR forecasts: X (S, p, F), coef (p+1,) -> (S, horizon)."""
    X = _windows(X)
    horizon = check_positive_int("horizon", horizon)
    hist = X[:, :, 0].copy()                              # (S, p), oldest first
    p = hist.shape[1]
    if np.asarray(coef).shape != (p + 1,):
        raise ValueError(f"coef must have shape ({p + 1},) for windows of {p} steps, "
                         f"got {np.asarray(coef).shape}")
    out = np.zeros((len(X), horizon))
    for k in range(horizon):
        out[:, k] = coef[0] + hist[:, ::-1] @ coef[1:]
        hist = np.hstack([hist[:, 1:], out[:, k:k + 1]])
    return out


class Forecaster(nn.Module):
    """LSTM/GRU over a window -> the next ``outputs`` values of feature 0.

    ``outputs=1`` is the one-step model (multi-step by recursion, :func:`rnn_forecast`);
    ``outputs=K`` the direct multi-step model. ``forward(x (S, p, F)) -> (S, outputs)``.
    """

    def __init__(self, n_features: int = 1, hidden_size: int = 32, *, outputs: int = 1,
                 cell: str = "gru", num_layers: int = 1, device=None, dtype=None):
        super().__init__()
        cells = {"lstm": nn.LSTM, "gru": nn.GRU}
        if cell not in cells:
            raise ValueError(f"cell must be one of {tuple(cells)}, got {cell!r}")
        self.config = dict(n_features=n_features, hidden_size=hidden_size, outputs=outputs,
                           cell=cell, num_layers=num_layers)
        self.rnn = cells[cell](n_features, hidden_size, num_layers=num_layers, batch_first=True,
                               device=device, dtype=dtype)
        self.head = nn.Linear(hidden_size, outputs, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])                       # the state after the newest value


@torch.no_grad()
def rnn_forecast(model: Forecaster, X, horizon: int = 1) -> np.ndarray:
    """Forecasts (S, horizon) from windows X (S, p, F) (scaled, as in training).

    A direct model (``outputs >= horizon``) returns its first ``horizon`` outputs; a
    one-output model runs recursively, appending each prediction as the newest
    step (only for a single feature: other features' futures are unknown).
    """
    model.eval()
    X = _windows(X)
    horizon = check_positive_int("horizon", horizon)
    dtype = next(model.parameters()).dtype
    x = torch.as_tensor(X, dtype=dtype)
    k_out = model.config["outputs"]
    if k_out >= horizon:
        return model(x)[:, :horizon].double().numpy()
    if k_out != 1 or X.shape[2] != 1:
        raise ValueError(f"a model with {k_out} outputs cannot forecast {horizon} steps; "
                         f"recursion needs outputs=1 and one feature")
    out = []
    for _ in range(horizon):
        step = model(x)                                    # (S, 1)
        out.append(step)
        x = torch.cat([x[:, 1:], step[:, None, :]], dim=1)
    return torch.cat(out, dim=1).double().numpy()


def train_forecaster(model: Forecaster, X, y, *, valid=None, epochs: int = 200,
                     batch_size: int = 32, lr: float = 3e-3, seed: int = 0):
    """Adam on the mean squared error of (scaled) windows X (S, p, F) and targets y (S, K).

    ``valid = (Xv, yv)`` is scored each epoch and the weights of the best epoch are
    restored at the end. Returns ``{"train": [...], "valid": [...]}`` (MSE per epoch).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(_windows(X), dtype=dtype)
    y = torch.as_tensor(np.asarray(y, np.float64).reshape(len(X), -1), dtype=dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist, best, best_state = {"train": [], "valid": []}, np.inf, None
    for _ in range(epochs):
        model.train()
        perm, total = torch.randperm(len(X), generator=gen), 0.0
        for i in range(0, len(X), batch_size):
            idx = perm[i:i + batch_size]
            loss = F.mse_loss(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(idx)
        hist["train"].append(total / len(X))
        if valid is not None:
            with torch.no_grad():
                model.eval()
                Xv = torch.as_tensor(_windows(valid[0]), dtype=dtype)
                yv = torch.as_tensor(np.asarray(valid[1], np.float64).reshape(len(Xv), -1),
                                     dtype=dtype)
                v = float(F.mse_loss(model(Xv), yv))
            hist["valid"].append(v)
            if v < best:
                best, best_state = v, {k: t.clone() for k, t in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return hist
