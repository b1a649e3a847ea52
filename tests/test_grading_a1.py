"""Assignment 1 end to end: source full marks, release zero, release in sync, zip reproducible,
the source notebook runs, and same submission -> same score."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursekit.grading import assign
from coursekit.grading.grade import load_assignment
from grading_support import grade_with, limits, load, locate

A1, SOURCE, RELEASE = locate("a1_rnn_scratch")
LIMITS = limits(wall=40)


@pytest.fixture(scope="module")
def a1():
    return load(A1)


def grade(path, a1, secret="test-secret"):
    return grade_with(path, a1, LIMITS, secret)


def test_same_submission_same_score_and_secret_changes_hidden_inputs(a1):
    r1, r2 = grade(SOURCE, a1), grade(SOURCE, a1)
    assert [t.output for t in r1.tests] == [t.output for t in r2.tests]
    r3 = grade(SOURCE, a1, secret="another-secret")
    assert r3.score == 100
    hidden = [(a.output, b.output) for a, b in zip(r1.tests, r3.tests) if "hidden" in a.name]
    assert any(x != y for x, y in hidden)  # other inputs, so other largest errors / losses


def test_autograder_zip_is_byte_identical_and_gradescope_shaped(tmp_path):
    one = assign.bundle_bytes(A1, secret="s3cret")
    assert one == assign.bundle_bytes(A1, secret="s3cret")
    (tmp_path / "b.zip").write_bytes(one)
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        names = z.namelist()
        assert names == sorted(names)
        assert {"setup.sh", "run_autograder", "tests.py", "secret.txt", "requirements.txt",
                "lib/coursekit/grading/child.py"} <= set(names)
        info = z.getinfo("run_autograder")
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and (info.external_attr >> 16) & 0o777 == 0o755
        assert "/autograder}" in z.read("run_autograder").decode()  # Gradescope root by default
        assert not any("__pycache__" in n for n in names)


def test_grade_accepts_the_zip(tmp_path):
    (tmp_path / "ag.zip").write_bytes(assign.bundle_bytes(A1))
    assignment, _ = load_assignment(tmp_path / "ag.zip")
    assert assignment.name == "a1_rnn_scratch" and assignment.points == 100


def test_cli_exit_codes(tmp_path):
    cmd = [sys.executable, "-m", "coursekit.cli", "grade"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd + [str(SOURCE), "--assignment", str(tmp_path)], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 2 and "no tests.py" in r.stderr
    r = subprocess.run(cmd + [str(tmp_path / "missing.ipynb"), "--assignment", str(A1)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "submission not found" in r.stderr


def test_run_autograder_in_gradescope_layout(tmp_path):
    """Unzip the bundle as Gradescope does and run its run_autograder on the source notebook."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(__import__("io").BytesIO(assign.bundle_bytes(A1, secret="gs"))) as z:
        z.extractall(root / "source")
    (root / "submission" / "mine.ipynb").write_bytes(SOURCE.read_bytes())
    script = root / "source" / "run_autograder"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(root / "source" / "lib")}  # the bundle's own copy of coursekit
    env.pop("COURSEKIT_GRADER_SECRET", None)
    r = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 100 and len(res["tests"]) == 29
    (root / "submission" / "mine.ipynb").unlink()
    r = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 0


def test_release_check_runs_in_the_students_namespace(capsys):
    """The release's setup cell (public tests inlined) works without tests.py nearby."""
    nb = nbformat.read(RELEASE, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    ns: dict = {}
    exec(code[0], ns)  # setup: check = make_check(r'''{...}''')
    exec(code[1], ns)  # rnn_step_forward with its NotImplementedError
    exec('check("q1")', ns)
    assert "q1: not implemented yet" in capsys.readouterr().out
    exec("def rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
         "    return np.tanh(x @ Wx + prev_h @ Wh + b), None", ns)
    exec('check("q1")', ns)
    assert "public tests passed; hidden tests run at grading" in capsys.readouterr().out
