"""coursekit.data.tasks: the synthetic long-range tasks produce the documented inputs and targets."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.data import tasks


# ------------------------------------------------------------ first_symbol_recall
def test_recall_layout_and_targets():
    K = 5
    x, y = tasks.first_symbol_recall(200, 30, K, seed=3)
    assert x.shape == (200, 30) and y.shape == (200,)
    assert x.dtype == np.int64 and y.dtype == np.int64
    assert np.array_equal(x[:, 0], K + y)              # the marked key is the answer
    assert x[:, 1:].min() >= 0 and x[:, 1:].max() < K  # distractors are unmarked symbols
    assert set(np.unique(y)) == set(range(K))
    assert tasks.recall_vocab_size(K) == 2 * K
    assert x.max() < tasks.recall_vocab_size(K)


def test_recall_distractors_use_the_same_symbols_as_the_keys():
    # a model cannot find the key by its symbol alone: every key symbol also appears unmarked later
    x, y = tasks.first_symbol_recall(500, 20, 4, seed=0)
    assert set(np.unique(x[:, 1:])) == set(np.unique(y))
    later_copies = (x[:, 1:] == y[:, None]).mean()
    assert 0.2 < later_copies < 0.3  # uniform distractors: about 1/4 equal the key


def test_recall_is_seeded():
    a = tasks.first_symbol_recall(10, 8, seed=1)
    b = tasks.first_symbol_recall(10, 8, seed=1)
    c = tasks.first_symbol_recall(10, 8, seed=2)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("kwargs", [dict(N=0, T=5), dict(N=2, T=1), dict(N=2, T=5, n_symbols=1),
                                    dict(N=2.5, T=5), dict(N=2, T=-3)])
def test_recall_bad_input(kwargs):
    with pytest.raises(ValueError):
        tasks.first_symbol_recall(**kwargs)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 6), T=st.integers(2, 12), K=st.integers(2, 7), seed=st.integers(0, 99))
def test_recall_shapes(N, T, K, seed):
    x, y = tasks.first_symbol_recall(N, T, K, seed=seed)
    assert x.shape == (N, T) and y.shape == (N,)
    assert np.array_equal(x[:, 0] - K, y)
    assert ((x[:, 1:] >= 0) & (x[:, 1:] < K)).all()


# ------------------------------------------------------------ adding problem
def test_adding_problem_targets():
    x, y = tasks.adding_problem(300, 21, seed=4)
    assert x.shape == (300, 21, 2) and y.shape == (300,)
    marks = x[:, :, 1]
    assert set(np.unique(marks)) == {0.0, 1.0}
    assert (marks.sum(axis=1) == 2).all()
    assert (marks[:, :10].sum(axis=1) == 1).all() and (marks[:, 10:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y, (x[:, :, 0] * marks).sum(axis=1), rtol=0, atol=1e-12)
    assert x[:, :, 0].min() >= 0 and x[:, :, 0].max() < 1


def test_adding_problem_baseline_is_one_sixth():
    # y is the sum of two independent U(0, 1): mean 1, variance 1/6
    _, y = tasks.adding_problem(20000, 10, seed=0)
    assert abs(y.mean() - 1.0) < 0.01
    assert abs(((y - 1.0) ** 2).mean() - 1 / 6) < 0.01


def test_adding_problem_seeded_and_bad_input():
    a, b = tasks.adding_problem(4, 6, seed=7), tasks.adding_problem(4, 6, seed=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    for bad in (dict(N=0, T=4), dict(N=3, T=1)):
        with pytest.raises(ValueError):
            tasks.adding_problem(**bad)


# ------------------------------------------------------------ copy memory
def test_copy_memory_layout():
    K, L, delay = 6, 4, 9
    x, y = tasks.copy_memory(50, L, delay, K, seed=2)
    T = 2 * L + delay
    assert x.shape == y.shape == (50, T)
    string = x[:, :L]
    assert string.max() < K
    assert (x[:, L:L + delay - 1] == K).all()          # blanks while waiting
    assert (x[:, L + delay - 1] == K + 1).all()        # go
    assert (x[:, L + delay:] == K).all()               # blanks while writing
    assert (y[:, :-L] == tasks.IGNORE).all()
    assert np.array_equal(y[:, -L:], string)


def test_copy_memory_bad_input():
    with pytest.raises(ValueError):
        tasks.copy_memory(3, length=0)
    with pytest.raises(ValueError):
        tasks.copy_memory(3, delay=0)
