"""``check("q1")``: run a question's public tests in the student's own kernel.

The release notebook defines ``check = make_check('<public tests as JSON>')``: the
public cases, the expected outputs the grader computed for them with the references
(which the student never gets), and the source of the assignment's own checks. The
instructor source uses ``make_check("tests.py")`` and computes the expected values
itself. ``check`` looks up the student's functions in the notebook's globals, runs
the public cases and prints what is wrong. When all public cases pass it says so and
reminds that hidden tests run at grading: it never says "all tests passed".
"""
from __future__ import annotations

import base64
import inspect
import types
from pathlib import Path

import numpy as np

from coursekit.grading.loader import load_assignment, reference_functions, resolve_check, resolve_name
from coursekit.grading.spec import Assignment, draw_inputs, from_json, run_steps

PASSED = "public tests passed; hidden tests run at grading"

__all__ = ["PASSED", "make_check", "run_public", "public_expected", "release_json", "encode_array"]


def encode_array(a) -> dict:
    """An array as JSON-ready data; floats rounded to 10 (float32: 6) significant digits so the
    release is byte-identical on machines whose BLAS differ in the last bits (the checks'
    tolerances are far coarser)."""
    a = np.array(a, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    if a.dtype.kind == "f":
        digits = 6 if a.dtype == np.float32 else 10
        a = np.array([float(f"{v:.{digits}g}") for v in a.ravel().tolist()],
                     dtype=a.dtype).reshape(a.shape)
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def decode_array(d: dict) -> np.ndarray:
    raw = base64.b64decode(d["b64"])
    return np.frombuffer(raw, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).copy()


def public_expected(assignment: Assignment) -> dict:
    """qid -> {public case number: {output: encoded array}}, computed with the references.

    Only for questions whose every step has a reference (training questions are
    judged by their check alone). Embedded in the release by ``coursekit assign``.
    """
    refs = reference_functions(assignment)
    out = {}
    for q in assignment.questions:
        if not all(s.func in refs for s in q.steps):
            continue
        for n, case in enumerate([c for c in q.cases if c.public]):
            inputs = draw_inputs(q, case, np.random.default_rng(case.seed),
                                 lambda name: resolve_name(name, assignment.folder))
            exp = run_steps(q, case, inputs, refs)
            out.setdefault(q.id, {})[str(n)] = {k: encode_array(v) for k, v in exp.items()}
    return out


def release_json(assignment: Assignment) -> str:
    """What a release notebook carries: the public cases, their expected outputs and the
    assignment's ``checks.py`` source (never its references)."""
    from coursekit.grading.spec import to_json
    extra = {"expected": public_expected(assignment)}
    checks = Path(assignment.folder or ".") / "checks.py"
    if assignment.folder and checks.is_file():
        extra["checks_source"] = {"checks": checks.read_text()}
    return to_json(assignment, public_only=True, extra=extra)


class _Embedded:
    """What the release notebook carries instead of the assignment folder."""

    def __init__(self, extra: dict):
        self.expected = extra.get("expected", {})
        self.modules = {}
        for name, source in sorted(extra.get("checks_source", {}).items()):
            mod = types.ModuleType(f"coursekit_embedded_{name}")
            exec(compile(source, f"<{name}.py of the assignment>", "exec"), mod.__dict__)
            self.modules[name] = mod

    def check(self, name: str):
        module, sep, func = name.partition(":")
        if sep and module in self.modules:
            return getattr(self.modules[module], func)
        return resolve_check(name)


def _load(spec) -> tuple[Assignment, _Embedded | None]:
    if isinstance(spec, Assignment):
        return spec, None
    if isinstance(spec, str) and spec.lstrip().startswith("{"):
        assignment, extra = from_json(spec)
        return assignment, _Embedded(extra)
    p = Path(spec)
    return load_assignment(p.parent if p.name == "tests.py" else p)[0], None


def run_public(assignment: Assignment, qid: str, namespace: dict,
               embedded: _Embedded | None = None) -> tuple[bool, list[str]]:
    """Run the public cases of ``qid`` with the functions in ``namespace``."""
    q = assignment.question(qid)
    refs = reference_functions(assignment) if embedded is None else {}
    check_fn = embedded.check(q.check) if embedded else resolve_check(q.check, assignment.folder)
    resolve = embedded.check if embedded else lambda name: resolve_name(name, assignment.folder)
    lines, ok_all = [], True
    missing = [f for f in {s.func for s in q.steps} if not callable(namespace.get(f))]
    if missing:
        return False, [f"define {', '.join(sorted(missing))} first (run its cell)"]
    for f in q.graded:
        if (getattr(namespace[f], "__module__", None) or "").startswith("coursekit"):
            return False, [f"{f} comes from coursekit; graded functions must be your own "
                           f"code and score 0 otherwise"]
    for n, case in enumerate([c for c in q.cases if c.public]):
        inputs = draw_inputs(q, case, np.random.default_rng(case.seed), resolve)
        exp = None
        if embedded is not None and str(n) in embedded.expected.get(qid, {}):
            exp = {k: decode_array(v) for k, v in embedded.expected[qid][str(n)].items()}
        elif embedded is None and all(s.func in refs for s in q.steps):
            exp = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, refs)
        if exp is None and q.check == "match":
            return False, [f"{qid}: this notebook carries no expected values for public test "
                           f"{n + 1}; ask your instructor for the released notebook"]
        try:
            got = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, namespace)
            got = {k: (np.asarray(v) if np.isscalar(v) else v) for k, v in got.items()}
        except NotImplementedError:
            return False, [f"{qid}: not implemented yet"]
        except Exception as e:  # noqa: BLE001 - show the student their own error
            ok_all = False
            lines.append(f"public test {n + 1}: your code raised {type(e).__name__}: {e}")
            continue
        frac, msgs = check_fn(q, case, inputs, got, exp)
        ok_all &= frac == 1.0
        lines += [f"public test {n + 1} ({case.dtype}): {m}" for m in msgs if frac < 1.0]
    return ok_all, lines


def make_check(spec):
    """Return ``check(qid)`` for the assignment ``spec`` (tests.py path, release JSON, or Assignment)."""
    assignment, embedded = _load(spec)

    def check(qid: str) -> None:
        """Run question ``qid``'s public tests on the functions defined in this notebook."""
        frame = inspect.currentframe().f_back
        namespace = dict(frame.f_globals)
        ok, lines = run_public(assignment, qid, namespace, embedded)
        q = assignment.question(qid)
        if ok:
            print(f"{qid} ({q.title}): {PASSED}")
        else:
            print(f"{qid} ({q.title}): public tests failed")
            for line in lines:
                print("  " + line)

    return check
