"""``coursekit assign``: the student notebook and the autograder zip, byte for byte reproducible.

From ``assignments/<name>/<name>.ipynb`` (the instructor source) it writes

- ``release/<name>.ipynb``: every region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` becomes ``raise NotImplementedError("<hint>")`` (the
  hint is the text after ``BEGIN SOLUTION``), ``### BEGIN HIDDEN`` /
  ``### END HIDDEN`` regions disappear, markdown between ``<!-- BEGIN
  SOLUTION -->`` and ``<!-- END SOLUTION -->`` becomes a prompt, the cell
  tagged ``coursekit-setup`` gets the public tests inlined for ``check`` (the
  public cases, their expected outputs computed with the references, and the
  source of the assignment's ``checks.py``; never ``reference.py``), and
  outputs, execution counts and metadata are dropped;
- ``_build/<name>_autograder.zip``: Gradescope's layout (``setup.sh`` and
  ``run_autograder`` at the root) with the assignment's own modules (``tests.py``,
  ``reference.py``, ``checks.py``), the coursekit package under ``lib/`` (with the
  data files the assignment names in ``package_data``), pinned requirements and,
  if given, ``secret.txt``.

Same inputs, same bytes: sorted zip entries with fixed timestamps and
permissions, deterministic cell ids, JSON written by nbformat.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import nbformat

from coursekit.grading.spec import Assignment

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\b[ \t:-]*(.*)$")
END = re.compile(r"^\s*### END SOLUTION\b")
BEGIN_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN\b")
END_HIDDEN = re.compile(r"^\s*### END HIDDEN\b")
MD_SOLUTION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.S)
SETUP_TAG = "coursekit-setup"
CHECK_CALL = re.compile(r"make_check\(\s*[\"']tests\.py[\"']\s*\)")
DEFAULT_HINT = "write your solution here, then delete this line"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def strip_solutions(source: str) -> str:
    """Replace solution regions by ``raise NotImplementedError`` and drop hidden regions."""
    out, skipping = [], None
    for line in source.splitlines():
        if skipping:
            if (skipping == "solution" and END.match(line)) or \
                    (skipping == "hidden" and END_HIDDEN.match(line)):
                skipping = None
            continue
        m = BEGIN.match(line)
        if m:
            hint = m.group(2).strip().strip('"').replace('"', "'") or DEFAULT_HINT
            out.append(f'{m.group(1)}raise NotImplementedError("{hint}")')
            skipping = "solution"
        elif BEGIN_HIDDEN.match(line):
            skipping = "hidden"
        else:
            out.append(line)
    if skipping:
        raise ValueError(f"unterminated ### BEGIN {skipping.upper()} region in:\n{source[:200]}")
    return "\n".join(out)


def release_notebook(source_path: str | Path, assignment: Assignment) -> str:
    """The student version of the source notebook, as deterministic nbformat JSON text."""
    src = nbformat.read(str(source_path), as_version=4)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"},
                   "coursekit": {"assignment": assignment.name}}
    from coursekit.grading.check import release_json
    public = release_json(assignment)
    for i, cell in enumerate(src.cells):
        tags = sorted(cell.get("metadata", {}).get("tags", []))
        text = cell.source
        if cell.cell_type == "code":
            text = strip_solutions(text)
            if SETUP_TAG in tags:
                text = CHECK_CALL.sub(lambda _: f"make_check(r'''{public}''')", text)
            new = nbformat.v4.new_code_cell(text)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(MD_SOLUTION.sub("*Your answer here.*", text))
        else:
            new = nbformat.v4.new_raw_cell(text)
        new.id = f"cell-{i:03d}"
        new.metadata = {"tags": tags} if tags else {}
        nb.cells.append(new)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


# ----------------------------------------------------------------- the zip
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -eu
apt-get install -y python3 python3-pip
pip3 install --break-system-packages -r /autograder/source/requirements.txt \\
  || pip3 install -r /autograder/source/requirements.txt
# the package goes where the sandboxed child (user nobody) can import it,
# outside /autograder/source, which run_autograder makes root-only
mkdir -p /opt/coursekit
cp -r /autograder/source/lib/coursekit /opt/coursekit/
chmod -R a+rX /opt/coursekit
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must write results/results.json.
# AUTOGRADER_ROOT (default /autograder) lets the tests run it outside Gradescope.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
export PYTHONPATH="${PYTHONPATH:-/opt/coursekit}"
chmod -R go-rwx "$SRC"   # tests.py and secret.txt: readable by root only, not by the child
mkdir -p "$ROOT/results"
SUB=$(find "$ROOT/submission" -maxdepth 3 -name '*.ipynb' ! -path '*/.ipynb_checkpoints/*' | sort | head -n 1)
if [ -z "$SUB" ]; then
  printf '%s\\n' '{"score": 0, "output": "No .ipynb notebook found in your submission: upload your completed notebook file."}' \\
    > "$ROOT/results/results.json"
  exit 0
fi
python3 -m coursekit.cli grade "$SUB" --assignment "$SRC" \\
  --results "$ROOT/results/results.json"
"""


def _requirements() -> str:
    import numpy
    import tqdm
    import torch
    return (f"numpy=={numpy.__version__}\nnbformat=={nbformat.__version__}\n"
            f"tqdm=={tqdm.__version__}\n--extra-index-url https://download.pytorch.org/whl/cpu\n"
            f"torch=={torch.__version__.split('+')[0]}\n")


def _package_files(data: tuple = ()) -> dict[str, bytes]:
    """The coursekit package's modules, and the data files in ``data`` (package-relative)."""
    import coursekit
    root = Path(coursekit.__file__).parent
    files = {f"lib/coursekit/{p.relative_to(root).as_posix()}": p.read_bytes()
             for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}
    for rel in data:
        path = root / rel
        if not path.is_file():
            raise FileNotFoundError(f"package_data names {rel}, which is not a file of coursekit")
        files[f"lib/coursekit/{Path(rel).as_posix()}"] = path.read_bytes()
    return files


def bundle_bytes(assignment_dir: str | Path, secret: str | None = None,
                 package_data: tuple = ()) -> bytes:
    """The autograder zip as bytes (deterministic)."""
    from coursekit.grading.loader import local_sources
    d = Path(assignment_dir)
    files = {"setup.sh": SETUP_SH.encode(), "run_autograder": RUN_AUTOGRADER.encode(),
             "requirements.txt": _requirements().encode(), **local_sources(d),
             **_package_files(package_data)}
    if secret:
        files["secret.txt"] = (secret.strip() + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3  # unix, so the permissions below apply
            mode = 0o755 if name in ("setup.sh", "run_autograder") else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()


def assign(assignment_dir: str | Path, *, zip_path: str | Path | None = None,
           secret: str | None = None, release_dir: str | Path | None = None) -> list[Path]:
    """Write the release notebook and the autograder zip; return the paths written."""
    from coursekit.grading.grade import load_assignment
    d = Path(assignment_dir)
    assignment, _ = load_assignment(d)
    source = d / f"{assignment.name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"instructor source {source} not found (it must be named after "
                                f"the assignment: {assignment.name}.ipynb)")
    release_dir = Path(release_dir) if release_dir else d / "release"
    release_dir.mkdir(parents=True, exist_ok=True)
    nb_path = release_dir / f"{assignment.name}.ipynb"
    nb_path.write_text(release_notebook(source, assignment))
    zip_path = Path(zip_path) if zip_path else d / "_build" / f"{assignment.name}_autograder.zip"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    zip_path.write_bytes(bundle_bytes(d, secret, assignment.package_data))
    return [nb_path, zip_path]
