"""Helpers of chapters 9 and 10 (coursekit.book.ch09_seq2seq, ch10_attention)."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from coursekit.book import ch09_seq2seq as ch09  # noqa: E402
from coursekit.book import ch10_attention as ch10  # noqa: E402
from coursekit.data import verses  # noqa: E402
from coursekit.decode import beam_search, greedy_search  # noqa: E402


def test_greedy_trap_is_a_trap():
    g, g_lp = greedy_search(ch09.trap_step, (), 0, 1, 4)
    b, b_lp = beam_search(ch09.trap_step, (), 0, 1, 2, 4)
    assert g == [2, 1] and b == [3, 1] and b_lp > g_lp
    assert all(abs(sum(p) - 1) < 1e-12 for p in ch09.TRAP.values())
    ch09.draw_trap(g, b)


def test_tiny_examples_have_the_documented_shapes():
    P = ch09.tiny_seeds_example()
    assert P["x"].shape == (1, 3, 4) and P["Wc"].shape == (3, 3) and P["Wo"].shape == (3, 4)
    A = ch10.tiny_attention_example()
    assert A["keys"].shape == (2, 4, 3) and A["mask"].sum(1).tolist() == [4, 2]
    assert np.all(A["keys"][~A["mask"]] == 0)


def test_softmax_axis_demo_and_entropy():
    A = ch10.tiny_attention_example()
    right, wrong = ch10.softmax_axis_demo(np.arange(8.0).reshape(2, 4), A["mask"])
    assert np.allclose(right.sum(1), 1) and not np.allclose(wrong.sum(1), 1)
    assert ch10.entropy(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx([0.0, np.log(2)])


def test_shipped_g2p_model_aligns_and_explains_exposure_bias():
    model, src, tgt, metrics = ch09.load_g2p()
    assert metrics["test"]["greedy"]["per"] <= 0.08  # the goal, measured by the benchmark
    letters, out, weights, ranked = ch10.align(model, src, tgt, "cat", beam_size=3)
    assert letters == ["c", "a", "t"] and out == ["K", "AE", "T"]
    assert weights.shape == (4, 3) and np.allclose(weights.sum(1), 1)
    assert ranked[0][0] == out
    entries = ch09.cmudict.load_g2p("test")[:200]
    pos, forced, free, counts = ch09.exposure_bias(model, src, tgt, entries, max_pos=4)
    assert forced[0] == pytest.approx(free[0])  # position 1: the same input either way
    assert (forced >= free - 1e-12).all()



def test_shipped_translation_model_aligns():
    model, src, tgt, metrics = ch09.load_translation()
    assert set(metrics["systems"]) == {"every_step", "attention"}
    assert metrics["corpus"] == "verses"
    sentence = "Y dijo Dios: Sea la luz."
    shown, out, weights, ranked = ch10.align(model, src, tgt, sentence, kind="mt", beam_size=3)
    assert shown == verses.tokenize(sentence)
    assert weights.shape == (len(out) + 1, len(shown)) and np.allclose(weights.sum(1), 1)
    assert ranked[0][0] == out


def test_chapter_10_heat_map_prose_matches_the_shipped_model():
    """The markdown under chapter 10's translation heat maps describes these outputs and
    where they look; if a retrained checkpoint changes them, the prose must change too."""
    model, src, tgt, _ = ch09.load_translation()
    test_sources = {es for es, _ in verses.references("test")}

    def run(sentence):
        assert sentence in test_sources                    # held out, as the chapter says
        shown, out, weights, _ = ch10.align(model, src, tgt, sentence, kind="mt")
        looks = {(o, shown[j]) for o, j in zip(out, weights[:-1].argmax(1))}
        return " ".join(out), looks

    out, looks = run("Y habló más Jehová á Achâz, diciendo:")
    assert "the lord spake" in out and {("lord", "jehová"), ("spake", "habló")} <= looks
    out, looks = run("El que tiene oídos para oir, oiga.")
    assert "let him hear" in out and {("let", "oiga"), ("him", "oiga"), ("hear", "oiga")} <= looks
    out, looks = run("No dirás falso testimonio contra tu prójimo.")
    assert out.startswith("thou shalt not") and {("thou", "no"), ("shalt", "no"), ("not", "no")} <= looks
    out, looks = run("Los hijos de Harim, mil diez y siete.")
    assert "three thousand and seven" in out
    assert {("three", "mil"), ("thousand", "mil")} <= looks
