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
