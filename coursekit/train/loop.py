"""One training loop for the course's PyTorch models.

``train(model, batches, steps=..., lr=...)`` runs the optimiser for ``steps``
updates (or until ``time_limit`` seconds), with a tqdm progress bar showing the
loss, optional gradient clipping (by global norm or by value), truncated
backpropagation through time with the hidden state carried between chunks and
batches, a learning-rate schedule, periodic validation, and a seed. It returns
a history (a dict of lists) ready to plot.

Truncated BPTT, ``tbptt=k`` or ``tbptt=(k1, k2)`` (chapter 2): every ``k1``
new characters the loop makes one update whose gradient reaches back ``k2``
steps. The hidden state is detached at the start of the ``k2``-window, so no
gradient crosses it, and carried forward in value. ``k1 = k2 = k`` is the
common case: each chunk of ``k`` steps is one update. For ``k2 > k1`` (``k2`` a
multiple of ``k1``) the last ``k2 - k1`` steps are re-run from their saved
starting state with the current weights and only the ``k1`` new targets
enter the loss (Williams and Peng's BPTT(k2; k1)).

Chapters 2 to 5 train with it; ``benchmarks/train_charlm.py`` uses it for
the shipped checkpoints.
"""
from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from coursekit.data.tasks import IGNORE

__all__ = ["train", "sequence_loss", "detach_hidden", "make_optimizer", "cosine_schedule"]


def sequence_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, hidden=None, *,
                  n_last=None):
    """Mean cross-entropy (nats) over the valid targets of ``model(x, hidden) -> (scores, hidden)``.

    Shapes: x (N, T) ids (or inputs the model takes), y (N, T) target ids, scores (N, T, V).
    Targets equal to ``IGNORE`` (-100, torch's ``ignore_index``) are skipped; with
    ``n_last`` only the last ``n_last`` steps count.
    Formula: L = -(1/M) sum_{(n,t) valid} log softmax(o_{n,t})[y_{n,t}], M = number of valid
    targets (L = 0 when M = 0: a truncated-BPTT chunk may hold only ignored targets).
    For a language model with no ignored targets this is the mean over all N*T characters.
    The one loss of chapters 2 to 5 (the ``loss_fn`` of :func:`train`). Returns ``(loss, hidden)``.
    """
    scores, hidden = model(x, hidden)
    if n_last is not None:
        scores, y = scores[:, -n_last:], y[:, -n_last:]
    total = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1),
                            ignore_index=IGNORE, reduction="sum")
    return total / max(int((y != IGNORE).sum()), 1), hidden


def detach_hidden(hidden):
    """Cut the graph behind a hidden state (tensor, tuple of tensors, or None)."""
    if hidden is None:
        return None
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``"sgd"``, ``"momentum"`` (0.9), ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or ``"adamw"``."""
    name = name.lower()
    table = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, weight_decay=weight_decay),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay),
        "adam": lambda: torch.optim.Adam(params, lr=lr, weight_decay=weight_decay),
        "adamw": lambda: torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay),
    }
    if name not in table:
        raise ValueError(f"optimizer must be one of {sorted(table)}, got {name!r}")
    return table[name]()


def cosine_schedule(warmup: float = 0.02, final: float = 0.1) -> Callable[[float], float]:
    """LR factor of the training progress ``p`` in [0, 1]: linear warm-up, then cosine to ``final``."""
    def factor(p: float) -> float:
        if p < warmup:
            return (p + 1e-3) / (warmup + 1e-3)
        q = min(1.0, (p - warmup) / max(1e-9, 1.0 - warmup))
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * q))
    return factor


def _to_device(batch, device):
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, np.ndarray):
        batch = torch.from_numpy(np.ascontiguousarray(batch))
    return batch.to(device) if isinstance(batch, torch.Tensor) else batch


def _parse_tbptt(tbptt):
    if tbptt is None:
        return None
    k1, k2 = (tbptt, tbptt) if isinstance(tbptt, int) else tuple(tbptt)
    if k1 <= 0 or k2 < k1 or k2 % k1:
        raise ValueError(f"tbptt must be k or (k1, k2) with 0 < k1 <= k2 and k2 a multiple "
                         f"of k1, got {tbptt!r}")
    return k1, k2


def train(model: nn.Module, batches: Iterable, *, steps: int, lr: float = 1e-3,
          optimizer: str | torch.optim.Optimizer = "adam", weight_decay: float = 0.0,
          clip: float | None = None, clip_value: float | None = None,
          tbptt: int | tuple[int, int] | None = None, loss_fn: Callable = sequence_loss,
          schedule: Callable[[float], float] | None = None, time_limit: float | None = None,
          eval_fn: Callable[[nn.Module], float] | None = None, eval_every: int | None = None,
          keep_best: bool = False, device="cpu", seed: int | None = 0, progress: bool = True,
          log: Callable | None = None, log_every: int = 50) -> dict:
    """Train ``model`` on ``batches``; returns the history.

    Args:
        model: ``model(x, hidden) -> (out, hidden)`` for ``sequence_loss``; any module
            with a matching ``loss_fn``.
        batches: iterable of ``(x, y)`` (numpy or torch, moved to ``device``).
            Iterated again when exhausted (a new epoch; the carried hidden
            state is reset); a one-shot generator that runs dry raises.
        steps: number of optimiser updates (the run may stop earlier at ``time_limit``).
        lr, optimizer, weight_decay: an optimiser name for ``make_optimizer``
            or a ready ``torch.optim.Optimizer`` (then ``lr`` is its base rate).
        clip: max global L2 norm of the gradient (``clip_grad_norm_``);
            clip_value: clamp each gradient entry to ``[-v, v]``.
        tbptt: ``None`` (each batch from a zero state), ``k``, or ``(k1, k2)``:
            split each batch's time axis into chunks of ``k1`` and carry the
            hidden state across chunks and batches (see the module docstring).
        loss_fn: ``loss_fn(model, x, y, hidden, n_last=None) -> (loss, hidden)``.
        schedule: LR factor of the progress in [0, 1] (``max(step/steps,
            elapsed/time_limit)``), e.g. ``cosine_schedule()``.
        eval_fn, eval_every: ``eval_fn(model) -> float`` (e.g. validation loss),
            called every ``eval_every`` steps and at the end, in ``eval`` mode.
        keep_best: with ``eval_fn``, load back at the end the weights of the evaluation
            with the lowest value (model selection on the validation loss) and record
            ``best_step`` and ``best_val_loss`` in the history.
        device, seed: where to train; ``torch.manual_seed(seed)`` first.
        progress: tqdm bar (``tqdm.auto``) with the loss in the postfix.
        log: called as ``log(dict)`` every ``log_every`` steps and after each eval.

    Returns:
        dict of lists: ``step``, ``loss`` (training loss of that update),
        ``grad_norm`` (global L2 norm before clipping), ``lr``, ``seconds``
        (since the start), and ``val_step``/``val_loss``/``val_seconds`` for the evaluations;
        plus ``stopped`` (``"steps"`` or ``"time_limit"``), and with ``keep_best`` the
        ``best_step`` and ``best_val_loss`` of the weights the model ends with.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if keep_best and eval_fn is None:
        raise ValueError("keep_best=True needs eval_fn (the value the best weights minimise)")
    k = _parse_tbptt(tbptt)
    if seed is not None:
        torch.manual_seed(seed)
    device = torch.device(device)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    if isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
        base_lrs = [g["lr"] for g in opt.param_groups]
    else:
        opt = make_optimizer(optimizer, params, lr, weight_decay)
        base_lrs = [lr for _ in opt.param_groups]

    hist = {"step": [], "loss": [], "grad_norm": [], "lr": [], "seconds": [],
            "val_step": [], "val_loss": [], "val_seconds": [], "stopped": "steps"}
    best_state = None                  # the weights of the best evaluation, for keep_best
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="train", leave=True)

    def evaluate(step):
        nonlocal best_state
        model.eval()
        with torch.no_grad():
            v = float(eval_fn(model))
        model.train()
        hist["val_step"].append(step)
        hist["val_loss"].append(v)
        hist["val_seconds"].append(time.perf_counter() - t0)
        if keep_best and v < hist.get("best_val_loss", float("inf")):
            hist.update(best_step=step, best_val_loss=v)
            best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
        if log:
            log({"step": step, "val_loss": v, "seconds": hist["val_seconds"][-1]})
        return v

    def update(x, y, hidden, n_last):
        """One optimiser step on the window ``x, y``; returns (loss, hidden at its end)."""
        progress_frac = len(hist["step"]) / steps
        if time_limit:
            progress_frac = max(progress_frac, (time.perf_counter() - t0) / time_limit)
        factor = schedule(min(progress_frac, 1.0)) if schedule else 1.0
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * factor
        opt.zero_grad(set_to_none=True)
        loss, hidden = loss_fn(model, x, y, hidden, n_last=n_last)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {len(hist['step'])}; "
                                     f"lower lr or clip gradients")
        loss.backward()
        if clip_value is not None:
            nn.utils.clip_grad_value_(params, clip_value)
        norm = nn.utils.clip_grad_norm_(params, clip if clip is not None else float("inf"))
        opt.step()
        step = len(hist["step"]) + 1
        hist["step"].append(step)
        hist["loss"].append(float(loss.item()))
        hist["grad_norm"].append(float(norm))
        hist["lr"].append(opt.param_groups[0]["lr"])
        hist["seconds"].append(time.perf_counter() - t0)
        return hidden

    t0 = time.perf_counter()
    smooth = None
    epoch_iter = iter(batches)
    hidden = None
    window: deque = deque()            # (x_chunk, y_chunk, hidden_at_chunk_start), for k2 > k1
    done = False
    while not done:
        try:
            batch = next(epoch_iter)
        except StopIteration:
            epoch_iter = iter(batches)
            hidden, window = None, deque()
            try:
                batch = next(epoch_iter)
            except StopIteration:
                raise ValueError("batches ran out before `steps` updates; pass a re-iterable "
                                 "(a list, SequentialBatches) or an endless generator") from None
        x, y = _to_device(batch, device)[:2]
        if k is None:
            chunks = [(x, y)]
        else:
            chunks = [(x[:, s:s + k[0]], y[:, s:s + k[0]]) for s in range(0, x.shape[1], k[0])]
        for xc, yc in chunks:
            if k is None:
                update(xc, yc, None, None)
            elif k[0] == k[1]:
                hidden = detach_hidden(update(xc, yc, detach_hidden(hidden), None))
            else:
                window.append((xc, yc, detach_hidden(hidden)))
                while len(window) > k[1] // k[0]:
                    window.popleft()
                xw = torch.cat([c[0] for c in window], dim=1)
                yw = torch.cat([c[1] for c in window], dim=1)
                hidden = detach_hidden(update(xw, yw, window[0][2], xc.shape[1]))
            step = len(hist["step"])
            smooth = hist["loss"][-1] if smooth is None else 0.95 * smooth + 0.05 * hist["loss"][-1]
            if bar is not None:
                bar.update(1)
                if step % 10 == 0 or step == steps:
                    bar.set_postfix(loss=f"{smooth:.3f}")
            if log and step % log_every == 0:
                log({"step": step, "loss": smooth, "grad_norm": hist["grad_norm"][-1],
                     "lr": hist["lr"][-1], "seconds": hist["seconds"][-1]})
            if eval_fn is not None and eval_every and step % eval_every == 0 and step < steps:
                evaluate(step)
            if step >= steps:
                done = True
            elif time_limit is not None and time.perf_counter() - t0 >= time_limit:
                hist["stopped"] = "time_limit"
                done = True
            if done:
                break
    if eval_fn is not None:
        evaluate(len(hist["step"]))
    if best_state is not None:
        model.load_state_dict(best_state)
    if bar is not None:
        bar.close()
    return hist
