"""Assignment 3 (gated cells) end to end: source full marks, release zero, release in sync,
wrong submissions get the partial scores they deserve, the source notebook runs, and the
assignment's own checks (per-output credit, the recall accuracy of a trained LSTM)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from coursekit.grading.spec import draw_inputs, run_steps
from grading_support import grade_with, limits, load, local, locate

A3, SOURCE, RELEASE = locate("a3_gated_cells")
LIMITS = limits(wall=90)
FULL = {"q1": 8, "q2": 12, "q3": 8, "q4": 12, "q5": 8, "q6": 12, "q7": 8, "q8": 12, "q9": 20}

checks_a3 = local("a3_gated_cells", "checks")


@pytest.fixture(scope="module")
def a3():
    return load(A3)


def grade(path, a3, secret="test-secret"):
    return grade_with(path, a3, LIMITS, secret)


def scores(result) -> dict:
    return {q: s for q, (s, _) in result.questions.items()}


def test_points_add_up_to_100(a3):
    assignment, _ = a3
    assert {q.id: q.points for q in assignment.questions} == FULL and assignment.points == 100
    for q in assignment.questions:
        assert [c.dtype for c in q.cases if not c.public], q.id  # every question has hidden cases
        if q.id != "q9":
            assert {c.dtype for c in q.cases} == {"float64", "float32"}


def test_source_scores_full_marks_and_release_zero(a3):
    before = SOURCE.read_bytes(), RELEASE.read_bytes()
    src = grade(SOURCE, a3)
    assert scores(src) == FULL, [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    assert src.seconds < 30
    rel = grade(RELEASE, a3)
    assert rel.score == 0 and len(rel.tests) == len(src.tests)
    assert all("NotImplementedError" in t.output for t in rel.tests)
    assert (SOURCE.read_bytes(), RELEASE.read_bytes()) == before  # submissions never modified
    q9 = [t.output for t in src.tests if t.question == "q9"]
    assert len(q9) == 2 and all("recomputed by the grader with the reference LSTM" in o for o in q9)


# Each wrong submission is the solved notebook with one consistent mistake.
WRONG = {
    # LSTM gates read as i, f, o, g in the forward pass and written back in that order
    "gate_order": ([("    g = np.tanh(a[:, 2 * H:3 * H])\n    o = sigmoid(a[:, 3 * H:])",
                     "    g = np.tanh(a[:, 3 * H:])\n    o = sigmoid(a[:, 2 * H:3 * H])"),
                    ("[da_i, da_f, da_g, da_o]", "[da_i, da_f, da_o, da_g]")],
                   {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q9": 0}),
    # the old cell's gradient forgets the forget gate: 5 of 6 step gradients right, BPTT all wrong
    "no_forget_in_dprev_c": ([("dprev_c = dc * f ", "dprev_c = dc ")], {"q2": 10, "q4": 0}),
    # GRU with the other update-gate convention, consistently in forward and backward
    "gru_z_flipped": ([("next_h = z * prev_h + (1 - z) * n", "next_h = (1 - z) * prev_h + z * n"),
                       ("dn = dnext_h * (1 - z)", "dn = dnext_h * z"),
                       ("dz = dnext_h * (prev_h - n)", "dz = dnext_h * (n - prev_h)"),
                       ("dprev_h = dnext_h * z + dha @ Wh.T", "dprev_h = dnext_h * (1 - z) + dha @ Wh.T")],
                      {"q5": 0, "q6": 0, "q7": 0, "q8": 0}),
    # float64 accumulators: in the float32 case db and dbhn come back float64 (2 of 6 arrays wrong)
    "gru_float64_biases": ([("db, dbhn = np.zeros(Wh.shape[1], dtype=x.dtype), "
                             "np.zeros(h0.shape[1], dtype=x.dtype)",
                             "db, dbhn = np.zeros(Wh.shape[1]), np.zeros(h0.shape[1])")],
                           {"q8": 11}),
    # the LSTM step delegates to the coursekit reference (appended cell)
    "calls_reference": (None, {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q9": 0}),
}
#: q9 judges only the trained model; with a biased gradient training may or may not still succeed
UNCHECKED = {"no_forget_in_dprev_c": {"q9"}}
CALLS_REFERENCE = ("import coursekit.nn.lstm\n\n\ndef lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):\n"
                   "    return coursekit.nn.lstm.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)\n")


def wrong_submission(name: str, folder: Path) -> Path:
    nb = nbformat.read(SOURCE, as_version=4)
    edits, _ = WRONG[name]
    if edits is None:
        nb.cells.append(new_code_cell(CALLS_REFERENCE))
    for old, new in edits or ():
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(hits) == 1, f"{name}: the source notebook no longer contains {old!r}"
        hits[0].source = hits[0].source.replace(old, new)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_get_partial_scores(name, a3, tmp_path):
    result = grade(wrong_submission(name, tmp_path), a3)
    expected = {**FULL, **WRONG[name][1]}
    got = scores(result)
    for q in UNCHECKED.get(name, ()):
        got.pop(q), expected.pop(q)
    assert got == expected, [(t.name, t.output[:300]) for t in result.tests if t.score < t.max_score]
    if name == "calls_reference":
        out = " ".join(t.output for t in result.tests if t.question == "q1")
        assert "ReferenceCallError" in out and "coursekit.nn.lstm.lstm_step_forward" in out
    if name == "no_forget_in_dprev_c":
        q2 = [t.output for t in result.tests if t.question == "q2"]
        assert all(o.startswith("5 of 6 returned arrays are right") and "dprev_c: " in o for o in q2)


def test_match_each_gives_credit_per_array(a3):
    assignment, refs = a3
    q = assignment.question("q6")
    case = q.cases[0]
    inputs = draw_inputs(q, case, np.random.default_rng(case.seed))
    next_h, cache = refs["gru_step_forward"](*(inputs[k].copy() for k in q.steps[0].args))
    grads = refs["gru_step_backward"](inputs["dnext_h"].copy(), cache)
    got = dict(zip([o.name for o in q.outputs], grads))
    exp = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, refs)
    assert checks_a3.match_each(q, case, inputs, got, exp)[0] == 1.0
    got["dWh"] = got["dWh"] + 1e-3
    got["db"] = got["db"].astype(np.float32)
    frac, lines = checks_a3.match_each(q, case, inputs, got, exp)
    assert frac == pytest.approx(4 / 6)
    assert lines[0].startswith("4 of 6") and any("dWh: " in s and "wrong" in s for s in lines)
    assert any("db: expected dtype float64" in s for s in lines)
    with pytest.raises(ValueError, match="needs a reference"):
        checks_a3.match_each(q, case, inputs, got, None)


def test_recall_check_uses_its_own_sequences_and_rejects_bad_parameters(a3):
    assignment, _ = a3
    q = assignment.question("q9")
    case = q.cases[0]
    K, H = case.sizes["K"], 6
    inputs = draw_inputs(q, case, np.random.default_rng(case.seed))
    rng = np.random.default_rng(0)
    untrained = {"Wx": rng.standard_normal((2 * K, 4 * H)), "Wh": rng.standard_normal((H, 4 * H)),
                 "b": np.zeros(4 * H), "W_out": rng.standard_normal((H, K)), "b_out": np.zeros(K)}
    frac, lines = checks_a3.recall_accuracy(q, case, inputs, untrained, None)
    acc = float(re.search(r"reference LSTM: ([0-9.]+)", lines[0]).group(1))
    assert frac == 0.0 and acc < 0.5
    assert checks_a3.recall_accuracy(q, case, inputs, untrained, None) == (frac, lines)  # deterministic
    bad = [({**untrained, "Wx": untrained["Wx"][:, :-1]}, "Wx: expected shape"),
           ({**untrained, "Wh": np.zeros((H, 3 * H))}, "Wh: expected shape"),
           ({**untrained, "b": untrained["b"].astype(np.float32)}, "b: expected dtype float64"),
           ({**untrained, "W_out": np.full((H, K), np.nan)}, "W_out: contains NaN"),
           ({k: v for k, v in untrained.items() if k != "b_out"}, "must include b_out"),
           ({**untrained, "Wh": np.zeros((300, 1200)), "Wx": np.zeros((2 * K, 1200)),
             "b": np.zeros(1200), "W_out": np.zeros((300, K))}, "larger than the 256")]
    for params, message in bad:
        frac, lines = checks_a3.recall_accuracy(q, case, inputs, params, None)
        assert frac == 0.0 and message in lines[0], lines


def test_recall_check_gives_full_points_to_a_hand_built_memory(a3):
    """An LSTM whose weights are set by hand to store the marked symbol passes, so the check can be met."""
    assignment, _ = a3
    q = assignment.question("q9")
    case = q.cases[1]
    K, H = case.sizes["K"], case.sizes["K"]
    inputs = draw_inputs(q, case, np.random.default_rng(0))
    big = 20.0
    Wx, Wh, b = np.zeros((2 * K, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    b[:H], b[H:2 * H], b[2 * H:3 * H], b[3 * H:] = -big, big, 0.0, big  # i shut, f open, o open
    for s in range(K):
        Wx[K + s, s] = 2 * big  # a marked symbol opens unit s's input gate
        Wx[K + s, 2 * H + s] = big  # and writes +1 into cell s
    params = {"Wx": Wx, "Wh": Wh, "b": b, "W_out": np.eye(H, K), "b_out": np.zeros(K)}
    frac, lines = checks_a3.recall_accuracy(q, case, inputs, params, None)
    assert frac == 1.0 and "1.000" in lines[0]


def test_release_check_runs_in_the_students_namespace(capsys):
    """The release's setup cell (public tests inlined) works without tests.py nearby."""
    nb = nbformat.read(RELEASE, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    ns: dict = {}
    exec(code[0], ns)  # setup: imports, sigmoid, check = make_check(r'''{...}''')
    exec(code[1], ns)  # lstm_step_forward with its NotImplementedError
    exec('check("q1")', ns)
    assert "q1: not implemented yet" in capsys.readouterr().out
    src = [c.source for c in nbformat.read(SOURCE, as_version=4).cells if c.cell_type == "code"]
    exec(src[1], ns)  # the solved step
    exec('check("q1")', ns)
    assert "public tests passed; hidden tests run at grading" in capsys.readouterr().out


TORCH_TRAINING = '''import torch


def train_recall(seqs, n_symbols, seed=0):
    """Trains with torch autograd instead of the student's own lstm_backward."""
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(2 * n_symbols, 32, batch_first=True)
    raise AssertionError("unreachable: torch is blocked in the grader")
'''


def test_training_with_torch_instead_of_own_backward_earns_nothing(a3, tmp_path):
    nb = nbformat.read(SOURCE, as_version=4)
    nb.cells.append(new_code_cell(TORCH_TRAINING))  # a later definition wins
    path = tmp_path / "torch_training.ipynb"
    nbformat.write(nb, path)
    result = grade(path, a3)
    assert scores(result) == {**FULL, "q9": 0}  # only the question that used torch
    out = " ".join(t.output for t in result.tests if t.question == "q9")
    assert "BlockedImportError" in out and "torch is not available to graded code" in out
