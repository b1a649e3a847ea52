"""coursekit.book.ch03_charlm: baselines, temperature, word-level counts and the chapter 3 pictures.

Expected values are computed independently (plain loops, collections.Counter,
torch) rather than hard-coded.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from coursekit.book import ch03_charlm as lm_tools
from coursekit.decode import sample
from coursekit.models.charlm import CharLM, evaluate
from coursekit.data.text import CharVocab


# ------------------------------------------------------------------ n-gram baselines
def _ngram_by_loops(train, ev, V, n, alpha):
    ctx_counts, counts = Counter(), Counter()
    for i in range(len(train) - n + 1):
        ctx = tuple(train[i:i + n - 1])
        ctx_counts[ctx] += 1
        counts[ctx + (train[i + n - 1],)] += 1
    total = 0.0
    m = len(ev) - n + 1
    for i in range(m):
        ctx = tuple(ev[i:i + n - 1])
        p = (counts[ctx + (ev[i + n - 1],)] + alpha) / (ctx_counts[ctx] + alpha * V)
        total -= math.log(p)
    return total / m


@pytest.mark.parametrize("n,alpha", [(1, 1.0), (2, 0.5), (3, 0.1)])
def test_ngram_cross_entropy_matches_counting_by_loops(rng, n, alpha):
    V = 5
    train = rng.integers(0, V, 300)
    ev = rng.integers(0, V, 80)
    got = lm_tools.ngram_cross_entropy(train, ev, V, n=n, alpha=alpha)
    assert got == pytest.approx(_ngram_by_loops(train.tolist(), ev.tolist(), V, n, alpha), rel=1e-12)


def test_ngram_limits_uniform_and_memorised():
    V = 4
    ids = np.array([0, 1, 2, 3] * 50)
    # a huge pseudo-count swamps the counts: every character gets 1/V
    assert lm_tools.ngram_cross_entropy(ids, ids, V, n=2, alpha=1e9) == pytest.approx(math.log(V))
    # a deterministic sequence with a tiny pseudo-count: the bigram model is almost certain
    assert lm_tools.ngram_cross_entropy(ids, ids, V, n=2, alpha=1e-9) < 1e-6
    # the unigram model cannot use order: it stays at log V for this balanced text
    assert lm_tools.ngram_cross_entropy(ids, ids, V, n=1, alpha=1e-9) == pytest.approx(math.log(V))


def test_ngram_rejects_bad_input():
    ids = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="train_ids"):
        lm_tools.ngram_cross_entropy(np.array([0, 5]), ids, 3)
    with pytest.raises(ValueError, match="alpha"):
        lm_tools.ngram_cross_entropy(ids, ids, 3, alpha=0.0)
    with pytest.raises(ValueError, match="at least n"):
        lm_tools.ngram_cross_entropy(ids, ids, 3, n=4)
    with pytest.raises(TypeError):
        lm_tools.ngram_cross_entropy([0, 1, 2], ids, 3)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("alpha", [1.0, 0.01])
def test_sparse_ngram_counts_equal_the_dense_table_exactly(rng, n, alpha):
    V = 7
    train, ev = rng.integers(0, V, 2000), rng.integers(0, V, 300)
    ev[:5] = V - 1                                  # some n-grams never seen in training
    dense = lm_tools.ngram_cross_entropy(train, ev, V, n=n, alpha=alpha, method="dense")
    sparse = lm_tools.ngram_cross_entropy(train, ev, V, n=n, alpha=alpha, method="sparse")
    assert sparse == dense                          # the same float operations, bit for bit
    assert sparse == pytest.approx(_ngram_by_loops(train.tolist(), ev.tolist(), V, n, alpha), rel=1e-12)


def test_sparse_ngram_counts_long_contexts_and_auto_switch(rng):
    V, n = 63, 6                                    # a dense table would hold 63^6 ~ 6e10 entries
    assert V ** n > lm_tools.DENSE_MAX
    train = np.tile(rng.integers(0, V, 50), 20)     # a 50-id block repeated: every context seen
    ev = train[:200]
    got = lm_tools.ngram_cross_entropy(train, ev, V, n=n, alpha=1e-6)
    assert got == lm_tools.ngram_cross_entropy(train, ev, V, n=n, alpha=1e-6, method="sparse")
    assert got < 1e-3                               # the repeated text is predicted almost surely
    loops = _ngram_by_loops(train.tolist(), ev.tolist(), V, n, 1.0)
    assert lm_tools.ngram_cross_entropy(train, ev, V, n=n) == pytest.approx(loops, rel=1e-12)


def test_ngram_contexts_counts_distinct_and_unseen():
    train = np.array([0, 1, 0, 1, 2, 0])            # bigram contexts followed by a character: 0, 1, 2
    ev = np.array([0, 1, 3, 3, 0])                  # contexts 0, 1, 3, 3: a half never seen
    c = lm_tools.ngram_contexts(train, ev, 4, 2)
    assert c == {"possible": 4, "distinct": 3, "eval_unseen": 0.5,
                 "eval_median_count": 1.0}          # counts 2, 2, 0, 0: median 1
    with pytest.raises(ValueError, match="eval_ids"):
        lm_tools.ngram_contexts(train, np.array([0, 4]), 4, 2)


def test_ngram_rejects_bad_method_and_too_long_contexts():
    ids = np.array([0, 1, 2, 1, 0])
    with pytest.raises(ValueError, match="method"):
        lm_tools.ngram_cross_entropy(ids, ids, 3, n=2, method="hashed")
    with pytest.raises(ValueError, match="n=12 is too large"):
        lm_tools.ngram_cross_entropy(np.arange(60) % 60, np.arange(60) % 60, 60, n=12)
    with pytest.raises(ValueError, match="n must"):
        lm_tools.ngram_contexts(ids, ids, 3, 0)


# ------------------------------------------------------------------ temperature
@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_softmax_temperature_matches_torch(rng, tau):
    o = rng.normal(size=(3, 7)) * 3
    expected = torch.softmax(torch.from_numpy(o) / tau, dim=-1).numpy()
    np.testing.assert_allclose(lm_tools.softmax_temperature(o, tau), expected, rtol=1e-12, atol=1e-15)


def test_softmax_temperature_limits_and_dtype(rng):
    o = rng.normal(size=9)
    greedy = lm_tools.softmax_temperature(o, 0.0)
    assert greedy.sum() == 1.0 and greedy[np.argmax(o)] == 1.0
    np.testing.assert_allclose(lm_tools.softmax_temperature(o, 1e-3), greedy, atol=1e-12)
    np.testing.assert_allclose(lm_tools.softmax_temperature(o, 1e6), np.full(9, 1 / 9), atol=1e-5)
    o32 = o.astype(np.float32)
    assert lm_tools.softmax_temperature(o32, 0.7).dtype == np.float32
    assert lm_tools.softmax_temperature(o32, 0.0).dtype == np.float32
    with pytest.raises(ValueError, match="temperature"):
        lm_tools.softmax_temperature(o, -0.5)
    with pytest.raises(TypeError, match="scores"):
        lm_tools.softmax_temperature([1.0, 2.0], 1.0)


def test_entropy_bits_matches_torch_and_limits(rng):
    p = rng.dirichlet(np.ones(6), size=4)
    expected = torch.distributions.Categorical(probs=torch.from_numpy(p)).entropy().numpy() / math.log(2)
    np.testing.assert_allclose(lm_tools.entropy_bits(p), expected, rtol=1e-12)
    assert lm_tools.entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)
    assert lm_tools.entropy_bits(np.eye(5)[2]) == 0.0


def test_entropy_rises_with_temperature():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=25, deadline=None)
    @hypothesis.given(seed=st.integers(0, 10_000), V=st.integers(2, 30))
    def check(seed, V):
        o = np.random.default_rng(seed).normal(size=V) * 2
        taus = [0.05, 0.2, 0.5, 1.0, 2.0, 5.0]
        ent = [lm_tools.entropy_bits(lm_tools.softmax_temperature(o, t)) for t in taus]
        assert all(b >= a - 1e-9 for a, b in zip(ent, ent[1:]))
        assert ent[-1] <= math.log2(V) + 1e-9

    check()


# ------------------------------------------------------------------ model helpers
@pytest.fixture
def tiny_model():
    vocab = CharVocab("abc de\nfg")
    torch.manual_seed(0)
    return CharLM(vocab.size, 8, embed_dim=4).double(), vocab


def test_next_char_scores_is_the_last_step_and_greedy_sample_agrees(tiny_model):
    model, vocab = tiny_model
    prefix = "abc d"
    scores = lm_tools.next_char_scores(model, vocab, prefix)
    with torch.no_grad():
        full, _ = model(torch.as_tensor(vocab.encode(prefix))[None])
    assert scores.shape == (vocab.size,) and scores.dtype == np.float64
    np.testing.assert_allclose(scores, full[0, -1].numpy(), rtol=0, atol=0)
    greedy = sample(model, vocab, 1, prefix=prefix, temperature=0)
    assert greedy[-1] == vocab.itos[int(np.argmax(scores))]
    with pytest.raises(ValueError, match="prefix"):
        lm_tools.next_char_scores(model, vocab, "")


def test_char_losses_agree_with_cross_entropy_and_evaluate(tiny_model):
    model, vocab = tiny_model
    text = "abc de\nfg ab cd"
    losses = lm_tools.char_losses(model, vocab, text)
    ids = torch.as_tensor(vocab.encode(text))
    with torch.no_grad():
        scores, _ = model(ids[None, :-1])
    per_char = F.cross_entropy(scores[0], ids[1:], reduction="none").numpy()
    assert losses.shape == (len(text) - 1,)
    np.testing.assert_allclose(losses, per_char, rtol=1e-12)
    # evaluate() reads the stream in chunks with the state carried: the same mean
    assert losses.mean() == pytest.approx(evaluate(model, vocab.encode(text), batch_size=1, seq_len=4),
                                          rel=1e-6)
    assert model.training                           # mode restored
    with pytest.raises(ValueError):
        lm_tools.char_losses(model, vocab, "a")


def test_loss_vs_context_matches_char_losses_window_by_window(tiny_model):
    model, vocab = tiny_model
    ids = np.random.default_rng(1).integers(0, vocab.size, 200)
    contexts, L, n = (1, 4, 20), 6, 5
    got = lm_tools.loss_vs_context(model, ids, contexts, target_len=L, n_windows=n, seed=3)
    starts = np.random.default_rng(3).integers(max(contexts), len(ids) - L, size=n)
    for k, value in zip(contexts, got):
        per_window = [lm_tools.char_losses(model, vocab, vocab.decode(ids[s - k:s + L]))[-L:]
                      for s in starts]
        assert value == pytest.approx(np.mean(per_window), rel=1e-9)
    with pytest.raises(ValueError, match="too few"):
        lm_tools.loss_vs_context(model, ids[:20], (30,), target_len=L)


def test_loss_vs_context_with_warmup_reads_unrelated_text_first(tiny_model):
    model, vocab = tiny_model
    ids = np.random.default_rng(1).integers(0, vocab.size, 200)
    contexts, L, n, w = (1, 4), 6, 5, 7
    got = lm_tools.loss_vs_context(model, ids, contexts, target_len=L, n_windows=n, seed=3, warmup=w)
    rng = np.random.default_rng(3)
    starts = rng.integers(max(contexts), len(ids) - L, size=n)
    others = (starts + rng.integers(len(ids) // 4, 3 * len(ids) // 4, size=n)) % (len(ids) - w)
    for k, value in zip(contexts, got):
        per_window = [lm_tools.char_losses(model, vocab, vocab.decode(
            np.concatenate([ids[u:u + w], ids[s - k:s + L]])))[-L:] for s, u in zip(starts, others)]
        assert value == pytest.approx(np.mean(per_window), rel=1e-9)
    cold = lm_tools.loss_vs_context(model, ids, contexts, target_len=L, n_windows=n, seed=3)
    assert not np.allclose(got, cold)
    with pytest.raises(ValueError, match="warmup"):
        lm_tools.loss_vs_context(model, ids, contexts, target_len=L, warmup=-1)


# ------------------------------------------------------------------ words
def test_word_tokens():
    assert lm_tools.word_tokens("Fair is foul, and foul is fair.") == \
        ["Fair", "is", "foul", ",", "and", "foul", "is", "fair", "."]
    assert lm_tools.word_tokens("We know't, we know't.\n--Ay!") == \
        ["We", "know't", ",", "we", "know't", ".", "-", "-", "Ay", "!"]
    assert lm_tools.word_tokens("  \n ") == []
    with pytest.raises(TypeError):
        lm_tools.word_tokens(b"bytes")


def test_steps_to_word():
    assert lm_tools.steps_to_word("the cat sat", 1) == (0, 0)
    assert lm_tools.steps_to_word("the cat sat", 3) == (2, "the cat sat".index("sat"))
    assert lm_tools.steps_to_word("  Hi, you", 3) == (2, 4)         # "Hi, " before "you"
    with pytest.raises(ValueError, match="fewer than"):
        lm_tools.steps_to_word("one two", 3)
    with pytest.raises(ValueError):
        lm_tools.steps_to_word("one two", 0)


def test_loss_by_word_position():
    text = "ab cde, f\nghij"
    # losses[i] is the loss of text[i + 1]: give each character its position in its word (0 else)
    pos_in_word = {}
    for word_start, word in ((0, "ab"), (3, "cde"), (8, "f"), (10, "ghij")):
        for j in range(len(word)):
            pos_in_word[word_start + j] = j + 1
    losses = np.array([float(pos_in_word.get(i + 1, 0)) for i in range(len(text) - 1)])
    positions, mean, count = lm_tools.loss_by_word_position(text, losses, max_pos=3)
    assert positions.tolist() == [1, 2, 3]
    # position 1: c, f, g (text[0] = "a" has no prediction); 2: b, d, h; 3+: e, i, j pooled
    assert count.tolist() == [3, 3, 3]
    np.testing.assert_allclose(mean, [1.0, 2.0, (3 + 3 + 4) / 3])
    with pytest.raises(ValueError, match="losses"):
        lm_tools.loss_by_word_position(text, losses[:-1])


# ------------------------------------------------------------------ pictures
def test_temperature_figure(rng):
    o = rng.normal(size=12)
    fig = lm_tools.temperature_figure(o, list("abcdefghij\n "), (0.5, 1.0, 2.0), top=5, context="xy")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    for ax, tau in zip(fig.axes, (0.5, 1.0, 2.0)):
        heights = [p.get_height() for p in ax.patches]
        expected = np.sort(lm_tools.softmax_temperature(o, tau))[::-1][:5]
        np.testing.assert_allclose(heights, expected)
        assert f"τ = {tau:g}" in ax.get_title()


def test_temperature_explorer_builds_and_redraws(tiny_model, monkeypatch):
    pytest.importorskip("ipywidgets")
    model, vocab = tiny_model
    seen = []
    real = lm_tools.next_char_scores
    monkeypatch.setattr(lm_tools, "next_char_scores", lambda m, v, p: seen.append(p) or real(m, v, p))
    box = lm_tools.build_temperature_explorer(model, vocab, prefix="ab", n=10)
    assert set(box.controls) == {"temperature", "prefix", "seed"}
    assert seen[-1] == "ab"
    box.controls["prefix"].value = "fg"
    assert seen[-1] == "fg"
    n = len(seen)
    box.controls["prefix"].value = "zz"            # unknown characters: a message, no model call
    assert len(seen) == n


def test_temperature_explorer_shows_static_figure_first(tiny_model, monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display
    model, vocab = tiny_model
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    lm_tools.temperature_explorer(model, vocab, prefix="ab", n=5)
    assert isinstance(shown[0], IPython.display.Image) and shown[0].data[:4] == b"\x89PNG"
    assert type(shown[-1]).__name__ == "VBox"


def test_live_loss_plot_records_and_redraws_on_validation(monkeypatch):
    plot = lm_tools.LiveLossPlot(baselines={"unigram": 3.3}, redraw_every=None)
    redraws = []
    monkeypatch.setattr(plot, "redraw", lambda: redraws.append(len(plot.steps)))
    for step in (10, 20, 30):
        plot({"step": step, "loss": 4.0 - step / 10})
    assert redraws == []
    plot({"step": 30, "val_loss": 3.5})
    plot({"step": 40, "smooth_loss": 2.5})         # numpy trainer's key
    assert redraws == [3]
    assert plot.steps == [10, 20, 30, 40] and plot.losses == [3.0, 2.0, 1.0, 2.5]
    assert plot.val_steps == [30] and plot.val_losses == [3.5]
    every = lm_tools.LiveLossPlot(redraw_every=2)
    monkeypatch.setattr(every, "redraw", lambda: redraws.append("every"))
    for step in range(5):
        every({"step": step, "loss": 1.0})
    assert redraws.count("every") == 2
    fig = plot.figure()
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert labels[0].startswith("training") and labels[1] == "validation loss"
    assert any(lbl.startswith("unigram") for lbl in labels)
