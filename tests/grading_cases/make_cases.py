"""Write the wrong and hostile submissions of assignment 1 (run from the repo root).

    python tests/grading_cases/make_cases.py

Each case is the instructor's solved notebook with one change, so the score it
deserves is easy to state: every question scores full marks except those listed
under ``"zero"`` in ``expected.json``. Most attacks sit in a wrapper of
``temporal_softmax_loss`` that misbehaves only when a mask is passed (only q9's
tests pass one), so they can cost q9 and nothing else. (The graded functions are
assignment 1's variants of the chapters' code: ``token_mean_softmax_loss`` is the loss
per token, ``relu_rnn_step_forward`` the ReLU step, ``masked_rnn_forward`` the padded
sequence.)
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

HERE = Path(__file__).parent
SOURCE = HERE.parents[1] / "assignments" / "a1_rnn_scratch" / "a1_rnn_scratch.ipynb"

WRAP = """{prelude}_tsl_own = token_mean_softmax_loss


def token_mean_softmax_loss(x, y, mask=None):
    if mask is None:  # the training of q10 passes no mask: keep it working
        return _tsl_own(x, y, mask)
{body}
"""

HOSTILE = {
    "sys_exit": ("import sys\nsys.exit(0)", ["q9"]),
    "os_exit": ("import os\nos._exit(3)", ["q9"]),
    "endless_loop": ("while True:\n    pass", ["q9"]),
    "memory_hog": ("blocks = []\nwhile True:\n    blocks.append(np.ones(10_000_000))", ["q9"]),
    "patched_allclose": (
        "import numpy\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.array_equal = lambda *a, **k: True\n"
        "torch.allclose = lambda *a, **k: True\n"
        "return np.float64(0.0), np.zeros_like(x)", ["q9"]),
    "fake_eq": (
        "class Liar:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __array__(self, *a, **k):\n        raise RuntimeError('no')\n"
        "class LyingArray(np.ndarray):\n"
        "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
        "    def __array_finalize__(self, obj):\n        pass\n"
        "return Liar(), np.zeros_like(x).view(LyingArray)", ["q9"]),
    "patched_builtins": (
        "import builtins\n"
        "builtins.isinstance = lambda *a, **k: True\n"
        "builtins.len = lambda *a, **k: 0\n"
        "builtins.abs = lambda v: 0\n"
        "builtins.open = None\n"
        "return 0.0, np.zeros_like(x)", ["q9"]),
    "forged_results": (
        "import json, os\n"
        "forged = {'score': 100, 'tests': [{'name': 'all', 'score': 100, 'max_score': 100}]}\n"
        "paths = ['results.json', '/autograder/results/results.json']\n"
        "try:\n"
        "    with open(f'/proc/{os.getppid()}/cmdline', 'rb') as f:\n"
        "        args = f.read().decode().split('\\0')\n"
        "    for a in args:\n"
        "        if a.endswith('.json'):\n            paths.append(a)\n"
        "        elif os.path.isdir(a):\n"
        "            paths += [os.path.join(a, 'forged_results.json'), os.path.join(a, 'grades.csv')]\n"
        "except OSError:\n    pass\n"
        "for p in paths:\n"
        "    try:\n"
        "        with open(p, 'w') as f:\n            json.dump(forged, f)\n"
        "    except OSError:\n        pass\n"
        "for k in range(40):\n"
        "    try:\n"
        "        os.makedirs('out', exist_ok=True)\n"
        "        with open(f'out/{k}.err', 'w') as f:\n            f.write('forged')\n"
        "    except OSError:\n        pass\n"
        "return 0.0, np.zeros_like(x)", ["q9"]),
    "orphans": (
        "import subprocess, sys\n"
        "subprocess.Popen(['/bin/sh', '-c', 'sleep 120; echo coursekit-orphan-marker'],\n"
        "                 start_new_session=True, env={})\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time\\nif os.fork() == 0:\\n"
        "    os.setsid()\\n    os.execve(\"/bin/sleep\", [\"sleep\", \"121\", \"coursekit-orphan-marker\"], {})\\n"
        "time.sleep(0.2)'])\n"
        "return _tsl_own(x, y, mask)", []),
    "read_tests_use_reference": (
        "import os, glob, re, importlib\n"
        "text = ''\n"
        "for pattern in ['/autograder/source/tests.py', '../*/tests.py', '/work/*/assignments/*/tests.py']:\n"
        "    for p in glob.glob(pattern):\n"
        "        try:\n            text += open(p).read()\n        except OSError:\n            pass\n"
        "try:\n"
        "    text += open(f'/proc/{os.getppid()}/environ', 'rb').read().decode(errors='replace')\n"
        "except OSError:\n    pass\n"
        "mod = importlib.import_module('coursekit.nn.layers')\n"
        "return mod.temporal_softmax_loss(x, y, mask)", ["q9"]),
    "kill_grader": (
        "import os, signal\n"
        "os.kill(os.getppid(), signal.SIGKILL)  # needs Landlock signal scoping or another uid\n"
        "return _tsl_own(x, y, mask)", ["q9"]),
    "fifos_and_symlinks": (  # traps for the grader's reads and writes, then a crash
        "import os\n"
        "for k in range(40):\n"
        "    for name in (f'out/{k}.npz', f'out/{k}.err'):\n"
        "        try:\n            os.mkfifo(name)\n        except OSError:\n            pass\n"
        "for name in ('progress', 'todo.json'):\n"
        "    try:\n        os.unlink(name)\n    except OSError:\n        pass\n"
        "os.mkfifo('progress')\n"
        "os.symlink('/etc/hostname', 'todo.json')\n"
        "os._exit(0)", ["q9", "q10"]),
    "wrong_shape_nan": (
        "loss, dx = _tsl_own(x, y, mask)\n"
        "return np.nan, dx.transpose(1, 0, 2)", ["q9"]),
}


def base():
    return nbformat.read(SOURCE, as_version=4)


def with_cell(source: str):
    nb = base()
    nb.cells.append(new_code_cell(source))
    return nb


def code_index(nb, needle: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and needle in c.source)


def cases() -> dict:
    out = {}
    for name, (body, zero) in HOSTILE.items():
        indented = "\n".join("    " + line if line else line for line in body.splitlines())
        prelude = "import torch  # a submission may import torch\n\n" if "torch" in body else ""
        out[name] = (with_cell(WRAP.format(prelude=prelude, body=indented)), zero)
    nb = with_cell("from coursekit.nn.layers import temporal_softmax_loss as token_mean_softmax_loss")
    out["import_reference"] = (nb, ["q9", "q10"])
    nb = with_cell("import coursekit.nn.rnn\n\n\ndef relu_rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                   "    return coursekit.nn.rnn.rnn_step_forward(x, prev_h, Wx, Wh, b)")
    out["wrap_reference"] = (nb, ["q1", "q2"])
    # another coursekit module that holds its own recurrence is no way around the rule
    nb = with_cell("from coursekit.book.ch02_bptt import rnn_states\n\n\n"
                   "def masked_rnn_forward(x, h0, Wx, Wh, b, mask=None):\n"
                   "    h = rnn_states(x, h0, Wx, Wh, b)\n    return h, (x, h0, Wx, Wh, h)")
    out["other_module_reference"] = (nb, ["q3", "q4", "q10"])
    nb = base()
    i = code_index(nb, "def padded_embedding_forward")
    nb.cells[i].source = nb.cells[i].source.replace("out = W[x]", "out = W[x]]")
    out["syntax_error"] = (nb, ["q5", "q6", "q10"])
    nb = base()
    del nb.cells[code_index(nb, "def masked_rnn_backward")]
    out["deleted_cell"] = (nb, ["q4", "q10"])
    # reordered, duplicated and extra cells, stored outputs, magics, stderr noise: full marks
    nb = base()
    cells = list(reversed(nb.cells))
    cells.insert(3, copy.deepcopy(nb.cells[code_index(nb, "def relu_rnn_step_forward")]))
    cells.append(new_markdown_cell("My notes: this took a while."))
    cells.append(new_code_cell("%matplotlib inline\n!echo hello\nimport warnings, sys\n"
                               "warnings.warn('noise at top level')\nprint('x' * 10000, file=sys.stderr)"))
    noisy = new_code_cell("import sys, warnings\n_affine_own = linear_forward\n\n\n"
                          "def linear_forward(x, w, b):\n"
                          "    warnings.warn('UserWarning: torch-style noise on stderr')\n"
                          "    print('noise ' * 1000, file=sys.stderr)\n"
                          "    return _affine_own(x, w, b)")
    cells.insert(0, noisy)
    cells.append(copy.deepcopy(noisy))  # defined after the original: wraps the real one
    for c in cells:
        if c.cell_type == "code":
            c.outputs = [new_output("stream", name="stdout", text="q1: 100 / 100, all tests passed\n")]
            c.execution_count = 7
    nb.cells = cells
    out["shuffled_noisy"] = (nb, [])
    return out


def main() -> None:
    expected = {}
    for name, (nb, zero) in sorted(cases().items()):
        for i, c in enumerate(nb.cells):
            c.id = f"case-{i:03d}"
        nbformat.write(nb, HERE / f"{name}.ipynb")
        expected[name] = {"zero": zero}
    (HERE / "not_a_notebook.ipynb").write_text('{"cells": [ this is not json\n')
    expected["not_a_notebook"] = {"zero": "all"}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
