"""Assignment 3 questions: points, inputs, references, tolerances, public and hidden cases.

Read by ``coursekit grade`` (all cases) and ``coursekit assign`` (which inlines
the public cases into the student notebook for ``check("q1")``). Hidden cases
draw their inputs at grading time from a seed derived from the instructor's
secret and the submission's code. This file holds no secret and no expected
output: the grader computes those with the coursekit references named in
``REFERENCES``.

Questions q1-q8 use ``checks_a3:match_each``: each returned array that
matches the reference earns its share of a case's points. q9 runs the trained
LSTM that ``train_recall`` returns through the reference LSTM on fresh
sequences (``checks_a3:recall_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result, size

REFERENCES = {
    "lstm_step_forward": "coursekit.nn.lstm.lstm_step_forward",
    "lstm_step_backward": "coursekit.nn.lstm.lstm_step_backward",
    "lstm_forward": "coursekit.nn.lstm.lstm_forward",
    "lstm_backward": "coursekit.nn.lstm.lstm_backward",
    "gru_step_forward": "coursekit.nn.gru.gru_step_forward",
    "gru_step_backward": "coursekit.nn.gru.gru_step_backward",
    "gru_forward": "coursekit.nn.gru.gru_forward",
    "gru_backward": "coursekit.nn.gru.gru_backward",
}
MATCH_EACH = "checks:match_each"


def cases(public: dict, hidden64: dict, hidden32: dict, points: tuple, seed: int):
    """A public float64 case (fixed seed), a hidden float64 case and a hidden float32 case."""
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


def sizes(G: int, **dims) -> dict:
    """Case sizes plus the stacked width ``"4H"`` (LSTM) or ``"3H"`` (GRU)."""
    return {**dims, f"{G}H": G * dims["H"]}


def question(qid, title, inputs, steps, outputs, case_sizes, points, seed):
    """A q1-q8 question: per-output credit against the references of its steps."""
    return Question(qid, title, (steps[-1].func,), inputs, steps,
                    tuple(Output(name, ref) for name, ref in outputs),
                    cases(*case_sizes, points, seed), check=MATCH_EACH)


def returned(step: int, names) -> tuple:
    """(name, result(step, k)) for the k-th returned value of step ``step``."""
    return tuple((n, result(step, k)) for k, n in enumerate(names))


W = 0.5  # scale of the drawn weights: gates neither saturated nor linear
LSTM_W = (Arg("Wx", ("D", "4H"), scale=W), Arg("Wh", ("H", "4H"), scale=W), Arg("b", ("4H",), scale=W))
GRU_W = (Arg("Wx", ("D", "3H"), scale=W), Arg("Wh", ("H", "3H"), scale=W), Arg("b", ("3H",), scale=W),
         Arg("bhn", ("H",), scale=W))
LSTM_STEP = (Arg("x", ("N", "D")), Arg("prev_h", ("N", "H")), Arg("prev_c", ("N", "H"))) + LSTM_W
LSTM_SEQ = (Arg("x", ("N", "T", "D")), Arg("h0", ("N", "H")), Arg("c0", ("N", "H"))) + LSTM_W
GRU_STEP = (Arg("x", ("N", "D")), Arg("prev_h", ("N", "H"))) + GRU_W
GRU_SEQ = (Arg("x", ("N", "T", "D")), Arg("h0", ("N", "H"))) + GRU_W

STEP_SIZES = (dict(N=3, D=4, H=5), dict(N=4, D=6, H=7), dict(N=2, D=3, H=8))
SEQ_SIZES = (dict(N=3, T=4, D=5, H=6), dict(N=2, T=6, D=4, H=5), dict(N=3, T=5, D=3, H=4))
L_STEP, L_SEQ = ([sizes(4, **s) for s in ss] for ss in (STEP_SIZES, SEQ_SIZES))
G_STEP, G_SEQ = ([sizes(3, **s) for s in ss] for ss in (STEP_SIZES, SEQ_SIZES))
FORWARD, BACKWARD = (2, 3, 3), (3, 6, 3)  # public, hidden float64, hidden float32

LSTM_STEP_CALL = Step("lstm_step_forward", ("x", "prev_h", "prev_c", "Wx", "Wh", "b"))
LSTM_SEQ_CALL = Step("lstm_forward", ("x", "h0", "Wx", "Wh", "b", "c0"))
GRU_STEP_CALL = Step("gru_step_forward", ("x", "prev_h", "Wx", "Wh", "b", "bhn"))
GRU_SEQ_CALL = Step("gru_forward", ("x", "h0", "Wx", "Wh", "b", "bhn"))

QUESTIONS = (
    question("q1", "lstm_step_forward", LSTM_STEP, (LSTM_STEP_CALL,),
             returned(0, ("next_h", "next_c")), L_STEP, FORWARD, 301),
    question("q2", "lstm_step_backward",
             LSTM_STEP + (Arg("dnext_h", ("N", "H")), Arg("dnext_c", ("N", "H"))),
             (LSTM_STEP_CALL, Step("lstm_step_backward", ("dnext_h", "dnext_c", result(0, 2)))),
             returned(1, ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")), L_STEP, BACKWARD, 302),
    question("q3", "lstm_forward", LSTM_SEQ, (LSTM_SEQ_CALL,), returned(0, ("h", "c")),
             L_SEQ, FORWARD, 303),
    question("q4", "lstm_backward",
             LSTM_SEQ + (Arg("dh", ("N", "T", "H")), Arg("dc", ("N", "T", "H"))),
             (LSTM_SEQ_CALL, Step("lstm_backward", ("dh", result(0, 2), "dc"))),
             returned(1, ("dx", "dh0", "dc0", "dWx", "dWh", "db")), L_SEQ, BACKWARD, 304),
    question("q5", "gru_step_forward", GRU_STEP, (GRU_STEP_CALL,), returned(0, ("next_h",)),
             G_STEP, FORWARD, 305),
    question("q6", "gru_step_backward", GRU_STEP + (Arg("dnext_h", ("N", "H")),),
             (GRU_STEP_CALL, Step("gru_step_backward", ("dnext_h", result(0, 1)))),
             returned(1, ("dx", "dprev_h", "dWx", "dWh", "db", "dbhn")), G_STEP, BACKWARD, 306),
    question("q7", "gru_forward", GRU_SEQ, (GRU_SEQ_CALL,), returned(0, ("h",)),
             G_SEQ, FORWARD, 307),
    question("q8", "gru_backward", GRU_SEQ + (Arg("dh", ("N", "T", "H")),),
             (GRU_SEQ_CALL, Step("gru_backward", ("dh", result(0, 1)))),
             returned(1, ("dx", "dh0", "dWx", "dWh", "db", "dbhn")), G_SEQ, BACKWARD, 308),
    Question("q9", "train_recall", ("train_recall",),
             (Arg("seqs", ("N", "T"), kind="int", high="K"),),
             (Step("train_recall", ("seqs",), {"n_symbols": size("K"), "seed": 0}),),
             tuple(Output(k, result(0, 0, k)) for k in ("Wx", "Wh", "b", "W_out", "b_out")),
             (Case(dict(K=4, T=20, N=500), 8, public=True, seed=309),
              Case(dict(K=8, T=60, N=1000), 12)),
             check="checks:recall_accuracy",
             options={"data": "seqs", "n_eval": 2000, "accuracy": 0.9, "half_accuracy": 0.5},
             timeout=60.0),
)

#: a submission calling any of these earns nothing for the test that does
FORBIDDEN = tuple(REFERENCES.values()) + tuple(
    f"coursekit.nn.gru_original.gru_original_{f}"
    for f in ("step_forward", "step_backward", "forward", "backward"))

#: the only coursekit modules graded code may use; every other one (lstm, lstm_variants, gru,
#: rnn, layers, bptt, charlm*, gated_experiments, ...) imports as stubs that raise
ALLOWED_MODULES = ("coursekit.train.gradcheck", "coursekit.data.text", "coursekit.data.tasks",
                   "coursekit.train.optim", "coursekit.train.clip", "coursekit.grading",
                   "coursekit._validate")

#: q9 must train through the student's own lstm_backward, so autograd packages are out of reach
BLOCKED_IMPORTS = ("torch", "jax", "tensorflow")

ASSIGNMENT = Assignment(name="a3_gated_cells", title="Assignment 3: gated cells from scratch",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES, blocked_imports=BLOCKED_IMPORTS)
