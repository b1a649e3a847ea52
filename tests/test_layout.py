"""The package's shape: one-way data flow, no import cycles, files you can read in one sitting.

- every coursekit module imports in a fresh interpreter, and none of them imports
  the book's notebooks or the assignments (data flows one way);
- no import cycle between coursekit modules (read from their import statements);
- no module over 400 lines.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import coursekit

ROOT = Path(__file__).resolve().parents[1]
PKG = Path(coursekit.__file__).resolve().parent
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = ["coursekit", *path.relative_to(PKG).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path, module: str) -> set[str]:
    """coursekit modules that ``module`` imports (at any depth of the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in MODULES and m != module}


def test_every_module_imports_in_a_fresh_interpreter_without_book_or_assignments():
    code = ("import importlib, json, sys\n"
            f"mods = {sorted(m for m in MODULES if not m.endswith('__main__'))!r}\n"
            "bad = {}\n"
            "for m in mods:\n"
            "    try:\n"
            "        importlib.import_module(m)\n"
            "    except Exception as e:\n"
            "        bad[m] = f'{type(e).__name__}: {e}'\n"
            "leaks = sorted(k for k, v in sys.modules.items() if k.split('.')[0] in "
            "('book', 'assignments', 'tests', 'benchmarks') or "
            "str(getattr(v, '__file__', '') or '').startswith("
            f"({str(ROOT / 'book')!r}, {str(ROOT / 'assignments')!r})))\n"
            "print(json.dumps({'bad': bad, 'leaks': leaks}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd="/")
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["bad"] == {}
    assert report["leaks"] == []


def test_no_module_imports_the_book_or_assignments():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert n.split(".")[0] not in ("book", "assignments", "tests", "benchmarks"), \
                    f"{module} imports {n}: coursekit must not know the book or the assignments"


def test_no_import_cycles():
    graph = {m: _imports(p, m) for m, p in MODULES.items()}
    # a package imports its own submodules' names in its docstring only; the edge from a
    # submodule to its parent package (importing constants such as coursekit.data.FILES_DIR)
    # is allowed as long as the package does not import the submodule back
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_fits_in_one_sitting(module):
    n = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{module} has {n} lines; split it by role (at most {MAX_LINES})"


def test_top_level_names_its_roles():
    entries = sorted(p.name for p in PKG.iterdir()
                     if not p.name.startswith((".", "__pycache__")) and p.name != "__init__.py")
    assert len(entries) <= 11, entries
    for role in ("nn", "models", "train", "data", "book", "grading"):
        assert (PKG / role / "__init__.py").is_file(), f"coursekit/{role}/ is one of the roles"
