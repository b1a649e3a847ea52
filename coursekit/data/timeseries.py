"""Real time series and the forecasting lab's data steps: windows, a split by time, scaling.

The series (public domain; from the ``statsmodels==0.15.0`` wheel, see README.md):

- ``load_sunspots()``: yearly sunspot numbers 1700-2008, ``(years (309,), values (309,))``;
- ``load_co2(fill)``: weekly CO2 at Mauna Loa 1958-2001 in ppmv, 59 missing weeks.

The lab's steps, one function each:

- ``split_by_time(n, valid, test)``: contiguous train / valid / test index ranges, in time order;
- ``Scaler.fit(train)``: mean and standard deviation of the training part only;
- ``make_windows(data, timesteps, horizon)``: 2-D data (T, F) -> 3-D inputs
  (samples, timesteps, features) and their targets (samples, horizon).

Chapter 7 (applications: forecasting).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from coursekit._validate import check_array, check_positive_int
from coursekit.data import FILES_DIR

__all__ = ["SUNSPOTS_PATH", "CO2_PATH", "load_sunspots", "load_co2", "split_by_time",
           "Scaler", "make_windows"]

SUNSPOTS_PATH = FILES_DIR / "sunspots.csv"
CO2_PATH = FILES_DIR / "co2.csv"


def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly sunspot numbers: ``years`` int64 (309,) from 1700 to 2008 and ``values`` float64 (309,)."""
    with SUNSPOTS_PATH.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return (np.array([int(r["YEAR"]) for r in rows], dtype=np.int64),
            np.array([float(r["SUNACTIVITY"]) for r in rows], dtype=np.float64))


def load_co2(fill: str | None = "interpolate") -> tuple[np.ndarray, np.ndarray]:
    """Weekly CO2 (ppmv) at Mauna Loa: ``dates`` datetime64[D] (2284,) and ``values`` float64 (2284,).

    ``fill="interpolate"`` fills the 59 missing weeks linearly between their
    neighbours in time; ``fill=None`` leaves them as NaN.
    """
    if fill not in ("interpolate", None):
        raise ValueError(f"fill must be 'interpolate' or None, got {fill!r}")
    with CO2_PATH.open(newline="") as f:
        rows = list(csv.DictReader(f))
    dates = np.array([f"{r['date'][:4]}-{r['date'][4:6]}-{r['date'][6:]}" for r in rows],
                     dtype="datetime64[D]")
    values = np.array([float(r["co2"]) if r["co2"] else np.nan for r in rows])
    if fill == "interpolate":
        t = (dates - dates[0]).astype(np.float64)
        ok = ~np.isnan(values)
        values = np.interp(t, t[ok], values[ok])
    return dates, values


def split_by_time(n: int, valid: int | float, test: int | float) -> tuple[slice, slice, slice]:
    """Three contiguous, ordered index ranges ``(train, valid, test)`` covering ``range(n)``.

    ``valid`` and ``test`` are counts (int) or fractions of ``n`` (float in (0, 1));
    the test part is the last stretch, validation the one before: no shuffling, so
    nothing from the future reaches training.
    """
    n = check_positive_int("n", n)

    def count(name, v):
        if isinstance(v, float) and 0 < v < 1:
            return int(round(v * n))
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0:
            return int(v)
        raise ValueError(f"{name} must be a count >= 0 or a fraction in (0, 1), got {v!r}")
    n_valid, n_test = count("valid", valid), count("test", test)
    n_train = n - n_valid - n_test
    if n_train <= 0:
        raise ValueError(f"valid ({n_valid}) + test ({n_test}) leave no training data of n={n}")
    return slice(0, n_train), slice(n_train, n_train + n_valid), slice(n_train + n_valid, n)


@dataclass(frozen=True)
class Scaler:
    """Standardise each feature with statistics of the training part: ``z = (x - mean) / std``.

    ``Scaler.fit(train)`` with ``train`` (T,) or (T, F); ``transform`` / ``inverse``
    apply and undo it on any array whose last axis has F features (or on (T,) when F=1).
    """
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, train: np.ndarray) -> "Scaler":
        train = check_array("train", np.asarray(train, dtype=np.float64))
        if train.ndim not in (1, 2) or train.shape[0] < 2:
            raise ValueError(f"train must have shape (T,) or (T, F) with T >= 2, got {train.shape}")
        mean, std = train.mean(axis=0), train.std(axis=0)
        if np.any(std == 0):
            raise ValueError("train has a constant feature (std 0): it cannot be standardised")
        return cls(np.atleast_1d(mean), np.atleast_1d(std))

    def _shape(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or (x.shape[-1] != self.mean.size and self.mean.size != 1):
            raise ValueError(f"x must end with {self.mean.size} features, got shape {x.shape}")
        return x

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (self._shape(x) - self.mean) / self.std if self.mean.size > 1 else \
            (self._shape(x) - self.mean[0]) / self.std[0]

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return self._shape(z) * self.std + self.mean if self.mean.size > 1 else \
            self._shape(z) * self.std[0] + self.mean[0]


def make_windows(data: np.ndarray, timesteps: int, horizon: int = 1, *, target: int = 0,
                 return_index: bool = False):
    """Cut a series into overlapping windows: 2-D (T, F) -> 3-D (samples, timesteps, features).

    Window ``s`` is ``X[s] = data[s : s + timesteps]`` and its targets are the next
    ``horizon`` values of feature ``target``: ``y[s] = data[s + timesteps : s + timesteps +
    horizon, target]``. A 1-D series counts as one feature. Returns ``X`` (S, timesteps, F)
    and ``y`` (S, horizon) with ``S = T - timesteps - horizon + 1``; with ``return_index``
    also ``t`` (S,), the index in ``data`` of each window's first target, so that windows
    can be assigned to a split by the time of what they predict.
    """
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]                        # (T,) -> (T, 1)
    check_array("data", data, ("T", "F"))
    timesteps = check_positive_int("timesteps", timesteps)
    horizon = check_positive_int("horizon", horizon)
    T, F = data.shape
    if not 0 <= target < F:
        raise ValueError(f"target must index one of the {F} features, got {target}")
    S = T - timesteps - horizon + 1
    if S <= 0:
        raise ValueError(f"data has T={T} steps, too few for timesteps={timesteps} "
                         f"and horizon={horizon} (need at least {timesteps + horizon})")
    idx = np.arange(S)[:, None]
    X = data[idx + np.arange(timesteps)]                         # (S, timesteps, F)
    y = data[idx + timesteps + np.arange(horizon), target]       # (S, horizon)
    return (X, y, np.arange(S) + timesteps) if return_index else (X, y)
