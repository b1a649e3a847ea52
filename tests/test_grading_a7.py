"""Assignment 7 (seeing in sequences): source full marks, release zero, and the wrong
submissions the issue names (blank transitions wrong, repeats not collapsed, <NULL> not masked,
loss averaged per token instead of per caption) lose the points they should."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from grading_support import (
    assert_lost,
    edited_source,
    grade_with,
    limits,
    load,
    local,
    locate,
)

A7, SOURCE, RELEASE = locate("a7_sequences")
LIMITS = limits(wall=400)
FULL = {"q1": 20, "q2": 20, "q3": 10, "q4": 15, "q5": 15, "q6": 20}


@pytest.fixture(scope="module")
def a7():
    return load(A7)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def test_points_and_hidden_cases(a7):
    assignment, _ = a7
    assert {q.id: q.points for q in assignment.questions} == FULL and assignment.points == 100
    for q in assignment.questions:
        assert any(not c.public for c in q.cases), q.id


def test_reference_ctc_agrees_with_coursekit():
    """The assignment's reference (time-major, blank last, log-probs as given) against nn.ctc."""
    from coursekit.nn import ctc
    ref = local("a7_sequences", "reference")
    rng = np.random.default_rng(0)
    lp = ctc.log_softmax(rng.normal(size=(9, 4, 5)))            # (T, N, C), normalised
    tg = rng.integers(0, 4, size=(4, 3))
    losses, cache = ref.ctc_forward(lp, tg)
    ours, ck = ctc.ctc_loss(lp.transpose(1, 0, 2), tg, np.full(4, 9), np.full(4, 3), blank=4)
    np.testing.assert_allclose(losses, ours, atol=1e-10)
    # d/d log_probs = d/d logits - softmax * (sum of d/d logits) ... the posterior, negated
    dlp = ref.ctc_backward(np.ones(4), cache).transpose(1, 0, 2)
    dlogits = ctc.ctc_loss_backward(np.ones(4), ck)
    np.testing.assert_allclose(-dlp, np.exp(lp.transpose(1, 0, 2)) - dlogits, atol=1e-10)


def test_source_scores_full_marks_and_release_zero(a7):
    before = SOURCE.read_bytes(), RELEASE.read_bytes()
    src = grade_with(SOURCE, a7, LIMITS)
    assert scores(src) == FULL, [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    assert all("decoded greedily by the grader" in t.output for t in src.tests
               if t.question == "q6")
    rel = grade_with(RELEASE, a7, LIMITS)
    assert rel.score == 0 and all("NotImplementedError" in t.output for t in rel.tests)
    assert (SOURCE.read_bytes(), RELEASE.read_bytes()) == before


#: each wrong submission is the solved notebook with one mistake; the questions it must lose
#: ("all" = every point of the question, "some" = at least one case)
WRONG = {
    "skip_between_repeats": ([("(ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])",
                               "(ext[:, 2:] != blank)")], {"q1": "some", "q2": "some"}),
    "repeats_not_collapsed": ([("            if k != prev and k != C - 1:",
                                "            if k != C - 1:")], {"q3": "some"}),
    "null_not_masked": ([("    mask = (y != null).astype(np.float64)",
                          "    mask = np.ones(y.shape)")], {"q4": "some"}),
    "loss_per_token": ([("    loss = -(mask * picked).sum() / N\n",
                         "    loss = -(mask * picked).sum() / mask.sum()\n"),
                        ("(mask / N)[..., None]", "(mask / mask.sum())[..., None]")],
                       {"q4": "all"}),
    "no_stop_at_end": ([("        finished = finished | (word == end)\n", "")], {"q5": "some"}),
    "calls_coursekit": (None, {"q3": "all"}),
    # the training question judges the reader on fresh strips: an untrained one gets nothing
    "untrained_reader": ([("    for step in range(1, 801):", "    for step in range(1, 1):")],
                         {"q6": "all"}),
}
CALLS_COURSEKIT = ("def ctc_greedy(scores):\n"
                   "    from coursekit.nn.ctc_decode import ctc_greedy_decode\n"
                   "    seqs = ctc_greedy_decode(scores.transpose(1, 0, 2), blank=scores.shape[2] - 1)\n"
                   "    out = np.full((scores.shape[1], scores.shape[0]), -1)\n"
                   "    for i, s in enumerate(seqs):\n        out[i, :len(s)] = s\n"
                   "    return out\n")


def wrong_submission(name: str, folder: Path) -> Path:
    return edited_source(SOURCE, name, WRONG[name][0], CALLS_COURSEKIT, folder)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_lose_points(name, a7, tmp_path):
    result = grade_with(wrong_submission(name, tmp_path), a7, LIMITS)
    got, lose = scores(result), WRONG[name][1]
    assert_lost(got, FULL, lose)
