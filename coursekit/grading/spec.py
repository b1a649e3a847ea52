"""How an assignment's ``tests.py`` declares its questions.

A question grades one or more student functions. Each of its cases says how
the parent draws the inputs (:class:`Arg`), which student functions the child
calls with them (:class:`Step`), which returned values come back as arrays
(:class:`Output`), and how many points the case is worth. The parent computes
the expected values itself by running the same steps with the coursekit
reference functions (``Assignment.references``); the child never sees them.

Everything here is plain data (JSON-serialisable through :func:`to_json`), so
the public cases can be embedded in the student notebook for ``check("q1")``.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import numpy as np

#: ``$0.1[Wx]``: element 1 of step 0's tuple result, then key ``Wx`` of that dict.
REF_RE = re.compile(r"^\$(\d+)((?:\.\d+|\[[A-Za-z_]\w*\])*)$")
REF_PART_RE = re.compile(r"\.(\d+)|\[([A-Za-z_]\w*)\]")


@dataclass(frozen=True)
class Arg:
    """One input array and how to draw it.

    kind: ``normal`` (scale * N(0, 1)), ``uniform`` (U(-scale, scale)),
    ``unit`` (U[0, 1): the random stream of a sampler), ``int`` (integers in
    ``[0, high)``), ``mask`` (booleans, True with probability ``p``, at least
    one True per row), ``cycle`` (a random permutation of ``range(high)``
    repeated to the shape: learnable text), ``markov`` (text from a random
    first-order Markov chain over ``high`` symbols whose rows have sharpness
    ``scale``: learnable text with a known entropy).
    Shapes and ``high`` may name sizes (``"N"``) fixed by each :class:`Case`.
    """
    name: str
    shape: tuple = ()
    kind: str = "normal"
    scale: float = 1.0
    high: int | str | None = None
    p: float = 0.7

    def draw(self, rng: np.random.Generator, sizes: dict, dtype: str) -> np.ndarray:
        shape = tuple(int(sizes[s]) if isinstance(s, str) else int(s) for s in self.shape)
        high = int(sizes[self.high]) if isinstance(self.high, str) else self.high
        if self.kind == "normal":
            return (self.scale * rng.standard_normal(shape)).astype(dtype)
        if self.kind == "uniform":
            return rng.uniform(-self.scale, self.scale, shape).astype(dtype)
        if self.kind == "unit":
            return rng.random(shape).astype(dtype)
        if self.kind == "int":
            return rng.integers(0, high, shape).astype(np.int64)
        if self.kind == "mask":
            m = rng.random(shape) < self.p
            m[..., 0] = True  # every sequence keeps at least one step
            return m
        if self.kind == "cycle":
            period = rng.permutation(high)
            size = int(np.prod(shape))
            return np.resize(period, size).reshape(shape).astype(np.int64)
        if self.kind == "markov":
            P = markov_matrix(rng, high, self.scale)
            start = int(rng.integers(high))
            return markov_chain(P, int(np.prod(shape)), rng, start).reshape(shape)
        raise ValueError(f"unknown Arg kind {self.kind!r} for {self.name}")


def markov_matrix(rng: np.random.Generator, V: int, sharpness: float) -> np.ndarray:
    """A random transition matrix: row a is softmax(sharpness * z_a), z_a ~ N(0, I)."""
    z = sharpness * rng.standard_normal((V, V))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def markov_chain(P: np.ndarray, length: int, rng: np.random.Generator, start: int) -> np.ndarray:
    """``length`` states of the chain with transitions ``P`` (V, V) from ``start``, int64."""
    cdf = np.cumsum(P, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(length)
    out = np.empty(length, dtype=np.int64)
    s = int(start)
    for t in range(length):
        out[t] = s
        s = int(np.searchsorted(cdf[s], u[t], side="right"))
    return out


@dataclass(frozen=True)
class Step:
    """Call ``func(*args, **kwargs)``; an arg is an input name or a ``$i...`` reference.

    A string kwarg value ``"@V"`` means the case's size ``V``.
    """
    func: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """A value to return and compare: ``ref`` into the step results.

    scalar: the value is a 0-d number (a loss); any float dtype is accepted.
    """
    name: str
    ref: str
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

    check: ``"match"`` compares every output with the reference; any other
    name picks a check through :func:`coursekit.grading.compare.resolve_check`, which
    receives ``options``.
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

    @property
    def points(self) -> float:
        return float(sum(c.points for c in self.cases))

    def tolerance(self, dtype: str) -> tuple:
        return self.tol32 if np.dtype(dtype) == np.float32 else self.tol64


@dataclass(frozen=True)
class Assignment:
    """All questions of an assignment, and the coursekit references they use.

    references: student function name -> dotted path of the reference.
    forbidden: dotted paths that a submission must not call; in the child they
    are replaced by stubs that raise ``ReferenceCallError``.
    allowed_modules: when given, the only coursekit modules (and packages)
    graded code may use; in the child every other ``coursekit.*`` module
    imports as stubs that raise, so no reference is reachable through it.
    blocked_imports: packages graded code may not use (e.g. ``("torch",)`` so that a
    training question runs on the student's own backward pass, not on autograd);
    they import as stand-ins that fail the test when used.
    """
    name: str
    title: str
    questions: tuple
    references: dict
    forbidden: tuple = ()
    allowed_modules: tuple = ()
    blocked_imports: tuple = ()

    @property
    def points(self) -> float:
        return float(sum(q.points for q in self.questions))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"no question {qid!r}; questions are {[q.id for q in self.questions]}")


def parse_ref(ref: str) -> tuple[int, list]:
    """``"$1.0[Wx]"`` -> ``(1, [0, "Wx"])``."""
    m = REF_RE.match(ref)
    if not m:
        raise ValueError(f"bad output reference {ref!r}")
    parts = [int(i) if i else k for i, k in REF_PART_RE.findall(m.group(2))]
    return int(m.group(1)), parts


def resolve(ref: str, results: list):
    """Look a reference up in the list of step results (no conversion)."""
    step, parts = parse_ref(ref)
    value = results[step]
    for p in parts:
        value = value[p]
    return value


def draw_inputs(question: Question, case: Case, rng: np.random.Generator) -> dict:
    """Draw every input of ``question`` for ``case`` from ``rng``."""
    return {a.name: a.draw(rng, case.sizes, case.dtype) for a in question.inputs}


def step_kwargs(step: Step, sizes: dict) -> dict:
    return {k: (sizes[v[1:]] if isinstance(v, str) and v.startswith("@") else v)
            for k, v in step.kwargs.items()}


def run_steps(question: Question, case: Case, inputs: dict, funcs: dict) -> dict:
    """Run the steps with ``funcs`` (name -> callable); return output name -> value."""
    results = []
    for step in question.steps:
        args = [resolve(a, results) if a.startswith("$") else inputs[a] for a in step.args]
        results.append(funcs[step.func](*args, **step_kwargs(step, case.sizes)))
    return {o.name: resolve(o.ref, results) for o in question.outputs}


# ----------------------------------------------------------------- JSON form
def _tuples_to_lists(obj):
    if isinstance(obj, (list, tuple)):
        return [_tuples_to_lists(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _tuples_to_lists(v) for k, v in obj.items()}
    return obj


def to_json(assignment: Assignment, *, public_only: bool = True) -> str:
    """Compact, deterministic JSON of the assignment (public cases only by default)."""
    qs = []
    for q in assignment.questions:
        d = asdict(q)
        d["cases"] = [asdict(c) for c in q.cases if c.public or not public_only]
        qs.append(d)
    data = {"name": assignment.name, "title": assignment.title, "questions": qs,
            "references": assignment.references, "forbidden": list(assignment.forbidden),
            "allowed_modules": list(assignment.allowed_modules),
            "blocked_imports": list(assignment.blocked_imports)}
    return json.dumps(_tuples_to_lists(data), sort_keys=True, separators=(",", ":"))


def _tup(x):
    return tuple(_tup(i) for i in x) if isinstance(x, list) else x


def from_json(text: str) -> Assignment:
    """Inverse of :func:`to_json`."""
    d = json.loads(text)
    qs = []
    for q in d["questions"]:
        qs.append(Question(
            id=q["id"], title=q["title"], graded=tuple(q["graded"]),
            inputs=tuple(Arg(**{**a, "shape": _tup(a["shape"])}) for a in q["inputs"]),
            steps=tuple(Step(func=s["func"], args=tuple(s["args"]), kwargs=s["kwargs"])
                        for s in q["steps"]),
            outputs=tuple(Output(**o) for o in q["outputs"]),
            cases=tuple(Case(**c) for c in q["cases"]),
            check=q["check"], options=q["options"], tol64=tuple(q["tol64"]),
            tol32=tuple(q["tol32"]), timeout=q["timeout"]))
    return Assignment(name=d["name"], title=d["title"], questions=tuple(qs),
                      references=d["references"], forbidden=tuple(d["forbidden"]),
                      allowed_modules=tuple(d.get("allowed_modules", ())),
                      blocked_imports=tuple(d.get("blocked_imports", ())))
