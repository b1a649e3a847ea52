"""Shared pytest fixtures: seeded randomness, a single torch thread, the CUDA marker.

Tests share two CPU cores with everything else, so torch runs on one thread;
every test gets a freshly seeded numpy Generator and torch seed, so results
do not depend on test order.

Tests of the GPU path carry ``@pytest.mark.cuda``. They skip where torch sees no
CUDA device and run where it does; on a GPU machine run just them with
``python -m pytest -o addopts="" -m cuda tests`` (and
``python benchmarks/cuda_throughput.py`` for the training throughput).

The book is built once per test session (the build executes every chapter, so it is
the slowest thing the suite does): the session fixture ``built_book`` runs
``jupyter-book build -W -n --keep-going`` into a temporary folder on first use, and
every test that needs the rendered HTML (``tests/test_book.py``, the browser test
``tests/test_browser.py``) shares it. Setting ``COURSEKIT_BOOK_HTML`` to an already
built ``_build/html`` folder reuses that one instead (the build test then skips).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def rng():
    """A numpy Generator seeded with 0, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)
    yield


ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 1500


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built once per session: ``(returncode, html_dir, log)``.

    ``returncode`` is None when ``COURSEKIT_BOOK_HTML`` named a build made elsewhere.
    """
    reuse = os.environ.get("COURSEKIT_BOOK_HTML")
    if reuse:
        return None, Path(reuse).resolve(), ""
    out = tmp_path_factory.mktemp("book")
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
           "build", str(ROOT), "--path-output", str(out),
           "-W", "-n", "--keep-going"]
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S)
    return proc.returncode, out / "_build" / "html", proc.stdout + proc.stderr


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device here; on a GPU machine: "
                                   "python -m pytest -o addopts='' -m cuda tests")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
