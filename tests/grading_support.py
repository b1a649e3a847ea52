"""Set-up shared by the grader tests: where an assignment lives, and grading in-process."""
from __future__ import annotations

from pathlib import Path

from coursekit.grading import sandbox
from coursekit.grading.grade import grade_submission, load_assignment, reference_functions
from coursekit.grading.loader import load_local

ROOT = Path(__file__).resolve().parents[1]


def locate(name: str) -> tuple[Path, Path, Path]:
    """(folder, instructor source, committed release) of ``assignments/<name>``."""
    folder = ROOT / "assignments" / name
    return folder, folder / f"{name}.ipynb", folder / "release" / f"{name}.ipynb"


def load(folder: Path) -> tuple:
    """(assignment, reference functions), loaded once per test module by a fixture."""
    assignment, _ = load_assignment(folder)
    return assignment, reference_functions(assignment)


def limits(wall: float) -> sandbox.Limits:
    """Test limits: ``wall`` seconds per submission, 20 s set-up, 1 GiB of memory."""
    return sandbox.Limits(wall=wall, setup=20, memory=1 << 30)


def grade_with(path, loaded: tuple, lim: sandbox.Limits, secret: str = "test-secret"):
    """Grade one notebook in-process with the module's loaded assignment."""
    assignment, refs = loaded
    return grade_submission(path, assignment, secret=secret, limits=lim, references=refs)


def local(name: str, module: str):
    """The module ``module`` (``checks``, ``reference``) of ``assignments/<name>``."""
    return load_local(ROOT / "assignments" / name, module)


# ------------------------------------------------------------------ copies of the package / book
# Two hostile submissions every assignment must resist (issue 14): the release notebook plus
# (a) the source of every coursekit module that defines a function of a graded name (and the
# modules those import, so the pasted code runs without coursekit), or (b) every object the
# book displays with ``show(...)``. Where coursekit (or the book) has no function of a graded
# name, the closest name it has is pasted and renamed, as a student copying it would do.
import ast  # noqa: E402 - the section's own imports
import difflib  # noqa: E402
import importlib  # noqa: E402

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell  # noqa: E402

PACKAGE = ROOT / "coursekit"


def graded_names(assignment) -> list[str]:
    """Every function name a question of ``assignment`` grades."""
    return sorted({g for q in assignment.questions for g in q.graded})


def _file_of(module: str) -> Path | None:
    rel = Path(*module.split(".")[1:])
    for p in (PACKAGE / rel.with_suffix(".py") if rel.parts else None, PACKAGE / rel / "__init__.py"):
        if p is not None and p.is_file():
            return p
    return None


def package_modules() -> dict[str, ast.Module]:
    """Module name -> parsed source, for every module of coursekit."""
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        parts = ["coursekit", *p.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = ast.parse(p.read_text(encoding="utf-8"))
    return out


def top_level_functions(tree: ast.Module) -> list[str]:
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def _absolute(node: ast.ImportFrom, module: str) -> str:
    if not node.level:
        return node.module or ""
    package = module if module in _PACKAGES else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return ".".join([package] + ([node.module] if node.module else []))


_PACKAGES = {".".join(["coursekit", *p.parent.relative_to(PACKAGE).parts]).rstrip(".")
             for p in PACKAGE.rglob("__init__.py")}


class _DropPackageImports(ast.NodeTransformer):
    """Remove imports from coursekit; record names bound to whole coursekit modules."""

    def __init__(self, module: str):
        self.module, self.deps, self.namespaces = module, [], {}

    def _bind(self, alias: str, target: str) -> ast.stmt:
        if _file_of(target):                     # a module: a namespace class stands in for it
            self.deps.append(target)
            self.namespaces[alias] = target
            return ast.Pass()
        parent, _, name = target.rpartition(".")
        self.deps.append(parent)
        if alias == name:
            return ast.Pass()
        return ast.Assign([ast.Name(alias, ast.Store())], ast.Name(name, ast.Load()))

    def visit_ImportFrom(self, node):
        mod = _absolute(node, self.module)
        if node.module == "__future__":
            return ast.Pass()
        if not mod.startswith("coursekit"):
            return node
        return [self._bind(a.asname or a.name, f"{mod}.{a.name}") for a in node.names]

    def visit_Import(self, node):
        keep = [a for a in node.names if not a.name.startswith("coursekit")]
        out = [self._bind(a.asname, a.name) for a in node.names
               if a.name.startswith("coursekit") and a.asname]
        out += [self._bind("coursekit", "coursekit") for a in node.names
                if a.name.startswith("coursekit") and not a.asname]
        return ([ast.Import(keep)] if keep else []) + out


def _namespace_class(alias: str, tree: ast.Module) -> str:
    names = top_level_functions(tree) + [t.id for n in tree.body if isinstance(n, ast.Assign)
                                         for t in n.targets if isinstance(t, ast.Name)]
    body = "".join(f"    try:\n        {n} = {n}\n    except NameError:\n        pass\n"
                   for n in names) or "    pass\n"
    return f"class {alias}:\n{body}"


def pasted_modules(modules: list[str], trees: dict) -> list[str]:
    """The cells of a paste of ``modules`` and every coursekit module they import, in
    dependency order, one top-level statement a cell, coursekit imports dropped."""
    cells, namespaces, done = [], {}, set()

    def visit(mod: str):
        if mod in done or mod not in trees:
            return
        done.add(mod)
        tree = ast.parse(ast.unparse(trees[mod]))  # a copy to transform
        fixer = _DropPackageImports(mod)
        tree = ast.fix_missing_locations(fixer.visit(tree))
        for dep in fixer.deps:
            visit(dep)
        namespaces.update(fixer.namespaces)
        cells.extend(ast.unparse(stmt) for stmt in tree.body if not isinstance(stmt, ast.Pass))

    for m in modules:
        visit(m)
    cells += [_namespace_class(alias, trees[target]) for alias, target in sorted(namespaces.items())
              if target in trees]
    return cells


def _renamed(names: list[str], available: dict[str, str]) -> tuple[list[str], list[str]]:
    """(sources to paste, alias cells): for each graded name, the same name if ``available``
    has it, else its closest name there, renamed."""
    picked, aliases = [], []
    for g in names:
        if g in available:
            picked.append(available[g])
            continue
        close = difflib.get_close_matches(g, list(available), n=1, cutoff=0.5)
        if close:
            picked.append(available[close[0]])
            aliases.append(f"{g} = {close[0]}")
    return picked, aliases


def package_copy_cells(assignment) -> list[str]:
    """Cells that paste the coursekit modules defining the graded names (see above)."""
    trees = package_modules()
    where = {}
    for mod, tree in sorted(trees.items(), key=lambda kv: (kv[0].count("."), kv[0])):
        for name in top_level_functions(tree):
            where.setdefault(name, mod)
    modules, aliases = _renamed(graded_names(assignment), where)
    return pasted_modules(sorted(set(modules)), trees) + aliases


def _show_targets(cell_source: str, aliases: dict) -> list[str]:
    """Dotted coursekit names of the objects passed to ``show(...)`` in one cell."""
    lines = [("pass" if line.lstrip().startswith(("%", "!")) else line)
             for line in cell_source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coursekit"):
            aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "show":
            for arg in node.args:
                chain = []
                while isinstance(arg, ast.Attribute):
                    chain.insert(0, arg.attr)
                    arg = arg.value
                if isinstance(arg, ast.Name) and arg.id in aliases:
                    found.append(".".join([aliases[arg.id], *chain]))
    return found


def _resolve(dotted: str):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def book_displays() -> dict[str, str]:
    """Name -> source of every object that a chapter displays with ``show(...)``."""
    from coursekit.book.show import source
    shown = {}
    for nb_path in sorted((ROOT / "book").glob("*.ipynb")):
        aliases: dict = {}
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type == "code":
                for dotted in _show_targets(cell.source, aliases):
                    shown.setdefault(dotted.rpartition(".")[2], source(_resolve(dotted)))
    return shown


def book_copy_cells(assignment) -> list[str]:
    """Cells that paste the code the book displays (see above)."""
    shown = book_displays()
    sources, aliases = _renamed(graded_names(assignment), shown)
    return list(dict.fromkeys(list(shown.values()) + sources)) + aliases


def copy_submission(release: Path, cells: list[str], path: Path) -> Path:
    """The release notebook with ``cells`` appended, written to ``path``."""
    nb = nbformat.read(release, as_version=4)
    nb.cells.extend(new_code_cell(c) for c in cells)
    for i, c in enumerate(nb.cells):
        c.id = f"copy-{i:04d}"
    nbformat.write(nb, path)
    return path


# --- wrong submissions: the solved source with a few lines edited ------------------------

def edited_source(source: Path, name: str, edits, extra_cell: str, folder: Path) -> Path:
    """The instructor source with each (old, new) edit applied once, written to folder/name.

    ``edits=None`` appends ``extra_cell`` instead (a submission that calls the package's
    reference). Each ``old`` must occur in exactly one code cell, so a changed source fails
    here loudly rather than silently grading an unedited notebook.
    """
    nb = nbformat.read(source, as_version=4)
    if edits is None:
        nb.cells.append(new_code_cell(extra_cell))
    for old, new in edits or ():
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(hits) == 1, f"{name}: the source notebook no longer contains {old!r}"
        hits[0].source = hits[0].source.replace(old, new)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def assert_lost(got: dict, full: dict, lose: dict) -> None:
    """Questions not in ``lose`` keep full points; "all" -> 0; "some" -> fewer than full;
    "any" -> not checked (a training question whose score the edit may or may not change)."""
    for q, points in full.items():
        if q not in lose:
            assert got[q] == points, (q, got)
        elif lose[q] == "any":
            continue
        elif lose[q] == "all":
            assert got[q] == 0, (q, got)
        else:
            assert 0 <= got[q] < points, (q, got)
