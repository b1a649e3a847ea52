"""The ``coursekit`` command: ``info`` and ``doctor`` here; ``assign`` and ``grade`` from the grader.

Each subcommand lives beside the code it drives and registers itself through a
``register(subparsers)`` function, so this file stays a table of contents.
``coursekit --help`` lists them; ``coursekit info`` prints the versions and the
package map (every module, its one-line purpose and the chapters that teach it,
read from the modules' own docstrings so it cannot go stale); ``coursekit doctor``
checks a student's set-up (Python, the torch build, coursekit, the Jupyter kernel, the
imports of every notebook) and prints what to fix.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
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


# ---------------------------------------------------------------- doctor
INSTALL = 'python -m pip install -e ".[lab]"   (in the course repository)'


def _version_info():
    return sys.version_info


def _check(name: str, ok: bool, detail: str, fix: str = "") -> dict:
    return {"name": name, "ok": bool(ok), "detail": detail, "fix": "" if ok else fix}


def _requirements() -> dict[str, str]:
    """coursekit's own dependencies, name -> specifier, from its installed metadata."""
    from importlib import metadata
    try:
        reqs = metadata.requires("coursekit") or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for req in reqs:
        if "extra ==" in req:
            continue
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([^;]*)", req)
        out[m.group(1).lower()] = m.group(2).strip()
    return out


def _satisfies(version: str, spec: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover - packaging comes with pip's environments
        return True
    return SpecifierSet(spec).contains(version.split("+")[0], prereleases=True)


def find_root(start: Path | None = None) -> Path | None:
    """The course repository: the first folder above ``start`` (or the package) with a _toc.yml."""
    for base in ([start] if start else []) + [Path.cwd(), Path(coursekit.__file__).resolve().parent]:
        for folder in [base.resolve(), *base.resolve().parents]:
            if (folder / "_toc.yml").is_file() and (folder / "book").is_dir():
                return folder
    return None


def notebook_imports(path: Path) -> set[str]:
    """Modules that a notebook's code cells import (magics and shell lines skipped)."""
    import json
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = "".join(cell.get("source", []))
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def doctor_checks(root: Path | None = None) -> list[dict]:
    """What ``coursekit doctor`` checks, one dict per check: name, ok, detail, fix."""
    from importlib import metadata
    checks = []
    py = platform.python_version()
    checks.append(_check("python", tuple(_version_info()[:2]) >= (3, 11), f"{py} at {sys.executable}",
                         "install Python 3.11 or newer and create the environment with it"))
    reqs = _requirements()
    try:
        import torch
        want = reqs.get("torch", "")
        cuda = torch.version.cuda
        build = f"CUDA {cuda}" if cuda else "CPU"
        usable = "a GPU is usable" if torch.cuda.is_available() else "no GPU in use (fine: the course runs on a CPU)"
        checks.append(_check("torch", not want or _satisfies(torch.__version__, want),
                             f"{torch.__version__} ({build} build; {usable})",
                             f"coursekit needs torch{want}: {INSTALL}"))
    except ImportError as exc:
        checks.append(_check("torch", False, f"cannot import torch ({exc})", INSTALL))
    try:
        installed = metadata.version("coursekit")
    except metadata.PackageNotFoundError:
        installed = None
    checks.append(_check("coursekit", installed == coursekit.__version__,
                         f"{coursekit.__version__} from {Path(coursekit.__file__).parent}"
                         + ("" if installed == coursekit.__version__ else f"; metadata says {installed}"),
                         f"reinstall it so code and metadata agree: {INSTALL}"))
    for name, spec in sorted(reqs.items()):
        if name == "torch":
            continue
        try:
            have = metadata.version(name)
            checks.append(_check(name, _satisfies(have, spec), f"{have} (needs {spec or 'any'})",
                                 f"{name}{spec} is needed: {INSTALL}"))
        except metadata.PackageNotFoundError:
            checks.append(_check(name, False, "not installed", INSTALL))
    checks.append(_kernel_check())
    root = find_root(root)
    if root is None:
        checks.append(_check("notebooks", False, "no course repository (_toc.yml) found from here",
                             "run coursekit doctor inside the course repository, or pass --root"))
        return checks
    paths = sorted((root / "book").glob("*.ipynb")) + sorted((root / "assignments").glob("*/release/*.ipynb"))
    missing = {}
    for path in paths:
        for mod in sorted(notebook_imports(path)):
            try:
                ok = importlib.util.find_spec(mod) is not None
            except (ImportError, ValueError):
                ok = False
            if not ok:
                missing.setdefault(mod, []).append(path.relative_to(root).as_posix())
    detail = (f"{len(paths)} notebooks under {root}: every import resolves" if not missing else
              "; ".join(f"{m} (in {', '.join(ps[:2])}{'...' if len(ps) > 2 else ''})"
                        for m, ps in missing.items()))
    checks.append(_check("notebooks", not missing and bool(paths), detail,
                         f"install what they import: {INSTALL}"))
    return checks


def _kernel_check() -> dict:
    """A Jupyter kernel named python3 exists and imports coursekit."""
    import subprocess
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return _check("kernel", False, "jupyter_client is not installed", INSTALL)
    fix = "python -m ipykernel install --user --name python3   (with this environment active)"
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return _check("kernel", False, "no Jupyter kernel named python3", fix)
    exe = spec.argv[0]
    exe = sys.executable if exe in ("python", "python3", "{python}") else exe
    try:
        probe = subprocess.run([exe, "-c", "import coursekit; print(coursekit.__version__)"],
                               capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return _check("kernel", False, f"kernel python3 runs {exe}, which does not start ({exc})", fix)
    if probe.returncode != 0:
        return _check("kernel", False, f"kernel python3 runs {exe}, which cannot import coursekit", fix)
    return _check("kernel", True, f"python3 runs {exe} (coursekit {probe.stdout.split()[0]})")


def _doctor(args) -> int:
    checks = doctor_checks(args.root)
    for c in checks:
        print(f"[{'ok' if c['ok'] else 'FIX'}] {c['name']:<12} {c['detail']}")
        if not c["ok"]:
            print(f"      -> {c['fix']}")
    bad = [c["name"] for c in checks if not c["ok"]]
    print("\nall checks passed: ready for the course" if not bad else
          f"\n{len(bad)} to fix: {', '.join(bad)}")
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Tools for the recurrent neural networks course: inspect the package, "
                    "release assignments and grade submissions.")
    parser.add_argument("--version", action="version", version=f"coursekit {coursekit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="print versions and the package map (modules, purposes, chapters)")
    p.set_defaults(func=_info)
    p = sub.add_parser("doctor", help="check this environment for the course and print what to fix")
    p.add_argument("--root", type=Path, default=None,
                   help="the course repository (default: found from here or from coursekit)")
    p.set_defaults(func=_doctor)
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
