"""Assignment 4 (deeper, both ways): the references agree with torch, the source scores full
marks, the release zero, and the wrong submissions the issue names lose the points they should."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from grading_support import (
    assert_lost,
    edited_source,
    grade_with,
    limits,
    load,
    local,
    locate,
)

A4, SOURCE, RELEASE = locate("a4_deeper")
LIMITS = limits(wall=90)
FULL = {"q1": 15, "q2": 20, "q3": 15, "q4": 20, "q5": 15, "q6": 15}


@pytest.fixture(scope="module")
def a4():
    return load(A4)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def test_points_and_hidden_cases(a4):
    assignment, _ = a4
    assert {q.id: q.points for q in assignment.questions} == FULL and assignment.points == 100
    for q in assignment.questions:
        assert any(not c.public for c in q.cases), q.id
        assert any(c.dtype == "float32" for c in q.cases), q.id


def _rnn_dicts(rnn, sfx=""):
    as_np = lambda t: t.detach().numpy().copy()  # noqa: E731
    return {"Wx": as_np(getattr(rnn, f"weight_ih_l0{sfx}").T),
            "Wh": as_np(getattr(rnn, f"weight_hh_l0{sfx}").T),
            "b": as_np(getattr(rnn, f"bias_ih_l0{sfx}") + getattr(rnn, f"bias_hh_l0{sfx}"))}


def test_references_agree_with_torch():
    ref = local("a4_deeper", "reference")
    torch.manual_seed(0)
    T, N, D, H = 5, 3, 4, 6
    bi = torch.nn.RNN(D, H, bidirectional=True, dtype=torch.float64)  # time-major
    x, h0 = torch.randn(T, N, D, dtype=torch.float64, requires_grad=True), torch.randn(
        2, N, H, dtype=torch.float64, requires_grad=True)
    out, h_n = bi(x, h0)
    o, hn, cache = ref.birnn_forward(x.detach().numpy(), h0.detach().numpy(), _rnn_dicts(bi),
                                     _rnn_dicts(bi, "_reverse"))
    assert np.allclose(o, out.detach().numpy(), atol=1e-10)
    assert np.allclose(hn, h_n.detach().numpy(), atol=1e-10)
    dout, dhn = torch.randn_like(out), torch.randn_like(h_n)
    ((out * dout).sum() + (h_n * dhn).sum()).backward()
    dx, dh0, gf, gb = ref.birnn_backward(dout.numpy(), dhn.numpy(), cache)
    assert np.allclose(dx, x.grad.numpy(), atol=1e-10) and np.allclose(dh0, h0.grad.numpy(), atol=1e-10)
    assert np.allclose(gb["Wh"], bi.weight_hh_l0_reverse.grad.T.numpy(), atol=1e-10)
    # the residual stack, against autograd through two nn.RNN layers
    l1, l2 = (torch.nn.RNN(d, H, batch_first=True, dtype=torch.float64) for d in (D, H))
    xb = torch.randn(N, T, D, dtype=torch.float64, requires_grad=True)
    h1, _ = l1(xb, h0[:1].detach())
    h2, _ = l2(h1, h0[1:].detach())
    o, hn, cache = ref.residual_stack_forward(xb.detach().numpy(), h0.detach().numpy(),
                                              _rnn_dicts(l1), _rnn_dicts(l2))
    assert np.allclose(o, (h1 + h2).detach().numpy(), atol=1e-10)
    d = torch.randn(N, T, H, dtype=torch.float64)
    ((h1 + h2) * d).sum().backward()
    dx, _, g1, g2 = ref.residual_stack_backward(d.numpy(), cache)
    assert np.allclose(dx, xb.grad.numpy(), atol=1e-10)
    assert np.allclose(g1["Wh"], l1.weight_hh_l0.grad.T.numpy(), atol=1e-10)


def test_source_scores_full_marks_and_release_zero(a4):
    before = SOURCE.read_bytes(), RELEASE.read_bytes()
    src = grade_with(SOURCE, a4, LIMITS)
    assert scores(src) == FULL, [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    rel = grade_with(RELEASE, a4, LIMITS)
    assert rel.score == 0 and all("NotImplementedError" in t.output for t in rel.tests)
    assert (SOURCE.read_bytes(), RELEASE.read_bytes()) == before


#: each wrong submission is the solved notebook with one mistake; the questions it must lose
#: ("all" = every point of the question, "some" = at least one case)
WRONG = {
    "directions_swapped": ([("out = np.concatenate([hf, hr[::-1]], axis=2)",
                             "out = np.concatenate([hr[::-1], hf], axis=2)")], {"q1": "all"}),
    "reversed_output_not_flipped_back": ([("out = np.concatenate([hf, hr[::-1]], axis=2)",
                                           "out = np.concatenate([hf, hr], axis=2)")],
                                         {"q1": "all"}),
    "backward_gradient_not_flipped_back": ([("dx = dxf + dxr[::-1]", "dx = dxf + dxr")],
                                           {"q2": "all"}),
    "no_skip_gradient": ([("dx, dh01, g1 = bptt(dout + dh1, x, h0[0], h1, p1)",
                           "dx, dh01, g1 = bptt(dh1, x, h0[0], h1, p1)")], {"q4": "all"}),
    "padding_counted_in_pooled_state": ([("mean = (h * m).sum(axis=1) / count",
                                          "mean = h.mean(axis=1)"),
                                         ("winner = np.where(m, h, -np.inf).argmax(axis=1)",
                                          "winner = h.argmax(axis=1)")], {"q5": "all"}),
    "windows_drop_the_last": ([("range(0, T - lookback - horizon + 1, stride)",
                                "range(0, T - lookback - horizon, stride)")], {"q6": "some"}),
    "calls_coursekit": (None, {"q1": "all", "q2": "all"}),  # q2 runs the forward pass too
}
CALLS_COURSEKIT = (
    "from coursekit.nn import stacked\n\n\ndef birnn_forward(x, h0, pf, pb):\n"
    "    out, h_n, cache = stacked.bidirectional_forward(x.transpose(1, 0, 2).copy(), [pf, pb],"
    " cell='rnn', h0=h0)\n"
    "    return out.transpose(1, 0, 2).copy(), h_n, cache\n")


def wrong_submission(name: str, folder: Path) -> Path:
    return edited_source(SOURCE, name, WRONG[name][0], CALLS_COURSEKIT, folder)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_lose_points(name, a4, tmp_path):
    result = grade_with(wrong_submission(name, tmp_path), a4, LIMITS)
    got, lose = scores(result), WRONG[name][1]
    assert_lost(got, FULL, lose)
