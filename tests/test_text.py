"""coursekit.data.text.CharVocab: sorted characters, encode/decode, clear errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.data.text import CharVocab


def test_hello_vocabulary():
    v = CharVocab("hello")
    assert v.chars == ["e", "h", "l", "o"] and v.size == len(v) == 4
    assert v.stoi == {"e": 0, "h": 1, "l": 2, "o": 3}
    assert v.itos == {0: "e", 1: "h", 2: "l", 3: "o"}
    ids = v.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 2, 2, 3]
    assert v.decode(ids) == "hello" and v.decode([3, 2]) == "ol"
    assert "h" in v and "z" not in v and "size=4" in repr(v)


def test_empty_string_round_trips():
    v = CharVocab("ab")
    assert v.encode("").shape == (0,) and v.encode("").dtype == np.int64
    assert v.decode(np.array([], dtype=np.int64)) == "" and v.decode([]) == ""


def test_unknown_character_names_character_and_position():
    with pytest.raises(ValueError, match=r"character 'z' at position 3 is not in the vocabulary"):
        CharVocab("hello").encode("helz")


@pytest.mark.parametrize("ids, msg", [
    ([0, 4], r"id 4 at position 1 is out of range \[0, 4\)"),
    ([-1], r"id -1 at position 0 is out of range"),
    ([0.5], r"ids must be a 1-D sequence of integers"),
    ([[0, 1]], r"ids must be a 1-D sequence of integers"),
])
def test_bad_ids_raise_value_error(ids, msg):
    with pytest.raises(ValueError, match=msg):
        CharVocab("hello").decode(ids)


@pytest.mark.parametrize("bad, exc", [(None, TypeError), (["a", "b"], TypeError), ("", ValueError)])
def test_bad_text(bad, exc):
    with pytest.raises(exc, match="text must"):
        CharVocab(bad)


def test_encode_needs_a_string():
    with pytest.raises(TypeError, match="s must be a str"):
        CharVocab("ab").encode(["a"])


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=50))
def test_round_trip_and_sorted_unique(text):
    v = CharVocab(text)
    assert v.chars == sorted(set(text))
    ids = v.encode(text)
    assert ids.shape == (len(text),) and (ids >= 0).all() and (ids < v.size).all()
    assert v.decode(ids) == text
