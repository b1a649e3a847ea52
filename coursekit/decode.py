"""Decoding: turning a model's scores into tokens.

- :func:`softmax_temperature`: the next-token distribution ``softmax(o / tau)``
  (greedy at ``tau = 0``). Chapter 3.
- :func:`sample`: generate text from a torch character model, primed with a
  prefix, at a temperature, seeded. Chapter 3. (The numpy character RNN samples
  with :func:`coursekit.models.charrnn.sample_charrnn`, beside its forward pass.)
- :func:`beam_search` (plain numpy, one hypothesis at a time, over any step function),
  :func:`greedy_search`, and their batched torch twins :func:`greedy_decode` and
  :func:`beam_search_batched`, for encoder-decoders. Chapters 9 to 11.

Both searches run over a *step function*: given the previous token and the decoder
state, it returns log-probabilities of the next token and the next state.

The beam search (the same rule in :func:`beam_search` and :func:`beam_search_batched`):

1. start from one hypothesis ``[bos]`` with log-probability 0;
2. at each step expand every live hypothesis by every token; among all expansions keep the
   ``beam_size - f`` with the highest log-probability, where ``f`` hypotheses have finished
   so far (ties: earlier hypothesis, then smaller id; an expansion of probability 0 is
   never kept);
3. a kept expansion that ends in ``eos`` is *finished* and leaves the beam, which shrinks by
   one; the others stay live;
4. stop when ``beam_size`` hypotheses have finished (no hypothesis is live) or after
   ``max_len`` tokens (live ones then count as finished, without ``eos``);
5. return the finished hypothesis with the best *length-normalised* score
   ``log p(y) / |y|^alpha``, where ``|y|`` counts the generated tokens (``eos`` included).
   ``alpha = 0`` is the raw log-probability, which favours short outputs; ``alpha = 1``
   is the mean log-probability per token (Wu et al. 2016 use a smoothed ``|y|``).

With ``beam_size = 1`` this is greedy decoding. Chapter 9: Sequence to sequence.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from coursekit._validate import check_array, check_positive_int
from coursekit.nn.layers import softmax

__all__ = ["softmax_temperature", "sample", "beam_search", "greedy_search", "greedy_decode",
           "beam_search_batched", "select_state", "normalized_score"]


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


# ------------------------------------------------------ search for encoder-decoders
def _check_search(bos, eos, beam_size, max_len, alpha):
    for name, v in (("bos", bos), ("eos", eos)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative token id, got {v!r}")
    check_positive_int("beam_size", beam_size)
    check_positive_int("max_len", max_len)
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")


def normalized_score(logp: float, length: int, alpha: float) -> float:
    """Length normalisation: ``logp / length**alpha`` (``length`` >= 1 generated tokens)."""
    return logp / max(length, 1) ** alpha


# ---------------------------------------------------------------- plain numpy
def beam_search(step: Callable, state, bos: int, eos: int, beam_size: int, max_len: int,
                alpha: float = 0.0, *, return_all: bool = False):
    """Beam search over any step function, one hypothesis at a time (the rule in the module doc).

    Shapes: ``step(token: int, state) -> (log_probs (V,), next_state)``; ``state`` is
    anything (never indexed or copied here; ``step`` must not modify it in place).
    Returns ``(tokens, score)``: the best hypothesis as a list of ids without ``bos``
    (ending in ``eos`` unless cut at ``max_len``) and its normalised score
    ``log p / |y|^alpha``. With ``return_all``, a list of every finished
    ``(tokens, score, logp)``, best first.
    Chapter 9: Sequence to sequence.
    """
    _check_search(bos, eos, beam_size, max_len, alpha)
    live = [([], 0.0, state, bos)]  # (tokens so far, log p, state, last token)
    finished = []  # (tokens, log p)
    for _ in range(max_len):
        candidates = []  # (log p of the expansion, which hypothesis, token, its next state)
        for b, (tokens, logp, st, last) in enumerate(live):
            log_probs, next_state = step(last, st)
            log_probs = np.asarray(log_probs, dtype=np.float64)
            if log_probs.ndim != 1:
                raise ValueError(f"step must return log_probs of shape (V,), got {log_probs.shape}")
            candidates += [(logp + float(lp), b, v, next_state)
                           for v, lp in enumerate(log_probs) if lp > -math.inf]  # p = 0: never
        candidates.sort(key=lambda c: -c[0])  # stable: ties keep hypothesis, then id order
        kept, live_before = candidates[:beam_size - len(finished)], live
        live = []
        for logp, b, v, next_state in kept:
            tokens = live_before[b][0] + [v]
            if v == eos:
                finished.append((tokens, logp))
            else:
                live.append((tokens, logp, next_state, v))
        if not live:
            break
    if not finished and not live:
        raise ValueError("step gave probability 0 to every token: nothing to decode")
    finished += [(tokens, logp) for tokens, logp, _, _ in live]  # cut at max_len
    ranked = sorted(((t, normalized_score(lp, len(t), alpha), lp) for t, lp in finished),
                    key=lambda r: -r[1])
    if return_all:
        return ranked
    return ranked[0][0], ranked[0][1]


def greedy_search(step: Callable, state, bos: int, eos: int, max_len: int):
    """Greedy decoding: the most probable token at every step (beam search with one beam).

    Shapes and return value as :func:`beam_search`: ``(tokens, log p)``.
    Chapter 9: Sequence to sequence.
    """
    return beam_search(step, state, bos, eos, 1, max_len, 0.0)


# ----------------------------------------------------------------- batched torch
def select_state(state, index: torch.Tensor):
    """Rows ``index`` of every tensor in a nested state (tensors, tuples, lists, dicts, None).

    Every tensor in a decoder state is batch-first: row r belongs to hypothesis r.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index)
    if isinstance(state, (tuple, list)):
        return type(state)(select_state(s, index) for s in state)
    if isinstance(state, dict):
        return {k: select_state(v, index) for k, v in state.items()}
    raise TypeError(f"a decoder state holds tensors, tuples, lists or dicts, got {type(state).__name__}")


def _rows(state) -> int:
    if isinstance(state, torch.Tensor):
        return state.shape[0]
    items = state.values() if isinstance(state, dict) else state or ()
    for s in items:
        n = _rows(s)
        if n:
            return n
    return 0


@torch.no_grad()
def greedy_decode(step: Callable, state, bos: int, eos: int, max_len: int, *, pad: int | None = None):
    """Greedy decoding of a batch of sentences at once.

    Shapes: ``step(tokens (R,), state) -> (log_probs (R, V), next_state)``, every tensor of
    ``state`` batch-first with N rows. Returns ``tokens`` (N, L) (after ``eos``: ``pad``,
    default ``eos``), ``lengths`` (N,) (generated tokens, ``eos`` included) and the
    log-probabilities ``logp`` (N,). Every sentence runs until all have emitted ``eos``
    or ``max_len``.
    Chapter 9: Sequence to sequence.
    """
    _check_search(bos, eos, 1, max_len, 0.0)
    N = _rows(state)
    device = next(t for t in _tensors(state)).device
    last = torch.full((N,), bos, dtype=torch.long, device=device)
    done = torch.zeros(N, dtype=torch.bool, device=device)
    lengths = torch.zeros(N, dtype=torch.long, device=device)
    logp = torch.zeros(N, dtype=torch.float64, device=device)
    out = []
    for _ in range(max_len):
        log_probs, state = step(last, state)
        best, nxt = log_probs.max(dim=-1)
        logp += torch.where(done, 0.0, best.double())
        lengths += (~done).long()
        nxt = torch.where(done, torch.full_like(nxt, eos if pad is None else pad), nxt)
        out.append(nxt)
        done |= nxt == eos
        last = nxt
        if bool(done.all()):
            break
    return torch.stack(out, dim=1), lengths, logp


def _tensors(state):
    if isinstance(state, torch.Tensor):
        yield state
    elif isinstance(state, (tuple, list, dict)):
        for s in (state.values() if isinstance(state, dict) else state):
            yield from _tensors(s)


@torch.no_grad()
def beam_search_batched(step: Callable, state, bos: int, eos: int, beam_size: int, max_len: int,
                        alpha: float = 0.0, *, pad: int | None = None, select: Callable = select_state):
    """Beam search for a batch of sentences, all beams of all sentences in one step call.

    The rule is :func:`beam_search`'s (module docstring): per sentence, the ``beam_size``
    best expansions of its live hypotheses; those ending in ``eos`` finish; the best
    finished one by ``log p / |y|^alpha`` is returned. Live hypotheses of all sentences are
    rows of one batch (at most N * beam_size; finished ones are dropped, so the batch
    shrinks, and a sentence leaves it once ``beam_size`` of its hypotheses have finished); ``select(state, rows)`` reorders the state after each step.

    Shapes: ``step(tokens (R,), state) -> (log_probs (R, V), next_state)``; ``state`` with N
    batch-first rows (one per sentence). Returns ``tokens`` (N, L) (after ``eos``: ``pad``,
    default ``eos``), ``lengths`` (N,), ``scores`` (N,) (normalised, float64).
    Chapter 9: Sequence to sequence.
    """
    _check_search(bos, eos, beam_size, max_len, alpha)
    k, N = beam_size, _rows(state)
    device = next(t for t in _tensors(state)).device
    sent = torch.arange(N, device=device)  # which sentence each live row belongs to
    logp = torch.zeros(N, dtype=torch.float64, device=device)
    history = torch.empty((N, 0), dtype=torch.long, device=device)
    last = torch.full((N,), bos, dtype=torch.long, device=device)
    best_score = torch.full((N,), -math.inf, dtype=torch.float64, device=device)
    best_tokens = torch.full((N, max_len), eos if pad is None else pad, dtype=torch.long,
                             device=device)
    best_len = torch.zeros(N, dtype=torch.long, device=device)
    n_finished = torch.zeros(N, dtype=torch.long, device=device)

    def dense(values, fill):
        """Per-row values -> (S, k) by (sentence, slot); rows of a sentence are contiguous."""
        sents = torch.unique_consecutive(sent)
        pos = torch.searchsorted(sents, sent)
        slot = torch.arange(sent.shape[0], device=device) - torch.searchsorted(sent, sent)
        out = torch.full((sents.shape[0], k) + values.shape[1:], fill, dtype=values.dtype,
                         device=device)
        out[pos, slot] = values
        return sents, out

    def offer(sents, score, rows, tokens, length):
        """Keep, per sentence, the best of the finished candidates score (S, c) if it beats
        the best so far; rows (S, c) are their parents, tokens (S, c) their last tokens."""
        m, j = score.max(dim=1)
        better = m > best_score[sents]
        if bool(better.any()):
            n, r = sents[better], rows[better, j[better]]
            best_score[n] = m[better]
            best_tokens[n, :history.shape[1]] = history[r]
            if tokens is not None:
                best_tokens[n, history.shape[1]] = tokens[better, j[better]]
            best_len[n] = length

    for t in range(max_len):
        log_probs, state = step(last, state)  # (R, V)
        kk = min(k, log_probs.shape[1])
        top_lp, top_v = log_probs.double().topk(kk, dim=1)  # a sentence's best k lie in its rows' best k
        R = sent.shape[0]
        sents, cand = dense(logp[:, None] + top_lp, -math.inf)  # (S, k, kk)
        _, row_of = dense(torch.arange(R, device=device), -1)  # (S, k)
        S = sents.shape[0]
        score, flat = cand.view(S, k * kk).topk(k, dim=1)  # (S, k), best first
        parent = row_of.gather(1, flat // kk)  # (S, k): the row each kept expansion extends
        token = top_v[parent.clamp(min=0), flat % kk]  # (S, k)
        width = k - n_finished[sents]  # the beam shrinks by one per finished hypothesis
        ok = torch.isfinite(score) & (torch.arange(k, device=device)[None, :] < width[:, None])
        ends = ok & (token == eos)
        n_finished[sents] += ends.sum(dim=1)
        if bool(ends.any()):
            norm = torch.where(ends, score / float(t + 1) ** alpha, -math.inf)
            offer(sents, norm, parent.clamp(min=0), token, t + 1)
        keep = ok & (token != eos)
        if not bool(keep.any()):
            break
        rows = parent[keep]  # sentence-major, then rank: contiguous per sentence again
        sent = sents[:, None].expand(S, k)[keep]
        logp = score[keep]
        history = torch.cat([history[rows], token[keep][:, None]], dim=1)
        last = token[keep]
        state = select(state, rows)
    else:  # max_len reached: live hypotheses count as finished
        sents, norm = dense(logp / float(max_len) ** alpha, -math.inf)
        _, row_of = dense(torch.arange(sent.shape[0], device=device), 0)
        offer(sents, norm, row_of, None, max_len)
    width = max(int(best_len.max()), 1)
    return best_tokens[:, :width], best_len, best_score

