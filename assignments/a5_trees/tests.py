"""Assignment 5 questions: networks over trees.

Trees arrive as parent arrays (``parent[j]`` is node j's parent, -1 at the root) with the
nodes numbered in a random order, drawn fresh at grading time (``Arg(kind="tree")``); node
tokens are ids into an embedding ``E``. q1-q4 compare outputs with ``reference.py`` run on
the same inputs (``match``). q5 is a training question: the grader takes the trained
weights and measures the root accuracy on fresh ListOps expressions it draws itself
(``checks:listops_accuracy``).
"""
from coursekit.grading.spec import Arg, Assignment, Case, Output, Question, Step, result

REFERENCES = {name: f"reference:{name}" for name in (
    "tree_levels", "tree_rnn_forward", "tree_rnn_backward", "childsum_forward", "train_listops")}

TREE = Arg("parent", ("n",), kind="tree", high="W")
IDS = Arg("ids", ("n",), kind="int", high="V")
RNN_IN = (IDS, TREE, Arg("E", ("V", "H")), Arg("W", ("H", "H"), scale=0.5), Arg("b", ("H",), scale=0.3))
RNN_CALL = Step("tree_rnn_forward", ("ids", "parent", "E", "W", "b"), name="forward")
LSTM_IN = (IDS, TREE, Arg("E", ("V", "D")), Arg("Wx", ("D", "4H"), scale=0.5),
           Arg("Wh", ("H", "4H"), scale=0.5), Arg("b", ("4H",), scale=0.5))


def three(public, hidden64, hidden32, points, seed):
    return (Case(public, points[0], public=True, seed=seed), Case(hidden64, points[1]),
            Case(hidden32, points[2], dtype="float32"))


def lstm_sizes(**s):
    return {**s, "4H": 4 * s["H"]}


QUESTIONS = (
    Question("q1", "tree_levels", ("tree_levels",), (TREE,),
             (Step("tree_levels", ("parent",)),), (Output("level", result(0)),),
             (Case({"n": 7, "W": 7}, 3, public=True, seed=501), Case({"n": 20, "W": 20}, 6),
              Case({"n": 40, "W": 3}, 6))),
    Question("q2", "tree_rnn_forward", ("tree_rnn_forward",), RNN_IN, (RNN_CALL,),
             (Output("h", result(0, 0)),),
             three({"n": 7, "W": 7, "V": 5, "H": 3}, {"n": 25, "W": 4, "V": 8, "H": 5},
                   {"n": 18, "W": 18, "V": 6, "H": 4}, (3, 6, 6), 502)),
    Question("q3", "tree_rnn_backward", ("tree_rnn_forward", "tree_rnn_backward"),
             RNN_IN + (Arg("dh", ("n", "H")),),
             (RNN_CALL, Step("tree_rnn_backward", ("dh", result("forward", 1)))),
             tuple(Output(k, result(1, i)) for i, k in enumerate(("dE", "dW", "db"))),
             three({"n": 7, "W": 7, "V": 5, "H": 3}, {"n": 25, "W": 4, "V": 8, "H": 5},
                   {"n": 18, "W": 18, "V": 6, "H": 4}, (4, 8, 8), 503)),
    Question("q4", "childsum_forward", ("childsum_forward",), LSTM_IN,
             (Step("childsum_forward", ("ids", "parent", "E", "Wx", "Wh", "b")),),
             (Output("h", result(0, 0)), Output("c", result(0, 1))),
             three(lstm_sizes(n=7, W=7, V=5, D=3, H=2), lstm_sizes(n=25, W=4, V=8, D=4, H=5),
                   lstm_sizes(n=18, W=18, V=6, D=3, H=4), (4, 8, 8), 504)),
    Question("q5", "train_listops", ("train_listops",), (Arg("u", (4,), kind="unit"),),
             (Step("train_listops", (), {"n_train": 2000, "hidden": 32, "seed": 0}),),
             tuple(Output(k, result(0, k)) for k in ("E", "W", "b", "Wy", "by")),
             (Case({}, 10, public=True, seed=505), Case({}, 20)),
             check="checks:listops_accuracy",
             options={"data": "u", "n_eval": 600, "hidden": 32, "accuracy": 0.6,
                      "half_accuracy": 0.35},
             timeout=90.0),
)

#: a submission calling any of these earns nothing for the test that does
FORBIDDEN = ("coursekit.data.trees.levels", "coursekit.data.trees.level_groups",
             "coursekit.nn.tree.treernn_forward", "coursekit.nn.tree.treernn_backward",
             "coursekit.nn.tree.childsum_treelstm_forward",
             "coursekit.nn.tree.childsum_treelstm_backward",
             "coursekit.nn.tree.nary_treelstm_forward", "coursekit.nn.tree.nary_treelstm_backward")

#: the only coursekit modules graded code may use (ListOps and its trees, optimisers, checks)
ALLOWED_MODULES = ("coursekit.data", "coursekit.data.listops", "coursekit.data.trees",
                   "coursekit.train.optim", "coursekit.train.gradcheck", "coursekit.grading",
                   "coursekit._validate")

#: q5 must train through the student's own tree_rnn_backward, so autograd is out of reach
BLOCKED_IMPORTS = ("torch", "jax", "tensorflow")

ASSIGNMENT = Assignment(name="a5_trees", title="Assignment 5: networks over trees",
                        questions=QUESTIONS, references=REFERENCES, forbidden=FORBIDDEN,
                        allowed_modules=ALLOWED_MODULES, blocked_imports=BLOCKED_IMPORTS)
