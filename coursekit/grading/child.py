"""The child process: runs a submission's code and hands back raw arrays.

Started by :mod:`coursekit.grading.sandbox` as ``python -m
coursekit.grading.child`` with its working directory set to a fresh scratch
folder that holds only

- ``plan.json``: the code cells, the forbidden reference paths, and for each
  test the steps to call (function names and arguments) and the outputs to keep;
- ``todo.json``: the indices of the tests still to run;
- ``inputs.npz``: the inputs the parent drew (never the expected outputs).

For each test it writes ``progress`` (the test it is about to run), then
``out/K.npz`` (arrays only) or ``out/K.err`` (a short message). The parent
decides pass or fail; nothing written here is trusted.

What runs of the notebook: only definitions. Imports, ``def``, ``class``,
``try`` blocks around them and assignments whose right-hand side calls
nothing (``H = 32``, ``act = np.tanh``). Top-level calls (training loops,
gradient checks, ``check("q1")``, prints) are skipped, so grading is fast and
graded functions must take everything they need as arguments.
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import sys
import traceback
import types

import numpy as np

# imported before any student code runs, like the saved builtins below
from coursekit.grading.spec import call_steps, decode, resolve_output, steps_from_plain

_isinstance, _type, _str, _len = isinstance, type, str, len  # before any student code runs
_open, _replace = open, os.replace

MAX_MSG = 1500


class ReferenceCallError(RuntimeError):
    """Raised when a submission calls a coursekit reference of a graded function."""


# ------------------------------------------------------------------- guards
def _stub(full: str, why: str):
    def stub(*args, **kwargs):
        raise ReferenceCallError(f"{full} {why}; graded functions must be your own code, so "
                                 f"calling it earns nothing")
    mod, _, attr = full.rpartition(".")
    stub.__name__ = stub.__qualname__ = attr
    stub.__module__ = mod
    stub._coursekit_reference = full
    return stub


REFERENCE = "is the coursekit reference of a graded function"


class _GuardModule(types.ModuleType):
    """Stands in for a coursekit module.

    ``blocked`` names (or every name, when ``blocked`` is None) are stubs that
    raise :class:`ReferenceCallError`; other names load the real module lazily.
    """

    def __init__(self, name: str, origin: str | None, blocked: set | None, why: str):
        super().__init__(name)
        self.__dict__.update(_blocked=blocked, _stubs={}, _why=why, _origin=origin, _real=None,
                             __spec__=None, __file__=origin)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if self._blocked is None or attr in self._blocked:
            if attr not in self._stubs:
                self._stubs[attr] = _stub(f"{self.__name__}.{attr}", self._why)
            return self._stubs[attr]
        if self._real is None:
            import importlib.util
            spec = importlib.util.spec_from_file_location("_coursekit_guarded." + self.__name__,
                                                          self._origin)
            real = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(real)
            self.__dict__["_real"] = real
        return getattr(self._real, attr)

    def __dir__(self):
        return sorted(self._blocked or ())


class BlockedImportError(RuntimeError):
    """Graded code used a package the assignment keeps out of reach (e.g. torch)."""


class _Blocked:
    """What ``torch.nn.LSTM`` resolves to when torch is blocked: any call raises."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Blocked(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        top = self._name.split(".")[0]
        raise BlockedImportError(f"{self._name}: {top} is not available to graded code in this "
                                 f"assignment; write it with numpy")


class _BlockedPackage(types.ModuleType):
    """Stands in for a blocked package: importing works, using it raises."""

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Blocked(f"{self.__name__}.{attr}")


class _BlockFinder:
    """Import hook: a coursekit module outside ``allowed`` imports as a fully blocked guard,
    and a package in ``blocked`` (with its submodules) as a :class:`_BlockedPackage`."""

    def __init__(self, allowed: list[str], blocked: list[str] = ()):
        self.allowed = allowed
        self.blocked = list(blocked)

    def _is_allowed(self, name: str) -> bool:
        if not self.allowed:
            return True
        return name == "coursekit" or any(name == a or name.startswith(a + ".")
                                          or a.startswith(name + ".")  # a parent package
                                          for a in self.allowed)

    def _is_blocked(self, name: str) -> bool:
        return any(name == b or name.startswith(b + ".") for b in self.blocked)

    def find_spec(self, name, path=None, target=None):
        if self._is_blocked(name) or (name.startswith("coursekit.") and not self._is_allowed(name)):
            import importlib.util
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        if self._is_blocked(spec.name):
            return _BlockedPackage(spec.name)
        why = ("is part of coursekit, which this assignment's graded code may not use "
               f"(allowed: {', '.join(self.allowed)})")
        guard = _GuardModule(spec.name, None, None, why)
        guard.__dict__["__path__"] = []  # a package too: its submodules import as guards
        return guard

    def exec_module(self, module):
        pass


def install_guards(forbidden: list[str], allowed: list[str] | None = None,
                   blocked: list[str] | None = None) -> None:
    """Stub the ``forbidden`` functions; with ``allowed``, block every other coursekit module;
    packages in ``blocked`` (e.g. torch) import as stand-ins that raise when used."""
    import importlib
    import importlib.util
    finder = _BlockFinder(allowed or [], blocked or []) if (allowed or blocked) else None
    if finder:
        for name in [m for m in sys.modules if m.startswith("coursekit.") or finder._is_blocked(m)]:
            if not finder._is_allowed(name) or finder._is_blocked(name):
                del sys.modules[name]
        sys.meta_path.insert(0, finder)
    by_module: dict[str, set] = {}
    for full in forbidden:
        mod, _, attr = full.rpartition(".")
        if finder is None or finder._is_allowed(mod):
            by_module.setdefault(mod, set()).add(attr)
    for mod, blocked in by_module.items():
        spec = importlib.util.find_spec(mod)  # imports the parent package only
        guard = _GuardModule(mod, spec.origin, blocked, REFERENCE)
        sys.modules[mod] = guard
        parent, _, child = mod.rpartition(".")
        if parent:
            setattr(importlib.import_module(parent), child, guard)


# -------------------------------------------------------------------- cells
def _has_call(node) -> bool:
    if _isinstance(node, ast.Lambda):
        return False  # a lambda's body runs only when called
    if _isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
        return True
    return any(_has_call(c) for c in ast.iter_child_nodes(node))


def _names_only(target) -> bool:
    if _isinstance(target, ast.Name):
        return True
    return _isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(t) for t in target.elts)


def _keep(stmt):
    """The statement if it only defines things, a pruned copy for ``try``, else None."""
    if _isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                          ast.ClassDef)):
        return stmt
    if _isinstance(stmt, ast.Assign) and all(_names_only(t) for t in stmt.targets) \
            and not _has_call(stmt.value):
        return stmt
    if _isinstance(stmt, ast.AnnAssign) and _names_only(stmt.target) and stmt.value is not None \
            and not _has_call(stmt.value):
        return stmt
    if _isinstance(stmt, ast.Try):
        def prune(body):
            kept = [s for s in (_keep(b) for b in body) if s is not None]
            return kept or [ast.Pass()]
        stmt.body = prune(stmt.body)
        for h in stmt.handlers:
            h.body = prune(h.body)
        stmt.orelse = [s for s in (_keep(b) for b in stmt.orelse) if s is not None]
        stmt.finalbody = [s for s in (_keep(b) for b in stmt.finalbody) if s is not None]
        return stmt
    return None


def strip_magics(source: str) -> str | None:
    """IPython magics and shell escapes become ``pass``; most cell magics skip the cell."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if lines[0].split()[0] not in ("%%time", "%%timeit", "%%capture"):
            return None
        lines = lines[1:]
    out = []
    for line in lines:
        s = line.lstrip()
        out.append(line[: _len(line) - _len(s)] + "pass" if s.startswith(("%", "!")) else line)
    return "\n".join(out)


def run_cells(cells: list[str], ns: dict) -> list[str]:
    """Execute the definitions of every cell in ``ns``; return one message per failed cell."""
    errors = []
    for i, source in enumerate(cells):
        label = f"code cell {i + 1}"
        try:
            src = strip_magics(source)
            if src is None:
                continue
            tree = ast.parse(src, filename=label)
            tree.body = [s for s in (_keep(b) for b in tree.body) if s is not None]
            ast.fix_missing_locations(tree)
            exec(compile(tree, label, "exec"), ns)
        except SyntaxError as e:
            errors.append(f"{label}: SyntaxError: {e.msg} (line {e.lineno})")
        except BaseException as e:  # noqa: BLE001 - SystemExit from a cell must not end grading
            errors.append(f"{label}: {_type(e).__name__}: {_str(e)[:200]}")
    return errors


# -------------------------------------------------------------------- tests
def _as_array(name: str, value) -> np.ndarray:
    if _isinstance(value, np.ndarray):
        arr = np.array(value, copy=True, subok=False)  # plain ndarray: drops any subclass
    elif _isinstance(value, (float, int, np.floating, np.integer)) and not _isinstance(value, bool):
        arr = np.array(value)
    else:
        raise TypeError(f"{name} must be a numpy array, got {_type(value).__name__}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr


def _lookup(ns: dict, func: str, setup_errors: list[str]):
    fn = ns.get(func)
    if fn is None:
        hint = ("; these cells failed: " + " | ".join(setup_errors)) if setup_errors else ""
        raise NameError(f"{func} is not defined in your notebook{hint}")
    ref = getattr(fn, "_coursekit_reference", None)
    if ref is not None:
        raise ReferenceCallError(f"{func} is {ref}, the coursekit reference; graded functions "
                                 f"must be your own code, so it earns nothing")
    if not callable(fn):
        raise TypeError(f"{func} must be a function, got {_type(fn).__name__}")
    return fn


def run_test(test: dict, key: str, inputs: dict, ns: dict, setup_errors: list[str]) -> dict:
    steps = steps_from_plain(test["steps"])
    mine = {k[len(key) + 2:]: v for k, v in inputs.items() if k.startswith(key + "__")}
    results = call_steps(steps, mine, lambda f: _lookup(ns, f, setup_errors), test["sizes"])
    out = {}
    for o in test["outputs"]:
        try:
            value = resolve_output(steps, results, decode(o["ref"]))
        except (IndexError, KeyError, TypeError) as e:
            raise TypeError(f"could not find {o['name']} in what your function returned "
                            f"({_type(e).__name__}: {e}); check the number and order of "
                            f"returned values") from None
        out[o["name"]] = _as_array(o["name"], value)
    return out


def _write(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with _open(tmp, "wb") as f:
        f.write(data)
    _replace(tmp, path)


def main() -> None:
    here = os.getcwd()
    with _open("plan.json") as f:
        plan = json.load(f)
    with _open("todo.json") as f:
        todo = json.load(f)
    with np.load("inputs.npz", allow_pickle=False) as data:
        inputs = {k: data[k] for k in data.files}
    os.makedirs("out", exist_ok=True)
    install_guards(plan["forbidden"], plan.get("allowed"), plan.get("blocked_imports"))
    ns = {"__name__": "__main__", "__builtins__": builtins}
    setup_errors = run_cells(plan["cells"], ns)
    _write(os.path.join(here, "setup_done"), b"1")
    saved = (dict(builtins.__dict__), dict(np.__dict__), sys.stdout, sys.stderr,
             sys.getrecursionlimit())
    for k in todo:
        _write(os.path.join(here, "progress"), _str(k).encode())
        base = os.path.join(here, "out", _str(k))
        arrays = error = None
        try:
            arrays = run_test(plan["tests"][k], f"t{k}", inputs, ns, setup_errors)
        except BaseException as e:  # noqa: BLE001 - SystemExit, KeyboardInterrupt included
            error = e
        # each test starts from clean builtins, numpy and streams; restore before reporting
        builtins.__dict__.clear()
        builtins.__dict__.update(saved[0])
        np.__dict__.update(saved[1])
        sys.stdout, sys.stderr = saved[2], saved[3]
        sys.setrecursionlimit(saved[4])
        os.chdir(here)
        if error is None:
            tmp = base + ".tmp.npz"
            np.savez(tmp, **arrays)
            _replace(tmp, base + ".npz")
        else:
            tb = traceback.extract_tb(error.__traceback__)
            where = next((f" ({fr.filename}, line {fr.lineno})" for fr in reversed(tb)
                          if fr.filename.startswith("code cell")), "")
            _write(base + ".err", f"{_type(error).__name__}: {error}{where}"[:MAX_MSG].encode())
    _write(os.path.join(here, "finished"), b"1")
    try:
        sys.__stdout__.flush()
        sys.__stderr__.flush()
    finally:
        os._exit(0)  # skip atexit hooks a submission may have registered


if __name__ == "__main__":
    main()
