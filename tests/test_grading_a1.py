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
import numpy as np
import pytest

from coursekit.grading import assign
from coursekit.grading.grade import load_assignment
from grading_support import edited_source, grade_with, limits, load, local, locate

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


def test_another_secret_draws_other_hidden_inputs(a1, tmp_path):
    # The solved source matches the references exactly (every error is 0), so the inputs show
    # through a slightly wrong step instead: its largest error depends on the inputs drawn.
    off = edited_source(SOURCE, "off_by_one_percent",
                        [("next_h = np.maximum(a, 0)", "next_h = 1.01 * np.maximum(a, 0)")],
                        "", tmp_path)
    r1, r3 = grade(off, a1), grade(off, a1, secret="another-secret")
    hidden = [(a.output, b.output) for a, b in zip(r1.tests, r3.tests)
              if "hidden" in a.name and a.question == "q1"]
    assert hidden and all(x != y for x, y in hidden), hidden


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
    exec(code[1], ns)  # relu_rnn_step_forward with its NotImplementedError
    exec('check("q1")', ns)
    assert "q1: not implemented yet" in capsys.readouterr().out
    exec("def relu_rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
         "    return np.tanh(x @ Wx + prev_h @ Wh + b), None", ns)  # chapter 1's step: wrong here
    exec('check("q1")', ns)
    assert "public tests failed" in capsys.readouterr().out
    exec("def relu_rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
         "    return np.maximum(x @ Wx + prev_h @ Wh + b, 0), None", ns)
    exec('check("q1")', ns)
    assert "public tests passed; hidden tests run at grading" in capsys.readouterr().out


reference_a1 = local("a1_rnn_scratch", "reference")


def test_references_agree_with_torch():
    """The forward references against torch in float64: ReLU cell, Linear, cross_entropy;
    the masked RNN with no padding is coursekit's tanh RNN, and holds its state on padding."""
    import torch
    import torch.nn.functional as F
    from coursekit.nn.rnn import rnn_forward
    ref, rng = reference_a1, np.random.default_rng(0)
    x, h, Wx, Wh, b = (rng.standard_normal(s) for s in ((3, 4), (3, 5), (4, 5), (5, 5), (5,)))
    cell = torch.nn.RNNCell(4, 5, nonlinearity="relu", dtype=torch.float64)
    with torch.no_grad():
        for p, v in ((cell.weight_ih, Wx.T), (cell.weight_hh, Wh.T), (cell.bias_ih, b)):
            p.copy_(torch.from_numpy(v))
        cell.bias_hh.zero_()
        want = cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()
    np.testing.assert_allclose(ref.relu_rnn_step_forward(x, h, Wx, Wh, b)[0], want, atol=1e-10)
    xs, h0 = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 5))
    np.testing.assert_allclose(ref.masked_rnn_forward(xs, h0, Wx, Wh, b)[0],
                               rnn_forward(xs, h0, Wx, Wh, b)[0], atol=1e-12)
    mask = np.array([[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
    held = ref.masked_rnn_forward(xs, h0, Wx, Wh, b, mask)[0]
    np.testing.assert_allclose(held[0, -1], rnn_forward(xs[:1, :2], h0[:1], Wx, Wh, b)[0][0, -1])
    weight, bias = rng.standard_normal((3, 4)), rng.standard_normal(3)
    np.testing.assert_allclose(ref.linear_forward(xs, weight, bias)[0],
                               F.linear(torch.from_numpy(xs), torch.from_numpy(weight),
                                        torch.from_numpy(bias)).numpy(), atol=1e-10)
    scores, y = rng.standard_normal((3, 4, 6)), rng.integers(0, 6, (3, 4))
    m = rng.random((3, 4)) < 0.6
    m[:, 0] = True
    t = torch.from_numpy(scores).requires_grad_()
    tl = F.cross_entropy(t.reshape(-1, 6), torch.from_numpy(np.where(m, y, -100)).reshape(-1))
    tl.backward()
    loss, dx = ref.token_mean_softmax_loss(scores, y, m)
    assert float(loss) == pytest.approx(float(tl), rel=1e-12)
    np.testing.assert_allclose(dx, t.grad.numpy(), atol=1e-12)
    W = rng.standard_normal((5, 3))
    ids = np.array([[0, 2, 0], [4, 1, 2]])
    out, cache = ref.padded_embedding_forward(ids, W, 2)
    assert (out[ids == 2] == 0).all() and np.array_equal(out[0, 0], W[0])
    emb = torch.nn.Embedding(5, 3, padding_idx=2, dtype=torch.float64)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(W))
    dout = rng.standard_normal(out.shape)
    (emb(torch.from_numpy(ids)) * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(ref.padded_embedding_backward(dout, cache), emb.weight.grad.numpy())


def test_references_backward_passes_match_finite_differences():
    from coursekit.train.gradcheck import numerical_gradient_array, rel_error
    ref, rng = reference_a1, np.random.default_rng(1)
    x, h, Wx, Wh, b = (0.5 * rng.standard_normal(s) for s in ((3, 4), (3, 5), (4, 5), (5, 5), (5,)))
    xs, h0 = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5))
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], bool)
    weight, bias = rng.standard_normal((3, 4)), rng.standard_normal(3)
    cases = [  # (forward of the listed arrays, backward, arrays in the order backward returns)
        (lambda: ref.relu_rnn_step_forward(x, h, Wx, Wh, b), ref.relu_rnn_step_backward,
         [x, h, Wx, Wh, b]),
        (lambda: ref.masked_rnn_forward(xs, h0, Wx, Wh, b, mask), ref.masked_rnn_backward,
         [xs, h0, Wx, Wh, b]),
        (lambda: ref.linear_forward(xs, weight, bias), ref.linear_backward, [xs, weight, bias]),
    ]
    for forward, backward, arrays in cases:
        out, cache = forward()
        dout = rng.standard_normal(out.shape)
        for got, a in zip(backward(dout, cache), arrays):
            num = numerical_gradient_array(lambda: forward()[0], a, dout)
            assert rel_error(got, num) < 1e-6, backward.__name__
