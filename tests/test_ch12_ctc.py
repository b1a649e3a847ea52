"""coursekit.book.ch12_ctc and coursekit.models.crnn: the chapter's helpers and the model's shapes.

The hand-written alpha table equals the exponentiated log-space alphas of nn.ctc; the
enumeration of alignments matches the loss; error kinds are counted right; the CRNN maps
images to one frame per four pixel columns and survives a checkpoint round trip."""
import math

import numpy as np
import pytest
import torch

from coursekit.book import ch12_ctc as ch12
from coursekit.models.crnn import CRNN, digits_to_text, evaluate, recognise
from coursekit.data.mnist import digit_strings
from coursekit.nn import ctc
from coursekit.train.checkpoint import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("target", [[1, 2], [1, 1], [2], [1, 2, 1]])
def test_alpha_by_hand_matches_log_space(target):
    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(3), size=6)
    alpha = ch12.alpha_by_hand(y, target)
    _, cache = ctc.ctc_loss(np.log(y)[None], np.array([target]), np.array([6]),
                            np.array([len(target)]))
    np.testing.assert_allclose(np.exp(cache["alpha"][0]), alpha, atol=1e-14)
    p = sum(math.prod(y[t, k] for t, k in enumerate(path))
            for path in ch12.alignments(target, frames=6))
    assert abs(alpha[-1, -1] + alpha[-1, -2] - p) < 1e-14


def test_tiny_example_and_counts():
    y, logits, target = ch12.tiny_example()
    assert np.allclose(y.sum(1), 1)
    assert len(ch12.alignments(target, 3)) == 5
    assert [len(ch12.alignments([1, 2], t)) for t in range(2, 6)] == [math.comb(t + 2, 4)
                                                                     for t in range(2, 6)]
    assert ch12.alignments([1, 1], 2) == []


def test_error_pairs():
    kinds = ch12.error_pairs(["123", "1", "4567"], ["123", "11", "4967"])
    assert kinds["substitutions"] == 1 and kinds["deletions"] == 1 and kinds["insertions"] == 0
    assert kinds["top_substitutions"] == [(("9", "5"), 1)]
    assert ch12.error_pairs(["12"], ["1"])["insertions"] == 1


def test_crnn_shapes_and_round_trip(tmp_path):
    torch.manual_seed(0)
    model = CRNN(hidden=8, channels=(4, 8, 8)).eval()
    s = digit_strings("test", 3, seed=0)
    with torch.no_grad():
        out = model(torch.tensor(s.images))
    assert out.shape == (3, model.frames(200), 11) and model.frames(200) == 50
    path = save_checkpoint(tmp_path / "m.pt", model, half=False)
    loaded, _ = load_checkpoint(path)
    with torch.no_grad():
        assert torch.allclose(loaded(torch.tensor(s.images)), out, atol=1e-6)
    assert len(recognise(loaded, s.images)) == 3
    res = evaluate(loaded, s, beam_size=2)
    assert 0 <= res["cer_greedy"] and res["n_chars"] == sum(map(len, s.texts))
    assert digits_to_text([1, 10, 3]) == "092"
    with pytest.raises(ValueError, match="pixels high"):
        model(torch.zeros(1, 28, 200))
    small = CRNN(hidden=8, channels=(4, 8, 8), downsample=2).eval()
    with torch.no_grad():
        assert small(torch.tensor(s.images)).shape == (3, 25, 11) == (3, small.frames(200), 11)
    with pytest.raises(ValueError, match="downsample"):
        CRNN(downsample=3)
