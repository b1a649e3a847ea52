"""Assignment 2 questions: points, inputs, references, tolerances, public and hidden cases.

Read by ``coursekit grade`` (all cases) and ``coursekit assign`` (which inlines
the public cases into the student notebook for ``check("q1")``). Hidden cases
draw their inputs at grading time from a seed derived from the instructor's
secret and the submission's code. This file holds no secret and no expected
output: the grader computes those with the references named in ``REFERENCES``
(coursekit's own, or the solutions in this folder's ``reference.py``).

Questions that take a dict of parameters or gradients receive one built with
``pack(...)`` from six drawn arrays.
"""
from coursekit.grading.spec import (Arg, Assignment, Case, Output, Question, Step, argument, pack,
                                    result, size)

NAMES = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")
PARAM_INPUTS = (Arg("W_embed", ("V", "D")), Arg("Wx", ("D", "H"), scale=0.5),
                Arg("Wh", ("H", "H"), scale=0.4), Arg("b", ("H",), scale=0.5),
                Arg("W_out", ("H", "V"), scale=0.5), Arg("b_out", ("V",), scale=0.5))
GRAD_INPUTS = tuple(Arg("d" + n, shape, scale=s) for n, shape, s in
                    (("W_embed", ("V", "D"), 1.0), ("Wx", ("D", "H"), 1.0), ("Wh", ("H", "H"), 1.0),
                     ("b", ("H",), 3.0), ("W_out", ("H", "V"), 0.5), ("b_out", ("V",), 2.0)))
PARAMS = pack(*NAMES)                                           # {"W_embed": W_embed, ...}
GRADS = pack(**{n: "d" + n for n in NAMES})                     # {"W_embed": dW_embed, ...}


def cases(public: dict, hidden64: dict, hidden32: dict | None, points: tuple, seed: int):
    """A public float64 case (fixed seed), a hidden float64 case, and a hidden float32 case."""
    out = [Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1])]
    if hidden32 is not None:
        out.append(Case(hidden32, points[2], dtype="float32"))
    return tuple(out)


#: loss, the six gradients and the last hidden state returned by the one step
GRADIENT_OUTPUTS = (Output("loss", result(0, 0), scalar=True),
                    *(Output("d" + n, result(0, 1, n)) for n in NAMES),
                    Output("h_last", result(0, 2)))

C1, C2, C3 = dict(N=3, k=4, V=5, D=3, H=4), dict(N=4, k=6, V=7, D=4, H=5), dict(N=2, k=5, V=6, D=5, H=6)
G1, G2, G3 = dict(L=41, B=2, K=5, V=5, D=3, H=4), dict(L=67, B=3, K=4, V=6, D=4, H=5), \
    dict(L=50, B=2, K=6, V=4, D=3, H=6)
W1, W2, W3 = dict(L=41, B=2, K1=3, K2=5, V=5, D=3, H=4), dict(L=67, B=3, K1=4, K2=9, V=6, D=4, H=5), \
    dict(L=50, B=2, K1=2, K2=6, V=4, D=3, H=6)
GR = dict(V=6, D=4, H=5)
INF = float("inf")  # norm_type of the max norm, as torch spells it
S1, S2, S3 = dict(N=5, V=6), dict(N=8, V=9), dict(N=7, V=5)

QUESTIONS = (
    Question("q1", "tbptt_batches", ("tbptt_batches",),
             (Arg("ids", ("L",), kind="int", high="V"),),
             (Step("tbptt_batches", ("ids",), {"batch_size": size("B"), "k": size("K")}),),
             (Output("X", result(0, 0)), Output("Y", result(0, 1))),
             (Case(dict(L=31, B=2, K=4, V=7), 2, public=True, seed=201),
              Case(dict(L=100, B=3, K=7, V=9), 3), Case(dict(L=53, B=4, K=3, V=5), 3))),
    Question("q2", "chunk_forward_backward", ("chunk_forward_backward",),
             PARAM_INPUTS + (Arg("x", ("N", "k"), kind="int", high="V"),
                             Arg("y", ("N", "k"), kind="int", high="V"), Arg("h0", ("N", "H"))),
             (Step("chunk_forward_backward", (PARAMS, "x", "y", "h0")),),
             GRADIENT_OUTPUTS,
             cases(C1, C2, C3, (4, 6, 6), seed=202)),
    Question("q3", "tbptt_gradient", ("tbptt_gradient",),
             PARAM_INPUTS + (Arg("ids", ("L",), kind="int", high="V"),),
             (Step("tbptt_gradient", (PARAMS, "ids"), {"batch_size": size("B"), "k": size("K")}),),
             GRADIENT_OUTPUTS,
             cases(G1, G2, G3, (4, 4, 4), seed=203)),
    Question("q4", "tbptt_k1k2_gradient", ("tbptt_k1k2_gradient",),
             PARAM_INPUTS + (Arg("ids", ("L",), kind="int", high="V"),),
             (Step("tbptt_k1k2_gradient", (PARAMS, "ids"),
                   {"batch_size": size("B"), "k1": size("K1"), "k2": size("K2")}),),
             GRADIENT_OUTPUTS,
             cases(W1, W2, W3, (3, 4, 3), seed=210)),
    Question("q5", "clip_grad_norm_p", ("clip_grad_norm_p",), GRAD_INPUTS,
             (Step("clip_grad_norm_p", (GRADS,), {"max_norm": size("M"), "norm_type": size("P")}),),
             # clipping works in place: the dict it received, after the call, is graded too
             (*(Output("d" + n, argument(0, 0, n)) for n in NAMES),
              Output("total_norm", result(0), scalar=True)),
             (Case({**GR, "M": 5.0, "P": 2.0}, 2, public=True, seed=204),
              Case({**GR, "M": 2.5, "P": 1.0}, 3), Case({**GR, "M": 0.5, "P": INF}, 3),
              Case({**GR, "M": 4.0, "P": 3.0}, 2, dtype="float32"))),
    Question("q6", "clip_grad_value_count", ("clip_grad_value_count",), GRAD_INPUTS,
             (Step("clip_grad_value_count", (GRADS,), {"clip_value": size("M")}),),
             (*(Output("d" + n, argument(0, 0, n)) for n in NAMES),
              Output("n_clipped", result(0), scalar=True)),
             (Case({**GR, "M": 1.0}, 2, public=True, seed=205), Case({**GR, "M": 0.5}, 2),
              Case({**GR, "M": 1.5}, 2, dtype="float32"))),
    Question("q7", "softmax_top_k", ("softmax_top_k",),
             (Arg("scores", ("N", "V"), scale=4.0),),
             (Step("softmax_top_k", ("scores",), {"temperature": size("tau"), "k": size("K")}),),
             (Output("p", result(0)),),
             (Case({**S1, "tau": 0.5, "K": 3}, 2, public=True, seed=206),
              Case({**S2, "tau": 2.0, "K": 4}, 2),
              Case({**S3, "tau": 0.5, "K": 2}, 2, dtype="float32"),
              Case({**S2, "tau": 0.0, "K": 5}, 2))),
    Question("q8", "sample_with_temperature", ("sample_with_temperature",),
             (Arg("scores", ("N", "V"), scale=2.0), Arg("u", ("N",), kind="unit")),
             (Step("sample_with_temperature", ("scores", "u"), {"temperature": size("tau")}),),
             (Output("idx", result(0)),),
             (Case({"N": 40, "V": 6, "tau": 0.7}, 2, public=True, seed=207),
              Case({"N": 200, "V": 8, "tau": 1.6}, 2), Case({"N": 200, "V": 5, "tau": 0.4}, 2,
                                                           dtype="float32"),
              Case({"N": 50, "V": 7, "tau": 0.0}, 2))),
    Question("q9", "lm_metrics", ("lm_metrics",),
             (Arg("scores", ("N", "T", "V"), scale=2.0), Arg("targets", ("N", "T"), kind="int", high="V")),
             (Step("lm_metrics", ("scores", "targets")),),
             (Output("nats", result(0, 0), scalar=True), Output("bits", result(0, 1), scalar=True),
              Output("perplexity", result(0, 2), scalar=True)),
             cases(dict(N=3, T=4, V=5), dict(N=4, T=7, V=9), dict(N=5, T=3, V=6), (2, 2, 2), seed=208)),
    Question("q10", "train_char_model", ("train_char_model",),
             (Arg("ids", ("L",), kind="markov", high="V", scale=2.5),),
             (Step("train_char_model", ("ids",), {"vocab_size": size("V"), "steps": 300, "seed": 0}),),
             tuple(Output(n, result(0, 0, n)) for n in NAMES),
             (Case(dict(V=8, L=3000), 6, public=True, seed=209), Case(dict(V=11, L=4000), 10)),
             check="checks:markov_val_loss",
             options={"data": "ids", "alpha": 0.1, "val_length": 2000, "full": 0.3, "zero": 0.75},
             timeout=40.0),
)

REFERENCES = {
    "tbptt_batches": "reference:tbptt_batches",
    "chunk_forward_backward": "reference:chunk_forward_backward",
    "tbptt_gradient": "reference:tbptt_gradient",
    "tbptt_k1k2_gradient": "reference:tbptt_k1k2_gradient",
    "clip_grad_norm_p": "reference:clip_grad_norm_p",
    "clip_grad_value_count": "reference:clip_grad_value_count",
    "softmax_top_k": "reference:softmax_top_k",
    "sample_with_temperature": "reference:sample_with_temperature",
    "lm_metrics": "reference:lm_metrics",
}

#: a submission calling any of these earns nothing for the test that does (the references
#: of reference.py are not in coursekit, so they cannot be called); the clipping and
#: temperature functions of coursekit are the chapters' versions that q5-q7 extend
FORBIDDEN = ("coursekit.train.clip.clip_grad_norm", "coursekit.train.clip.clip_grad_value",
             "coursekit.decode.softmax_temperature")

#: the only coursekit modules graded code may use; every other one (clip, lm_tools,
#: charlm_numpy, rnn, layers, bptt, train ...) imports as stubs that raise
ALLOWED_MODULES = ("coursekit.train.gradcheck", "coursekit.data.text", "coursekit.train.optim",
                   "coursekit.grading", "coursekit._validate")

ASSIGNMENT = Assignment(name="a2_training", title="Assignment 2: training recurrent networks",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES)
