"""coursekit.data.mnist and prepare/mnist: the committed digits and the digit strings.

The subset's shapes and balance, the arrays-only unpickler (it refuses any other global),
determinism of the string builder, test strings from test digits only, pixels that are
the pasted digits, and bad input. The byte-for-byte rebuild is tests/test_data_rebuild.py."""
import pickle

import numpy as np
import pytest

from coursekit.data import mnist
from coursekit.data.prepare import mnist as prep


def test_committed_subset_is_balanced():
    for split, per in prep.PER_CLASS.items():
        images, labels = mnist.load_digits(split)
        assert images.shape == (10 * per, 28, 28) and images.dtype == np.uint8
        assert np.bincount(labels, minlength=10).tolist() == [per] * 10
        assert images.max() >= 250 and images.min() == 0
    with pytest.raises(ValueError, match="split"):
        mnist.load_digits("dev")


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_unpickler_allows_only_arrays():
    import gzip
    raw = pickle.dumps(((np.arange(3.0), np.arange(2)),), protocol=3)
    # written as numpy 1 (and MNIST's pickle) names the reconstructor
    ok = gzip.compress(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    (x, y), = prep.load_pickle(ok)
    assert x.tolist() == [0.0, 1.0, 2.0] and y.tolist() == [0, 1]
    bad = gzip.compress(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*print"):
        prep.load_pickle(bad)
    assert prep.subset(np.array([1, 0, 1, 1, 0, 2]), 2).tolist() == [0, 1, 2, 4, 5]


def test_strings_are_deterministic_and_well_formed():
    a = mnist.digit_strings("train", 50, seed=3)
    b = mnist.digit_strings("train", 50, seed=3)
    c = mnist.digit_strings("train", 50, seed=4)
    assert np.array_equal(a.images, b.images) and a.texts == b.texts
    assert a.texts != c.texts
    assert a.images.shape == (50, mnist.HEIGHT, mnist.WIDTH) and a.images.dtype == np.float32
    assert set(a.lengths.tolist()) <= set(range(3, 9)) and len(set(a.lengths.tolist())) > 3
    assert all(len(t) == k for t, k in zip(a.texts, a.lengths))
    assert (a.targets[a.targets >= 0] <= 9).all()
    ct = a.ctc_targets()
    assert ((ct == 0) == (a.targets < 0)).all() and ct.max() <= 10


def test_test_strings_use_only_test_digits():
    s = mnist.digit_strings("test", 40, seed=0)
    images, labels = mnist.load_digits("test")
    for i in range(40):
        k = s.lengths[i]
        src = s.sources[i, :k]
        assert labels[src].tolist() == s.targets[i, :k].tolist()
        # every pixel of the string is the maximum of the pasted test digits' pixels
        assert np.isclose(s.images[i].max(), images[src].max() / 255)
        assert s.images[i].sum() <= images[src].astype(float).sum() / 255 + 1e-3
    train = mnist.digit_strings("train", 40, seed=0)
    assert not np.array_equal(train.images, s.images)


def test_bad_input():
    with pytest.raises(ValueError, match="n must"):
        mnist.digit_strings("train", 0)
    with pytest.raises(ValueError, match="width"):
        mnist.digit_strings("train", 2, width=100)
    with pytest.raises(ValueError, match="min_len"):
        mnist.digit_strings("train", 2, min_len=5, max_len=4)
    with pytest.raises(ValueError, match="height"):
        mnist.digit_strings("train", 2, height=20)


def test_render_draws_the_given_digits():
    s = mnist.render("2026", seed=1)
    images, labels = mnist.load_digits("test")
    assert s.texts == ["2026"] and s.images.shape == (1, mnist.HEIGHT, mnist.WIDTH)
    assert labels[s.sources[0, :4]].tolist() == [2, 0, 2, 6]
    assert np.array_equal(s.images, mnist.render("2026", seed=1).images)
    with pytest.raises(ValueError, match="text"):
        mnist.render("20a6")
