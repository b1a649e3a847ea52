"""Unit tests of the grader's parts: comparisons, spec, release stripping, the child's cell filter, check()."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from coursekit.grading import assign, check, child, compare, spec
from coursekit.grading.grade import load_assignment, submission_seed

A1 = "assignments/a1_rnn_scratch"


@pytest.fixture(scope="module")
def a1():
    return load_assignment(A1)[0]


# ------------------------------------------------------------------ compare
def test_compare_ok_and_wrong_values_name_largest_error_and_first_index():
    exp = np.arange(12, dtype=np.float64).reshape(3, 4)
    ok, msg = compare.compare_array("h", exp.copy(), exp, atol=1e-6, rtol=1e-5)
    assert ok and "ok" in msg
    got = exp.copy()
    got[1, 2] += 0.5
    got[2, 3] += 3.0
    ok, msg = compare.compare_array("h", got, exp, atol=1e-6, rtol=1e-5)
    assert not ok
    assert "2 of 12 entries are wrong" in msg
    assert "largest error 3 at index (2, 3)" in msg
    assert "first wrong index (1, 2)" in msg


@pytest.mark.parametrize("got, needle", [
    (np.zeros((4, 3)), "expected shape (3, 4), got shape (4, 3)"),
    (np.zeros((3, 4), np.float32), "expected dtype float64"),
    (np.full((3, 4), np.nan), "12 of 12 entries are NaN or inf (first at index (0, 0))"),
    (None, "no value came back"),
    ([[0.0] * 4] * 3, "expected a numpy array, got list"),
    (np.array(["a"]), "expected a numeric array"),
])
def test_compare_failures_say_what_is_wrong(got, needle):
    ok, msg = compare.compare_array("h", got, np.zeros((3, 4)), atol=1e-6, rtol=1e-5)
    assert not ok and needle in msg


def test_scalar_outputs_accept_any_float_dtype_but_one_value():
    assert compare.compare_array("loss", np.array(1.0), np.float32(1.0), atol=1e-4, rtol=1e-3,
                                 scalar=True)[0]
    ok, msg = compare.compare_array("loss", np.ones(3), np.float64(1.0), atol=1e-6, rtol=1e-5,
                                    scalar=True)
    assert not ok and "single number" in msg


# --------------------------------------------------------------------- spec
def test_public_json_roundtrip_has_no_hidden_cases(a1):
    text = spec.to_json(a1)
    back, extra = spec.from_json(text)
    assert extra == {}
    assert [q.id for q in back.questions] == [q.id for q in a1.questions]
    assert all(c.public for q in back.questions for c in q.cases)
    assert spec.to_json(back) == text
    assert sum(len(q.cases) for q in a1.questions) > sum(len(q.cases) for q in back.questions)


def test_points_sum_to_100_and_every_question_has_public_and_hidden_cases(a1):
    assert a1.points == 100
    for q in a1.questions:
        assert any(c.public for c in q.cases) and any(not c.public for c in q.cases), q.id


def test_named_steps_results_sizes_packs_and_arguments():
    """The notation of tests.py: inputs by name, result(...), size(...), pack(...), argument(...)."""
    def fwd(x, W):
        return x @ W, {"Wx": W, "x": x}

    def scale_in_place(d, by):
        for k in d:
            d[k] *= by
        return float(sum(v.sum() for v in d.values()))

    steps = (spec.Step("fwd", ("x", "W"), name="forward"),
             spec.Step("scale", (spec.pack(a="x", w=spec.result("forward", 1, "Wx")),),
                       {"by": spec.size("k")}, name="scale"))
    inputs = {"x": np.ones((2, 3)), "W": np.full((3, 4), 2.0)}
    done = spec.call_steps(steps, inputs, {"fwd": fwd, "scale": scale_in_place}.__getitem__, {"k": 3})
    assert spec.resolve_output(steps, done, spec.result("forward", 0)).shape == (2, 4)
    assert spec.resolve_output(steps, done, spec.result("forward", 1, "Wx")).shape == (3, 4)
    assert spec.resolve_output(steps, done, spec.argument("scale", 0, "w"))[0, 0] == 6.0
    assert inputs["W"][0, 0] == 2.0                       # the step worked on a copy
    assert spec.resolve_output(steps, done, spec.result("scale")) == 3 * (6 + 24)
    plain = spec.steps_to_plain(steps)                    # what the child receives, as JSON
    assert spec.steps_from_plain(plain) == steps
    with pytest.raises(ValueError, match="no step named 'later'"):
        spec.Question("q", "t", ("f",), (), (spec.Step("f", (spec.result("later"),)),),
                      (), ())
    with pytest.raises(ValueError, match="does not run before it"):
        spec.Question("q", "t", ("f",), (), (spec.Step("f", (spec.result(0),)),), (), ())
    with pytest.raises(TypeError, match="result"):
        spec.Question("q", "t", ("f",), (), (spec.Step("f"),), (spec.Output("o", "$0.0"),), ())


def test_seed_depends_on_secret_and_code_only():
    a = submission_seed("s1", "a1", ["x = 1"])
    assert a == submission_seed("s1", "a1", ["x = 1"])
    assert a != submission_seed("s2", "a1", ["x = 1"])
    assert a != submission_seed("s1", "a1", ["x = 2"])


# ------------------------------------------------------------------ release
def test_strip_solutions_keeps_indent_and_hint_and_drops_hidden():
    src = ("def f(x):\n    ### BEGIN SOLUTION use np.tanh\n    y = np.tanh(x)\n"
           "    ### END SOLUTION\n    return y\n### BEGIN HIDDEN\nsecret = 1\n### END HIDDEN")
    out = assign.strip_solutions(src)
    assert '    raise NotImplementedError("use np.tanh")' in out
    assert "np.tanh(x)" not in out and "secret" not in out and "return y" in out
    with pytest.raises(ValueError):
        assign.strip_solutions("### BEGIN SOLUTION\nx = 1")


# -------------------------------------------------------------------- child
def _kept(source: str) -> list[str]:
    tree = ast.parse(source)
    return [type(s).__name__ for s in (child._keep(b) for b in tree.body) if s is not None]


def test_child_runs_definitions_only():
    src = ("import numpy as np\nH = 32\nact = np.tanh\nsq = lambda v: v * v\n"
           "def f(x):\n    return x\nclass C:\n    pass\n"
           "params = train()\nprint('hi')\nfor i in range(3):\n    pass\nnp.allclose = None\n"
           "try:\n    import torch\nexcept ImportError:\n    torch = None\n    run()\n")
    assert _kept(src) == ["Import", "Assign", "Assign", "Assign", "FunctionDef", "ClassDef", "Try"]


def test_child_cells_survive_syntax_errors_exits_and_magics():
    ns = {"__builtins__": __builtins__}
    errors = child.run_cells(["%matplotlib inline\ndef f():\n    return 1",
                              "def g(:\n    pass",
                              "class K:\n    raise SystemExit(3)",
                              "%%bash\necho hi"], ns)
    assert ns["f"]() == 1 and "g" not in ns
    assert len(errors) == 2
    assert "SyntaxError" in errors[0] and "SystemExit" in errors[1]


# -------------------------------------------------------------------- check
def relu_rnn_step_forward(x, prev_h, Wx, Wh, b):
    """A student's own step (a module global, where check() looks for it)."""
    return np.maximum(x @ Wx + prev_h @ Wh + b, 0), None


def test_check_passes_own_code_and_never_says_all_tests_passed(a1, capsys):
    ok, lines = check.run_public(a1, "q1", {"relu_rnn_step_forward": relu_rnn_step_forward})
    assert ok and lines == []
    check.make_check(check.release_json(a1))("q1")       # as in a release: expected values embedded
    out = capsys.readouterr().out
    assert ("q1 (relu_rnn_step_forward): public tests passed; hidden tests run at grading"
            in out)
    assert "all tests passed" not in out
    check.make_check(check.release_json(a1))("q3")  # masked_rnn_forward is not defined here
    assert "define masked_rnn_forward first" in capsys.readouterr().out


def test_check_reports_wrong_code_and_reference_use(a1):
    wrong = lambda x, prev_h, Wx, Wh, b: (np.maximum(x @ Wx + b, 0), None)  # noqa: E731 - no prev_h
    ok, lines = check.run_public(a1, "q1", {"relu_rnn_step_forward": wrong})
    assert not ok and "entries are wrong" in lines[0]
    from coursekit.nn import rnn
    ok, lines = check.run_public(a1, "q1", {"relu_rnn_step_forward": rnn.rnn_step_forward})
    assert not ok and "comes from coursekit" in lines[0]


def test_checks_resolve_by_name_or_assignment_module(a1):
    from coursekit.grading.compare import CHECKS
    from coursekit.grading.loader import load_local, resolve_check
    assert resolve_check("match") is CHECKS["match"]
    assert resolve_check("checks:charlm_loss_drops", a1.folder) is \
        load_local(a1.folder, "checks").charlm_loss_drops
    with pytest.raises(ValueError, match="unknown check 'nope'"):
        resolve_check("nope")
    with pytest.raises(ValueError, match="unknown check"):
        resolve_check("os:system", a1.folder)  # only the assignment's own modules or coursekit
