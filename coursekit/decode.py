"""Decoding: turning a model's scores into tokens.

- :func:`softmax_temperature`: the next-token distribution ``softmax(o / tau)``
  (greedy at ``tau = 0``). Chapter 3.
- :func:`sample`: generate text from a torch character model, primed with a
  prefix, at a temperature, seeded. Chapter 3. (The numpy character RNN samples
  with :func:`coursekit.models.charrnn.sample_charrnn`, beside its forward pass.)

Greedy decoding and beam search for encoder-decoders go here too (chapters 9-11).
"""
from __future__ import annotations

import numpy as np
import torch

from coursekit._validate import check_array
from coursekit.nn.layers import softmax

__all__ = ["softmax_temperature", "sample"]


def softmax_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """The next-character distribution at a temperature: ``softmax(o / tau)``.

    Shapes: scores (..., V) -> probabilities (..., V), same dtype.
    Formula: p_k = exp(o_k / tau) / sum_j exp(o_j / tau). ``tau = 1`` is the
    model's own distribution, ``tau -> 0`` puts all mass on the largest score
    (``tau = 0`` returns that one-hot, greedy decoding), ``tau -> inf`` tends to
    uniform. Chapter 3, "Sampling with temperature".
    """
    check_array("scores", scores)
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if temperature == 0:
        out = np.zeros_like(scores)
        np.put_along_axis(out, np.argmax(scores, axis=-1)[..., None], 1.0, axis=-1)
        return out
    return softmax(scores / scores.dtype.type(temperature), axis=-1)


@torch.no_grad()
def sample(model, vocab, n: int, *, prefix: str = "", temperature: float = 1.0,
           seed: int = 0, device=None) -> str:
    """Generate ``n`` characters after ``prefix`` from a torch char model; returns ``prefix + text``.

    ``model(ids (1, T), hidden) -> (scores (1, T, V), hidden)`` with ``model.vocab_size``
    (a :class:`~coursekit.models.charlm.CharLM`); ``vocab`` encodes and decodes.

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
    device = torch.device(device) if device is not None else next(model.parameters()).device
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
