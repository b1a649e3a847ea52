"""How an assignment's ``tests.py`` declares its questions.

A question grades one or more student functions. Each of its cases says how the
parent draws the inputs (:class:`Arg`), which student functions the child calls
with them (:class:`Step`), which returned values come back as arrays
(:class:`Output`), and how many points the case is worth. The parent computes the
expected values itself by running the same steps with the references
(``Assignment.references``); the child never sees them.

Step arguments and outputs name what they use with four small helpers:

- an input by its name: ``Step("rnn_forward", ("x", "h0", "Wx", "Wh", "b"))``;
- :func:`result`: a value an earlier step returned, by the step's ``name`` (or
  index) and a path into it: ``result("forward", 1)`` is the second item of the
  tuple the step named "forward" returned; ``result("train", 0, "Wx")`` is key
  ``"Wx"`` of its first item; ``result("loss")`` is the whole value;
- :func:`size`: one of the case's sizes, ``size("V")``;
- :func:`pack`: a dict built from inputs (or results), ``pack("Wx", "Wh", "b")``
  or ``pack(W=result("init", "W"))``, for a function that takes a dict of arrays;
- and in keyword arguments, :func:`inp` for an input (a plain str there is a literal).

Everything here is plain data (JSON through :func:`to_json`), so the public cases
can be embedded in the student notebook for ``check("q1")``, and the plan the child
runs is the same data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from coursekit.grading.inputs import Arg, markov_chain, markov_matrix

__all__ = ["Arg", "Step", "Output", "Case", "Question", "Assignment", "Ref", "Size", "Pack",
           "Input", "result", "argument", "size", "pack", "inp", "draw_inputs", "step_index", "call_steps",
           "run_steps", "resolve_output", "encode", "decode", "steps_to_plain", "steps_from_plain",
           "to_json", "from_json", "markov_matrix", "markov_chain"]


# ------------------------------------------------------------------ references
@dataclass(frozen=True)
class Ref:
    """A value of an earlier step: what it returned, or (``arg`` set) its positional argument
    number ``arg`` as it was after the call (for functions that work in place); then a path of
    tuple indices (ints) and dict keys (strs)."""
    step: int | str
    path: tuple = ()
    arg: int | None = None

    def __getitem__(self, key) -> "Ref":
        return Ref(self.step, self.path + (key,), self.arg)


@dataclass(frozen=True)
class Size:
    """One of the case's sizes (``Case.sizes[name]``)."""
    name: str


@dataclass(frozen=True)
class Pack:
    """A dict argument built from inputs (names) or results: ``((key, value), ...)``."""
    items: tuple


@dataclass(frozen=True)
class Input:
    """An input by name, where a plain str would be a literal (keyword arguments)."""
    name: str


def result(step: int | str, *path) -> Ref:
    """The value step ``step`` (its name, or its index in ``steps``) returned, then ``path``."""
    for p in path:
        if isinstance(p, bool) or not isinstance(p, (int, str)):
            raise TypeError(f"result path items are ints (tuple positions) or strs (dict keys), "
                            f"got {p!r}")
    return Ref(step, tuple(path))


def argument(step: int | str, position: int, *path) -> Ref:
    """Positional argument ``position`` of step ``step`` after the call, then ``path``: what a
    function that works in place (``clip_grad_value(grads, v)``) did to its argument."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise TypeError(f"position must be an int >= 0, got {position!r}")
    return Ref(result(step, *path).step, tuple(path), position)


def size(name: str) -> Size:
    """The case's size ``name`` (e.g. ``size("V")`` for ``Case(dict(V=8, ...))``)."""
    return Size(name)


def pack(*names: str, **items) -> Pack:
    """A dict of inputs: ``pack("Wx", "Wh")`` is ``{"Wx": <input Wx>, "Wh": <input Wh>}``;
    ``pack(W=result("init", 0))`` takes a value from a step."""
    return Pack(tuple((n, n) for n in names) + tuple(items.items()))


def inp(name: str) -> Input:
    """An input passed as a keyword argument (``kwargs={"mask": inp("mask")}``)."""
    return Input(name)


# ------------------------------------------------------------------ questions
@dataclass(frozen=True)
class Step:
    """Call ``func(*args, **kwargs)``. ``args``: input names (str), :func:`result`,
    :func:`size` or :func:`pack`; ``kwargs``: literals or those (and :func:`inp`).
    ``name`` lets later steps and outputs refer to its result."""
    func: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True)
class Output:
    """A value to return and compare: ``ref`` is a :func:`result`.

    scalar: the value is a 0-d number (a loss); any float dtype is accepted.
    """
    name: str
    ref: Ref
    scalar: bool = False


@dataclass(frozen=True)
class Case:
    """One test: sizes, dtype, points; public cases have a fixed seed."""
    sizes: dict
    points: float
    dtype: str = "float64"
    public: bool = False
    seed: int | None = None
    visibility: str = "visible"


@dataclass(frozen=True)
class Question:
    """A graded question: the functions it grades and its cases.

    check: ``"match"`` compares every output with the reference; ``"module:function"``
    names a check in one of the assignment's own modules (``"checks:recall_accuracy"``
    is ``recall_accuracy`` in the assignment folder's ``checks.py``), which receives
    ``options``.
    """
    id: str
    title: str
    graded: tuple
    inputs: tuple
    steps: tuple
    outputs: tuple
    cases: tuple
    check: str = "match"
    options: dict = field(default_factory=dict)
    tol64: tuple = (1e-6, 1e-5)   # (atol, rtol) for float64 cases
    tol32: tuple = (1e-4, 1e-3)   # (atol, rtol) for float32 cases
    timeout: float = 10.0         # wall seconds per case

    def __post_init__(self):
        names = [s.name for s in self.steps if s.name is not None]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.id}: step names must be unique, got {names}")
        for o in self.outputs:
            if not isinstance(o.ref, Ref):
                raise TypeError(f"{self.id}: Output({o.name!r}) needs ref=result(...), "
                                f"got {o.ref!r}")
            step_index(self.steps, o.ref.step, self.id)
        for i, s in enumerate(self.steps):
            for v in list(s.args) + list(s.kwargs.values()):
                for r in _refs_in(v):
                    if step_index(self.steps, r.step, self.id) >= i:
                        raise ValueError(f"{self.id}: step {i} ({s.func}) uses the result of "
                                         f"step {r.step!r}, which does not run before it")

    @property
    def points(self) -> float:
        return float(sum(c.points for c in self.cases))

    def tolerance(self, dtype: str) -> tuple:
        return self.tol32 if np.dtype(dtype) == np.float32 else self.tol64


@dataclass(frozen=True)
class Assignment:
    """All questions of an assignment, and the references they use.

    references: student function name -> the reference, as ``"module:function"`` or a
    dotted path; a module that is a file of the assignment folder (``"reference"`` for
    ``reference.py``) is loaded from there, any other is imported.
    forbidden: dotted paths that a submission must not call; in the child they
    are replaced by stubs that raise ``ReferenceCallError``.
    allowed_modules: when given, the only coursekit modules (and packages)
    graded code may use; in the child every other ``coursekit.*`` module
    imports as stubs that raise, so no reference is reachable through it.
    blocked_imports: packages graded code may not use (e.g. ``("torch",)`` so that a
    training question runs on the student's own backward pass, not on autograd);
    they import as stand-ins that fail the test when used.
    package_data: paths inside the coursekit package (e.g. ``"data/files/imdb.npz"``)
    that the grader needs and the autograder zip must carry.
    folder: where ``tests.py`` was loaded from (set by the loader, not written).
    """
    name: str
    title: str
    questions: tuple
    references: dict
    forbidden: tuple = ()
    allowed_modules: tuple = ()
    blocked_imports: tuple = ()
    package_data: tuple = ()
    folder: str | None = None

    @property
    def points(self) -> float:
        return float(sum(q.points for q in self.questions))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"no question {qid!r}; questions are {[q.id for q in self.questions]}")


# ------------------------------------------------------------------ running steps
def _refs_in(value):
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Pack):
        for _, v in value.items:
            yield from _refs_in(v)


def step_index(steps, step: int | str, where: str = "") -> int:
    """The index in ``steps`` of a step given by name or index."""
    if isinstance(step, str):
        for i, s in enumerate(steps):
            if s.name == step:
                return i
        raise ValueError(f"{where}: no step named {step!r} (names: "
                         f"{[s.name for s in steps if s.name]})")
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(steps):
        raise ValueError(f"{where}: step {step!r} is not an index into {len(steps)} steps")
    return step


def _follow(value, path):
    for p in path:
        value = value[p]
    return value


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: _copy(v) for k, v in a.items()}
    return a


def _value(v, steps, inputs: dict, results: list, sizes: dict, positional: bool):
    if isinstance(v, Ref):
        return resolve_output(steps, results, v)
    if isinstance(v, Size):
        return sizes[v.name]
    if isinstance(v, Input):
        return inputs[v.name]
    if isinstance(v, Pack):
        return {k: _value(x, steps, inputs, results, sizes, True) for k, x in v.items}
    if positional and isinstance(v, str):
        return inputs[v]
    return v


def call_steps(steps, inputs: dict, lookup, sizes: dict) -> list:
    """Run ``steps`` with ``lookup(func_name) -> callable``; returns per step ``(result, args)``.

    Arguments are copied first (arrays, and the arrays inside packed dicts) so a function
    that writes into its inputs cannot change what a later step or the parent sees; the
    copies it received are kept, for :func:`argument`.
    """
    done = []
    for s in steps:
        args = [_copy(_value(a, steps, inputs, done, sizes, True)) for a in s.args]
        kwargs = {k: _copy(_value(v, steps, inputs, done, sizes, False)) for k, v in s.kwargs.items()}
        done.append((lookup(s.func)(*args, **kwargs), args))
    return done


def run_steps(question: Question, case: Case, inputs: dict, funcs: dict) -> dict:
    """Run the steps with ``funcs`` (name -> callable); return output name -> value."""
    results = call_steps(question.steps, inputs, funcs.__getitem__, case.sizes)
    return {o.name: resolve_output(question.steps, results, o.ref) for o in question.outputs}


def resolve_output(steps, done: list, ref: Ref):
    """The value ``ref`` names in what :func:`call_steps` returned for ``steps``."""
    value, args = done[step_index(steps, ref.step)]
    if ref.arg is not None:
        value = args[ref.arg]
    return _follow(value, ref.path)


def draw_inputs(question: Question, case: Case, rng: np.random.Generator, resolve=None) -> dict:
    """Every input of ``question`` for ``case``, in order, from ``rng``; a kind ``"module:function"`` is
    drawn by ``resolve(kind)(arg, case, rng, drawn)``, ``drawn`` the inputs before it (a dataset sample)."""
    drawn: dict = {}
    for a in question.inputs:
        if ":" in a.kind and resolve is None:
            raise ValueError(f"{question.id}: input {a.name} is drawn by {a.kind!r}: pass resolve")
        drawn[a.name] = (np.asarray(resolve(a.kind)(a, case, rng, dict(drawn))) if ":" in a.kind
                         else a.draw(rng, case.sizes, case.dtype))
    return drawn


# ------------------------------------------------------------------ JSON form
def encode(obj):
    """Plain-JSON form of steps, outputs and values (tuples become lists, helpers tagged)."""
    if isinstance(obj, Ref):
        return {"$ref": [obj.step, [encode(p) for p in obj.path], obj.arg]}
    if isinstance(obj, Size):
        return {"$size": obj.name}
    if isinstance(obj, Input):
        return {"$input": obj.name}
    if isinstance(obj, Pack):
        return {"$pack": [[k, encode(v)] for k, v in obj.items]}
    if isinstance(obj, (Step, Output, Case, Arg)):
        return {f.name: encode(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    return obj


def decode(obj):
    """Inverse of :func:`encode` for values (tagged dicts back to helpers, lists to tuples)."""
    if isinstance(obj, dict):
        if len(obj) == 1:
            (k, v), = obj.items()
            if k == "$ref":
                return Ref(v[0], tuple(decode(p) for p in v[1]), v[2])
            if k == "$size":
                return Size(v)
            if k == "$input":
                return Input(v)
            if k == "$pack":
                return Pack(tuple((kk, decode(vv)) for kk, vv in v))
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return tuple(decode(x) for x in obj)
    return obj


def steps_to_plain(steps) -> list:
    return [encode(s) for s in steps]


def steps_from_plain(plain) -> tuple:
    return tuple(Step(func=s["func"], args=tuple(decode(a) for a in s["args"]),
                      kwargs={k: decode(v) for k, v in s["kwargs"].items()}, name=s.get("name"))
                 for s in plain)


def to_json(assignment: Assignment, *, public_only: bool = True, extra: dict | None = None) -> str:
    """Compact, deterministic JSON of the assignment (public cases only by default)."""
    qs = []
    for q in assignment.questions:
        d = {f.name: encode(getattr(q, f.name)) for f in fields(q) if f.name != "cases"}
        d["cases"] = [encode(c) for c in q.cases if c.public or not public_only]
        qs.append(d)
    data = {f.name: encode(getattr(assignment, f.name)) for f in fields(assignment)
            if f.name not in ("questions", "folder")}
    data["questions"] = qs
    if extra:
        data["extra"] = extra
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> tuple[Assignment, dict]:
    """Inverse of :func:`to_json`: ``(assignment, extra)``."""
    d = json.loads(text)
    qs = []
    for q in d["questions"]:
        qs.append(Question(
            id=q["id"], title=q["title"], graded=tuple(q["graded"]),
            inputs=tuple(Arg(**{**a, "shape": decode(a["shape"])}) for a in q["inputs"]),
            steps=steps_from_plain(q["steps"]),
            outputs=tuple(Output(name=o["name"], ref=decode(o["ref"]), scalar=o["scalar"])
                          for o in q["outputs"]),
            cases=tuple(Case(**c) for c in q["cases"]),
            check=q["check"], options=q["options"], tol64=tuple(q["tol64"]),
            tol32=tuple(q["tol32"]), timeout=q["timeout"]))
    a = Assignment(name=d["name"], title=d["title"], questions=tuple(qs),
                   references=d["references"], forbidden=tuple(d["forbidden"]),
                   allowed_modules=tuple(d["allowed_modules"]),
                   blocked_imports=tuple(d["blocked_imports"]),
                   package_data=tuple(d.get("package_data", ())))
    return a, d.get("extra", {})
