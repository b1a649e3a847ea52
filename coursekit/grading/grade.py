"""Grade submissions: draw inputs, run the child, check its arrays, write the reports.

For each submission the parent

1. reads the notebook (never writing to it) and keeps the code cells;
2. derives the seed of the hidden inputs from the instructor's secret and a
   hash of that code, so the same submission always gets the same score and
   nobody can know the hidden inputs in advance;
3. draws every case's inputs and computes the expected outputs with the
   coursekit references, in this process;
4. runs all cases in one sandboxed child (:mod:`coursekit.grading.sandbox`),
   which returns arrays only;
5. checks the arrays (:mod:`coursekit.grading.compare`) and writes
   Gradescope's ``results.json`` (and a CSV row for a class).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursekit.grading import sandbox
from coursekit.grading.loader import (GraderError, load_assignment, reference_functions,  # noqa: F401
                                      resolve_check, resolve_name)
from coursekit.grading.spec import Assignment, draw_inputs, encode, run_steps, steps_to_plain

SECRET_ENV = "COURSEKIT_GRADER_SECRET"
#: Used when no secret is configured. Fine for local practice runs; for real
#: grading set COURSEKIT_GRADER_SECRET or pass --secret-file, or students who
#: read this source can compute the hidden inputs.
DEFAULT_SECRET = "coursekit-local-default-secret"
MAX_NOTEBOOK_BYTES = 64 << 20


@dataclass
class TestResult:
    name: str
    question: str
    score: float
    max_score: float
    output: str
    visibility: str = "visible"


@dataclass
class SubmissionResult:
    path: str
    score: float
    max_score: float
    tests: list
    questions: dict           # qid -> [score, max_score]
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    log_tail: str = ""
    sandbox: dict = field(default_factory=dict)


# ------------------------------------------------------------ assignment
def resolve_secret(secret_file: str | None = None, assignment_dir: Path | None = None) -> tuple[str, str]:
    """(secret, where it came from): env var, --secret-file, the bundle's secret.txt, or default."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV], SECRET_ENV
    for f in (secret_file, assignment_dir / "secret.txt" if assignment_dir else None):
        if f and Path(f).is_file():
            return Path(f).read_text().strip(), str(f)
    if secret_file:
        raise GraderError(f"secret file {secret_file} does not exist")
    return DEFAULT_SECRET, "the documented default (set COURSEKIT_GRADER_SECRET for real grading)"


# ------------------------------------------------------------ submission
def code_cells(data: bytes) -> list[str]:
    """Source of every code cell, outputs ignored. Raises ValueError if not a notebook."""
    import nbformat
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a notebook"
        raise ValueError(f"not a readable Jupyter notebook ({type(e).__name__})") from None
    return [c.get("source", "") if isinstance(c.get("source", ""), str) else ""
            for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def submission_seed(secret: str, assignment: str, cells: list[str]) -> int:
    """Seed of the hidden inputs: sha256(secret, assignment, code) -> 64-bit int."""
    code = hashlib.sha256("\n\x00".join(cells).encode("utf-8", "surrogatepass")).hexdigest()
    digest = hashlib.sha256(f"{secret}\x00{assignment}\x00{code}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _test_name(q, case, number: int) -> str:
    kind = "public" if case.public else "hidden"
    sizes = ", ".join(f"{k}={v}" for k, v in case.sizes.items())
    return f"{q.id} {q.title}: {kind} test {number} ({case.dtype}; {sizes})"


def grade_submission(path: str | os.PathLike, assignment: Assignment, *, secret: str,
                     limits: sandbox.Limits | None = None, references: dict | None = None,
                     test_timeout: float | None = None) -> SubmissionResult:
    """Grade one notebook; never raises for anything the submission does."""
    t0 = time.monotonic()
    path = Path(path)
    refs = references or reference_functions(assignment)
    plan, inputs, timeouts, keys = [], {}, [], []
    resolve = lambda name: resolve_name(name, assignment.folder)
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES >> 20} MB: clear its outputs "
                             f"and submit again")
        cells = code_cells(path.read_bytes())
        note = None
    except (OSError, ValueError) as e:
        cells, note = None, f"{path.name}: {e}"
    seed = submission_seed(secret, assignment.name, cells or [])
    for qi, q in enumerate(assignment.questions):
        for ci, case in enumerate(q.cases):
            rng = np.random.default_rng(case.seed if case.public else [seed, qi, ci])
            drawn = draw_inputs(q, case, rng, resolve)
            exp = None
            if all(s.func in refs for s in q.steps):  # the grader can compute the answer
                exp = run_steps(q, case, {k: v.copy() for k, v in drawn.items()}, refs)
                exp = {k: np.asarray(v) for k, v in exp.items()}
            k = len(plan)
            inputs.update({f"t{k}__{n}": a for n, a in drawn.items()})
            plan.append({"steps": steps_to_plain(q.steps), "sizes": dict(case.sizes),
                         "outputs": [{"name": o.name, "ref": encode(o.ref)} for o in q.outputs]})
            timeouts.append(test_timeout or q.timeout)
            keys.append((q, case, drawn, exp))
    if cells is None:
        run = sandbox.RunReport(outcomes={k: sandbox.Outcome(error=note) for k in range(len(plan))})
    else:
        try:
            run = sandbox.run_submission(cells, plan, inputs, timeouts,
                                         list(assignment.forbidden), limits,
                                         list(assignment.allowed_modules),
                                         list(assignment.blocked_imports))
        except OSError as e:  # e.g. the scratch directory could not be prepared
            note = f"the grader could not run this submission ({type(e).__name__}: {e})"
            run = sandbox.RunReport(outcomes={k: sandbox.Outcome(error=note)
                                              for k in range(len(plan))})
    tests, questions, numbers = [], {q.id: [0.0, q.points] for q in assignment.questions}, {}
    for k, (q, case, drawn, exp) in enumerate(keys):
        numbers[(q.id, case.public)] = numbers.get((q.id, case.public), 0) + 1
        outcome = run.outcomes[k]
        if outcome.error is not None:
            frac, lines = 0.0, [f"your code did not return a result: {outcome.error}"]
            if outcome.error.startswith("ReferenceCallError"):
                lines.append("graded functions must be your own: a test that uses the coursekit "
                             "reference scores 0")
        else:
            try:
                frac, lines = resolve_check(q.check, assignment.folder)(q, case, drawn, outcome.arrays,
                                                                        exp)
            except Exception as e:  # noqa: BLE001 - a check must never crash grading
                frac, lines = 0.0, [f"could not check the result ({type(e).__name__}: {e})"]
        score = round(frac * case.points, 6)
        questions[q.id][0] += score
        tests.append(TestResult(_test_name(q, case, numbers[(q.id, case.public)]), q.id, score,
                                float(case.points), "\n".join(lines), case.visibility))
    total = round(sum(t.score for t in tests), 6)
    notes = [note] if note else []
    if run.restarts:
        notes.append(f"the submission's process was restarted {run.restarts} time(s) after "
                     f"crashing or timing out in a test")
    return SubmissionResult(str(path), total, assignment.points, tests, questions,
                            time.monotonic() - t0, notes, run.log_tail,
                            {"user": run.user, "landlock_abi": run.landlock,
                             "restarts": run.restarts})


# ------------------------------------------------------------ reports
def results_json(result: SubmissionResult, assignment: Assignment) -> dict:
    """Gradescope's results.json: score, execution_time, output, tests[]."""
    lines = [f"{assignment.title}: {result.score:g} / {result.max_score:g} points.",
             "Hidden tests use inputs drawn at grading time; a correct implementation passes them."]
    lines += result.notes
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(lines),
        "tests": [{"name": t.name, "score": t.score, "max_score": t.max_score,
                   "output": t.output, "visibility": t.visibility} for t in result.tests],
        "extra_data": {"questions": result.questions, "sandbox": result.sandbox},
    }


def report_text(result: SubmissionResult, assignment: Assignment, *, failures: bool = True) -> str:
    """Per-question report for the terminal."""
    out = [f"{Path(result.path).name}: {result.score:g} / {result.max_score:g}  "
           f"({result.seconds:.1f} s)"]
    out += [f"  note: {n}" for n in result.notes]
    for q in assignment.questions:
        s, m = result.questions[q.id]
        out.append(f"  {q.id:<4} {q.title:<28} {s:6g} / {m:g}")
        if failures:
            for t in result.tests:
                if t.question == q.id and t.score < t.max_score:
                    first = t.output.splitlines()[0] if t.output else ""
                    out.append(f"         - {t.name.split(': ', 1)[1]}: {first[:160]}")
    return "\n".join(out)


def write_csv(results: list[SubmissionResult], assignment: Assignment, path: str | os.PathLike) -> None:
    qids = [q.id for q in assignment.questions]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "score", "max_score", *qids, "seconds"])
        for r in sorted(results, key=lambda r: r.path):
            w.writerow([Path(r.path).name, f"{r.score:g}", f"{r.max_score:g}",
                        *[f"{r.questions[q][0]:g}" for q in qids], f"{r.seconds:.2f}"])


def grade_many(paths: list, assignment: Assignment, *, secret: str, jobs: int = 1,
               limits: sandbox.Limits | None = None, test_timeout: float | None = None,
               progress: bool = True) -> list[SubmissionResult]:
    """Grade ``paths`` with ``jobs`` children at a time, with a progress bar for many."""
    from tqdm.auto import tqdm
    refs = reference_functions(assignment)
    results = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_submission, p, assignment, secret=secret, limits=limits,
                               references=refs, test_timeout=test_timeout) for p in paths]
        with tqdm(total=len(paths), desc="grading", unit="nb", file=sys.stderr,
                  disable=not progress or len(paths) < 2) as bar:
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update(1)
    order = {str(Path(p)): i for i, p in enumerate(paths)}
    return sorted(results, key=lambda r: order.get(r.path, 0))


def write_results(results: list[SubmissionResult], assignment: Assignment, target: str | os.PathLike,
                  csv_path: str | os.PathLike | None = None) -> list[Path]:
    """One submission and a ``.json`` target: that file. Otherwise a folder of results."""
    target = Path(target)
    written = []
    if len(results) == 1 and target.suffix == ".json":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results_json(results[0], assignment), indent=1) + "\n")
        written.append(target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        seen: dict[str, int] = {}
        for r in results:
            stem = Path(r.path).stem
            seen[stem] = seen.get(stem, 0) + 1
            name = stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"
            p = target / f"{name}.json"
            p.write_text(json.dumps(results_json(r, assignment), indent=1) + "\n")
            written.append(p)
        if csv_path is None:
            csv_path = target / "grades.csv"
    if csv_path is not None:
        write_csv(results, assignment, csv_path)
        written.append(Path(csv_path))
    return written
