"""Assignment 4 (deeper, both ways): the references agree with torch, the source scores full
marks, the release zero, and the wrong submissions the issue names lose the points they should."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from coursekit.data.imdb import load_imdb
from coursekit.grading.grade import grade_submission
from coursekit.grading.loader import resolve_name
from coursekit.grading.spec import draw_inputs
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
LIMITS = limits(wall=180)  # q7 trains twice (about 30 s on an idle laptop core)
FULL = {"q1": 12, "q2": 16, "q3": 12, "q4": 16, "q5": 12, "q6": 12, "q7": 20}
NUMPY_QS = ("q1", "q2", "q3", "q4", "q5", "q6")  # q7 (training) is tested on its own below


@pytest.fixture(scope="module")
def a4():
    return load(A4)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def only(loaded: tuple, qids) -> tuple:
    """The loaded assignment cut to the questions ``qids`` (a wrong q1-q6 need not train q7)."""
    assignment, refs = loaded
    return replace(assignment, questions=tuple(q for q in assignment.questions if q.id in qids)), refs


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
    result = grade_with(wrong_submission(name, tmp_path), only(a4, NUMPY_QS), LIMITS)
    got, lose = scores(result), WRONG[name][1]
    assert_lost(got, {q: FULL[q] for q in NUMPY_QS}, lose)


# ------------------------------------------------------------------ q7, the sentiment classifier
Q7_LINE = "    epochs, batch_size = 4, 64\n"
#: submissions that must not earn q7's full points: (edits, or None and a cell appended after the
#: source's, the most q7 may score, words the feedback must hold)
Q7_WRONG = {
    "untrained": ([(Q7_LINE, "    epochs, batch_size = 0, 64\n")], 0, "accuracy of your trained"),
    "always_positive": (None, 0, "guessing one class", """
def train_review_classifier(ids, lengths, labels, vocab_size, seed=0):
    model = ReviewNet(vocab_size)
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.fill_(5.0)
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
"""),
    "raises": (None, 0, "ValueError: no training today", """
def train_review_classifier(ids, lengths, labels, vocab_size, seed=0):
    raise ValueError("no training today")
"""),
    "tensors_not_arrays": (None, 0, "must be a numpy array", """
def train_review_classifier(ids, lengths, labels, vocab_size, seed=0):
    return dict(ReviewNet(vocab_size).state_dict())
"""),
    "wrong_head_shape": (None, 0, "out.weight: expected shape", """
def train_review_classifier(ids, lengths, labels, vocab_size, seed=0):
    w = {k: v.detach().numpy().copy() for k, v in ReviewNet(vocab_size).state_dict().items()}
    w["out.weight"] = np.zeros((1, 64), dtype=np.float32)  # 2H: no max half
    return w
"""),
    "missing": (None, 0, "not defined in your notebook", "train_review_classifier = None\n"),
}


@pytest.mark.parametrize("name", list(Q7_WRONG))
def test_q7_bad_submissions_score_low_and_say_why(name, a4, tmp_path):
    edits, most, words, *cell = Q7_WRONG[name]
    path = edited_source(SOURCE, name, edits, cell[0] if cell else "", tmp_path)
    result = grade_with(path, only(a4, ("q7",)), LIMITS)
    assert result.questions["q7"][0] <= most < FULL["q7"], (name, result.questions)
    assert all(words in t.output for t in result.tests), [t.output for t in result.tests]


def test_q7_slow_training_times_out_without_crashing(a4, tmp_path):
    path = edited_source(SOURCE, "slow", None, "import time\n\n\ndef train_review_classifier("
                         "ids, lengths, labels, vocab_size, seed=0):\n    time.sleep(60)\n", tmp_path)
    assignment, refs = only(a4, ("q7",))
    result = grade_submission(path, assignment, secret="test-secret", limits=LIMITS,
                              references=refs, test_timeout=3)
    assert result.score == 0 and all("timed out" in t.output for t in result.tests)


def test_q7_inputs_are_one_consistent_reproducible_sample(a4):
    assignment, _ = a4
    q = assignment.question("q7")
    resolve = lambda name: resolve_name(name, assignment.folder)
    case = q.cases[0]
    a, b = (draw_inputs(q, case, np.random.default_rng(case.seed), resolve) for _ in range(2))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    N, T, V = (case.sizes[k] for k in "NTV")
    assert len(set(a["rows"].tolist())) == N and a["ids"].shape[0] == N and a["ids"].shape[1] <= T
    assert a["ids"].max() < V and (a["lengths"] == (a["ids"] != 0).sum(1)).all()
    assert set(a["labels"].tolist()) == {0, 1} and 0.4 < a["labels"].mean() < 0.6
    labels = load_imdb("train")[1]
    assert (labels[a["rows"]] == a["labels"]).all()


def test_q7_check_never_raises_on_malformed_weights(a4):
    assignment, _ = a4
    q = assignment.question("q7")
    check = local("a4_deeper", "checks").sentiment_accuracy
    case = q.cases[0]
    inputs = draw_inputs(q, case, np.random.default_rng(case.seed),
                         lambda name: resolve_name(name, assignment.folder))
    for got in ({}, {"embed.weight": "not an array"},
                {k: np.zeros((2, 2), dtype=np.float32) for k in local("a4_deeper", "checks").WEIGHTS}):
        frac, lines = check(q, case, inputs, got, None)
        assert frac == 0 and lines and "state_dict" in lines[0]
