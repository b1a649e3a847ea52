"""Assignment 6 (encoders, decoders and attention): source full marks, release zero, and the
wrong submissions the issue names lose the points they should."""
from __future__ import annotations

from pathlib import Path

import pytest
from grading_support import assert_lost, edited_source, grade_with, limits, load, locate

A6, SOURCE, RELEASE = locate("a6_seq2seq")
LIMITS = limits(wall=90)
FULL = {"q1": 15, "q2": 10, "q3": 15, "q4": 20, "q5": 20, "q6": 20}


@pytest.fixture(scope="module")
def a6():
    return load(A6)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def test_points_and_hidden_cases(a6):
    assignment, _ = a6
    assert {q.id: q.points for q in assignment.questions} == FULL and assignment.points == 100
    for q in assignment.questions:
        assert any(not c.public for c in q.cases), q.id


def test_source_scores_full_marks_and_release_zero(a6):
    before = SOURCE.read_bytes(), RELEASE.read_bytes()
    src = grade_with(SOURCE, a6, LIMITS)
    assert scores(src) == FULL, [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    assert all("decoded greedily by the grader" in t.output for t in src.tests
               if t.question == "q6")
    rel = grade_with(RELEASE, a6, LIMITS)
    assert rel.score == 0 and all("NotImplementedError" in t.output for t in rel.tests)
    assert (SOURCE.read_bytes(), RELEASE.read_bytes()) == before


#: each wrong submission is the solved notebook with one mistake; the questions it must lose
#: ("all" = every point of the question, "some" = at least one case)
WRONG = {
    "padding_counted_in_loss": ([("    count = m.sum()\n    shifted", "    count = m.size\n    shifted")],
                                {"q1": "all"}),
    "softmax_over_wrong_axis": ([("    alpha = np.exp(e - e.max(axis=1, keepdims=True))\n"
                                  "    alpha = (alpha / alpha.sum(axis=1, keepdims=True))",
                                  "    alpha = np.exp(e - e.max(axis=0, keepdims=True))\n"
                                  "    alpha = (alpha / alpha.sum(axis=0, keepdims=True))")],
                                {"q2": "all", "q3": "all"}),
    "no_length_normalisation": ([("lp / len(t) ** alpha) for t, lp in finished)",
                                  "lp) for t, lp in finished)")], {"q4": "some"}),
    "bleu_without_clipping": ([("sum(min(k, best[g]) for g, k in hc.items())",
                                "sum(k for g, k in hc.items() if best[g] > 0)")], {"q5": "some"}),
    "calls_reference": (None, {"q4": "all"}),
    # the training question judges the model on fresh inputs: an untrained one gets nothing
    "untrained_reverser": ([("    for _ in range(250):", "    for _ in range(0):")], {"q6": "all"}),
}
CALLS_REFERENCE = ("import coursekit.decode\n\n\ndef beam_search_markov(scores, beam_size, max_len, "
                   "alpha):\n    lp = scores - np.log(np.exp(scores).sum(1, keepdims=True))\n"
                   "    t, s = coursekit.decode.beam_search(lambda a, st: (lp[a], st), None, 0, 1,"
                   " beam_size, max_len, alpha)\n"
                   "    out = np.full(max_len, -1)\n    out[:len(t)] = t\n    return out, s\n")


def wrong_submission(name: str, folder: Path) -> Path:
    return edited_source(SOURCE, name, WRONG[name][0], CALLS_REFERENCE, folder)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_lose_points(name, a6, tmp_path):
    result = grade_with(wrong_submission(name, tmp_path), a6, LIMITS)
    got, lose = scores(result), WRONG[name][1]
    assert_lost(got, FULL, lose)
    if name == "untrained_reverser":
        assert all("decoded greedily by the grader" in t.output
                   for t in result.tests if t.question == "q6")
    if name == "calls_reference":
        out = " ".join(t.output for t in result.tests if t.question == "q4")
        assert "ReferenceCallError" in out
