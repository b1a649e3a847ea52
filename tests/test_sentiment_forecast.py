"""The chapter 7 models: the sentiment RNN (padding changes nothing), the bag-of-words
baseline, and the forecasters (persistence, AR, GRU one-step / recursive / direct)."""
import numpy as np
import pytest
import torch

from coursekit.models.bow import BagOfWords, ngram_features
from coursekit.models.forecast import (Forecaster, ar_forecast, fit_ar, mae, persistence_forecast,
                                       rmse, rnn_forecast, train_forecaster)
from coursekit.models.sentiment import SentimentRNN, batches, predict_proba, prefix_proba
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("cell,bi,pool", [("gru", True, "meanmax"), ("lstm", False, "last"),
                                          ("lstm", True, "last"), ("gru", False, "max")])
def test_padding_changes_no_output(cell, bi, pool):
    torch.manual_seed(0)
    model = SentimentRNN(30, embed_dim=5, hidden_size=4, cell=cell, bidirectional=bi,
                         pool=pool).eval()
    ids = torch.randint(4, 30, (3, 7))
    lengths = torch.tensor([7, 4, 2])
    ids[1, 4:] = 0
    ids[2, 2:] = 0
    full = model(ids, lengths)
    alone = torch.stack([model(ids[i:i + 1, :int(L)], lengths[i:i + 1])[0]
                         for i, L in enumerate(lengths)])
    assert torch.allclose(full, alone, atol=1e-6)             # each review on its own, unpadded
    longer = torch.cat([ids, torch.randint(4, 30, (3, 5))], 1)  # junk after the end
    assert torch.allclose(model(longer, lengths), full, atol=1e-6)
    h = model.states(ids, lengths)
    assert h.shape == (3, 7, 4 * (2 if bi else 1)) and torch.all(h[2, 2:] == 0)


def test_prefix_proba_sees_only_the_prefix_and_checkpoint_roundtrip(tmp_path):
    torch.manual_seed(1)
    model = SentimentRNN(30, embed_dim=5, hidden_size=4).eval()
    ids = np.array([5, 9, 12, 7])
    p = prefix_proba(model, ids)
    assert p.shape == (4,)
    for t in range(1, 5):
        one = torch.sigmoid(model(torch.tensor(ids[None, :t]), torch.tensor([t])))
        assert abs(float(one) - p[t - 1]) < 1e-6
    probs = predict_proba(model, [[5, 9], [12, 7, 7, 8], [4]])
    assert probs.shape == (3,) and abs(probs[0] - p[1]) < 1e-6
    path = save_checkpoint(tmp_path / "s.pt", model, half=False)
    again, _ = load_checkpoint(path)
    assert np.allclose(predict_proba(again, [[5, 9]]), probs[:1], atol=1e-6)
    with pytest.raises(ValueError, match="lengths"):
        model(torch.tensor([[5, 6]]), torch.tensor([3]))
    with pytest.raises(ValueError, match="cell"):
        SentimentRNN(10, cell="rnn")


def test_batches_cover_everything_once_with_little_padding():
    ids = [[4] * n for n in (5, 1, 3, 9, 2, 8, 7)]
    labels = np.arange(7)
    seen = []
    for b, L, y in batches(ids, labels, 3, shuffle=True, seed=0):
        assert b.shape == (len(y), int(L.max()))
        assert all(int((row != 0).sum()) == int(n) for row, n in zip(b, L))
        seen += y.tolist()
    assert sorted(seen) == list(range(7))


def test_bag_of_words_learns_a_separable_toy_problem():
    assert ngram_features(["not", "good"]) == {"not", "good", "not good"}
    pos = [["a", "great", "film"], ["great", "fun"], ["truly", "great"]] * 4
    neg = [["a", "dull", "film"], ["dull", "plot"], ["truly", "dull"]] * 4
    bow = BagOfWords(ngrams=2, min_freq=2, l2=1e-3).fit(pos + neg, [1] * 12 + [0] * 12)
    p = bow.predict_proba([["great"], ["dull"], ["film"]])
    assert p[0] > 0.9 and p[1] < 0.1 and abs(p[2] - 0.5) < 0.1
    top_pos, top_neg = bow.top_features(1)
    assert top_pos[0][0] == "great" and top_neg[0][0] == "dull"
    with pytest.raises(ValueError, match="labels"):
        BagOfWords().fit(pos, [1])


def test_persistence_and_ar_recover_a_known_process():
    rng = np.random.default_rng(0)
    y = np.zeros(600)
    for t in range(2, 600):                                 # y_t = 0.5 + 1.2 y_{t-1} - 0.5 y_{t-2} + e
        y[t] = 0.5 + 1.2 * y[t - 1] - 0.5 * y[t - 2] + 0.01 * rng.normal()
    from coursekit.data.timeseries import make_windows
    X, target = make_windows(y, 2)
    coef = fit_ar(X, target)
    assert np.allclose(coef, [0.5, 1.2, -0.5], atol=0.02)
    assert np.array_equal(persistence_forecast(X, 3), np.repeat(X[:, -1, :1], 3, 1))
    f = ar_forecast(X[:1], coef, 2)
    first = coef[0] + coef[1] * X[0, 1, 0] + coef[2] * X[0, 0, 0]
    assert np.isclose(f[0, 0], first)
    assert np.isclose(f[0, 1], coef[0] + coef[1] * first + coef[2] * X[0, 1, 0])
    assert mae([1, 2], [2, 4]) == 1.5 and np.isclose(rmse([1, 2], [2, 4]), np.sqrt(2.5))
    with pytest.raises(ValueError, match="coef"):
        ar_forecast(X, coef[:2])
    with pytest.raises(ValueError, match="y_hat"):
        mae([1, 2], [1])


def test_gru_forecaster_fits_a_sine_and_recursion_matches_feeding_back():
    t = np.arange(200)
    from coursekit.data.timeseries import make_windows
    X, y = make_windows(np.sin(2 * np.pi * t / 20), 10, 1)
    model = Forecaster(1, 8, outputs=1)
    hist = train_forecaster(model, X[:64], y[:64], valid=(X[150:], y[150:]), epochs=25, lr=1e-2)
    assert min(hist["valid"]) < 0.5 * hist["valid"][0]      # it learns (and keeps the best)
    f = rnn_forecast(model, X[:2], 3)
    x = torch.tensor(X[:2], dtype=torch.float32)
    with torch.no_grad():
        for k in range(3):                                   # recursion, written out
            step = model(x)
            assert np.allclose(step[:, 0].numpy(), f[:, k], atol=1e-6)
            x = torch.cat([x[:, 1:], step[:, None]], 1)
    direct = Forecaster(1, 4, outputs=3)
    assert rnn_forecast(direct, X[:5], 2).shape == (5, 2)
    with pytest.raises(ValueError, match="outputs"):
        rnn_forecast(Forecaster(1, 4, outputs=2), X[:5], 3)
