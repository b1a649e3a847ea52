"""Shared pytest fixtures: seeded randomness and a single torch thread.

Tests share two CPU cores with everything else, so torch runs on one thread;
every test gets a freshly seeded numpy Generator and torch seed, so results
do not depend on test order.
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
