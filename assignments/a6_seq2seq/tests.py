"""Assignment 6 questions: encoders, decoders and attention.

The grader draws the inputs of every hidden case at grading time and computes the expected
outputs with ``reference.py``. q1-q5 compare outputs (``match``); q4's step functions are
random tables of next-token scores, so a beam search has to be exactly right to match. q6 is
a training question: the grader rebuilds the submitted encoder-decoder and measures its
sequence accuracy on fresh inputs (``checks:reversal_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result, size

REFERENCES = {name: f"reference:{name}" for name in (
    "masked_loss_time_major", "attention_step_forward", "attention_step_backward",
    "beam_search_markov", "corpus_bleu_padded")}

LOSS_IN = (Arg("scores", ("T", "N", "V")), Arg("y", ("T", "N"), kind="int", high="V"),
           Arg("mask", ("T", "N"), kind="mask", p=0.6))
ATT_IN = (Arg("q", ("N", "D")), Arg("K", ("N", "T", "D")), Arg("V", ("N", "T", "E")),
          Arg("mask", ("N", "T"), kind="mask", p=0.6))
ATT_CALL = Step("attention_step_forward", ("q", "K", "V", "mask"), name="forward")
BEAM_KW = {"beam_size": 3, "max_len": 7, "alpha": 1.0}


#: the weights of Seq2Seq(context="attention", attention="dot") (its state_dict keys)
SEQ2SEQ_KEYS = tuple(f"{part}.{w}" for part in ("src_embed", "tgt_embed") for w in ("weight",)) + tuple(
    f"{part}.{w}_l0" for part in ("encoder", "decoder")
    for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")) + tuple(
    f"{part}.{w}" for part in ("bridge", "combine", "out") for w in ("weight", "bias"))


def three(public, hidden64, hidden32, points, seed):
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


QUESTIONS = (
    Question("q1", "masked_loss_time_major", ("masked_loss_time_major",), LOSS_IN,
             (Step("masked_loss_time_major", ("scores", "y", "mask")),),
             (Output("loss", result(0, 0), scalar=True), Output("dscores", result(0, 1))),
             three(dict(T=4, N=3, V=5), dict(T=6, N=5, V=7), dict(T=5, N=4, V=6), (3, 6, 6),
                   601)),
    Question("q2", "attention_step_forward", ("attention_step_forward",), ATT_IN, (ATT_CALL,),
             (Output("context", result(0, 0)), Output("alpha", result(0, 1))),
             three(dict(N=3, T=4, D=5, E=2), dict(N=4, T=6, D=3, E=4),
                   dict(N=2, T=5, D=4, E=3), (2, 4, 4), 602)),
    Question("q3", "attention_step_backward", ("attention_step_backward",),
             ATT_IN + (Arg("dcontext", ("N", "E")),),
             (ATT_CALL, Step("attention_step_backward", ("dcontext", result("forward", 2)))),
             tuple(Output(n, result(1, i)) for i, n in enumerate(("dq", "dK", "dV"))),
             three(dict(N=3, T=4, D=5, E=2), dict(N=4, T=6, D=3, E=4),
                   dict(N=2, T=5, D=4, E=3), (3, 6, 6), 603)),
    Question("q4", "beam_search_markov", ("beam_search_markov",),
             (Arg("scores", ("V", "V")),),
             (Step("beam_search_markov", ("scores",), BEAM_KW),),
             (Output("tokens", result(0, 0)), Output("score", result(0, 1), scalar=True)),
             (Case(dict(V=5), 5, public=True, seed=604),) + tuple(
                 Case(dict(V=v), 3) for v in (4, 5, 6, 8, 10))),
    Question("q5", "corpus_bleu_padded", ("corpus_bleu_padded",),
             (Arg("hyps", ("M", "L"), kind="int", high="K"),
              Arg("refs", ("M", "R", "L"), kind="int", high="K")),
             (Step("corpus_bleu_padded", ("hyps", "refs"), {"max_n": 2}),),
             (Output("bleu", result(0), scalar=True),),
             (Case(dict(M=6, R=2, L=8, K=5), 4, public=True, seed=605),
              Case(dict(M=20, R=1, L=10, K=6), 8), Case(dict(M=30, R=3, L=12, K=7), 8))),
    Question("q6", "train_reverser", ("train_reverser",),
             (Arg("src", ("N", "T"), kind="int", high="K"),),
             (Step("train_reverser", ("src",), {"n_symbols": size("K"), "seed": 0}),),
             tuple(Output(k, result(0, k)) for k in SEQ2SEQ_KEYS),
             (Case(dict(K=6, T=5, N=2000), 8, public=True, seed=606), Case(dict(K=8, T=6, N=2000), 12)),
             check="checks:reversal_accuracy",
             options={"data": "src", "n_eval": 500, "accuracy": 0.9, "half_accuracy": 0.5,
                      "config": {"embed": 32, "hidden": 64, "context": "attention",
                                 "attention": "dot"}},
             timeout=90.0),
)

#: a submission calling any of these earns nothing for the test that does
FORBIDDEN = ("coursekit.decode.beam_search", "coursekit.decode.greedy_search",
             "coursekit.decode.beam_search_batched", "coursekit.metrics.corpus_bleu",
             "coursekit.metrics.sentence_bleu", "coursekit.metrics.bleu_statistics",
             "coursekit.metrics.bleu_from_statistics",
             "coursekit.nn.seq2seq.sequence_cross_entropy",
             "coursekit.nn.attention.dot_attention_forward",
             "coursekit.nn.attention.dot_attention_backward",
             "coursekit.nn.attention.masked_softmax",
             "coursekit.nn.attention.masked_softmax_backward",
             "coursekit.nn.seq2seq.masked_sequence_loss",
             "coursekit.train.loop.train")

ASSIGNMENT = Assignment(name="a6_seq2seq", title="Assignment 6: encoders, decoders and attention",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN)
