"""coursekit.book.show: the book displays the package's real source, verbatim."""
from __future__ import annotations

import functools
import inspect
from pathlib import Path

import numpy as np
import pytest

import coursekit
from coursekit.book import show as show_mod
from coursekit.nn import rnn
from coursekit.train import gradcheck
from coursekit.book.show import SourceCode, show, source, source_code

PKG_ROOT = Path(coursekit.__file__).resolve().parent.parent


def _file_lines(sc: SourceCode) -> str:
    lines = (PKG_ROOT / sc.path).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(lines[sc.first_line - 1: sc.last_line])


@pytest.mark.parametrize("obj", [rnn.rnn_step_forward, rnn.rnn_forward, gradcheck.rel_error])
def test_function_source_is_the_file_text(obj):
    sc = source_code(obj)
    assert sc.path == Path(inspect.getfile(obj)).relative_to(PKG_ROOT).as_posix()
    assert sc.code == _file_lines(sc)                     # verbatim, top-level: no dedent needed
    assert sc.code.startswith(f"def {obj.__name__}(")
    assert source(obj) == sc.code
    assert sc.name == f"{obj.__module__}.{obj.__name__}"


def test_class_and_method_sources():
    cls = source_code(rnn.RNN)
    assert cls.code.startswith("class RNN(")
    assert cls.code == _file_lines(cls)
    meth = source_code(rnn.RNN.forward)
    assert meth.name == "coursekit.nn.rnn.RNN.forward"
    assert meth.code.startswith("def forward(self")       # dedented from the class body
    indented = _file_lines(meth)
    assert indented.startswith("    def forward(self")
    assert meth.code == "".join(line[4:] if line.strip() else line
                                for line in indented.splitlines(keepends=True))
    assert cls.first_line < meth.first_line <= meth.last_line <= cls.last_line


def test_bound_method_and_decorated_function():
    module = rnn.RNN(2, 3)
    assert source(module.forward) == source(rnn.RNN.forward)

    @functools.wraps(rnn.rnn_forward)
    def wrapper(*args):
        return rnn.rnn_forward(*args)

    assert source(wrapper) == source(rnn.rnn_forward)     # follows __wrapped__


def test_module_source_is_whole_file():
    sc = source_code(show_mod)
    assert sc.first_line == 1
    assert sc.code == Path(show_mod.__file__).read_text(encoding="utf-8")


@pytest.mark.parametrize("obj", [len, np.add, np.ndarray.sum, 3, "rnn_forward", None,
                                 rnn.RNN(2, 3)])
def test_objects_without_source_raise_type_error(obj):
    with pytest.raises(TypeError, match="no Python source|no source code"):
        source(obj)
    with pytest.raises(TypeError):
        show(obj)


def test_show_raises_before_displaying_anything(capsys):
    with pytest.raises(TypeError):
        show(rnn.rnn_forward, len)
    assert capsys.readouterr().out == ""


def test_markdown_has_header_and_fenced_python_block():
    sc = source_code(rnn.rnn_forward)
    md = sc._repr_markdown_()
    header, body = md.split("\n\n", 1)
    assert "coursekit.nn.rnn.rnn_forward" in header
    assert f"coursekit/nn/rnn.py, lines {sc.first_line}\N{EN DASH}{sc.last_line}" in header
    assert body.startswith("```python\n") and body.endswith("```\n")
    assert body[len("```python\n"):-len("```\n")] == sc.code


def test_fence_is_longer_than_backticks_in_the_code():
    sc = SourceCode(name="m.f", path="m.py", first_line=1, last_line=2,
                    code='def f():\n    return "```"\n')
    md = sc._repr_markdown_()
    assert "\n````python\n" in md and md.endswith("````\n")


def test_show_prints_outside_ipython(capsys):
    show(gradcheck.rel_error, gradcheck.grad_check)
    out = capsys.readouterr().out
    assert out.startswith("# coursekit.train.gradcheck.rel_error  (coursekit/train/gradcheck.py, lines ")
    assert source(gradcheck.rel_error) in out and source(gradcheck.grad_check) in out
    assert "# coursekit.train.gradcheck.grad_check" in out


def test_show_displays_markdown_in_ipython(monkeypatch):
    shown = []
    import IPython
    import IPython.display
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    assert show(rnn.rnn_step_forward, rnn.rnn_forward) is None
    assert [s.name for s in shown] == ["coursekit.nn.rnn.rnn_step_forward", "coursekit.nn.rnn.rnn_forward"]
    assert all(isinstance(s, SourceCode) for s in shown)
