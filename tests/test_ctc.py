"""coursekit.nn.ctc and ctc_decode: the CTC loss, its gradient and the two decoders.

Forward parity with torch.nn.functional.ctc_loss(reduction="none") and with the torch twin
in float64; backward against torch's gradient *through log_softmax* (pytorch#52241: torch's
ctc_loss gradient is only right for log-softmax inputs), against autograd of the twin and
against finite differences; repeated labels, empty targets, ragged lengths, the impossible
case, brute-force enumeration of all paths, float32, bad input; greedy and prefix beam."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coursekit.nn import ctc
from coursekit.nn.ctc_decode import (ctc_beam_decode, ctc_collapse, ctc_greedy_decode,
                                     ctc_prefix_beam_search)
from coursekit.train.gradcheck import numerical_gradient_array, rel_error


def make(n=4, t=12, c=6, s=4, seed=0, lengths=None, tlens=None, repeats=False,
         dtype=np.float64):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, t, c)) * 2
    targets = rng.integers(1, c, size=(n, s))
    if repeats:
        targets[:, 1] = targets[:, 0]
    il = np.array(lengths if lengths is not None else [t] * n, dtype=np.int64)
    tl = np.array(tlens if tlens is not None else [s] * n, dtype=np.int64)
    return logits.astype(dtype), targets, il, tl


def torch_loss(logits, targets, il, tl, blank=0, zero_infinity=False):
    x = torch.tensor(logits, requires_grad=True)
    lp = F.log_softmax(x, dim=-1).transpose(0, 1)           # (T, N, C)
    loss = F.ctc_loss(lp, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                      blank=blank, reduction="none", zero_infinity=zero_infinity)
    return x, loss


CASES = {
    "plain": dict(),
    "repeats": dict(repeats=True),
    "ragged": dict(lengths=[12, 9, 7, 12], tlens=[4, 2, 3, 0]),
    "empty": dict(tlens=[0, 0, 0, 0]),
    "long": dict(n=3, t=30, c=11, s=8, lengths=[30, 25, 17]),
    "one_frame": dict(n=2, t=1, s=1, tlens=[1, 0]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_backward_match_torch(case):
    logits, targets, il, tl = make(**CASES[case])
    losses, cache = ctc.ctc_loss(logits, targets, il, tl)
    x, ref = torch_loss(logits, targets, il, tl)
    np.testing.assert_allclose(losses, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    w = np.random.default_rng(1).normal(size=losses.shape)
    (ref * torch.tensor(w)).sum().backward()
    dlogits = ctc.ctc_loss_backward(w, cache)
    np.testing.assert_allclose(dlogits, x.grad.numpy(), atol=1e-10)
    assert np.all(dlogits[np.arange(logits.shape[1])[None, :] >= il[:, None]] == 0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_twin_matches_numpy_and_autograd(case):
    logits, targets, il, tl = make(**CASES[case])
    losses, cache = ctc.ctc_loss(logits, targets, il, tl)
    x = torch.tensor(logits, requires_grad=True)
    twin = ctc.ctc_loss_torch(x, torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
    np.testing.assert_allclose(twin.detach().numpy(), losses, rtol=1e-10, atol=1e-10)
    twin.sum().backward()
    np.testing.assert_allclose(ctc.ctc_loss_backward(np.ones_like(losses), cache),
                               x.grad.numpy(), atol=1e-10)


def brute_force(logits, target, blank=0):
    """-log of the summed probability of every path of length T that collapses to target."""
    lp = ctc.log_softmax(logits)
    t, c = lp.shape
    total = -math.inf
    for path in itertools.product(range(c), repeat=t):
        if ctc_collapse(path, blank) == list(target):
            total = np.logaddexp(total, sum(lp[i, k] for i, k in enumerate(path)))
    return -total


@pytest.mark.parametrize("target", [(1,), (1, 2), (2, 2), (1, 2, 1), (), (2, 2, 2)])
def test_loss_is_the_sum_over_all_alignments(target):
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 5, 3))
    s = max(len(target), 1)
    targets = np.zeros((1, s), dtype=np.int64)
    targets[0, :len(target)] = target
    losses, _ = ctc.ctc_loss(logits, targets, np.array([5]), np.array([len(target)]))
    expected = brute_force(logits[0], target)
    if math.isinf(expected):
        assert math.isinf(losses[0])
    else:
        assert abs(losses[0] - expected) < 1e-12


def test_finite_differences():
    logits, targets, il, tl = make(n=3, t=7, c=4, s=3, lengths=[7, 5, 6], tlens=[3, 1, 2],
                                   repeats=True, seed=5)
    w = np.array([1.0, -0.5, 2.0])
    _, cache = ctc.ctc_loss(logits, targets, il, tl)
    analytic = ctc.ctc_loss_backward(w, cache)
    x = logits.copy()
    numeric = numerical_gradient_array(lambda: ctc.ctc_loss(x, targets, il, tl)[0], x, w)
    assert rel_error(analytic, numeric) < 1e-6


def test_impossible_target_is_infinite_with_zero_gradient():
    # (1, 1, 1) needs 5 frames (two blanks between the repeats); 4 are too few
    logits = np.random.default_rng(0).normal(size=(2, 4, 3))
    targets = np.array([[1, 1, 1], [1, 2, 0]])
    il, tl = np.array([4, 4]), np.array([3, 2])
    assert list(ctc.min_frames(targets, tl)) == [5, 2]
    losses, cache = ctc.ctc_loss(logits, targets, il, tl)
    assert math.isinf(losses[0]) and losses[0] > 0 and np.isfinite(losses[1])
    _, ref = torch_loss(logits, targets, il, tl)
    assert math.isinf(ref[0].item())
    d = ctc.ctc_loss_backward(np.ones(2), cache)
    assert np.all(d[0] == 0) and np.all(np.isfinite(d))
    x, ref0 = torch_loss(logits, targets, il, tl, zero_infinity=True)
    ref0.sum().backward()
    np.testing.assert_allclose(d, x.grad.numpy(), atol=1e-10)
    z, _ = ctc.ctc_loss(logits, targets, il, tl, zero_infinity=True)
    np.testing.assert_allclose(z, ref0.detach().numpy(), atol=1e-10)


def test_other_blank_and_float32():
    logits, targets, il, tl = make(seed=2, lengths=[12, 10, 8, 11])
    targets = targets - 1                                    # labels 0..4, blank 5
    losses, cache = ctc.ctc_loss(logits, targets, il, tl, blank=5)
    _, ref = torch_loss(logits, targets, il, tl, blank=5)
    np.testing.assert_allclose(losses, ref.detach().numpy(), atol=1e-10)
    l32, c32 = ctc.ctc_loss(logits.astype(np.float32), targets, il, tl, blank=5)
    assert l32.dtype == np.float32
    np.testing.assert_allclose(l32, losses, rtol=1e-4)
    d32 = ctc.ctc_loss_backward(np.ones(4, np.float32), c32)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, ctc.ctc_loss_backward(np.ones(4), cache), atol=1e-4)


def test_bad_input_names_the_argument():
    logits, targets, il, tl = make()
    with pytest.raises(ValueError, match="logits"):
        ctc.ctc_loss(logits[0], targets, il, tl)
    with pytest.raises(ValueError, match="targets"):
        ctc.ctc_loss(logits, targets.astype(float), il, tl)
    with pytest.raises(ValueError, match="input_lengths"):
        ctc.ctc_loss(logits, targets, il + 1, tl)
    with pytest.raises(ValueError, match="target_lengths"):
        ctc.ctc_loss(logits, targets, il, tl + 1)
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(logits, targets, il, tl, blank=6)
    bad = targets.copy()
    bad[0, 0] = 0
    with pytest.raises(ValueError, match="targets"):
        ctc.ctc_loss(logits, bad, il, tl)
    _, cache = ctc.ctc_loss(logits, targets, il, tl)
    with pytest.raises(ValueError, match="dlosses"):
        ctc.ctc_loss_backward(np.ones(3), cache)
    with pytest.raises(ValueError, match="scores"):
        ctc_greedy_decode(logits[0])
    with pytest.raises(ValueError, match="beam_size"):
        ctc_prefix_beam_search(logits[0], beam_size=0)


def test_collapse_and_greedy():
    assert ctc_collapse([1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert ctc_collapse([0, 0]) == []
    assert ctc_collapse([3, 3, 3], blank=3) == []
    scores = np.full((2, 6, 3), -5.0)
    for i, k in enumerate([1, 1, 0, 1, 2, 2]):
        scores[0, i, k] = 0
    for i, k in enumerate([2, 0, 2, 0, 0, 0]):
        scores[1, i, k] = 0
    assert ctc_greedy_decode(scores) == [[1, 1, 2], [2, 2]]
    assert ctc_greedy_decode(scores, np.array([3, 2])) == [[1], [2]]


def test_prefix_beam_finds_the_likelier_labelling():
    # best path is "- -" (blank, blank: p = 0.36) but "a" has 0.6*0.4*2 + 0.4*0.4 = 0.64
    y = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert ctc_greedy_decode(y[None]) == [[]]
    beams = ctc_prefix_beam_search(y, beam_size=4)
    assert beams[0][0] == (1,)
    assert abs(math.exp(beams[0][1]) - 0.64) < 1e-12
    assert abs(math.exp(beams[1][1]) - 0.36) < 1e-12
    assert ctc_beam_decode(y[None]) == [[1]]


def test_prefix_beam_scores_are_ctc_probabilities():
    """With a beam wide enough to keep everything, each score equals exp(-ctc_loss)."""
    rng = np.random.default_rng(7)
    lp = ctc.log_softmax(rng.normal(size=(5, 3)))
    beams = ctc_prefix_beam_search(lp, beam_size=1000, prune=-math.inf)
    assert abs(sum(math.exp(s) for _, s in beams) - 1.0) < 1e-12
    for labels, score in beams[:6]:
        s = max(len(labels), 1)
        tg = np.zeros((1, s), dtype=np.int64)
        tg[0, :len(labels)] = labels
        loss, _ = ctc.ctc_loss(lp[None], tg, np.array([5]), np.array([len(labels)]))
        assert abs(-loss[0] - score) < 1e-10
