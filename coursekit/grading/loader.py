"""Loading an assignment: its ``tests.py`` and the modules beside it (references, checks).

An assignment folder holds ``tests.py`` (the questions), usually ``reference.py``
(the solutions of the graded functions, which the grader runs to compute expected
outputs; never given to students) and optionally ``checks.py`` (checks of its own,
for training questions). They are loaded as one private package per folder, so the
local modules may import each other (``from .reference import ...``). Names in
``tests.py`` (references, checks) are ``"module:function"`` or dotted paths; a
module that is a file of the folder wins over an installed one.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import sys
import tempfile
import types
import zipfile
from dataclasses import replace
from pathlib import Path

from coursekit.grading.spec import Assignment

__all__ = ["GraderError", "load_assignment", "load_local", "resolve_name", "resolve_check", "reference_functions",
           "local_sources"]


class GraderError(Exception):
    """The grader itself cannot run (bad arguments, missing assignment)."""


def _package(folder: Path) -> str:
    """The private package name of ``folder``, created (and cached) on first use."""
    folder = folder.resolve()
    name = "_coursekit_assignment_" + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(folder)]
        pkg.__package__ = name
        sys.modules[name] = pkg
    return name


def _split(spec: str) -> tuple[str, str]:
    module, sep, attr = spec.partition(":")
    if not sep:
        module, _, attr = spec.rpartition(".")
    if not module or not attr:
        raise ValueError(f"{spec!r} must be 'module:function' or a dotted path 'module.function'")
    return module, attr


def load_local(folder: str | os.PathLike, name: str) -> types.ModuleType:
    """The module ``name`` (``name.py``) of an assignment folder."""
    if not (Path(folder) / f"{name}.py").is_file():
        raise ImportError(f"{folder} has no {name}.py")
    return importlib.import_module(f"{_package(Path(folder))}.{name}")


def resolve_name(spec: str, folder: str | os.PathLike | None):
    """The object ``spec`` names: from a module file of ``folder`` if there is one, else imported."""
    module, attr = _split(spec)
    if folder is not None and "." not in module and (Path(folder) / f"{module}.py").is_file():
        mod = load_local(folder, module)
    else:
        mod = importlib.import_module(module)
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise AttributeError(f"{spec!r}: {module} has no {attr!r}") from None


def resolve_check(name: str, folder: str | os.PathLike | None = None):
    """The check a question names: ``"match"`` or ``"module:function"`` (see :func:`resolve_name`)."""
    from coursekit.grading.compare import CHECKS
    if name in CHECKS:
        return CHECKS[name]
    module = name.partition(":")[0]
    local = folder is not None and (Path(folder) / f"{module}.py").is_file()
    if ":" not in name or not (local or module.startswith("coursekit.")):
        raise ValueError(f"unknown check {name!r}: use one of {sorted(CHECKS)} or "
                         f"'module:function' with a module of the assignment folder (e.g. "
                         f"'checks:my_check') or of coursekit")
    return resolve_name(name, folder)


def reference_functions(assignment: Assignment) -> dict:
    """Student function name -> the reference callable."""
    return {name: resolve_name(spec, assignment.folder) for name, spec in assignment.references.items()}


def local_sources(folder: str | os.PathLike) -> dict[str, bytes]:
    """Every ``*.py`` of the assignment folder (tests, references, checks): name -> bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob("*.py"))}


def load_assignment(path: str | os.PathLike) -> tuple[Assignment, Path]:
    """Load ``ASSIGNMENT`` from ``path/tests.py``; ``path`` may be the autograder zip.

    Returns the assignment (with ``folder`` set) and the folder. Every reference and
    check it names is resolved here, so a typo fails at loading, not per test.
    """
    path = Path(path)
    if path.suffix == ".zip" and path.is_file():
        tmp = Path(tempfile.mkdtemp(prefix="coursekit-bundle-"))
        with zipfile.ZipFile(path) as z:
            z.extractall(tmp)
        path = tmp
    tests = path / "tests.py"
    if not tests.is_file():
        raise GraderError(f"{path} is not an assignment: it has no tests.py "
                          f"(pass the folder assignments/<name> or its autograder zip)")
    pkg = _package(path)
    for name in [m for m in sys.modules if m.startswith(pkg + ".")]:
        del sys.modules[name]  # load the folder's files afresh (they may have changed)
    try:
        mod = importlib.import_module(f"{pkg}.tests")
    except Exception as e:  # noqa: BLE001 - report any error in the instructor's file
        raise GraderError(f"{tests} cannot be loaded: {type(e).__name__}: {e}") from e
    if not isinstance(getattr(mod, "ASSIGNMENT", None), Assignment):
        raise GraderError(f"{tests} must define ASSIGNMENT = Assignment(...)")
    assignment = replace(mod.ASSIGNMENT, folder=str(path.resolve()))
    for name, spec in assignment.references.items():
        try:
            resolve_name(spec, assignment.folder)
        except (ValueError, ImportError, AttributeError) as e:
            raise GraderError(f"{tests}: the reference of {name} is {spec!r}: {e}") from e
    for q in assignment.questions:
        try:
            resolve_check(q.check, assignment.folder)
        except (ValueError, ImportError, AttributeError) as e:
            raise GraderError(f"{tests}: question {q.id} names check {q.check!r}: {e}") from e
    return assignment, path
