"""Assignment 3 questions: points, inputs, references, tolerances, public and hidden cases.

Read by ``coursekit grade`` (all cases) and ``coursekit assign`` (which inlines
the public cases into the student notebook for ``check("q1")``). Hidden cases
draw their inputs at grading time from a seed derived from the instructor's
secret and the submission's code. This file holds no secret and no expected
output: the grader computes those with the references in this folder's
``reference.py``: the LSTM with a recurrent projection (q1-q4) and the minimal
gated unit (q5-q8), extensions of chapters 4 and 5 that coursekit does not hold.

Questions q1-q8 use ``checks_a3:match_each``: each returned array that
matches the reference earns its share of a case's points. q9 runs the trained
LSTM with projection that ``train_recall`` returns on fresh sequences
(``checks:recall_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result, size

#: the solutions of the graded functions: this folder's reference.py (never in the release)
REFERENCES = {f"{cell}_{part}": f"reference:{cell}_{part}" for cell in ("lstmp", "mgu")
              for part in ("step_forward", "step_backward", "forward", "backward")}
MATCH_EACH = "checks:match_each"


def cases(public: dict, hidden64: dict, hidden32: dict, points: tuple, seed: int):
    """A public float64 case (fixed seed), a hidden float64 case and a hidden float32 case."""
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


def sizes(G: int, **dims) -> dict:
    """Case sizes plus the stacked width ``"4H"`` (LSTM) or ``"2H"`` (MGU)."""
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
LSTMP_W = (Arg("Wx", ("D", "4H"), scale=W), Arg("Wh", ("P", "4H"), scale=W), Arg("b", ("4H",), scale=W),
           Arg("Wr", ("H", "P"), scale=W))
MGU_W = (Arg("Wx", ("D", "2H"), scale=W), Arg("Wh", ("H", "2H"), scale=W), Arg("b", ("2H",), scale=W))
LSTMP_STEP = (Arg("x", ("N", "D")), Arg("prev_r", ("N", "P")), Arg("prev_c", ("N", "H"))) + LSTMP_W
LSTMP_SEQ = (Arg("x", ("N", "T", "D")), Arg("r0", ("N", "P")), Arg("c0", ("N", "H"))) + LSTMP_W
MGU_STEP = (Arg("x", ("N", "D")), Arg("prev_h", ("N", "H"))) + MGU_W
MGU_SEQ = (Arg("x", ("N", "T", "D")), Arg("h0", ("N", "H"))) + MGU_W

# the projection P differs from H in every case, so an LSTM without projection cannot pass
STEP_SIZES = (dict(N=3, D=4, H=5, P=3), dict(N=4, D=6, H=7, P=4), dict(N=2, D=3, H=8, P=5))
SEQ_SIZES = (dict(N=3, T=4, D=5, H=6, P=4), dict(N=2, T=6, D=4, H=5, P=3), dict(N=3, T=5, D=3, H=4, P=2))
L_STEP, L_SEQ = ([sizes(4, **s) for s in ss] for ss in (STEP_SIZES, SEQ_SIZES))
G_STEP, G_SEQ = ([sizes(2, **s) for s in ss] for ss in (STEP_SIZES, SEQ_SIZES))
FORWARD, BACKWARD = (2, 3, 3), (3, 6, 3)  # public, hidden float64, hidden float32

LSTMP_STEP_CALL = Step("lstmp_step_forward", ("x", "prev_r", "prev_c", "Wx", "Wh", "b", "Wr"))
LSTMP_SEQ_CALL = Step("lstmp_forward", ("x", "r0", "Wx", "Wh", "b", "Wr", "c0"))
MGU_STEP_CALL = Step("mgu_step_forward", ("x", "prev_h", "Wx", "Wh", "b"))
MGU_SEQ_CALL = Step("mgu_forward", ("x", "h0", "Wx", "Wh", "b"))
LSTMP_GRADS = ("dWx", "dWh", "db", "dWr")
MGU_GRADS = ("dWx", "dWh", "db")

QUESTIONS = (
    question("q1", "lstmp_step_forward", LSTMP_STEP, (LSTMP_STEP_CALL,),
             returned(0, ("next_r", "next_c")), L_STEP, FORWARD, 301),
    question("q2", "lstmp_step_backward",
             LSTMP_STEP + (Arg("dnext_r", ("N", "P")), Arg("dnext_c", ("N", "H"))),
             (LSTMP_STEP_CALL, Step("lstmp_step_backward", ("dnext_r", "dnext_c", result(0, 2)))),
             returned(1, ("dx", "dprev_r", "dprev_c") + LSTMP_GRADS), L_STEP, BACKWARD, 302),
    question("q3", "lstmp_forward", LSTMP_SEQ, (LSTMP_SEQ_CALL,), returned(0, ("r", "c")),
             L_SEQ, FORWARD, 303),
    question("q4", "lstmp_backward",
             LSTMP_SEQ + (Arg("dr", ("N", "T", "P")), Arg("dc", ("N", "T", "H"))),
             (LSTMP_SEQ_CALL, Step("lstmp_backward", ("dr", result(0, 2), "dc"))),
             returned(1, ("dx", "dr0", "dc0") + LSTMP_GRADS), L_SEQ, BACKWARD, 304),
    question("q5", "mgu_step_forward", MGU_STEP, (MGU_STEP_CALL,), returned(0, ("next_h",)),
             G_STEP, FORWARD, 305),
    question("q6", "mgu_step_backward", MGU_STEP + (Arg("dnext_h", ("N", "H")),),
             (MGU_STEP_CALL, Step("mgu_step_backward", ("dnext_h", result(0, 1)))),
             returned(1, ("dx", "dprev_h") + MGU_GRADS), G_STEP, BACKWARD, 306),
    question("q7", "mgu_forward", MGU_SEQ, (MGU_SEQ_CALL,), returned(0, ("h",)),
             G_SEQ, FORWARD, 307),
    question("q8", "mgu_backward", MGU_SEQ + (Arg("dh", ("N", "T", "H")),),
             (MGU_SEQ_CALL, Step("mgu_backward", ("dh", result(0, 1)))),
             returned(1, ("dx", "dh0") + MGU_GRADS), G_SEQ, BACKWARD, 308),
    Question("q9", "train_recall", ("train_recall",),
             (Arg("seqs", ("N", "T"), kind="int", high="K"),),
             (Step("train_recall", ("seqs",), {"n_symbols": size("K"), "seed": 0}),),
             tuple(Output(k, result(0, 0, k)) for k in ("Wx", "Wh", "b", "Wr", "W_out", "b_out")),
             (Case(dict(K=4, T=20, N=500), 8, public=True, seed=309),
              Case(dict(K=8, T=60, N=1000), 12)),
             check="checks:recall_accuracy",
             options={"data": "seqs", "n_eval": 2000, "accuracy": 0.9, "half_accuracy": 0.5},
             timeout=60.0),
)

#: coursekit's gated cells, which q1-q8 extend: a submission calling one earns nothing for it
FORBIDDEN = tuple(f"coursekit.nn.{cell}.{cell}_{part}" for cell in ("lstm", "gru")
                  for part in ("step_forward", "step_backward", "forward", "backward")) + tuple(
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
