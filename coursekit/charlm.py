"""The character-level language model of chapter 3 (and its LSTM/GRU cousins of chapter 4).

``CharLM`` reads a batch of character ids ``(N, T)``, turns them into vectors
(one-hot, or a learned embedding), runs a recurrent layer and scores every
character of the vocabulary at every step::

    x_t = onehot(c_t)  or  E[c_t]
    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)        (cell="rnn"; "lstm"/"gru" likewise)
    o_t = W_hy h_t + b_y,        p(c_{t+1} | c_{<=t}) = softmax(o_t)

It is built on ``torch.nn.RNN``/``LSTM``/``GRU`` (the fused, fast kernels) so a
real model trains on a CPU in minutes; the from-tensor-ops modules in
``coursekit.rnn`` are the teaching versions of the same recurrences.

Also here: ``sample`` (temperature, priming with a prefix, seeded),
``evaluate`` (mean loss in nats per character on a long id stream, hidden
state carried), ``nats_to_bits``, ``perplexity`` and a small checkpoint format
(``save_checkpoint``/``load_checkpoint``, loaded with ``weights_only=True``).

Chapter 3 (character-level language models); chapter 4 revisits it with an LSTM.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["CharLM", "detach_hidden", "sample", "evaluate", "nats_to_bits", "perplexity",
           "save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CHECKPOINT_FORMAT = "coursekit-charlm-v1"


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


def detach_hidden(hidden):
    """Cut the graph behind a hidden state (tensor, tuple of tensors, or None)."""
    if hidden is None:
        return None
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def nats_to_bits(loss_nats: float) -> float:
    """Convert a cross-entropy from nats to bits per character: ``L / ln 2``."""
    return float(loss_nats) / math.log(2.0)


def perplexity(loss_nats: float) -> float:
    """Perplexity ``exp(L)`` of a mean cross-entropy ``L`` in nats (chapter 3)."""
    return float(math.exp(loss_nats))


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def sample(model: CharLM, vocab, n: int, *, prefix: str = "", temperature: float = 1.0,
           seed: int = 0, device=None) -> str:
    """Generate ``n`` characters after ``prefix``; returns ``prefix + generated``.

    The prefix primes the hidden state (its characters are fed in one go),
    then each next character is drawn from ``softmax(o_t / temperature)``.
    ``temperature=0`` picks the most likely character (greedy). With no prefix
    the first character is drawn uniformly from the vocabulary. The same
    ``seed`` gives the same text. Chapter 3, "Sampling".
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    device = torch.device(device) if device is not None else _device_of(model)
    was_training = model.training
    model.eval()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    out = []
    hidden = None
    if prefix:
        ids = torch.as_tensor(np.asarray(vocab.encode(prefix)), dtype=torch.long, device=device)
        scores, hidden = model(ids[None, :], hidden)                # prime on the prefix
        last = scores[0, -1]
    else:
        last = None                                                 # first draw is uniform
    for _ in range(n):
        if last is None:
            nxt = int(torch.randint(model.vocab_size, (1,), generator=gen).item())
        elif temperature == 0:
            nxt = int(torch.argmax(last).item())                    # greedy
        else:
            probs = torch.softmax(last.double().cpu() / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=gen).item())
        out.append(nxt)
        scores, hidden = model(torch.tensor([[nxt]], device=device), hidden)
        last = scores[0, -1]
    model.train(was_training)
    return prefix + vocab.decode(np.asarray(out, dtype=np.int64))


@torch.no_grad()
def evaluate(model: CharLM, ids, *, batch_size: int = 32, seq_len: int = 256, device=None) -> float:
    """Mean cross-entropy in nats per character of ``model`` on the id stream ``ids``.

    ``ids`` (1-D ints) is cut into ``batch_size`` contiguous streams that are
    read ``seq_len`` characters at a time with the hidden state carried, so
    every character after the first of each stream is predicted with its
    whole stream as context. ``L = -(1/M) sum_t log p(c_{t+1} | c_{<=t})``.
    """
    device = torch.device(device) if device is not None else _device_of(model)
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


def save_checkpoint(path, model: CharLM, vocab, *, metrics: dict | None = None,
                    half: bool = True) -> Path:
    """Write a small checkpoint (``torch.save`` of plain types and tensors only).

    Format (``CHECKPOINT_FORMAT = "coursekit-charlm-v1"``), a dict with:
    ``format``; ``config`` (CharLM's keyword arguments); ``chars`` (the
    vocabulary, a str in id order); ``state_dict`` (float16 when ``half``,
    else float32); ``metrics`` (dict of str -> float/int/str, e.g. the
    validation loss measured on the saved weights).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "config": dict(model.config),
                "chars": "".join(vocab.chars), "state_dict": state,
                "metrics": _plain_metrics(metrics or {})}, path)
    return path


def _plain_metrics(metrics: dict) -> dict:
    """Metrics as plain str/int/float/bool/None (what ``weights_only=True`` can load)."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, str):
            out[str(k)] = str(v)            # a plain str (torch.__version__ is a str subclass)
        elif v is None or type(v) in (bool, int, float):
            out[str(k)] = v
        elif isinstance(v, (int, float)):
            out[str(k)] = float(v) if isinstance(v, float) else int(v)
        else:
            raise TypeError(f"metrics[{k!r}] must be a str, int, float, bool or None, "
                            f"got {type(v).__name__}")
    return out


def load_checkpoint(path, *, device="cpu", dtype=torch.float32):
    """Load a checkpoint written by ``save_checkpoint`` (safe: ``weights_only=True``).

    Returns ``(model, vocab, info)``: the model in eval mode on ``device``, a
    ``coursekit.text.CharVocab`` over the saved characters, and ``info`` with
    ``config`` and ``metrics``.
    """
    from coursekit.text import CharVocab

    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    model = CharLM(**blob["config"])
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v
                           for k, v in blob["state_dict"].items()})
    model.to(device=device, dtype=dtype).eval()
    vocab = CharVocab(blob["chars"])
    if "".join(vocab.chars) != blob["chars"]:
        raise ValueError("the saved characters do not form a vocabulary in the saved order")
    return model, vocab, {"config": blob["config"], "metrics": blob["metrics"]}
