"""The instructor appendix's worked example is a real assignment: built from the page, released, graded.

The blocks of ``book/instructors.md`` whose first line is ``# ex_relu/<file>`` or
``# ex_relu.ipynb, cell k`` are written out as the page says; then the page's own
``coursekit assign`` and ``coursekit grade`` commands run. The solved source must score
full marks and the release zero, so the recipe on the page cannot go stale.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "instructors.md"
BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)


def _blocks():
    return [(lang, body) for lang, body in BLOCK.findall(PAGE.read_text(encoding="utf-8"))]


@pytest.mark.slow
def test_worked_example_builds_releases_and_grades(tmp_path):
    folder = tmp_path / "assignments" / "ex_relu"
    folder.mkdir(parents=True)
    cells, commands = {}, []
    for lang, body in _blocks():
        first, _, rest = body.partition("\n")
        if lang == "python" and first.startswith("# ex_relu/"):
            (folder / first[len("# ex_relu/"):].strip()).write_text(rest)
        elif lang == "python" and first.startswith("# ex_relu.ipynb, cell"):
            k = int(re.search(r"cell (\d+)", first).group(1))
            cells[k] = (rest.rstrip("\n"), "coursekit-setup" in first)
        elif lang == "bash" and "ex_relu" in body:
            commands += [c for c in body.replace("\\\n", " ").splitlines() if c.strip()]
    assert sorted(p.name for p in folder.iterdir()) == ["reference.py", "tests.py"]
    assert sorted(cells) == [1, 2, 3] and len(commands) == 3
    nb = nbformat.v4.new_notebook()
    for k in sorted(cells):
        src, setup = cells[k]
        cell = nbformat.v4.new_code_cell(src)
        if setup:
            cell.metadata["tags"] = ["coursekit-setup"]
        nb.cells.append(cell)
    nbformat.write(nb, folder / "ex_relu.ipynb")
    env_cwd = tmp_path
    for cmd in commands:
        out = subprocess.run(shlex.split(cmd), cwd=env_cwd, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, (cmd, out.stdout[-1500:], out.stderr[-1500:])
    solved = json.loads((tmp_path / "solved.json").read_text())
    release = json.loads((tmp_path / "release.json").read_text())
    assert solved["score"] == 10 and release["score"] == 0
    student = (folder / "release" / "ex_relu.ipynb").read_text()
    assert "np.maximum" not in student and "NotImplementedError" in student
    # the release carries the expected outputs of the public case, never reference.py
    assert "reference.py" not in student and "def relu_step(x, prev_h, Wx, Wh, b):\n    return" \
        not in student
