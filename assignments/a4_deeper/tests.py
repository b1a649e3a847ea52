"""Assignment 4 questions: deeper, both ways.

The grader draws the inputs of every hidden case at grading time and computes the expected
outputs with ``reference.py``; every question compares outputs (``match``). q1-q2: a
bidirectional tanh RNN, time-major; q3-q4: a two-layer stack with a residual connection;
q5: concat pooling over a mask, forward and backward; q6: sliding windows for forecasting.
q7 is a training question: a bidirectional GRU (or LSTM) sentiment classifier trained on a
sample of the IMDB training reviews that the grader draws (``checks:imdb_*``); the grader
rebuilds it and scores its accuracy on held-out test reviews (``checks:sentiment_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, pack, result, size

from .checks import WEIGHTS  # the state_dict keys q7 returns

GRADED = ("birnn_forward", "birnn_backward", "residual_stack_forward", "residual_stack_backward",
          "concat_pool_forward", "concat_pool_backward", "make_windows")  # q1-q6
REFERENCES = {name: f"reference:{name}" for name in GRADED}


def rnn_params(prefix, D):
    return (Arg(f"Wx_{prefix}", (D, "H"), scale=0.5), Arg(f"Wh_{prefix}", ("H", "H"), scale=0.4),
            Arg(f"b_{prefix}", ("H",), scale=0.3))


def params(prefix):
    return pack(Wx=f"Wx_{prefix}", Wh=f"Wh_{prefix}", b=f"b_{prefix}")


BI_IN = (Arg("x", ("T", "N", "D")), Arg("h0", (2, "N", "H"), scale=0.5)) + rnn_params("f", "D") \
    + rnn_params("b", "D")
BI_CALL = Step("birnn_forward", ("x", "h0", params("f"), params("b")), name="forward")
RES_IN = (Arg("x", ("N", "T", "D")), Arg("h0", (2, "N", "H"), scale=0.5)) + rnn_params("1", "D") \
    + rnn_params("2", "H")
RES_CALL = Step("residual_stack_forward", ("x", "h0", params("1"), params("2")), name="forward")
POOL_IN = (Arg("h", ("N", "T", "H")), Arg("mask", ("N", "T"), kind="mask", p=0.6),
           Arg("dpooled", ("N", "P")))  # P = 2H
#: q7: a sample of IMDB training reviews, drawn and encoded by this folder's checks.py
REVIEWS = (Arg("rows", ("N",), kind="checks:imdb_rows"), Arg("ids", ("N", "T"), kind="checks:imdb_ids"),
           Arg("lengths", ("N",), kind="checks:imdb_lengths"),
           Arg("labels", ("N",), kind="checks:imdb_labels"))
WIN_KW = {"lookback": size("L"), "horizon": size("K"), "stride": size("S"), "target": size("C")}


def param_grads(step, position, tag):
    return tuple(Output(f"d{k}_{tag}", result(step, position, k)) for k in ("Wx", "Wh", "b"))


def three(public, hidden64, hidden32, points, seed):
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


SIZES = (dict(T=4, N=2, D=3, H=5, P=10), dict(T=7, N=3, D=4, H=6, P=12),
         dict(T=5, N=4, D=2, H=3, P=6))  # P = 2H

QUESTIONS = (
    Question("q1", "birnn_forward", ("birnn_forward",), BI_IN, (BI_CALL,),
             (Output("out", result(0, 0)), Output("h_n", result(0, 1))),
             three(*SIZES, (2, 5, 5), 401)),
    Question("q2", "birnn_backward", ("birnn_backward",),
             BI_IN + (Arg("dout", ("T", "N", "P")), Arg("dh_n", (2, "N", "H"))),
             (BI_CALL, Step("birnn_backward", ("dout", "dh_n", result("forward", 2)))),
             (Output("dx", result(1, 0)), Output("dh0", result(1, 1)))
             + param_grads(1, 2, "f") + param_grads(1, 3, "b"),
             three(*SIZES, (4, 6, 6), 402)),
    Question("q3", "residual_stack_forward", ("residual_stack_forward",), RES_IN, (RES_CALL,),
             (Output("out", result(0, 0)), Output("h_n", result(0, 1))),
             three(*SIZES, (2, 5, 5), 403)),
    Question("q4", "residual_stack_backward", ("residual_stack_backward",),
             RES_IN + (Arg("dout", ("N", "T", "H")),),
             (RES_CALL, Step("residual_stack_backward", ("dout", result("forward", 2)))),
             (Output("dx", result(1, 0)), Output("dh0", result(1, 1)))
             + param_grads(1, 2, "1") + param_grads(1, 3, "2"),
             three(*SIZES, (4, 6, 6), 404)),
    Question("q5", "concat_pool_forward and concat_pool_backward",
             ("concat_pool_forward", "concat_pool_backward"), POOL_IN,
             (Step("concat_pool_forward", ("h", "mask"), name="forward"),
              Step("concat_pool_backward", ("dpooled", result("forward", 1)))),
             (Output("pooled", result(0, 0)), Output("dh", result(1))),
             three(dict(N=3, T=5, H=2, P=4), dict(N=6, T=9, H=4, P=8), dict(N=4, T=7, H=3, P=6),
                   (2, 5, 5), 405)),
    Question("q6", "make_windows", ("make_windows",), (Arg("series", ("T", "F")),),
             (Step("make_windows", ("series",), WIN_KW),),
             (Output("X", result(0, 0)), Output("Y", result(0, 1))),
             (Case(dict(T=20, F=2, L=4, K=2, S=3, C=1), 2, public=True, seed=406),
              Case(dict(T=41, F=3, L=6, K=3, S=2, C=2), 4),
              Case(dict(T=30, F=1, L=5, K=1, S=1, C=0), 3, dtype="float32"),
              Case(dict(T=50, F=4, L=7, K=4, S=5, C=3), 3))),
    Question("q7", "train_review_classifier", ("train_review_classifier",), REVIEWS,
             (Step("train_review_classifier", ("ids", "lengths", "labels"),
                   {"vocab_size": size("V"), "seed": 0}),),
             tuple(Output(k, result(0, k)) for k in WEIGHTS),
             # N reviews cut to their first T tokens, a vocabulary of V; float32 weights
             (Case(dict(N=2000, T=100, V=5000), 8, dtype="float32", public=True, seed=407),
              Case(dict(N=3000, T=100, V=5000), 12, dtype="float32")),
             check="checks:sentiment_accuracy",
             options={"n_eval": 2000, "accuracy": 0.70, "half_accuracy": 0.60},
             timeout=60.0),
)

#: the only coursekit modules graded code may use; every other one (rnn, stacked, pooling,
#: models, ...) imports as stubs that raise
ALLOWED_MODULES = ("coursekit.train.gradcheck", "coursekit.grading", "coursekit._validate")

#: a submission calling any of these earns nothing for the test that does
FORBIDDEN = tuple(f"coursekit.nn.stacked.{f}" for f in (
    "stacked_forward", "stacked_backward", "bidirectional_forward", "bidirectional_backward",
    "direction_forward", "direction_backward")) + tuple(
    f"coursekit.nn.rnn.rnn_{f}" for f in ("forward", "backward", "step_forward", "step_backward"))

ASSIGNMENT = Assignment(name="a4_deeper", title="Assignment 4: deeper, both ways",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES,
                        package_data=("data/files/imdb_reviews.tsv.gz",))
