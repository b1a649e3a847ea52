"""Class workflows (issue 15, item 4): ``coursekit assign --all`` into one term folder, and
``coursekit grade`` over a class folder: the LMS CSV with a late flag, regrading only what
changed, the per-question summary and the similarity flags (which change no score).

A two-question assignment written here keeps the class small and fast to grade.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grading_support import ROOT

pytestmark = pytest.mark.slow  # grades a class of four, twice

TESTS_PY = '''from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result

X = (Arg("x", ("N", "T")),)
QUESTIONS = (
    Question("q1", "running_mean", ("running_mean",), X, (Step("running_mean", ("x",)),),
             (Output("m", result(0)),),
             (Case(dict(N=3, T=5), 2, public=True, seed=1), Case(dict(N=4, T=7), 3))),
    Question("q2", "centred_max", ("centred_max",), X, (Step("centred_max", ("x",)),),
             (Output("m", result(0)),),
             (Case(dict(N=3, T=5), 2, public=True, seed=2), Case(dict(N=2, T=6), 3))),
)
ASSIGNMENT = Assignment(name="tiny", title="Tiny", questions=QUESTIONS,
                        references={"running_mean": "reference:running_mean",
                                    "centred_max": "reference:centred_max"})
'''
REFERENCE_PY = '''import numpy as np


def running_mean(x):
    return np.cumsum(x, axis=1) / np.arange(1, x.shape[1] + 1)


def centred_max(x):
    return (x - x.mean(axis=1, keepdims=True)).max(axis=1)
'''
SETUP = 'import numpy as np\nfrom coursekit.grading import make_check\n\ncheck = make_check("tests.py")'
ALICE = '''def running_mean(x):
    N, T = x.shape
    out = np.zeros_like(x)
    total = np.zeros(N, dtype=x.dtype)
    for t in range(T):
        total = total + x[:, t]
        out[:, t] = total / (t + 1)
    scale = np.ones_like(out)
    out = out * scale
    return out'''
#: Alice's function renamed, with independent lines swapped: flagged against alice
DAVE = '''def running_mean(values):
    rows, steps = values.shape
    acc = np.zeros(rows, dtype=values.dtype)
    result = np.zeros_like(values)
    for k in range(steps):
        acc = acc + values[:, k]
        result[:, k] = acc / (k + 1)
    ones = np.ones_like(result)
    result = result * ones
    return result'''
BOB = '''def running_mean(x):
    """Written independently: a cumulative sum divided by the counts."""
    counts = np.arange(1, x.shape[1] + 1, dtype=x.dtype)
    return np.cumsum(x, axis=1) / counts'''
CENTRED = '''def centred_max(x):
    return (x - x.mean(axis=1, keepdims=True)).max(axis=1)'''
CAROL = '''def running_mean(x):
    means = [x[:, :t + 1].mean(axis=1) for t in range(x.shape[1])]
    return np.stack(means, axis=1)'''
WRONG_CENTRED = '''def centred_max(x):
    return x.max(axis=1) - x.mean()'''


def notebook(path: Path, *cells: str) -> Path:
    nb = new_notebook()
    nb.cells = [new_code_cell(c) for c in (SETUP, *cells)]
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def run(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COURSEKIT_GRADER_SECRET": "class-secret"}
    return subprocess.run([sys.executable, "-m", "coursekit.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture()
def tiny(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "tests.py").write_text(TESTS_PY)
    (folder / "reference.py").write_text(REFERENCE_PY)
    notebook(folder / "tiny.ipynb", ALICE, CENTRED)
    cls = tmp_path / "class"
    notebook(cls / "alice.ipynb", ALICE, CENTRED)
    notebook(cls / "bob" / "submission" / "my_work.ipynb", BOB, CENTRED)  # one folder per student
    notebook(cls / "carol.ipynb", CAROL, WRONG_CENTRED)
    notebook(cls / "dave.ipynb", DAVE, CENTRED)
    late = cls / "dave.ipynb"
    os.utime(late, (2_000_000_000, 2_000_000_000))  # 2033: after the deadline
    for p in (cls / "alice.ipynb", cls / "carol.ipynb", cls / "bob" / "submission" / "my_work.ipynb"):
        os.utime(p, (1_700_000_000, 1_700_000_000))  # 2023: on time
    return folder, cls


def rows(out: Path) -> dict:
    with open(out / "grades.csv") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def test_class_csv_late_flag_summary_similarity_and_regrade(tiny, tmp_path):
    folder, cls = tiny
    out = tmp_path / "grades"
    r = run("grade", str(cls), "--assignment", str(folder), "--results", str(out),
            "--deadline", "2030-01-01T00:00", "-q")
    assert r.returncode == 0, r.stderr[-2000:]
    got = rows(out)
    assert sorted(got) == ["alice", "bob", "carol", "dave"]
    assert list(got["alice"])[:6] == ["student_id", "q1", "q2", "total", "max_score", "late"]
    assert {s: (g["q1"], g["q2"], g["total"]) for s, g in got.items()} == {
        "alice": ("5", "5", "10"), "bob": ("5", "5", "10"), "carol": ("5", "0", "5"),
        "dave": ("5", "5", "10")}  # similarity changes no score
    assert {s: g["late"] for s, g in got.items()} == {"alice": "no", "bob": "no", "carol": "no",
                                                      "dave": "yes"}
    assert all(g["regraded"] == "yes" for g in got.values())
    # dave's renamed, reordered copy of alice is flagged (both rows); bob's own solution is not
    assert "running_mean~alice: running_mean" in got["dave"]["similarity_flags"]
    assert "dave" in got["alice"]["similarity_flags"]
    assert got["bob"]["similarity_flags"] == "" and got["carol"]["similarity_flags"] == ""
    report = (out / "similarity.txt").read_text()
    assert "alice: running_mean ~ dave: running_mean" in report and "bob" not in report
    summary = (out / "summary.txt").read_text()
    assert "q2" in summary and "failures   1" in summary and "(1 students)" in summary
    with open(out / "summary.csv") as f:
        q2 = [row for row in csv.DictReader(f) if row["question"] == "q2"][0]
    assert q2["failures"] == "1" and float(q2["mean"]) == pytest.approx(3.75)
    assert "entries are wrong" in q2["most_common_feedback"]
    assert json.loads((out / "results" / "bob.json").read_text())["score"] == 10
    assert "graded 4 submission(s)" in r.stdout

    # carol fixes q2: only her notebook is graded again, and the results say so
    notebook(cls / "carol.ipynb", CAROL, CENTRED)
    r = run("grade", str(cls), "--assignment", str(folder), "--results", str(out), "-q")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "graded 1 submission(s): carol" in r.stdout
    assert "results kept: alice, bob, dave" in r.stdout
    again = rows(out)
    assert again["carol"]["total"] == "10" and again["carol"]["regraded"] == "yes"
    assert [again[s]["regraded"] for s in ("alice", "bob", "dave")] == ["no"] * 3
    assert "late" not in again["alice"]  # no deadline given this time
    assert json.loads((out / "results" / "alice.json").read_text())["extra_data"]["regraded"] is False


def test_assign_all_writes_one_term_folder_with_nothing_private_in_publish(tmp_path):
    out = tmp_path / "term"
    r = run("assign", "--all", str(ROOT / "assignments"), "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    names = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/tests.py"))
    assert sorted(p.stem for p in (out / "publish").glob("*.ipynb")) == names
    assert sorted(p.name for p in (out / "gradescope").iterdir()) == \
        [f"{n}_autograder.zip" for n in names]
    for n in names:  # the published notebook is the committed release, byte for byte
        assert (out / "publish" / f"{n}.ipynb").read_bytes() == \
            (ROOT / "assignments" / n / "release" / f"{n}.ipynb").read_bytes()
        with zipfile.ZipFile(out / "gradescope" / f"{n}_autograder.zip") as z:
            assert {"tests.py", "run_autograder", "setup.sh"} <= set(z.namelist())
    public = " ".join(p.read_text() for p in (out / "publish").iterdir())
    assert "BEGIN SOLUTION" not in public and "reference.py" not in public
    assert "PRIVATE" in (out / "README.txt").read_text()
    assert run("assign", "--zip", "x.zip", "--all", str(ROOT / "assignments")).returncode == 2
