"""Assignment 5 (networks over trees): source full marks, release zero, and the wrong
submissions the issue names (children averaged, one forget gate for all children, leaves not
embedded, depths for levels, a call to coursekit) lose the points they should."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from grading_support import assert_lost, edited_source, grade_with, load, locate

from coursekit.grading import sandbox

A5, SOURCE, RELEASE = locate("a5_trees")
#: q5 trains for a few seconds of CPU; on a shared, loaded CPU the set-up (imports) alone has
#: taken over 20 s, so both limits are generous here
LIMITS = sandbox.Limits(wall=400, setup=90, memory=1 << 30)
FULL = {"q1": 15, "q2": 15, "q3": 20, "q4": 20, "q5": 30}


@pytest.fixture(scope="module")
def a5():
    return load(A5)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def test_points_and_hidden_cases(a5):
    assignment, _ = a5
    assert {q.id: q.points for q in assignment.questions} == FULL and assignment.points == 100
    for q in assignment.questions:
        assert any(not c.public for c in q.cases), q.id


def test_random_trees_are_trees_in_any_order():
    from coursekit.grading.inputs import random_parent_array
    rng = np.random.default_rng(0)
    firsts = set()
    for window in (None, 3):
        for _ in range(20):
            parent = random_parent_array(rng, (15,), window)
            assert (parent == -1).sum() == 1
            for j in range(15):  # every node reaches the root without a cycle
                k, steps = j, 0
                while parent[k] >= 0 and steps <= 15:
                    k, steps = parent[k], steps + 1
                assert parent[k] == -1 and steps <= 14
            firsts.add(int(np.flatnonzero(parent == -1)[0]))
    assert len(firsts) > 3  # the root is not always node 0 or n-1


def test_source_scores_full_marks_and_release_zero(a5):
    before = SOURCE.read_bytes(), RELEASE.read_bytes()
    src = grade_with(SOURCE, a5, LIMITS)
    assert scores(src) == FULL, [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    assert all("computed by the grader" in t.output for t in src.tests if t.question == "q5")
    rel = grade_with(RELEASE, a5, LIMITS)
    assert rel.score == 0 and all("NotImplementedError" in t.output for t in rel.tests)
    assert (SOURCE.read_bytes(), RELEASE.read_bytes()) == before


#: each wrong submission is the solved notebook with one mistake; the questions it must lose
#: ("all" = every point, "some" = at least one case, "any" = not checked)
WRONG = {
    "children_averaged": ([("        h[nodes] = np.tanh(E[ids[nodes]] + child_sum[nodes] @ W + b)",
                            ("        n_kids = np.bincount(parent[parent >= 0], minlength=n)[nodes]\n"
                            "        mean = child_sum[nodes] / np.maximum(n_kids, 1)[:, None]\n"
                            "        h[nodes] = np.tanh(E[ids[nodes]] + mean @ W + b)"))],
                          {"q2": "all", "q3": "all", "q5": "any"}),
    "one_forget_gate_for_all_children": (
        [("        f = sig(ax[parent[kids], H:2 * H] + h[kids] @ Wh[:, H:2 * H])   # (edges, H)",
          "        f = sig(ax[parent[kids], H:2 * H] + h_sum[parent[kids]] @ Wh[:, H:2 * H])")],
        {"q4": "all"}),
    "leaves_not_embedded": ([("        h[nodes] = np.tanh(E[ids[nodes]] + child_sum[nodes] @ W + b)",
                              ("        inp = np.where((level[nodes] > 0)[:, None], E[ids[nodes]], 0)\n"
                              "        h[nodes] = np.tanh(inp + child_sum[nodes] @ W + b)"))],
                            {"q2": "all", "q3": "all", "q5": "any"}),
    "depth_instead_of_level": ([("            level[j] = max(level[j], level[k] + 1)",
                                 ("            pass\n    for j in order:\n        for k in kids[j]:\n"
                                 "            level[k] = level[j] + 1"))],
                               {"q1": "all", "q2": "any", "q3": "any", "q4": "any", "q5": "any"}),
    # every question calls tree_levels, so every question loses
    "calls_coursekit": (None, {q: "all" for q in FULL}),
}
CALLS_COURSEKIT = ("from coursekit.data.trees import levels as _levels\n\n\n"
                   "def tree_levels(parent):\n"
                   "    n = len(parent)\n"
                   "    order = sorted(range(n), key=lambda j: -_depth(parent, j))\n"
                   "    pos = {j: i for i, j in enumerate(order)}\n"
                   "    kids = [[pos[k] for k in range(n) if parent[k] == j] for j in order]\n"
                   "    lev = _levels(kids)\n"
                   "    return np.array([lev[pos[j]] for j in range(n)])\n\n\n"
                   "def _depth(parent, j):\n"
                   "    d = 0\n"
                   "    while parent[j] >= 0:\n"
                   "        j, d = parent[j], d + 1\n"
                   "    return d\n")


def wrong_submission(name: str, folder: Path) -> Path:
    return edited_source(SOURCE, name, WRONG[name][0], CALLS_COURSEKIT, folder)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_lose_points(name, a5, tmp_path):
    result = grade_with(wrong_submission(name, tmp_path), a5, LIMITS)
    got, lose = scores(result), WRONG[name][1]
    assert_lost(got, FULL, lose)
    if name == "calls_coursekit":
        out = " ".join(t.output for t in result.tests if t.question == "q1")
        assert "ReferenceCallError" in out
