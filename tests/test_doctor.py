"""``coursekit doctor``: passes in a working set-up, and names the fix for each broken part."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit import cli

ROOT = Path(__file__).resolve().parents[1]


def by_name(checks):
    return {c["name"]: c for c in checks}


@pytest.mark.timeout(300)
def test_doctor_passes_here_and_checks_every_part(capsys):
    assert cli.main(["doctor", "--root", str(ROOT)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    for part in ("python", "torch", "coursekit", "numpy", "kernel", "notebooks"):
        assert f"[ok] {part}" in out, out
    assert "all checks passed" in out
    import torch
    assert torch.__version__ in out and ("CPU build" in out or "CUDA" in out)


def test_doctor_reads_notebook_imports(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["%matplotlib inline\n", "import numpy as np\n",
                                                     "from coursekit.nn import rnn\n", "!ls\n"]},
                    {"cell_type": "code", "source": "from . import x\nimport os.path"},
                    {"cell_type": "markdown", "source": "import nothing"}]}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    assert cli.notebook_imports(path) == {"numpy", "coursekit.nn", "os.path"}


def fake_repo(tmp_path, code):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    nb = {"cells": [{"cell_type": "code", "source": code}]}
    (tmp_path / "book" / "01_x.ipynb").write_text(json.dumps(nb))
    return tmp_path


def test_doctor_names_a_missing_notebook_import(tmp_path, capsys):
    root = fake_repo(tmp_path, "import numpy\nimport no_such_module_for_the_course\n")
    assert cli.main(["doctor", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "[FIX] notebooks" in out and "no_such_module_for_the_course (in book/01_x.ipynb)" in out
    assert "pip install" in out and "1 to fix: notebooks" in out


def test_doctor_flags_old_python_and_wrong_torch(monkeypatch, tmp_path):
    root = fake_repo(tmp_path, "import numpy\n")
    monkeypatch.setattr(cli, "_version_info", lambda: (3, 9, 0))
    import torch
    monkeypatch.setattr(torch, "__version__", "1.13.1+cu117")
    checks = by_name(cli.doctor_checks(root))
    assert not checks["python"]["ok"] and "3.11" in checks["python"]["fix"]
    assert not checks["torch"]["ok"] and "torch==" in checks["torch"]["fix"]
    assert checks["notebooks"]["ok"]


def test_doctor_flags_a_kernel_that_cannot_import_coursekit(monkeypatch):
    from jupyter_client import kernelspec

    class Spec:
        argv = [sys.executable + "-does-not-exist", "-m", "ipykernel_launcher"]

    monkeypatch.setattr(kernelspec.KernelSpecManager, "get_kernel_spec", lambda self, name: Spec())
    check = cli._kernel_check()
    assert not check["ok"] and "ipykernel install" in check["fix"]


def test_doctor_without_a_course_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "find_root", lambda start=None: None)
    checks = by_name(cli.doctor_checks())
    assert not checks["notebooks"]["ok"] and "--root" in checks["notebooks"]["fix"]


def test_console_script_runs_doctor():
    exe = Path(sys.executable).parent / "coursekit"
    out = subprocess.run([str(exe), "doctor", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--root" in out.stdout
