"""Small, safe checkpoints of coursekit's torch models.

A checkpoint is one ``torch.save`` of plain types and tensors, loaded back with
``weights_only=True`` (no pickled code runs)::

    {"format": "coursekit-checkpoint-v1",
     "model": "coursekit.models.charlm.CharLM",   # the class, which must live in coursekit
     "config": {...},                             # its keyword arguments (model.config)
     "state_dict": {...},                         # float16 when half=True, else float32
     "extra": {...},                              # plain data the model needs (a vocabulary)
     "metrics": {...}}                            # figures measured on the saved weights

Every model the course trains keeps its constructor arguments in ``model.config``,
so :func:`load_checkpoint` can rebuild it. Scripts in ``benchmarks/`` write the
checkpoints that chapters load (``coursekit/data/checkpoints/``). Chapter 3.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["FORMAT", "save_checkpoint", "load_checkpoint", "plain"]

FORMAT = "coursekit-checkpoint-v1"


def plain(value, where: str = "value"):
    """``value`` as plain str/int/float/bool/None, lists and str-keyed dicts (what
    ``weights_only=True`` loads); numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return str(value)            # a plain str (torch.__version__ is a str subclass)
    if value is None or type(value) in (bool, int, float):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where} must be plain data (str, int, float, bool, None, lists, dicts "
                    f"or numpy arrays), got {type(value).__name__}")


def _class_path(model: nn.Module) -> str:
    cls = type(model)
    if not cls.__module__.startswith("coursekit."):
        raise TypeError(f"model must be a coursekit model (its class is rebuilt on loading), "
                        f"got {cls.__module__}.{cls.__qualname__}")
    if not isinstance(getattr(model, "config", None), dict):
        raise TypeError(f"{cls.__qualname__} has no `config` dict of its constructor arguments")
    return f"{cls.__module__}.{cls.__qualname__}"


def save_checkpoint(path, model: nn.Module, *, extra: dict | None = None,
                    metrics: dict | None = None, half: bool = True) -> Path:
    """Write ``model`` (a coursekit model with a ``config`` dict) to ``path``; returns the path.

    ``extra``: plain data needed to use the model (for a character model, its
    characters); ``metrics``: figures measured on these weights. ``half`` stores
    floating-point tensors as float16 (half the size; the chapters' figures are
    measured on the saved weights, so they hold for what is loaded).
    """
    path = Path(path)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    blob = {"format": FORMAT, "model": _class_path(model), "config": plain(model.config, "config"),
            "state_dict": state, "extra": plain(extra or {}, "extra"),
            "metrics": plain(metrics or {}, "metrics")}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(blob, path)
    return path


def load_checkpoint(path, *, device="cpu", dtype=torch.float32):
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Returns ``(model, info)``: the model rebuilt from its class and config, in eval mode on
    ``device`` with floating-point weights in ``dtype``, and ``info`` with ``model``,
    ``config``, ``extra`` and ``metrics``.
    """
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} checkpoint")
    module, _, name = blob["model"].rpartition(".")
    if not module.startswith("coursekit."):
        raise ValueError(f"{path} names the class {blob['model']!r}, which is not in coursekit")
    cls = getattr(importlib.import_module(module), name)
    model = cls(**blob["config"])
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    model.to(device=device, dtype=dtype).eval()
    info = {k: blob[k] for k in ("model", "config", "extra", "metrics")}
    return model, info
