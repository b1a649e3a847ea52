"""Copying the package or the book earns at most 10% on every assignment (issue 14).

Generic, driven by each assignment's graded names (see ``grading_support``): a new
assignment is covered without new code. The two submissions are the release notebook
plus (a) the source of every coursekit module defining a function of a graded name (or
the closest name, renamed), with the modules it imports, or (b) every object the book
shows. Both must keep at most 10% of the points.
"""
from __future__ import annotations

import pytest

from grading_support import (ROOT, book_copy_cells, book_displays, copy_submission, grade_with,
                             graded_names, limits, load, locate, package_copy_cells)

pytestmark = pytest.mark.slow  # grades two submissions per assignment

ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/tests.py"))
LIMITS = limits(wall=90)
BUILDERS = {"package": package_copy_cells, "book": book_copy_cells}
#: (assignment, kind) still graded on coursekit's own functions: redone in variant form next
NOT_YET_REDONE: set = set()


def test_the_book_displays_are_found():
    shown = book_displays()
    assert {"rnn_step_forward", "rnn_forward", "rnn_step_backward", "rnn_backward",
            "clip_grad_norm", "clip_grad_value"} <= set(shown)
    assert all("def " in code or "class " in code for code in shown.values())


def test_the_package_paste_defines_what_coursekit_defines(tmp_path):
    """The attack itself works: pasted where the graded names are coursekit's, it scores."""
    from coursekit.grading.spec import Assignment, Question
    fake = Assignment("x", "x", (Question("q1", "t", ("rnn_forward", "clip_grad_norm"), (), (), (),
                                          ()),), {})
    ns: dict = {}
    for cell in package_copy_cells(fake):
        try:
            exec(cell, ns)
        except Exception:  # noqa: BLE001 - a statement may need what the paste drops
            pass
    import numpy as np
    from coursekit.nn.rnn import rnn_forward
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5)),
            rng.standard_normal((4, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5))
    assert ns["rnn_forward"] is not rnn_forward
    np.testing.assert_allclose(ns["rnn_forward"](*args)[0], rnn_forward(*args)[0])
    assert graded_names(fake) == ["clip_grad_norm", "rnn_forward"]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_copy_keeps_at_most_a_tenth(name, kind, tmp_path, request):
    if (name, kind) in NOT_YET_REDONE:
        request.applymarker(pytest.mark.xfail(strict=True, reason="grades coursekit's functions"))
    folder, _, release = locate(name)
    loaded = load(folder)
    assignment = loaded[0]
    sub = copy_submission(release, BUILDERS[kind](assignment), tmp_path / f"{kind}_copy.ipynb")
    result = grade_with(sub, loaded, LIMITS)
    scored = {q: s for q, (s, _) in result.questions.items() if s}
    assert result.score <= 0.1 * assignment.points, \
        f"{name}: pasting the {kind} scores {result.score:g} / {assignment.points:g} ({scored})"
