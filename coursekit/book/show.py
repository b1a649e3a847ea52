"""Show the real source code of coursekit objects inside a notebook.

Chapters never paste code from the package: they call :func:`show`, which
reads the function's or class's source from the installed file, so the book
always displays exactly the code that the tests check.

    >>> from coursekit.book.show import show
    >>> from coursekit import rnn
    >>> show(rnn.rnn_step_forward, rnn.rnn_forward)     # doctest: +SKIP

Each object is displayed as a Markdown fenced code block (syntax-highlighted
in JupyterLab and by Sphinx in the rendered book) under a header line naming
the object, its file and its line numbers. Outside a notebook, ``print`` of a
:class:`SourceCode` gives the same text.
"""
from __future__ import annotations

import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceCode", "source", "source_code", "show"]


@dataclass(frozen=True)
class SourceCode:
    """The source of one object and where it lives (what :func:`show` displays)."""

    name: str          # dotted name, e.g. "coursekit.nn.rnn.rnn_forward"
    path: str          # file, relative to the package's parent when possible
    first_line: int    # 1-based, inclusive
    last_line: int     # 1-based, inclusive
    code: str          # dedented source text, ending in a newline

    @property
    def header(self) -> str:
        return f"{self.name}  ({self.path}, lines {self.first_line}-{self.last_line})"

    def _repr_markdown_(self) -> str:
        # A fence longer than any run of backticks inside the code keeps it intact.
        longest = max((len(m) for m in re.findall(r"`+", self.code)), default=0)
        fence = "`" * max(3, longest + 1)
        return (f"**`{self.name}`** \N{EM DASH} *{self.path}, "
                f"lines {self.first_line}\N{EN DASH}{self.last_line}*\n\n"
                f"{fence}python\n{self.code}{fence}\n")

    def __str__(self) -> str:
        return f"# {self.header}\n{self.code}"

    def __repr__(self) -> str:  # text/plain in a notebook: readable, not a dataclass dump
        return str(self)


def _describe(obj) -> str:
    kind = type(obj).__name__
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"{kind} {name!r}" if name else f"{kind} {obj!r:.60}"


def _dotted_name(obj) -> str:
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "?")
    return f"{module}.{qualname}" if module else qualname


def _display_path(filename: str, obj) -> str:
    """``coursekit/rnn.py`` rather than an absolute path that differs per machine."""
    path = Path(filename).resolve()
    top = (getattr(obj, "__module__", None) or getattr(obj, "__name__", "")).split(".")[0]
    pkg = sys.modules.get(top)
    pkg_file = getattr(pkg, "__file__", None)
    if pkg_file and Path(pkg_file).name == "__init__.py":
        root = Path(pkg_file).resolve().parent.parent
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


def source_code(obj) -> SourceCode:
    """Find the source of a Python-defined function, class, method or module.

    Raises:
        TypeError: ``obj`` has no Python source (a builtin, a C extension
            function, a number, an instance, or code whose file is gone).
    """
    target = inspect.unwrap(obj) if callable(obj) else obj
    if isinstance(target, (staticmethod, classmethod)):
        target = target.__func__
    if isinstance(target, property):
        target = target.fget
    if not (inspect.isfunction(target) or inspect.isclass(target)
            or inspect.ismethod(target) or inspect.ismodule(target)):
        raise TypeError(
            f"show()/source() need a function, class, method or module written in Python; "
            f"got {_describe(obj)}, which has no Python source"
            + (" (it is implemented in C)" if inspect.isbuiltin(obj) or inspect.ismethoddescriptor(obj)
               else ""))
    try:
        lines, first = inspect.getsourcelines(target)
        filename = inspect.getsourcefile(target) or inspect.getfile(target)
    except (OSError, TypeError) as exc:
        raise TypeError(f"no source code available for {_describe(obj)}: {exc}") from exc
    first = max(first, 1)  # modules report line 0
    code = textwrap.dedent("".join(lines))
    if not code.endswith("\n"):
        code += "\n"
    return SourceCode(name=_dotted_name(target), path=_display_path(filename, target),
                      first_line=first, last_line=first + len(lines) - 1, code=code)


def source(obj) -> str:
    """The source text of ``obj`` exactly as in its file, dedented (methods lose their indent)."""
    return source_code(obj).code


def show(obj, *others) -> None:
    """Display the real source of one or more coursekit objects in a notebook.

    Each object appears under a header naming it, its file and line numbers,
    as a highlighted code block. Outside IPython the text is printed.
    Raises ``TypeError`` (before displaying anything) for objects without source.
    """
    blocks = [source_code(o) for o in (obj, *others)]
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(*blocks)
    else:
        print("\n".join(str(b) for b in blocks))
