"""Numpy optimisers with the exact update rules and defaults of ``torch.optim``.

Each optimiser holds a dict of parameter arrays and updates them **in place**::

    params = {"Wx": Wx, "Wh": Wh, "b": b}
    opt = Adam(params, lr=1e-3)
    ...
    opt.step(grads)          # grads: dict with the same keys and shapes

With ``g`` the gradient (plus ``weight_decay * p`` when set), ``t`` the step
count starting at 1, and all operations elementwise:

- ``SGD``:       ``p <- p - lr g``; with ``momentum`` m:
  ``v <- m v + (1 - dampening) g`` (``v = g`` on the first step),
  ``p <- p - lr v``, or with ``nesterov`` ``p <- p - lr (g + m v)``.
- ``Adagrad``:   ``G <- G + g^2``, ``p <- p - lr_t g / (sqrt(G) + eps)``,
  ``lr_t = lr / (1 + (t - 1) lr_decay)``; ``eps`` outside the square root.
- ``RMSprop``:   ``s <- a s + (1 - a) g^2``, ``p <- p - lr g / (sqrt(s) + eps)``.
- ``Adam``:      ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
  ``p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``
  (bias correction; ``eps`` added after the square root, as torch does).

The arithmetic runs in each parameter's dtype (float32 or float64), so a
float64 run matches ``torch.optim`` on float64 tensors to rounding.
Chapter 2 (training recurrent networks; Adagrad trains chapter 3's numpy model).
"""
from __future__ import annotations

import numpy as np

from coursekit._validate import check_array

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam"]


class Optimizer:
    """Base class: checks the parameter dict and the gradients of each ``step``."""

    def __init__(self, params: dict, lr: float, weight_decay: float = 0.0):
        if not isinstance(params, dict) or not params:
            raise TypeError("params must be a non-empty dict of name -> numpy array")
        for name, p in params.items():
            check_array(f"params[{name!r}]", p)
            if not p.flags.writeable:
                raise ValueError(f"params[{name!r}] is read-only; the optimiser updates it in place")
        if not lr >= 0:
            raise ValueError(f"lr must be >= 0, got {lr!r}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.params = params
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0                                   # steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {k: {} for k in params}

    def _grads(self, grads: dict) -> dict:
        if not isinstance(grads, dict):
            raise TypeError(f"grads must be a dict of name -> numpy array, got {type(grads).__name__}")
        missing, extra = set(self.params) - set(grads), set(grads) - set(self.params)
        if missing or extra:
            raise ValueError(f"grads must have the same keys as params: missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)}")
        out = {}
        for k, p in self.params.items():
            g = check_array(f"grads[{k!r}]", grads[k], p.shape)
            if g.dtype != p.dtype:
                raise ValueError(f"grads[{k!r}] has dtype {g.dtype} but params[{k!r}] has {p.dtype}")
            out[k] = g + self.weight_decay * p if self.weight_decay else g
        return out

    def step(self, grads: dict) -> None:
        """Apply one update to every parameter, in place, from ``grads``."""
        grads = self._grads(grads)
        self.t += 1
        for k, p in self.params.items():
            self._update(p, grads[k], self.state[k])

    def _update(self, p, g, state):  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum; as ``torch.optim.SGD``."""

    def __init__(self, params: dict, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr, weight_decay)
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov

    def _update(self, p, g, state):
        if self.momentum:
            if "v" not in state:
                state["v"] = g.copy()                              # first step: v = g
            else:
                state["v"] *= self.momentum
                state["v"] += (1 - self.dampening) * g
            g = g + self.momentum * state["v"] if self.nesterov else state["v"]
        p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad: per-coordinate rates from the running sum of squared gradients; as ``torch.optim.Adagrad``."""

    def __init__(self, params: dict, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(params, lr, weight_decay)
        self.lr_decay, self.eps = float(lr_decay), float(eps)
        for k, p in params.items():
            self.state[k]["G"] = np.full_like(p, initial_accumulator_value)

    def _update(self, p, g, state):
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        state["G"] += g * g
        p -= clr * g / (np.sqrt(state["G"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop (no momentum, not centred): as ``torch.optim.RMSprop`` with its defaults."""

    def __init__(self, params: dict, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.alpha, self.eps = float(alpha), float(eps)

    def _update(self, p, g, state):
        s = state.setdefault("s", np.zeros_like(p))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction; as ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient)."""

    def __init__(self, params: dict, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.beta1, self.beta2, self.eps = float(b1), float(b2), float(eps)

    def _update(self, p, g, state):
        m = state.setdefault("m", np.zeros_like(p))
        v = state.setdefault("v", np.zeros_like(p))
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        bc1 = 1 - self.beta1 ** self.t
        bc2 = 1 - self.beta2 ** self.t
        # torch: p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
        p -= (self.lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + self.eps)
