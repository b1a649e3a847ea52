"""coursekit.book.ch11_captioning: the chapter's helpers, on the shipped checkpoints.

The numpy pieces (features, the tiny problem, overfitting), the results JSON and checkpoints
(they load, their recorded figures are well formed), the beam's captions, attention maps and
the explorer's figure."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit.book import ch11_captioning as ch11  # noqa: E402
from coursekit.data import emoji  # noqa: E402
from coursekit.models.captioners import ShowAndTell, ShowAttendTell  # noqa: E402


def test_pixel_features_and_tiny_problem():
    imgs = emoji.load_emoji("train").images[:5]
    f = ch11.pixel_features(imgs)
    assert f.shape == (5, 192) and f.dtype == np.float64
    np.testing.assert_allclose(f.mean(1), 0, atol=1e-12)
    w2i, feats, caps = ch11.tiny_problem(3)
    assert feats.shape == (3, 10) and caps.shape[0] == 3
    assert (caps[:, 0] == w2i["<START>"]).all()
    assert set(np.unique(caps)) <= set(w2i.values())


def test_overfit_numpy_learns():
    model, losses, imgs, refs, said = ch11.overfit_numpy(4, steps=60)
    assert losses[-1] < 0.3 * losses[0]
    assert imgs.shape == (4, 32, 32, 3) and len(refs) == len(said) == 4


@pytest.fixture(scope="module")
def models():
    return ch11.load_captioners()


def test_results_and_checkpoints(models):
    r = ch11.load_results()
    for key in ("show_tell", "attend", "nearest_cnn", "nearest_pixels"):
        assert 0 <= r[key]["bleu4"] <= 1
    assert r["test_images"] == len(emoji.load_emoji("test"))
    assert 0 <= r["scenes"]["mass_on_object"] <= 1
    assert isinstance(models["show_tell"][0], ShowAndTell)
    assert isinstance(models["attend"][0], ShowAttendTell)
    assert models["attend"][1][:3] == ["<NULL>", "<START>", "<END>"]


def test_beam_attention_and_explorer(models):
    test = emoji.load_emoji("test")
    model, itos = models["attend"]
    ranked = ch11.beam_captions(model, itos, test.images[0], beam_size=3)
    assert 1 <= len(ranked) <= 3 and all(isinstance(w, list) for w, _, _ in ranked)
    assert [s for _, s, _ in ranked] == sorted((s for _, s, _ in ranked), reverse=True)
    fig = ch11.plot_attention(model, itos, test.images[0], ["thumbs", "up"])
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = ch11.explorer_figure(models, test, 0, beam_size=2)
    plt.close(fig)
    rows = ch11.caption_table(models, test, [0, 1])
    assert set(rows[0]) == {"reference", "show_tell", "attend"}
    train = emoji.load_emoji("train")
    st = models["show_tell"][0]
    nn_idx = ch11.nearest_neighbours(ch11.mean_features(st, train.images),
                                     ch11.mean_features(st, test.images[:40]))
    assert nn_idx.shape == (40,) and nn_idx.max() < len(train)
