"""coursekit.data.bpe: merges learned by hand-checkable counts, exact round trips, errors."""
from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from coursekit.data.bpe import BPE, END, learn_bpe

COUNTS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}


def test_first_merges_follow_the_pair_counts():
    # pair counts: (e,s) 9, (s,t</w>) 9, (w,e) 8, (l,o) 7 ...: the tie goes to the larger pair
    merges = learn_bpe(COUNTS, 3)
    assert merges == [("s", "t" + END), ("e", "st" + END), ("l", "o")]


def test_learning_matches_a_full_recount():
    """The incremental counts give the same merges as recounting every word each step."""
    words = Counter("the cat sat on the mat with the other cats that sat there".split())
    seqs = {w: list(w[:-1]) + [w[-1] + END] for w in words}
    expected = []
    for _ in range(15):
        stats = Counter()
        for w, s in seqs.items():
            for pair in zip(s, s[1:]):
                stats[pair] += words[w]
        if not stats or max(stats.values()) < 2:
            break
        best = max(stats, key=lambda p: (stats[p], p))
        expected.append(best)
        for w, s in seqs.items():
            i, new = 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    new.append(s[i] + s[i + 1])
                    i += 2
                else:
                    new.append(s[i])
                    i += 1
            seqs[w] = new
    assert learn_bpe(dict(words), 15) == expected


def test_encode_applies_merges_in_order_and_decodes_exactly():
    bpe = BPE(learn_bpe(COUNTS, 10))
    assert bpe.encode(["lowest"]) == ["lo", "west" + END]
    assert bpe.encode(["low"]) == ["low" + END]
    tokens = ["newer", "wider", "xyz", "!", "low"]
    assert BPE.decode(bpe.encode(tokens)) == tokens
    assert BPE.decode(["lo", "w"]) == ["low"]          # an unfinished word is kept


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="abcde'-", min_size=1, max_size=8), min_size=1, max_size=12))
def test_round_trip_on_any_words(words):
    bpe = BPE(learn_bpe(Counter(words), 20))
    assert BPE.decode(bpe.encode(words)) == words
    assert all(p for p in bpe.encode(words))


def test_stops_when_no_pair_repeats():
    assert learn_bpe({"ab": 1}, 5) == []
    # (a, b) and (b, a) occur twice each (the last b is b</w>): the tie goes to (b, a), after
    # which no pair repeats
    assert learn_bpe({"ababab": 1}, 5) == [("b", "a")]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="merges"):
        learn_bpe(COUNTS, 0)
    with pytest.raises(ValueError, match="word_counts"):
        learn_bpe({}, 3)
    with pytest.raises(ValueError, match="word_counts values"):
        learn_bpe({"a": 0}, 3)
    with pytest.raises(ValueError, match="word_counts keys"):
        learn_bpe({"a" + END: 2}, 3)
    with pytest.raises(ValueError, match="merges must be pairs"):
        BPE([("a",)])
    with pytest.raises(TypeError, match="tokens"):
        BPE([]).encode("low")
    with pytest.raises(ValueError, match="word"):
        BPE([]).encode([""])
