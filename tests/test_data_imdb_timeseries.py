"""The IMDB reviews and the two time series: shipped files, loaders and the lab's data steps."""
import numpy as np
import pytest

from coursekit.data.imdb import build_vocab, encode_batch, load_imdb, tokenize
from coursekit.data.prepare import imdb as prep_imdb
from coursekit.data.timeseries import (Scaler, load_co2, load_sunspots, make_windows,
                                       split_by_time)


def test_imdb_splits_are_balanced_disjoint_and_clean():
    sizes = {"train": 26_660, "valid": 2_000, "test": 10_000}
    seen = set()
    for split, n in sizes.items():
        texts, labels = load_imdb(split)
        assert len(texts) == len(labels) == n
        assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
        assert labels.sum() == n // 2
        assert not seen & set(texts)
        seen |= set(texts)
        assert all("<br" not in t and "\t" not in t and "  " not in t for t in texts)
        assert max(len(t.split()) for t in texts) <= prep_imdb.MAX_WORDS
    with pytest.raises(ValueError, match="split"):
        load_imdb("dev")


def test_imdb_prepare_steps_on_a_small_csv():
    csv_text = ('review,sentiment\n"Great<br /><br />film!",positive\n'
                '"Great  film!",positive\n"Dull.",negative\n"Odd",positive\n"Odd",negative\n')
    assert prep_imdb.clean("a<br />b<BR>c  d ") == "a b c d"
    assert prep_imdb.parse(csv_text) == [("Great film!", 1), ("Dull.", 0)]   # dup, conflict gone
    long = ("word " * (prep_imdb.MAX_WORDS + 1)).strip()
    splits = prep_imdb.split_reviews([("a", 1), ("b", 1), ("c", 0), (long, 0)])
    kept = sorted(r for s in splits.values() for r in s)
    first_pos = min("ab", key=prep_imdb._key)          # balance keeps the first by sha256
    assert kept == [(first_pos, 1), ("c", 0)]
    assert sorted(splits["test"]) == kept              # test is filled first


def test_tokenize_vocab_and_padding():
    assert tokenize("Don't MISS it!! 10/10, really?") == ["don't", "miss", "it", "!", "!",
                                                           "10", "10", "really", "?"]
    with pytest.raises(TypeError, match="text"):
        tokenize(None)
    vocab = build_vocab([["a", "b", "a"], ["a", "c"]], max_size=6, min_freq=1)
    assert vocab.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b"]
    ids, lengths = encode_batch([["a", "b", "c"], ["b"], []], vocab)
    assert ids.tolist() == [[4, 5, 3], [5, 0, 0], [3, 0, 0]] and lengths.tolist() == [3, 1, 1]
    ids, lengths = encode_batch([["a", "b", "c"]], vocab, max_len=2)
    assert ids.tolist() == [[4, 5]] and lengths.tolist() == [2]


def test_series_load():
    years, spots = load_sunspots()
    assert years[0] == 1700 and years[-1] == 2008 and len(spots) == 309
    assert np.all(np.diff(years) == 1) and spots.min() >= 0 and spots[0] == 5
    dates, co2 = load_co2(fill=None)
    assert len(dates) == 2284 and np.isnan(co2).sum() == 59
    assert str(dates[0]) == "1958-03-29" and np.all(np.diff(dates) == np.timedelta64(7, "D"))
    _, filled = load_co2()
    ok = ~np.isnan(co2)
    assert not np.isnan(filled).any() and np.array_equal(filled[ok], co2[ok])
    i = int(np.flatnonzero(~ok)[0])                    # a filled week lies between neighbours
    assert min(filled[i - 1], filled[i + 1]) - 1e-9 <= filled[i]
    with pytest.raises(ValueError, match="fill"):
        load_co2(fill="zero")


def test_make_windows_shapes_and_values():
    data = np.arange(20.0).reshape(10, 2)               # (T=10, F=2)
    X, y, t = make_windows(data, timesteps=3, horizon=2, target=1, return_index=True)
    assert X.shape == (6, 3, 2) and y.shape == (6, 2) and t.tolist() == list(range(3, 9))
    for s in range(6):
        assert np.array_equal(X[s], data[s:s + 3])
        assert np.array_equal(y[s], data[s + 3:s + 5, 1])
        assert np.array_equal(y[s, 0], data[t[s], 1])
    X1, y1 = make_windows(np.arange(5.0), 2)           # 1-D -> one feature
    assert X1.shape == (3, 2, 1) and y1[:, 0].tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="too few"):
        make_windows(np.arange(3.0), 3)
    with pytest.raises(ValueError, match="target"):
        make_windows(data, 2, target=2)
    with pytest.raises(ValueError, match="timesteps"):
        make_windows(data, 0)


def test_split_by_time_and_scaler_fit_on_train_only():
    tr, va, te = split_by_time(100, 0.1, 20)
    assert (tr, va, te) == (slice(0, 70), slice(70, 80), slice(80, 100))
    with pytest.raises(ValueError, match="no training"):
        split_by_time(10, 5, 5)
    with pytest.raises(ValueError, match="valid"):
        split_by_time(10, -1, 2)
    series = np.concatenate([np.zeros(50) + np.arange(50) % 2, np.full(50, 10.0)])
    sc = Scaler.fit(series[tr])
    assert sc.mean[0] == pytest.approx(series[:70].mean())      # the test part is unseen
    z = sc.transform(series)
    assert z[:70].mean() == pytest.approx(0) and z[:70].std() == pytest.approx(1)
    assert np.allclose(sc.inverse(z), series)
    two = Scaler.fit(np.stack([series[:70], 2 * series[:70] + 1], axis=1))
    assert np.allclose(two.inverse(two.transform(np.ones((4, 2)))), 1)
    with pytest.raises(ValueError, match="constant"):
        Scaler.fit(np.ones(5))
    with pytest.raises(ValueError, match="features"):
        two.transform(np.ones((3, 3)))
