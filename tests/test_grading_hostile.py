"""Wrong and hostile submissions each get the score they deserve, in bounded time.

The cases live in tests/grading_cases/ (written by make_cases.py); expected.json
lists, for each, the questions that must score 0: every other question must score
full marks. They are graded as a class through the real command (`-j 2`, CSV),
with tight limits.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursekit.grading.grade import load_assignment
from coursekit.grading.sandbox import _can_use_nobody, landlock_abi

pytestmark = pytest.mark.slow  # grades a class of hostile notebooks (under a minute)

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "grading_cases"
EXPECTED = json.loads((CASES / "expected.json").read_text())
# Without Landlock signal scoping (ABI 6) or a separate uid, a same-user child can kill the grader
if landlock_abi() < 6 and not _can_use_nobody():  # pragma: no cover - depends on the kernel
    EXPECTED.pop("kill_grader")
A1 = ROOT / "assignments" / "a1_rnn_scratch"
MARKER = b"coursekit-orphan-marker"


def _marker_processes() -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if MARKER in f.read():
                        pids.append(int(name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    notebooks = sorted(p for p in CASES.glob("*.ipynb") if p.stem in EXPECTED)
    before = sorted(p.name for p in A1.iterdir())
    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in notebooks}
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "coursekit.cli", "grade", *map(str, notebooks),
                        "--assignment", str(A1),
                        "--results", str(out / "results"), "--csv", str(out / "grades.csv"),
                        "-j", "2", "--timeout", "30", "--test-timeout", "3", "--memory-gb", "1",
                        "-q"], capture_output=True, text=True, timeout=400,
                       env={**os.environ, "COURSEKIT_GRADER_SECRET": "hostile-test-secret"})
    seconds = time.monotonic() - t0
    return {"run": r, "out": out, "seconds": seconds, "notebooks": notebooks, "digests": digests,
            "assignment_files": (before, sorted(p.name for p in A1.iterdir()))}


def test_every_case_has_a_stored_expectation():
    stored = json.loads((CASES / "expected.json").read_text())
    assert sorted(p.stem for p in CASES.glob("*.ipynb")) == sorted(stored)


def test_grading_completes_with_exit_0_in_bounded_time(graded):
    r = graded["run"]
    assert r.returncode == 0, r.stderr[-3000:]
    assert graded["seconds"] < 240


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_gets_its_deserved_score(graded, case):
    assignment, _ = load_assignment(ROOT / "assignments" / "a1_rnn_scratch")
    res = json.loads((graded["out"] / "results" / f"{case}.json").read_text())
    zero = EXPECTED[case]["zero"]
    zero = [q.id for q in assignment.questions] if zero == "all" else zero
    want = {q.id: (0.0 if q.id in zero else q.points) for q in assignment.questions}
    got = {qid: s for qid, (s, _) in res["extra_data"]["questions"].items()}
    assert got == want, "\n".join(t["name"] + ": " + t["output"] for t in res["tests"]
                                  if t["score"] < t["max_score"])
    assert res["score"] == sum(want.values())
    for t in res["tests"]:
        assert t["output"], t["name"]  # every test says something a student can act on


def test_feedback_is_actionable(graded):
    def outputs(case):
        res = json.loads((graded["out"] / "results" / f"{case}.json").read_text())
        return "\n".join(t["output"] for t in res["tests"])
    assert "coursekit reference" in outputs("import_reference")
    assert "coursekit reference" in outputs("wrap_reference")
    assert "coursekit reference" in outputs("read_tests_use_reference")
    assert "expected shape (2, 5, 9), got shape (5, 2, 9)" in outputs("wrong_shape_nan")
    assert "NaN or inf" in outputs("wrong_shape_nan")
    assert "timed out" in outputs("endless_loop")
    assert "exited with code 3" in outputs("os_exit")
    assert "SyntaxError" in outputs("syntax_error")
    assert "masked_rnn_backward is not defined" in outputs("deleted_cell")
    assert "must be a numpy array, got Liar" in outputs("fake_eq")


def test_forged_results_are_overwritten_and_csv_matches(graded):
    out = graded["out"]
    forged = json.loads((out / "results" / "forged_results.json").read_text())
    assert forged["score"] == 86 and len(forged["tests"]) > 1
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert sorted(rows) == sorted(p.name for p in graded["notebooks"])
    for name, row in rows.items():
        res = json.loads((out / "results" / f"{Path(name).stem}.json").read_text())
        assert float(row["score"]) == res["score"]


@pytest.mark.skipif(landlock_abi() < 1, reason="no Landlock: a same-user child can write files")
def test_child_cannot_write_outside_its_scratch_directory(graded):
    before, after = graded["assignment_files"]
    assert after == before  # forged_results.ipynb tried to drop files next to tests.py


def test_no_orphan_survives_and_submissions_are_untouched(graded):
    assert _marker_processes() == []
    for p, digest in graded["digests"].items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == digest
