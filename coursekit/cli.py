"""The ``coursekit`` command: ``info`` here; ``assign`` and ``grade`` from the grader.

Each subcommand lives beside the code it drives and registers itself through a
``register(subparsers)`` function, so this file stays a table of contents.
``coursekit --help`` lists them; ``coursekit info`` prints the versions and the
package map (every module, its one-line purpose and the chapters that teach it,
read from the modules' own docstrings so it cannot go stale).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import os
import platform
import re
import sys
from pathlib import Path

import coursekit

# module path -> it provides register(subparsers); order = order in --help
SUBCOMMAND_MODULES = (
    "coursekit.grading.cli",
)

_CHAPTERS = re.compile(r"\b[Cc]hapters?\s+(\d+(?:\s*(?:,|-|to|and)\s*\d+)*)")


def _chapters(doc: str) -> list[int]:
    found = set()
    for m in _CHAPTERS.finditer(doc):
        nums = [int(n) for n in re.findall(r"\d+", m.group(1))]
        if re.search(r"\d\s*(-|to)\s*\d", m.group(1)) and len(nums) == 2:
            found.update(range(nums[0], nums[1] + 1))
        else:
            found.update(nums)
    return sorted(found)


def package_map() -> list[dict]:
    """One row per public coursekit module: ``module``, ``purpose`` (its docstring's first
    line) and ``chapters`` (the chapters its docstrings name), read without importing it."""
    root = Path(coursekit.__file__).parent
    rows = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(p.startswith("_") and p != "__init__.py" for p in rel.parts) or "__pycache__" in rel.parts:
            continue
        parts = ["coursekit", *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] == "__main__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_doc = ast.get_docstring(tree) or ""
        docs = [module_doc] + [ast.get_docstring(n) or "" for n in ast.walk(tree)
                               if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        rows.append({"module": ".".join(parts),
                     "purpose": module_doc.strip().splitlines()[0] if module_doc.strip() else "",
                     "chapters": _chapters("\n".join(docs))})
    return rows


def describe() -> dict[str, str]:
    """Versions of Python, numpy, torch and coursekit, and whether CUDA is available."""
    import numpy
    import torch
    return {"coursekit": coursekit.__version__, "python": platform.python_version(),
            "numpy": numpy.__version__, "torch": torch.__version__,
            "cuda available": str(torch.cuda.is_available())}


def _info(args) -> int:
    for k, v in describe().items():
        print(f"{k:>15}: {v}")
    print("\npackage map (module, purpose, chapters):")
    for row in package_map():
        ch = ", ".join(map(str, row["chapters"])) or "-"
        print(f"  {row['module']:<34} {row['purpose'][:70]:<70}  {ch}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Tools for the recurrent neural networks course: inspect the package, "
                    "release assignments and grade submissions.")
    parser.add_argument("--version", action="version", version=f"coursekit {coursekit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="print versions and the package map (modules, purposes, chapters)")
    p.set_defaults(func=_info)
    for mod_name in SUBCOMMAND_MODULES:
        importlib.import_module(mod_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `coursekit grade ... | head` closed our stdout: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
