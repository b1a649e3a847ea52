"""What every assignment must satisfy, whichever it is (found by its tests.py).

- the instructor source scores full marks, the release scores 0 without
  crashing, and grading modifies neither file;
- the committed release is what ``coursekit assign`` generates now, holds no
  line of any solution, no outputs, and only public test cases;
- the instructor source executes end to end, every ``check()`` passes and the
  gradient / parity checks it prints are tight.

Assignment-specific behaviour (wrong submissions, checks) is tested in
``test_grading_<name>.py``.
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

from coursekit.grading import assign
from coursekit.grading.grade import grade_submission, load_assignment, results_json
from grading_support import ROOT, limits, load, locate

ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/tests.py"))
LIMITS = limits(wall=90)
CHECK_PASSED = "public tests passed; hidden tests run at grading"


def solution_lines(source: Path) -> list[str]:
    """Non-trivial lines that appear only between BEGIN/END SOLUTION markers of the source.

    A line that the source also gives outside a solution (a provided helper, a
    call in a given training loop) is not a leak.
    """
    inside_lines, outside_lines, inside = [], set(), False
    for cell in nbformat.read(source, as_version=4).cells:
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif len(line.strip()) > 25:
                (inside_lines.append if inside else outside_lines.add)(line.strip())
    return [line for line in inside_lines if line not in outside_lines]


def inlined_specs(nb) -> list[dict]:
    return [json.loads(c.source.split("r'''")[1].split("'''")[0])
            for c in nb.cells if "make_check(r'''" in c.source]


def test_there_are_assignments():
    assert {"a1_rnn_scratch", "a2_training", "a3_gated_cells"} <= set(ASSIGNMENTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_scores_full_marks_and_release_zero(name):
    folder, source, release = locate(name)
    assignment, refs = load(folder)
    before = source.read_bytes(), release.read_bytes()
    src = grade_submission(source, assignment, secret="test-secret", limits=LIMITS, references=refs)
    assert src.score == src.max_score == assignment.points == 100, \
        [(t.name, t.output) for t in src.tests if t.score < t.max_score]
    rel = grade_submission(release, assignment, secret="test-secret", limits=LIMITS, references=refs)
    assert rel.score == 0 and len(rel.tests) == len(src.tests)
    assert all("NotImplementedError" in t.output for t in rel.tests)
    assert (source.read_bytes(), release.read_bytes()) == before  # submissions never modified
    res = results_json(src, assignment)
    assert res["score"] == 100
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t) for t in res["tests"])
    json.dumps(res)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_is_in_sync_and_gives_nothing_away(name, tmp_path):
    folder, source, release = locate(name)
    assign.assign(folder, zip_path=tmp_path / "a.zip", release_dir=tmp_path)
    assert (tmp_path / f"{name}.ipynb").read_bytes() == release.read_bytes(), \
        f"release/ is stale: run `coursekit assign assignments/{name}`"
    text = release.read_text()
    assert "BEGIN SOLUTION" not in text
    release_lines = {line.strip() for c in nbformat.reads(text, as_version=4).cells
                     for line in c.source.splitlines()}
    leaked = [line for line in solution_lines(source) if line in release_lines]
    assert not leaked, f"solution lines in the release: {leaked[:3]}"
    for nb in (nbformat.reads(text, as_version=4), nbformat.read(source, as_version=4)):
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    specs = inlined_specs(nbformat.reads(text, as_version=4))
    assert len(specs) == 1
    assert all(c["public"] for q in specs[0]["questions"] for c in q["cases"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_instructor_source_runs_end_to_end(name):
    from nbclient import NotebookClient
    folder, source, _ = locate(name)
    assignment, _ = load_assignment(folder)
    nb = nbformat.read(source, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert text.count(CHECK_PASSED) == len(assignment.questions)
    assert "public tests failed" not in text and "all tests passed" not in text.lower()
    rel_errors = [float(e) for e in re.findall(r"relative error:? ([0-9.]+e[+-]?\d+|[0-9.]+)", text)]
    assert rel_errors and max(rel_errors) < 1e-5, rel_errors  # the notebook's gradient checks
    torch_diffs = [float(e) for e in re.findall(r"largest difference from torch\.nn\.\w+: ([0-9.e+-]+)", text)]
    assert all(d < 1e-10 for d in torch_diffs), torch_diffs
