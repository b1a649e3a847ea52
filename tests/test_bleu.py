"""coursekit.metrics.corpus_bleu against sacrebleu (tokenize="none") and NLTK, on the same tokens."""
import math
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sacrebleu = pytest.importorskip("sacrebleu")
nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")

from coursekit.metrics import (bleu_from_statistics, bleu_statistics, corpus_bleu,  # noqa: E402
                               ngram_counts, sentence_bleu)

SACRE_SMOOTH = {None: "none", "floor": "floor", "add-k": "add-k", "exp": "exp"}


def nltk_smoothing(smooth):
    s = nltk_bleu.SmoothingFunction()
    return {None: None, "floor": s.method1, "add-k": s.method2, "exp": s.method3}[smooth]


def random_corpus(seed, m=40, vocab=8, max_refs=3, min_len=4):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab)]
    hyps, refs = [], []
    for _ in range(m):
        ref0 = [rng.choice(words) for _ in range(rng.randint(max(3, min_len), 12))]
        hyp = [w if rng.random() < 0.7 else rng.choice(words) for w in ref0]
        hyp = hyp[:rng.randint(min_len, len(hyp))] if rng.random() < 0.3 else hyp  # some short
        extra = [[rng.choice(words) for _ in range(rng.randint(3, 12))]
                 for _ in range(rng.randint(0, max_refs - 1))]
        hyps.append(hyp)
        refs.append([ref0] + extra)
    return hyps, refs


def sacre(hyps, refs, smooth=None, max_n=4):
    k = max(len(r) for r in refs)
    streams = [[" ".join(r[j]) if j < len(r) else None for r in refs] for j in range(k)]
    bleu = sacrebleu.metrics.BLEU(tokenize="none", smooth_method=SACRE_SMOOTH[smooth],
                                  max_ngram_order=max_n)
    return bleu.corpus_score([" ".join(h) for h in hyps], streams).score / 100


def nltk(hyps, refs, smooth=None, max_n=4):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nltk_bleu.corpus_bleu(refs, hyps, weights=(1 / max_n,) * max_n,
                                     smoothing_function=nltk_smoothing(smooth))


@pytest.mark.parametrize("seed", range(6))
def test_corpus_bleu_matches_sacrebleu_and_nltk(seed):
    hyps, refs = random_corpus(seed)
    ours = corpus_bleu(hyps, refs)
    assert 0.05 < ours < 0.95  # a non-trivial score
    assert ours == pytest.approx(sacre(hyps, refs), abs=1e-12)
    assert ours == pytest.approx(nltk(hyps, refs), abs=1e-12)


@pytest.mark.parametrize("max_n", [1, 2, 3])
def test_other_orders_match(max_n):
    hyps, refs = random_corpus(11)
    ours = corpus_bleu(hyps, refs, max_n=max_n)
    assert ours == pytest.approx(sacre(hyps, refs, max_n=max_n), abs=1e-12)
    assert ours == pytest.approx(nltk(hyps, refs, max_n=max_n), abs=1e-12)


@pytest.mark.parametrize("smooth", ["floor", "add-k", "exp"])
@pytest.mark.parametrize("seed", range(8))
def test_sentence_level_smoothing_matches(smooth, seed):
    hyps, refs = random_corpus(100 + seed, m=1, vocab=12)
    ours = sentence_bleu(hyps[0], refs[0], smooth=smooth)
    assert ours == pytest.approx(sacre(hyps, refs, smooth), abs=1e-12)
    assert ours == pytest.approx(nltk(hyps, refs, smooth), abs=1e-12)


def test_unsmoothed_zero_precision_gives_zero_everywhere():
    hyp, ref = "a b c d".split(), "a b x c d".split()  # no 3-gram or 4-gram in common
    assert corpus_bleu([hyp], [[ref]]) == 0.0 == pytest.approx(sacre([hyp], [[ref]]), abs=1e-9)
    assert nltk([hyp], [[ref]]) == pytest.approx(0.0, abs=1e-9)
    assert sentence_bleu(hyp, [ref]) > 0  # smoothed by default


def test_clipping_the_classic_example():
    # Papineni et al.: "the the the the the the the" against "the cat is on the mat"
    hyp, ref = ["the"] * 7, "the cat is on the mat".split()
    stats = bleu_statistics([hyp], [[ref]], max_n=1)
    assert stats["matches"] == [2] and stats["totals"] == [7]  # clipped to 2, not 7
    assert corpus_bleu([hyp], [[ref]], max_n=1) == pytest.approx(2 / 7)  # c > r: no penalty
    assert corpus_bleu([hyp], [[ref]], max_n=1) == pytest.approx(sacre([hyp], [[ref]], max_n=1))


def test_clip_takes_the_max_over_references_and_bp_the_closest_length():
    hyp = "a a b".split()
    refs = ["a b c d e".split(), "a a".split(), "a x y z".split()]
    s = bleu_statistics([hyp], [refs], max_n=2)
    assert s["matches"][0] == 3  # "a" clipped at 2 (from the second reference), "b" at 1
    assert s["ref_len"] == 2  # |3-2| = 1 beats |3-4| = 1? tie -> shorter: 2
    parts = bleu_from_statistics(s)
    assert parts["bp"] == 1.0
    hyp2 = ["a"]
    s2 = bleu_statistics([hyp2], [refs], max_n=1)
    assert s2["ref_len"] == 2 and bleu_from_statistics(s2)["bp"] == pytest.approx(math.exp(1 - 2))


def test_perfect_and_empty():
    ref = "the cat sat on the mat".split()
    assert corpus_bleu([ref], [[ref]]) == pytest.approx(1.0)
    assert corpus_bleu([[]], [[ref]]) == 0.0


def test_ngram_counts():
    assert ngram_counts("a b a b".split(), 2) == {("a", "b"): 2, ("b", "a"): 1}
    assert ngram_counts(["a"], 2) == {}


def test_bad_input():
    with pytest.raises(TypeError, match="str"):
        corpus_bleu(["a b"], [[["a", "b"]]])
    with pytest.raises(TypeError, match="references\\[0\\]"):
        corpus_bleu([["a"]], [["a"]])  # a reference list must hold token lists
    with pytest.raises(ValueError, match="one list of references per hypothesis"):
        corpus_bleu([["a"]], [])
    with pytest.raises(ValueError, match="max_n"):
        corpus_bleu([["a"]], [[["a"]]], max_n=0)
    with pytest.raises(ValueError, match="smooth"):
        corpus_bleu([["a"]], [[["a"]]], smooth="laplace")


def test_nltk_differs_only_on_hypotheses_shorter_than_n():
    # NLTK's modified_precision divides by max(1, number of hypothesis n-grams), so a
    # hypothesis shorter than n adds 1 to the n-gram total; sacrebleu (and we) add 0.
    hyps, refs = [["a", "b"], "a b c d e".split()], [[["a", "b", "c"]], ["a b c d e".split()]]
    ours = corpus_bleu(hyps, refs)
    assert ours == pytest.approx(sacre(hyps, refs), abs=1e-12)
    assert bleu_statistics(hyps, refs)["totals"] == [7, 5, 3, 2]
    assert nltk(hyps, refs) == pytest.approx(
        bleu_from_statistics({"matches": [7, 5, 3, 2], "totals": [7, 5, 4, 3],
                              "hyp_len": 7, "ref_len": 8})["bleu"], abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), m=st.integers(1, 6), vocab=st.integers(2, 5))
def test_property_matches_sacrebleu_exp_smoothing(seed, m, vocab):
    hyps, refs = random_corpus(seed, m=m, vocab=vocab, min_len=1)
    ours = corpus_bleu(hyps, refs, smooth="exp")
    assert 0.0 <= ours <= 1.0
    assert ours == pytest.approx(sacre(hyps, refs, "exp"), abs=1e-12)


# ------------------------------------------------------------- paired bootstrap
def test_paired_bootstrap_resamples_agree_with_corpus_bleu():
    import numpy as np

    from coursekit.metrics import paired_bootstrap
    hyps_a, refs = random_corpus(11, m=30)
    hyps_b = [r[0][:len(r[0]) - (i % 2)] for i, r in enumerate(refs)]  # near-copies: better
    out = paired_bootstrap(hyps_a, hyps_b, refs, samples=300, seed=4)
    assert out["bleu_a"] == pytest.approx(corpus_bleu(hyps_a, refs), abs=1e-12)
    assert out["bleu_b"] == pytest.approx(corpus_bleu(hyps_b, refs), abs=1e-12)
    assert out["delta"] == pytest.approx(out["bleu_b"] - out["bleu_a"])
    assert out["b_better"] == 1.0 and 0 < out["low"] <= out["delta"] <= out["high"]
    # the same draws, recomputed with corpus_bleu on each resampled test set
    rng = np.random.default_rng(4)
    idx = rng.integers(0, len(refs), size=(100, len(refs)))
    for row in idx[:5]:
        d = (corpus_bleu([hyps_b[i] for i in row], [refs[i] for i in row])
             - corpus_bleu([hyps_a[i] for i in row], [refs[i] for i in row]))
        assert 0 < d  # every resample prefers B here
    from coursekit.metrics import _bleu_of_sums, _sentence_statistics
    sa = _sentence_statistics(hyps_a, refs, 4)
    got = _bleu_of_sums(sa[idx[:5]].sum(1), 4)
    want = [corpus_bleu([hyps_a[i] for i in row], [refs[i] for i in row]) for row in idx[:5]]
    assert got == pytest.approx(want, abs=1e-12)


def test_paired_bootstrap_identical_and_swapped_systems():
    from coursekit.metrics import paired_bootstrap
    hyps_a, refs = random_corpus(5, m=25)
    same = paired_bootstrap(hyps_a, hyps_a, refs, samples=200)
    assert same["delta"] == 0 and same["b_better"] == 0 and same["low"] == same["high"] == 0
    hyps_b, _ = random_corpus(6, m=25)
    ab = paired_bootstrap(hyps_a, hyps_b, refs, samples=200, seed=1)
    ba = paired_bootstrap(hyps_b, hyps_a, refs, samples=200, seed=1)
    assert ab["delta"] == pytest.approx(-ba["delta"])
    assert ab["low"] == pytest.approx(-ba["high"]) and ab["high"] == pytest.approx(-ba["low"])
    with pytest.raises(ValueError, match="samples"):
        paired_bootstrap(hyps_a, hyps_a, refs, samples=0)
    with pytest.raises(ValueError, match="one list of references per hypothesis"):
        paired_bootstrap(hyps_a, hyps_a[:-1], refs)
