"""Assignment 7 questions: seeing in sequences (CTC and captioning).

The grader draws the inputs of every hidden case at grading time and computes the expected
outputs with ``reference.py``. q1-q5 compare outputs (``match``): CTC forward and its gradient
with respect to the log-probabilities (time-major, blank = the last class), greedy CTC
decoding to a padded array, the captioning loss on time-major scores with <NULL> masked, and
greedy caption sampling that stops at <END>. q6 is a training question: a per-column linear
CTC reader trained through the student's own CTC code; the grader renders fresh glyph strips
and scores the strings read exactly (``checks:ctc_reading_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result, size

REFERENCES = {name: f"reference:{name}" for name in (
    "ctc_forward", "ctc_backward", "ctc_greedy", "caption_loss", "sample_caption")}

CTC_IN = (Arg("log_probs", ("T", "N", "C")), Arg("targets", ("N", "S"), kind="int", high="K"))
CTC_CALL = Step("ctc_forward", ("log_probs", "targets"), name="forward")
SAMPLE_IN = (Arg("features", ("N", "D")), Arg("W_proj", ("D", "H")), Arg("b_proj", ("H",)),
             Arg("W_embed", ("V", "E")), Arg("Wx", ("E", "H")), Arg("Wh", ("H", "H")),
             Arg("b", ("H",)), Arg("W_vocab", ("H", "V"), scale=2.0), Arg("b_vocab", ("V",)))
SAMPLE_KW = {"start": 1, "end": 2, "null": 0, "max_length": 8}


def three(public, hidden64, hidden32, points, seed):
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


def ctc_sizes(T, N, C, S):
    return {"T": T, "N": N, "C": C, "K": C - 1, "S": S}


QUESTIONS = (
    Question("q1", "ctc_forward", ("ctc_forward",), CTC_IN, (CTC_CALL,),
             (Output("losses", result(0, 0)),),
             three(ctc_sizes(7, 3, 4, 3), ctc_sizes(12, 6, 3, 5), ctc_sizes(10, 5, 6, 4),
                   (4, 8, 8), 701)),
    Question("q2", "ctc_backward", ("ctc_backward",), CTC_IN + (Arg("dlosses", ("N",)),),
             (CTC_CALL, Step("ctc_backward", ("dlosses", result("forward", 1)))),
             (Output("dlog_probs", result(1)),),
             three(ctc_sizes(7, 3, 4, 3), ctc_sizes(12, 6, 3, 5), ctc_sizes(10, 5, 6, 4),
                   (4, 8, 8), 702)),
    Question("q3", "ctc_greedy", ("ctc_greedy",), (Arg("scores", ("T", "N", "C")),),
             (Step("ctc_greedy", ("scores",)),), (Output("labels", result(0)),),
             (Case({"T": 10, "N": 4, "C": 3}, 4, public=True, seed=703),
              Case({"T": 20, "N": 8, "C": 3}, 3), Case({"T": 15, "N": 6, "C": 5}, 3))),
    Question("q4", "caption_loss", ("caption_loss",),
             (Arg("scores", ("T", "N", "V")), Arg("captions", ("N", "L"), kind="int", high="V")),
             (Step("caption_loss", ("scores", "captions"), {"null": 0}),),
             (Output("loss", result(0, 0), scalar=True), Output("dscores", result(0, 1))),
             three({"T": 5, "N": 3, "V": 4, "L": 6}, {"T": 7, "N": 5, "V": 5, "L": 8},
                   {"T": 6, "N": 4, "V": 6, "L": 7}, (3, 6, 6), 704)),
    Question("q5", "sample_caption", ("sample_caption",), SAMPLE_IN,
             (Step("sample_caption", tuple(a.name for a in SAMPLE_IN), SAMPLE_KW),),
             (Output("captions", result(0)),),
             (Case({"N": 3, "D": 4, "H": 5, "V": 6, "E": 3}, 5, public=True, seed=705),
              Case({"N": 8, "D": 6, "H": 7, "V": 5, "E": 4}, 5),
              Case({"N": 10, "D": 5, "H": 8, "V": 7, "E": 5}, 5))),
    Question("q6", "train_ctc_reader", ("train_ctc_reader",),
             (Arg("labels", ("N", "S"), kind="int", high="K"),),
             (Step("train_ctc_reader", ("labels",), {"n_symbols": size("K"), "seed": 0}),),
             (Output("W", result(0, "W")), Output("b", result(0, "b"))),
             (Case({"K": 5, "S": 4, "N": 2000}, 8, public=True, seed=706),
              Case({"K": 6, "S": 4, "N": 2000}, 12)),
             check="checks:ctc_reading_accuracy",
             options={"data": "labels", "n_eval": 500, "accuracy": 0.85, "half_accuracy": 0.4},
             timeout=180.0),
)

#: a submission calling any of these earns nothing for the test that does
FORBIDDEN = ("coursekit.nn.ctc.ctc_loss", "coursekit.nn.ctc.ctc_loss_backward",
             "coursekit.nn.ctc.ctc_loss_torch", "coursekit.nn.ctc_decode.ctc_greedy_decode",
             "coursekit.nn.ctc_decode.ctc_collapse", "coursekit.nn.layers.temporal_softmax_loss")

#: the only coursekit modules graded code may use; every other one imports as stubs that raise
ALLOWED_MODULES = ("coursekit.train.gradcheck", "coursekit.data.glyphs", "coursekit.grading",
                   "coursekit._validate")

#: q6 trains through the student's own CTC gradient, so autograd packages are out of reach
BLOCKED_IMPORTS = ("torch", "jax", "tensorflow")

ASSIGNMENT = Assignment(name="a7_sequences", title="Assignment 7: seeing in sequences",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES, blocked_imports=BLOCKED_IMPORTS)
