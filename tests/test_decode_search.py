"""coursekit.decode: plain beam_search over any step function, greedy search, and the batched
torch greedy/beam search (the same rule, checked against the plain one and against brute force)."""
import itertools
import math

import numpy as np
import pytest
import torch

from coursekit.decode import (beam_search, beam_search_batched, greedy_decode, greedy_search,
                              select_state)

BOS, EOS = 0, 1


def prefix_step(table):
    """State = the prefix generated so far; step appends the token it was given."""
    def step(token, prefix):
        prefix = prefix + ((token,) if token != BOS else ())
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(table[prefix], dtype=np.float64)), prefix
    return step


# vocabulary: 0 bos, 1 eos, 2 "A", 3 "B"
GREEDY_TRAP = {
    (): [0, 0.0, 0.6, 0.4],      # greedy takes A (0.6)
    (2,): [0, 0.4, 0.3, 0.3],    # after A everything is lukewarm
    (3,): [0, 0.9, 0.05, 0.05],  # after B, eos is almost certain
    (2, 1): None, (3, 1): None,
    (2, 2): [0, 1.0, 0, 0], (2, 3): [0, 1.0, 0, 0],
    (3, 2): [0, 1.0, 0, 0], (3, 3): [0, 1.0, 0, 0],
}


def test_beam_finds_the_more_probable_sequence_greedy_misses():
    step = prefix_step(GREEDY_TRAP)
    g_tokens, g_logp = greedy_search(step, (), BOS, EOS, max_len=5)
    b_tokens, b_score = beam_search(step, (), BOS, EOS, beam_size=2, max_len=5)
    assert g_tokens == [2, 1] and g_logp == pytest.approx(math.log(0.6 * 0.4))
    assert b_tokens == [3, 1] and b_score == pytest.approx(math.log(0.4 * 0.9))
    assert b_score > g_logp


def test_length_normalisation_changes_the_winner():
    table = {(): [0, 0.4, 0.6, 0], (2,): [0, 0.5, 0.5, 0], (2, 2): [0, 1.0, 0, 0]}
    step = prefix_step(table)
    tokens, score = beam_search(step, (), BOS, EOS, 3, 4, alpha=0.0)
    assert tokens == [1] and score == pytest.approx(math.log(0.4))  # raw log p: the shortest
    ranked = beam_search(step, (), BOS, EOS, 3, 4, alpha=1.0, return_all=True)
    assert ranked[0][0] == [2, 2, 1] and ranked[0][1] == pytest.approx(math.log(0.3) / 3)
    for tokens, score, logp in ranked:
        assert score == pytest.approx(logp / len(tokens))
    assert len(ranked) == 3  # zero-probability expansions are never kept


def random_markov(V, seed, temperature=1.0):
    """log p(next | last) from a random table, with eos (1) moderately likely; bos never emitted."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(V, V)) * 2 / temperature
    logits[:, BOS] = -np.inf
    logits[:, EOS] += 0.5
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return logp


def markov_step(logp):
    def step(token, t):
        return logp[token], t + 1
    return step


def brute_force(logp, max_len, alpha):
    V = logp.shape[0]
    best = (None, -math.inf)
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(2, V), repeat=L - 1):
            for last in ([EOS] if L < max_len else list(range(1, V))):
                tokens = list(seq) + [last]
                prev, lp = BOS, 0.0
                for tok in tokens:
                    lp += logp[prev, tok]
                    prev = tok
                score = lp / L ** alpha
                if score > best[1]:
                    best = (tokens, score)
    return best


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
def test_a_wide_enough_beam_is_exhaustive_search(seed, alpha):
    V, max_len = 5, 4
    logp = random_markov(V, seed)
    tokens, score = beam_search(markov_step(logp), 0, BOS, EOS, beam_size=V ** max_len,
                                max_len=max_len, alpha=alpha)
    ref_tokens, ref_score = brute_force(logp, max_len, alpha)
    assert tokens == ref_tokens and score == pytest.approx(ref_score)


def test_beam_of_one_is_greedy():
    logp = random_markov(7, 3)
    step = markov_step(logp)
    tokens, lp = greedy_search(step, 0, BOS, EOS, 10)
    prev, manual = BOS, []
    for _ in range(10):
        prev = int(np.argmax(logp[prev]))
        manual.append(prev)
        if prev == EOS:
            break
    assert tokens == manual
    assert beam_search(step, 0, BOS, EOS, 1, 10) == (tokens, pytest.approx(lp))


def test_hypotheses_finish_at_eos_and_are_cut_at_max_len():
    step = lambda tok, st: (np.log(np.array([1e-300, 1e-300, 1.0, 1e-300])), st)  # noqa: E731
    tokens, score = beam_search(step, None, BOS, EOS, 2, max_len=3)
    assert tokens == [2, 2, 2]  # no eos: cut at max_len
    everything = beam_search(prefix_step(GREEDY_TRAP), (), BOS, EOS, 4, 5, return_all=True)
    assert all(t[-1] == EOS for t, _, _ in everything)
    assert [t for t, _, _ in everything][0] == [3, 1]


def test_bad_arguments():
    step = markov_step(random_markov(4, 0))
    for kw, msg in [({"beam_size": 0}, "beam_size"), ({"max_len": 0}, "max_len"),
                    ({"alpha": -1.0}, "alpha"), ({"eos": -1}, "eos")]:
        args = dict(state=0, bos=BOS, eos=EOS, beam_size=2, max_len=3, alpha=0.0)
        args.update(kw)
        with pytest.raises(ValueError, match=msg):
            beam_search(step, **args)
    with pytest.raises(ValueError, match="shape"):
        beam_search(lambda t, s: (np.zeros((2, 3)), s), 0, BOS, EOS, 2, 3)


# ------------------------------------------------------------------ batched torch
class TinyDecoder:
    """A random GRU-like decoder whose state depends on the whole history (not Markov)."""

    def __init__(self, V=6, H=5, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.E = torch.randn(V, H, generator=g, dtype=torch.float64)
        self.W = torch.randn(H, H, generator=g, dtype=torch.float64) * 0.8
        self.O = torch.randn(H, V, generator=g, dtype=torch.float64) * 1.5
        self.O[:, BOS] = -1e9
        self.V = V

    def step(self, tokens, state):
        h, ctx = state
        h = torch.tanh(self.E[tokens] + h @ self.W + ctx)
        return torch.log_softmax(h @ self.O, dim=-1), (h, ctx)

    def numpy_step(self, n):
        """The same decoder for sentence n, one hypothesis at a time (state: h (H,))."""
        def step(token, h):
            lp, (h2, _) = self.step(torch.tensor([token]), (h[None], self.ctx[n:n + 1]))
            return lp[0].numpy(), h2[0]
        return step

    def start(self, N, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.ctx = torch.randn(N, self.E.shape[1], generator=g, dtype=torch.float64)
        return (torch.zeros(N, self.E.shape[1], dtype=torch.float64), self.ctx)


@pytest.mark.parametrize("beam_size,alpha", [(1, 0.0), (3, 0.0), (5, 1.0), (4, 0.6)])
def test_batched_beam_equals_plain_beam_per_sentence(beam_size, alpha):
    dec, N = TinyDecoder(seed=beam_size), 7
    state = dec.start(N)
    tokens, lengths, scores = beam_search_batched(dec.step, state, BOS, EOS, beam_size, 8, alpha)
    for n in range(N):
        ref_tokens, ref_score = beam_search(dec.numpy_step(n), state[0][n], BOS, EOS,
                                            beam_size, 8, alpha)
        assert tokens[n, :lengths[n]].tolist() == ref_tokens
        assert float(scores[n]) == pytest.approx(ref_score, abs=1e-9)
        assert (tokens[n, lengths[n]:] == EOS).all()


def test_batched_greedy_equals_plain_greedy_and_beam_of_one():
    dec, N = TinyDecoder(seed=11), 9
    state = dec.start(N)
    tokens, lengths, logp = greedy_decode(dec.step, state, BOS, EOS, 10, pad=4)
    b_tokens, b_lengths, b_scores = beam_search_batched(dec.step, state, BOS, EOS, 1, 10, pad=4)
    for n in range(N):
        ref, ref_lp = greedy_search(dec.numpy_step(n), state[0][n], BOS, EOS, 10)
        assert tokens[n, :lengths[n]].tolist() == ref == b_tokens[n, :b_lengths[n]].tolist()
        assert float(logp[n]) == pytest.approx(ref_lp) == float(b_scores[n])
        assert (tokens[n, lengths[n]:] == 4).all()


def test_select_state_handles_nested_structures():
    state = {"h": torch.arange(6.0).view(3, 2), "pair": (torch.arange(3), None), "l": [torch.ones(3, 1)]}
    out = select_state(state, torch.tensor([2, 0]))
    assert out["h"].tolist() == [[4.0, 5.0], [0.0, 1.0]] and out["pair"][0].tolist() == [2, 0]
    assert out["pair"][1] is None and out["l"][0].shape == (2, 1)
    with pytest.raises(TypeError):
        select_state(np.zeros(3), torch.tensor([0]))
