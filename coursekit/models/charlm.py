"""The character-level language model of chapter 3 (and its LSTM/GRU cousins of chapter 4).

``CharLM`` reads a batch of character ids ``(N, T)``, turns them into vectors
(one-hot, or a learned embedding), runs a recurrent layer and scores every
character of the vocabulary at every step::

    x_t = onehot(c_t)  or  E[c_t]
    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)        (cell="rnn"; "lstm"/"gru" likewise)
    o_t = W_hy h_t + b_y,        p(c_{t+1} | c_{<=t}) = softmax(o_t)

It is built on ``torch.nn.RNN``/``LSTM``/``GRU`` (the fused, fast kernels) so a
real model trains on a CPU in minutes; the from-tensor-ops modules in
``coursekit.nn`` are the teaching versions of the same recurrences, and
:mod:`coursekit.models.charrnn` is the same model in numpy.

Also here: ``evaluate`` (mean loss in nats per character on a long id stream,
hidden state carried) and ``save_charlm``/``load_charlm`` (a checkpoint of
:mod:`coursekit.train.checkpoint` that also keeps the vocabulary). Sampling is
:func:`coursekit.decode.sample`.

Chapter 3 (character-level language models); chapter 4 revisits it with an LSTM.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from coursekit.data.text import CharVocab
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["CharLM", "evaluate", "save_charlm", "load_charlm"]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharLM(nn.Module):
    """Recurrent character language model: ids ``(N, T)`` -> scores ``(N, T, V)``.

    Args:
        vocab_size: V, the number of distinct characters.
        hidden_size: H.
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        embed_dim: ``None`` feeds one-hot vectors (D = V, as in the chapter's
            first model); an int learns an embedding ``E`` of shape ``(V, embed_dim)``.
        dropout: on the recurrent layer's output (and between stacked layers).

    ``forward(ids, hidden=None) -> (scores (N, T, V), hidden)``; ``hidden`` is
    what the torch layer returns (``(L, N, H)``, or a pair for the LSTM) and
    can be passed back in to continue a stream.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, cell: str = "rnn",
                 num_layers: int = 1, embed_dim: int | None = None, dropout: float = 0.0,
                 device=None, dtype=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        for name, v in (("vocab_size", vocab_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if embed_dim is not None and (not isinstance(embed_dim, int) or embed_dim <= 0):
            raise ValueError(f"embed_dim must be None or a positive int, got {embed_dim!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        kw = dict(device=device, dtype=dtype)
        self.config = dict(vocab_size=vocab_size, hidden_size=hidden_size, cell=cell,
                           num_layers=num_layers, embed_dim=embed_dim, dropout=float(dropout))
        self.embed = nn.Embedding(vocab_size, embed_dim, **kw) if embed_dim else None
        in_dim = embed_dim or vocab_size
        self.rnn = CELLS[cell](in_dim, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, **kw)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size, **kw)

    @property
    def vocab_size(self) -> int:
        return self.config["vocab_size"]

    def forward(self, ids: torch.Tensor, hidden=None):
        if ids.dim() != 2:
            raise ValueError(f"ids must have shape (N, T), got shape {tuple(ids.shape)}")
        if self.embed is not None:
            x = self.embed(ids)                                   # (N, T, E)
        else:
            x = F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)  # (N, T, V)
        out, hidden = self.rnn(x, hidden)                         # (N, T, H)
        return self.head(self.drop(out)), hidden                  # (N, T, V)


@torch.no_grad()
def evaluate(model: CharLM, ids, *, batch_size: int = 32, seq_len: int = 256, device=None) -> float:
    """Mean cross-entropy in nats per character of ``model`` on the id stream ``ids``.

    ``ids`` (1-D ints) is cut into ``batch_size`` contiguous streams that are
    read ``seq_len`` characters at a time with the hidden state carried, so
    every character after the first of each stream is predicted with its
    whole stream as context. ``L = -(1/M) sum_t log p(c_{t+1} | c_{<=t})``.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    if ids.dim() != 1 or ids.numel() < 2:
        raise ValueError(f"ids must be a 1-D array of at least 2 ids, got shape {tuple(ids.shape)}")
    batch_size = max(1, min(batch_size, (ids.numel() - 1)))
    L = (ids.numel() - 1) // batch_size                     # predictions per stream
    x = ids[: batch_size * L].view(batch_size, L).to(device)          # (B, L)
    y = ids[1: batch_size * L + 1].view(batch_size, L).to(device)     # (B, L)
    was_training = model.training
    model.eval()
    total, count, hidden = 0.0, 0, None
    for s in range(0, L, seq_len):
        scores, hidden = model(x[:, s:s + seq_len], hidden)
        total += F.cross_entropy(scores.reshape(-1, scores.shape[-1]).float(),
                                 y[:, s:s + seq_len].reshape(-1), reduction="sum").item()
        count += y[:, s:s + seq_len].numel()
    model.train(was_training)
    return total / count


def save_charlm(path, model: CharLM, vocab: CharVocab, *, metrics: dict | None = None,
                half: bool = True) -> Path:
    """Write a CharLM checkpoint that keeps its vocabulary (``extra["chars"]``)."""
    if not isinstance(model, CharLM):
        raise TypeError(f"model must be a CharLM, got {type(model).__name__}")
    return save_checkpoint(path, model, extra={"chars": "".join(vocab.chars)}, metrics=metrics,
                           half=half)


def load_charlm(path, *, device="cpu", dtype=torch.float32):
    """Load a checkpoint written by :func:`save_charlm`.

    Returns ``(model, vocab, info)``: the CharLM in eval mode on ``device``, a
    :class:`~coursekit.data.text.CharVocab` over the saved characters, and ``info``
    (``config``, ``metrics``).
    """
    model, info = load_checkpoint(path, device=device, dtype=dtype)
    if not isinstance(model, CharLM) or "chars" not in info["extra"]:
        raise ValueError(f"{path} is not a CharLM checkpoint with its characters")
    vocab = CharVocab(info["extra"]["chars"])
    if "".join(vocab.chars) != info["extra"]["chars"]:
        raise ValueError("the saved characters do not form a vocabulary in the saved order")
    return model, vocab, info
