"""``check("q1")``: run a question's public tests in the student's own kernel.

The release notebook defines ``check = make_check('<public tests as JSON>')``
(the instructor source uses ``make_check("tests.py")``). ``check`` looks up
the student's functions in the notebook's globals, runs the public cases,
compares with the coursekit reference, and prints what is wrong. When all
public cases pass it says so and reminds that hidden tests run at grading:
it never says "all tests passed".
"""
from __future__ import annotations

import inspect

import numpy as np

from coursekit.grading.compare import resolve_check
from coursekit.grading.spec import Assignment, draw_inputs, from_json, run_steps

PASSED = "public tests passed; hidden tests run at grading"


def _load(spec) -> Assignment:
    if isinstance(spec, Assignment):
        return spec
    if isinstance(spec, str) and spec.lstrip().startswith("{"):
        return from_json(spec)
    from coursekit.grading.grade import load_assignment
    from pathlib import Path
    p = Path(spec)
    return load_assignment(p.parent if p.name == "tests.py" else p)[0]


def run_public(assignment: Assignment, qid: str, namespace: dict) -> tuple[bool, list[str]]:
    """Run the public cases of ``qid`` with the functions in ``namespace``."""
    from coursekit.grading.grade import reference_functions
    q = assignment.question(qid)
    refs = reference_functions(assignment)
    lines, ok_all = [], True
    missing = [f for f in {s.func for s in q.steps} if not callable(namespace.get(f))]
    if missing:
        return False, [f"define {', '.join(sorted(missing))} first (run its cell)"]
    for f in q.graded:
        if (getattr(namespace[f], "__module__", None) or "").startswith("coursekit"):
            return False, [f"{f} is the coursekit reference; graded functions must be your own "
                           f"code and score 0 otherwise"]
    for n, case in enumerate([c for c in q.cases if c.public], 1):
        inputs = draw_inputs(q, case, np.random.default_rng(case.seed))
        exp = None
        if all(s.func in refs for s in q.steps):
            exp = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, refs)
        try:
            got = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, namespace)
            got = {k: (np.asarray(v) if np.isscalar(v) else v) for k, v in got.items()}
        except NotImplementedError:
            return False, [f"{qid}: not implemented yet"]
        except Exception as e:  # noqa: BLE001 - show the student their own error
            ok_all = False
            lines.append(f"public test {n}: your code raised {type(e).__name__}: {e}")
            continue
        frac, msgs = resolve_check(q.check)(q, case, inputs, got, exp)
        ok_all &= frac == 1.0
        lines += [f"public test {n} ({case.dtype}): {m}" for m in msgs if frac < 1.0]
    return ok_all, lines


def make_check(spec):
    """Return ``check(qid)`` for the assignment ``spec`` (tests.py path, JSON, or Assignment)."""
    assignment = _load(spec)

    def check(qid: str) -> None:
        """Run question ``qid``'s public tests on the functions defined in this notebook."""
        frame = inspect.currentframe().f_back
        namespace = dict(frame.f_globals)
        ok, lines = run_public(assignment, qid, namespace)
        q = assignment.question(qid)
        if ok:
            print(f"{qid} ({q.title}): {PASSED}")
        else:
            print(f"{qid} ({q.title}): public tests failed")
            for line in lines:
                print("  " + line)

    return check
