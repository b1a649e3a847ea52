"""Shared pytest fixtures: seeded randomness, a single torch thread, the CUDA marker.

Tests share two CPU cores with everything else, so torch runs on one thread;
every test gets a freshly seeded numpy Generator and torch seed, so results
do not depend on test order.

Tests of the GPU path carry ``@pytest.mark.cuda``. They skip where torch sees no
CUDA device and run where it does; on a GPU machine run just them with
``python -m pytest -o addopts="" -m cuda tests`` (and
``python benchmarks/cuda_throughput.py`` for the training throughput).
"""
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


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device here; on a GPU machine: "
                                   "python -m pytest -o addopts='' -m cuda tests")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
