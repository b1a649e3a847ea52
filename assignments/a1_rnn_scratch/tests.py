"""Assignment 1 questions: points, inputs, reference, tolerances, public and hidden cases.

Read by ``coursekit grade`` (all cases) and ``coursekit assign`` (which inlines
the public cases into the student notebook for ``check("q1")``). Hidden cases
draw their inputs at grading time from a seed derived from the instructor's
secret and the submission's code, so they cannot be known in advance. This
file holds no secret and no expected output: the grader computes those with
the references in this folder's ``reference.py``. Every graded function is a
variant of the chapters' code (ReLU step, masked sequence, padded embedding,
torch's Linear layout, loss per token), so pasting coursekit earns nothing.
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result, size

RNN = ("x", "prev_h", "Wx", "Wh", "b")
SEQ = ("x", "h0", "Wx", "Wh", "b")
MASK = Arg("mask", ("N", "T"), kind="mask")  # 1 on real steps, 0 on padding
GRADS5 = ("dx", "dprev_h", "dWx", "dWh", "db")


def cases(public: dict, hidden64: dict, hidden32: dict | None, points: tuple, seed: int):
    """A public float64 case (fixed seed), a hidden float64 case, and a hidden float32 case."""
    out = [Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1])]
    if hidden32 is not None:
        out.append(Case(hidden32, points[2], dtype="float32"))
    return tuple(out)


STEP_INPUTS = (Arg("x", ("N", "D")), Arg("prev_h", ("N", "H")),
               Arg("Wx", ("D", "H"), scale=0.5), Arg("Wh", ("H", "H"), scale=0.5),
               Arg("b", ("H",), scale=0.5))
SEQ_INPUTS = (Arg("x", ("N", "T", "D")), Arg("h0", ("N", "H")),
              Arg("Wx", ("D", "H"), scale=0.5), Arg("Wh", ("H", "H"), scale=0.5),
              Arg("b", ("H",), scale=0.5))
S1, S2, S3 = dict(N=3, D=4, H=5), dict(N=4, D=6, H=7), dict(N=2, D=3, H=8)
T1, T2, T3 = dict(N=3, T=4, D=5, H=6), dict(N=2, T=6, D=4, H=5), dict(N=3, T=5, D=3, H=4)
E1, E2, E3 = dict(N=3, T=4, V=5, D=3, P=0), dict(N=4, T=5, V=6, D=4, P=3), dict(N=2, T=7, V=4, D=5, P=1)
A1, A2, A3 = dict(N=2, T=3, D=4, M=5), dict(N=3, T=4, D=6, M=3), dict(N=4, T=2, D=3, M=7)
L1, L2, L3 = dict(N=3, T=4, V=5), dict(N=4, T=6, V=7), dict(N=2, T=5, V=9)

QUESTIONS = (
    Question("q1", "relu_rnn_step_forward", ("relu_rnn_step_forward",), STEP_INPUTS,
             (Step("relu_rnn_step_forward", RNN),), (Output("next_h", result(0, 0)),),
             cases(S1, S2, S3, (2, 3, 3), seed=101)),
    Question("q2", "relu_rnn_step_backward", ("relu_rnn_step_backward",),
             STEP_INPUTS + (Arg("dnext_h", ("N", "H")),),
             (Step("relu_rnn_step_forward", RNN, name="forward"),
              Step("relu_rnn_step_backward", ("dnext_h", result("forward", 1)), name="backward")),
             tuple(Output(g, result("backward", i)) for i, g in enumerate(GRADS5)),
             cases(S1, S2, S3, (3, 5, 4), seed=102)),
    Question("q3", "masked_rnn_forward", ("masked_rnn_forward",), SEQ_INPUTS + (MASK,),
             (Step("masked_rnn_forward", SEQ + ("mask",)),), (Output("h", result(0, 0)),),
             cases(T1, T2, T3, (2, 3, 3), seed=103)),
    Question("q4", "masked_rnn_backward", ("masked_rnn_backward",),
             SEQ_INPUTS + (MASK, Arg("dh", ("N", "T", "H"))),
             (Step("masked_rnn_forward", SEQ + ("mask",), name="forward"),
              Step("masked_rnn_backward", ("dh", result("forward", 1)), name="backward")),
             tuple(Output(g, result("backward", i))
                   for i, g in enumerate(("dx", "dh0", "dWx", "dWh", "db"))),
             cases(T1, T2, T3, (4, 6, 6), seed=104)),
    Question("q5", "padded_embedding_forward", ("padded_embedding_forward",),
             (Arg("x", ("N", "T"), kind="int", high="V"), Arg("W", ("V", "D"))),
             (Step("padded_embedding_forward", ("x", "W", size("P"))),), (Output("out", result(0, 0)),),
             cases(E1, E2, E3, (1, 2, 2), seed=105)),
    Question("q6", "padded_embedding_backward", ("padded_embedding_backward",),
             (Arg("x", ("N", "T"), kind="int", high="V"), Arg("W", ("V", "D")),
              Arg("dout", ("N", "T", "D"))),
             (Step("padded_embedding_forward", ("x", "W", size("P")), name="forward"),
              Step("padded_embedding_backward", ("dout", result("forward", 1)), name="backward")),
             (Output("dW", result("backward")),),
             cases(E1, E2, E3, (2, 3, 3), seed=106)),
    Question("q7", "linear_forward", ("linear_forward",),
             (Arg("x", ("N", "T", "D")), Arg("weight", ("M", "D")), Arg("bias", ("M",))),
             (Step("linear_forward", ("x", "weight", "bias")),), (Output("out", result(0, 0)),),
             cases(A1, A2, A3, (1, 2, 2), seed=107)),
    Question("q8", "linear_backward", ("linear_backward",),
             (Arg("x", ("N", "T", "D")), Arg("weight", ("M", "D")), Arg("bias", ("M",)),
              Arg("dout", ("N", "T", "M"))),
             (Step("linear_forward", ("x", "weight", "bias"), name="forward"),
              Step("linear_backward", ("dout", result("forward", 1)), name="backward")),
             tuple(Output(g, result("backward", i)) for i, g in enumerate(("dx", "dweight", "dbias"))),
             cases(A1, A2, A3, (2, 3, 3), seed=108)),
    Question("q9", "token_mean_softmax_loss", ("token_mean_softmax_loss",),
             (Arg("x", ("N", "T", "V")), Arg("y", ("N", "T"), kind="int", high="V"),
              Arg("mask", ("N", "T"), kind="mask")),
             (Step("token_mean_softmax_loss", ("x", "y", "mask")),),
             (Output("loss", result(0, 0), scalar=True), Output("dx", result(0, 1))),
             cases(L1, L2, L3, (4, 5, 5), seed=109)),
    Question("q10", "train_char_rnn", ("train_char_rnn",),
             (Arg("ids", ("L",), kind="cycle", high="V"),),
             (Step("train_char_rnn", ("ids",), {"vocab_size": size("V"), "steps": 150, "seed": 0}),),
             tuple(Output(k, result(0, 0, k)) for k in ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")),
             (Case(dict(V=8, L=200), 6, public=True, seed=110), Case(dict(V=11, L=300), 10)),
             check="checks:charlm_loss_drops", options={"data": "ids", "ratio": 0.5}, timeout=30.0),
)

#: the solutions of the graded functions: this folder's reference.py (never in the release)
REFERENCES = {name: f"reference:{name}" for q in QUESTIONS[:9] for name in q.graded}

#: a submission calling any of these earns nothing for the test that does
#: (coursekit's own versions of what q1-q9 vary: the chapters' tanh RNN and layers)
FORBIDDEN = tuple(f"coursekit.nn.rnn.{f}" for f in ("rnn_step_forward", "rnn_step_backward",
                                                    "rnn_forward", "rnn_backward")) + tuple(
    f"coursekit.nn.layers.{f}" for f in (
        "embedding_forward", "embedding_backward", "temporal_affine_forward",
        "temporal_affine_backward", "temporal_softmax_loss", "affine_forward", "affine_backward",
        "softmax_loss"))

#: the only coursekit modules graded code may use; every other one (rnn, layers, and
#: modules such as bptt or charlm_numpy that hold their own recurrences) is stubbed out
ALLOWED_MODULES = ("coursekit.train.gradcheck", "coursekit.data.text", "coursekit.train.optim", "coursekit.train.clip",
                   "coursekit.grading", "coursekit._validate")

ASSIGNMENT = Assignment(name="a1_rnn_scratch", title="Assignment 1: a recurrent network from scratch",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES)
