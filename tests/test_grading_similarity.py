"""The similarity report (issue 14): a disguised copy is flagged, an independent solution is not.

Fast: fingerprints only, no grading (the class test grades and checks the CSV and report).
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import textwrap

import nbformat
import numpy as np
import pytest

from coursekit.grading import similarity as S
from grading_support import ROOT

SOURCES = sorted(p for p in (ROOT / "assignments").glob("*/*.ipynb"))


class _Rename(ast.NodeTransformer):
    """Every variable and argument renamed, as a student hiding a copy would."""

    def __init__(self):
        self.names: dict = {}

    def _new(self, name):
        return self.names.setdefault(name, f"var{len(self.names)}")

    def visit_Name(self, node):
        if node.id in self.keep:
            return node
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        return node


def _assigned(stmt) -> set:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _read(stmt) -> set:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def disguised_copy(func) -> tuple[str, str]:
    """(name, source) of ``func`` renamed, its docstring dropped and every pair of adjacent
    independent statements swapped: the same function, disguised."""
    module = importlib.import_module(func.__module__)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    fn = tree.body[0]
    fn.name = "my_" + fn.name
    body = [s for s in fn.body if not S._is_docstring(s)]
    i, swaps = 0, 0
    while i + 1 < len(body):
        a, b = body[i], body[i + 1]
        if not isinstance(a, ast.Return) and not isinstance(b, ast.Return) and \
                not (_assigned(a) & (_read(b) | _assigned(b))) and not (_assigned(b) & _read(a)):
            body[i], body[i + 1] = b, a
            swaps += 1
            i += 2
        else:
            i += 1
    fn.body = body
    renamer = _Rename()
    renamer.keep = set(vars(module)) | set(dir(builtins))  # globals stay what they are
    renamer.visit(fn)
    assert swaps >= 1, f"{func.__name__}: nothing to reorder"
    return fn.name, ast.unparse(tree)


@pytest.mark.parametrize("qualname", ["coursekit.nn.rnn.rnn_backward",
                                      "coursekit.nn.lstm.lstm_step_backward",
                                      "coursekit.nn.attention.additive_attention_backward",
                                      "coursekit.train.clip.clip_grad_norm"])
def test_a_renamed_copy_with_reordered_lines_is_flagged(qualname):
    module, _, name = qualname.rpartition(".")
    func = getattr(importlib.import_module(module), name)
    new_name, code = disguised_copy(func)
    assert name not in code.replace(new_name, "")  # nothing left of the original's own name
    ns = dict(vars(importlib.import_module(module)))
    exec(code, ns)  # the disguise is still the same function
    flags = S.compare_class({"mallory": [code]}, [new_name])
    assert flags and flags[0].other == qualname and flags[0].similarity >= S.THRESHOLD, flags
    assert flags[0].line().startswith(f"mallory: {new_name} ~ {qualname} (")


def test_the_disguise_computes_what_the_original_does():
    from coursekit.nn import rnn
    name, code = disguised_copy(rnn.rnn_backward)
    ns = dict(vars(rnn))
    exec(code, ns)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5))
    Wx, Wh, b = rng.standard_normal((3, 5)), 0.3 * rng.standard_normal((5, 5)), rng.standard_normal(5)
    h, cache = rnn.rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    for got, want in zip(ns[name](dh, cache), rnn.rnn_backward(dh, cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_independent_solutions_are_not_flagged():
    """The instructor sources solve every assignment independently of the package: none of
    their graded functions is flagged against coursekit, nor against another source."""
    from coursekit.grading.loader import load_assignment
    subs, graded = {}, set()
    for src in SOURCES:
        if src.parent.name == "release":
            continue
        assignment, _ = load_assignment(src.parent)
        graded |= {g for q in assignment.questions for g in q.graded}
        subs[src.stem] = [c.source for c in nbformat.read(src, as_version=4).cells
                          if c.cell_type == "code"]
    assert len(subs) >= 4
    flags = S.compare_class(subs, sorted(graded))
    assert flags == [], [f.line() for f in flags]


def test_a_copy_between_submissions_is_flagged_once_and_tiny_functions_never():
    source = ROOT / "assignments" / "a3_gated_cells" / "a3_gated_cells.ipynb"
    cells = [c.source for c in nbformat.read(source, as_version=4).cells if c.cell_type == "code"]
    (fn,) = [c for c in cells if c.startswith("def mgu_step_backward")]
    tree = ast.parse(fn)
    renamer = _Rename()
    renamer.keep = {"np", "sigmoid"}
    renamer.visit(tree.body[0])
    copied = ast.unparse(tree)
    tiny = "def mgu_forward(x, h0, Wx, Wh, b):\n    return x, None\n"
    flags = S.compare_class({"ann": cells, "ben": [copied, tiny], "cat": [tiny]},
                            ["mgu_step_backward", "mgu_forward"])
    assert [(f.submission, f.function, f.other) for f in flags] == \
        [("ann", "mgu_step_backward", "ben: mgu_step_backward")]
    assert flags[0].similarity == 1.0
    text = S.report_text(flags, 3)
    assert "1 flagged" in text and "Nothing here changes a score" in text
    assert "No pair reached" in S.report_text([], 3)


def test_fingerprints_ignore_names_literals_and_docstrings():
    a = ast.parse('def f(x, y):\n    """doc"""\n    z = x @ y + 1.0\n    w = np.tanh(z)\n'
                  '    return w.sum(axis=0)\n').body[0]
    b = ast.parse('def g(p, q):\n    r = p @ q + 7\n    s = np.tanh(r)\n    return s.sum(axis=1)\n').body[0]
    c = ast.parse('def g(p, q):\n    r = p @ q + 7\n    s = np.exp(r)\n    return s.sum(axis=1)\n').body[0]
    assert S.fingerprint(a) == S.fingerprint(b)
    assert S.fingerprint(a) != S.fingerprint(c)  # np.tanh and np.exp are what the code does
