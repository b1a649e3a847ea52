"""Assignment 3 (gated cells) end to end: source full marks, release zero, release in sync,
wrong submissions get the partial scores they deserve, the source notebook runs, and the
assignment's own checks (per-output credit, the recall accuracy of a trained LSTM)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from grading_support import edited_source, grade_with, limits, load, local, locate
from nbformat.v4 import new_code_cell

from coursekit.grading.spec import draw_inputs, run_steps

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
    assert src.seconds < 30


# Each wrong submission is the solved notebook with one consistent mistake.
WRONG = {
    # LSTM gates read as i, f, o, g in the forward pass and written back in that order
    "gate_order": ([("    g = np.tanh(a[:, 2 * H:3 * H])\n    o = sigmoid(a[:, 3 * H:])",
                     "    g = np.tanh(a[:, 3 * H:])\n    o = sigmoid(a[:, 2 * H:3 * H])"),
                    ("[da_i, da_f, da_g, da_o]", "[da_i, da_f, da_o, da_g]")],
                   # q9: the weights it trains are read with the right gate order by the
                   # grader, which then recalls little (4 of 20 points, seeded)
                   {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q9": 4}),
    # the old cell's gradient forgets the forget gate: 6 of 7 step gradients right, BPTT all wrong
    "no_forget_in_dprev_c": ([("dprev_c = dc * f ", "dprev_c = dc ")], {"q2": 12 * 6 / 7, "q4": 0}),
    # the projection's gradient taken from the wrong side: only dWr is wrong in the step
    "projection_gradient_transposed": ([("    dWr = m.T @ dnext_r\n", "    dWr = (dnext_r.T @ m).T * 0.5\n")],
                                       {"q2": 12 * 6 / 7, "q4": 12 * 6 / 7}),
    # MGU with the candidate reading prev_h, not the reset state f * prev_h (no reset at all)
    "mgu_no_reset": ([("    fh = f * prev_h  # the reset state the candidate reads",
                       "    fh = prev_h  # the reset state the candidate reads")],
                     {"q5": 0, "q6": 0, "q7": 0, "q8": 0}),
    # float64 accumulator: in the float32 case db comes back float64 (1 of 5 arrays wrong)
    "mgu_float64_bias": ([("np.zeros(Wh.shape[1], dtype=x.dtype)\n    for t in reversed(range(x.shape[1])):\n"
                           "        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = mgu_step_backward",
                           "np.zeros(Wh.shape[1])\n    for t in reversed(range(x.shape[1])):\n"
                           "        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = mgu_step_backward")],
                         {"q8": 12 - 3 / 5}),
    # the LSTMP step delegates to the coursekit LSTM step (appended cell)
    "calls_reference": (None, {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q9": 0}),
}
#: q9 judges only the trained model; with a biased gradient training may or may not still succeed
UNCHECKED = {"no_forget_in_dprev_c": {"q9"}, "projection_gradient_transposed": {"q9"}}
CALLS_REFERENCE = ("import coursekit.nn.lstm\n\n\ndef lstmp_step_forward(x, prev_r, prev_c, Wx, Wh, b, Wr):\n"
                   "    h, c, cache = coursekit.nn.lstm.lstm_step_forward(x, prev_r, prev_c, Wx, Wh, b)\n"
                   "    return h @ Wr, c, cache\n")


def wrong_submission(name: str, folder: Path) -> Path:
    return edited_source(SOURCE, name, WRONG[name][0], CALLS_REFERENCE, folder)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_submissions_get_partial_scores(name, a3, tmp_path):
    result = grade(wrong_submission(name, tmp_path), a3)
    expected = {**FULL, **WRONG[name][1]}
    got = scores(result)
    for q in UNCHECKED.get(name, ()):
        got.pop(q), expected.pop(q)
    assert got == pytest.approx(expected), [(t.name, t.output[:300]) for t in result.tests
                                            if t.score < t.max_score]
    if name == "calls_reference":
        out = " ".join(t.output for t in result.tests if t.question == "q1")
        assert "ReferenceCallError" in out and "coursekit.nn.lstm.lstm_step_forward" in out
    if name == "no_forget_in_dprev_c":
        q2 = [t.output for t in result.tests if t.question == "q2"]
        assert all(o.startswith("6 of 7 returned arrays are right") and "dprev_c: " in o for o in q2)


def test_match_each_gives_credit_per_array(a3):
    assignment, refs = a3
    q = assignment.question("q6")
    case = q.cases[0]
    inputs = draw_inputs(q, case, np.random.default_rng(case.seed))
    next_h, cache = refs["mgu_step_forward"](*(inputs[k].copy() for k in q.steps[0].args))
    grads = refs["mgu_step_backward"](inputs["dnext_h"].copy(), cache)
    got = dict(zip([o.name for o in q.outputs], grads))
    exp = run_steps(q, case, {k: v.copy() for k, v in inputs.items()}, refs)
    assert checks_a3.match_each(q, case, inputs, got, exp)[0] == 1.0
    got["dWh"] = got["dWh"] + 1e-3
    got["db"] = got["db"].astype(np.float32)
    frac, lines = checks_a3.match_each(q, case, inputs, got, exp)
    assert frac == pytest.approx(3 / 5)
    assert lines[0].startswith("3 of 5") and any("dWh: " in s and "wrong" in s for s in lines)
    assert any("db: expected dtype float64" in s for s in lines)
    with pytest.raises(ValueError, match="needs a reference"):
        checks_a3.match_each(q, case, inputs, got, None)


def test_references_agree_with_torch_and_finite_differences():
    """LSTMP against torch.nn.LSTM(proj_size=P) in float64; both backward passes against
    finite differences; with Wr = I the LSTMP is coursekit's LSTM."""
    import torch

    from coursekit.nn.lstm import lstm_forward
    from coursekit.train.gradcheck import numerical_gradient, rel_error
    ref, rng = local("a3_gated_cells", "reference"), np.random.default_rng(0)
    N, T, D, H, P = 2, 4, 3, 5, 3
    x, r0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, P)), rng.standard_normal((N, H))
    Wx, Wh, b, Wr = (0.5 * rng.standard_normal(s) for s in ((D, 4 * H), (P, 4 * H), (4 * H,), (H, P)))
    lstm = torch.nn.LSTM(D, H, proj_size=P, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for prm, v in ((lstm.weight_ih_l0, Wx.T), (lstm.weight_hh_l0, Wh.T), (lstm.bias_ih_l0, b),
                       (lstm.weight_hr_l0, Wr.T)):
            prm.copy_(torch.from_numpy(np.ascontiguousarray(v)))
        lstm.bias_hh_l0.zero_()
        out, (_, c_T) = lstm(torch.from_numpy(x), (torch.from_numpy(r0)[None], torch.from_numpy(c0)[None]))
    r, c, cache = ref.lstmp_forward(x, r0, Wx, Wh, b, Wr, c0)
    np.testing.assert_allclose(r, out.numpy(), atol=1e-10)
    np.testing.assert_allclose(c[:, -1], c_T[0].numpy(), atol=1e-10)
    Whh = 0.5 * rng.standard_normal((H, 4 * H))
    h_plain = lstm_forward(x, np.zeros((N, H)), Wx, Whh, b, c0)[0]
    np.testing.assert_allclose(ref.lstmp_forward(x, np.zeros((N, H)), Wx, Whh, b, np.eye(H), c0)[0],
                               h_plain, atol=1e-12)
    dr, dc = rng.standard_normal(r.shape), rng.standard_normal(c.shape)
    loss = lambda: (lambda o: np.sum(o[0] * dr) + np.sum(o[1] * dc))(
        ref.lstmp_forward(x, r0, Wx, Wh, b, Wr, c0))
    for a, g in zip((x, r0, c0, Wx, Wh, b, Wr), ref.lstmp_backward(dr, cache, dc)):
        assert rel_error(g, numerical_gradient(loss, a)) < 1e-6
    h0 = rng.standard_normal((N, H))
    Ux, Uh, ub = (0.5 * rng.standard_normal(s) for s in ((D, 2 * H), (H, 2 * H), (2 * H,)))
    h, cache = ref.mgu_forward(x, h0, Ux, Uh, ub)
    dh = rng.standard_normal(h.shape)
    loss = lambda: np.sum(ref.mgu_forward(x, h0, Ux, Uh, ub)[0] * dh)
    for a, g in zip((x, h0, Ux, Uh, ub), ref.mgu_backward(dh, cache)):
        assert rel_error(g, numerical_gradient(loss, a)) < 1e-6


def test_recall_check_uses_its_own_sequences_and_rejects_bad_parameters(a3):
    assignment, _ = a3
    q = assignment.question("q9")
    case = q.cases[0]
    K, H, P = case.sizes["K"], 6, 4
    inputs = draw_inputs(q, case, np.random.default_rng(case.seed))
    rng = np.random.default_rng(0)
    untrained = {"Wx": rng.standard_normal((2 * K, 4 * H)), "Wh": rng.standard_normal((P, 4 * H)),
                 "b": np.zeros(4 * H), "Wr": rng.standard_normal((H, P)),
                 "W_out": rng.standard_normal((P, K)), "b_out": np.zeros(K)}
    frac, lines = checks_a3.recall_accuracy(q, case, inputs, untrained, None)
    acc = float(re.search(r"reference LSTM: ([0-9.]+)", lines[0]).group(1))
    assert frac == 0.0 and acc < 0.5
    assert checks_a3.recall_accuracy(q, case, inputs, untrained, None) == (frac, lines)  # deterministic
    bad = [({**untrained, "Wx": untrained["Wx"][:, :-1]}, "Wx: expected shape"),
           ({**untrained, "Wh": np.zeros((H, 3 * H))}, "Wh: expected shape"),
           ({**untrained, "b": untrained["b"].astype(np.float32)}, "b: expected dtype float64"),
           ({**untrained, "W_out": np.full((P, K), np.nan)}, "W_out: contains NaN"),
           ({k: v for k, v in untrained.items() if k != "b_out"}, "must include b_out"),
           ({**untrained, "Wr": np.zeros((300, P)), "Wx": np.zeros((2 * K, 1200)),
             "b": np.zeros(1200), "Wh": np.zeros((P, 1200))}, "larger than the 256")]
    for params, message in bad:
        frac, lines = checks_a3.recall_accuracy(q, case, inputs, params, None)
        assert frac == 0.0 and message in lines[0], lines


def test_recall_check_gives_full_points_to_a_hand_built_memory(a3):
    """An LSTMP whose weights are set by hand to store the marked symbol passes, so the check can
    be met; the grader's folded evaluation (Wr Wh, Wr W_out) equals the reference LSTMP's."""
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
    params = {"Wx": Wx, "Wh": Wh, "b": b, "Wr": np.eye(H), "W_out": np.eye(H, K), "b_out": np.zeros(K)}
    frac, lines = checks_a3.recall_accuracy(q, case, inputs, params, None)
    assert frac == 1.0 and "1.000" in lines[0]
    ref, rng = local("a3_gated_cells", "reference"), np.random.default_rng(1)
    P = 5
    p = {"Wx": rng.standard_normal((2 * K, 4 * H)), "Wh": rng.standard_normal((P, 4 * H)),
         "b": rng.standard_normal(4 * H), "Wr": rng.standard_normal((H, P)),
         "W_out": rng.standard_normal((P, K)), "b_out": rng.standard_normal(K)}
    seqs = rng.integers(0, K, (50, 7))
    from coursekit.data.tasks import recall_inputs
    r, _, _ = ref.lstmp_forward(recall_inputs(seqs, K), np.zeros((50, P)), p["Wx"], p["Wh"], p["b"], p["Wr"])
    want = np.argmax(r[:, -1] @ p["W_out"] + p["b_out"], axis=1)
    np.testing.assert_array_equal(checks_a3.recall_predictions(p, seqs, K), want)


def test_release_check_runs_in_the_students_namespace(capsys):
    """The release's setup cell (public tests inlined) works without tests.py nearby."""
    nb = nbformat.read(RELEASE, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    ns: dict = {}
    exec(code[0], ns)  # setup: imports, sigmoid, check = make_check(r'''{...}''')
    exec(code[1], ns)  # lstmp_step_forward with its NotImplementedError
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
