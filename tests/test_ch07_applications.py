"""The chapter 7 helpers: accuracy rows, confident errors, packing, the prefix figure and the
forecast figure, on small inputs (the shipped checkpoints are exercised by the notebook)."""
import matplotlib
import numpy as np
import torch

from coursekit.book import ch07_applications as ch07
from coursekit.data.imdb import build_vocab
from coursekit.models.sentiment import SentimentRNN

matplotlib.use("Agg")


def test_confident_errors_and_accuracy_rows():
    proba = np.array([0.9, 0.2, 0.6, 0.4, 0.99, 0.01])
    labels = np.array([0, 1, 0, 1, 1, 0])
    fp, fn = ch07.confident_errors(proba, labels, k=5)
    assert fp.tolist() == [0, 2] and fn.tolist() == [1, 3]
    res = {"bow": {"valid_acc": 0.5, "test_acc": 0.875, "seconds": 3.0},
           "gru_bi": {"valid_acc": 0.9, "test_acc": 0.88125, "updates": 10,
                      "epochs_seconds": [1.0, 2.0]}}
    rows = ch07.accuracy_rows(res)
    assert rows[0][2] == "87.50%" and rows[1][0].startswith("GRU bidirectional")
    assert rows[1][2] == "88.12%" and "10 updates" in rows[1][3]


def test_packing_demo_counts_real_steps():
    ids, data, batch_sizes = ch07.packing_demo((4, 2, 3))
    assert ids.shape == (3, 4) and int((ids != 0).sum()) == 9
    assert batch_sizes.tolist() == [3, 3, 2, 1] and len(data) == 9


def test_prefix_plot_and_forecast_plot():
    torch.manual_seed(0)
    vocab = build_vocab([["good", "film", "bad"]], min_freq=1)
    model = SentimentRNN(len(vocab), embed_dim=4, hidden_size=3).eval()
    fig, p = ch07.plot_prefix(model, vocab, "Good film, zzz bad!")
    assert p.shape == (5,) and np.all((p > 0) & (p < 1))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][2] == "zzz?"
    years = np.arange(1700, 1720)
    res = {"split_years": {"train": [1700, 1709], "valid": [1710, 1714], "test": [1715, 1719]},
           "horizon": 2,
           "results": {"1": {"target_years": [1716, 1717], "truth": [[1.0], [2.0]],
                             "forecasts": {"persistence": [[0.0], [1.0]]},
                             "scores": {"persistence": {"mae": 1.0, "rmse": 1.0}}},
                       "2": {"target_years": [1716], "truth": [[1.0, 2.0]],
                             "forecasts": {"persistence": [[0.0, 0.0]]}}}}
    res["results"]["10"] = res["results"]["2"]
    fig = ch07.plot_forecasts(years, np.arange(20.0), res)
    assert len(fig.axes) == 2
    assert ch07.forecast_rows(res, "1") == [("persistence", "1.00", "1.00")]
