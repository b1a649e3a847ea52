"""The ``coursekit`` console command: installed, lists its subcommands, errors cleanly."""
import shutil
import subprocess
import sys

import pytest

from coursekit import cli


def test_console_script_is_installed_and_lists_subcommands():
    exe = shutil.which("coursekit")
    assert exe, "the coursekit console script is not on PATH; is the package installed?"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "info" in out.stdout


def test_info_reports_versions(capsys):
    assert cli.main(["info"]) == 0
    printed = capsys.readouterr().out
    import numpy
    import torch
    assert numpy.__version__ in printed and torch.__version__ in printed
    assert "coursekit.nn.rnn" in printed


def test_package_map_reads_every_module_docstring():
    rows = {r["module"]: r for r in cli.package_map()}
    import pkgutil
    import coursekit
    public = {m.name for m in pkgutil.walk_packages(coursekit.__path__, "coursekit.")
              if not any(part.startswith("_") for part in m.name.split("."))}
    assert public <= set(rows), public - set(rows)
    assert all(r["purpose"] for r in rows.values()), [m for m, r in rows.items() if not r["purpose"]]
    assert 1 in rows["coursekit.nn.rnn"]["chapters"] and 4 in rows["coursekit.nn.lstm"]["chapters"]
    assert rows["coursekit.book.ch02_bptt"]["chapters"][0] == 2
    assert cli._chapters("Chapters 2 to 5 and chapter 9") == [2, 3, 4, 5, 9]


def test_no_subcommand_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: coursekit" in capsys.readouterr().out


def test_unknown_subcommand_is_a_clean_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "coursekit.cli", "--version"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "coursekit" in out.stdout


def test_closed_pipe_is_not_a_traceback():
    """`coursekit grade ... | head` must not end in a BrokenPipeError traceback."""
    script = ("import sys; from coursekit import cli\n"
              "cli._info = lambda args: [print('line', i) for i in range(200000)] and 0\n"
              "sys.exit(cli.main(['info']))")
    out = subprocess.run(f"{sys.executable} -c \"{script}\" | head -1", shell=True,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout == "line 0\n"
    assert "Traceback" not in out.stderr, out.stderr
