"""coursekit.data.emoji and coursekit.data.scenes: the image-caption sets of chapter 11.

Emoji: the committed files load and join (every image has a caption), the split is
compositional (a test image's concept and tone are both in training, never together),
tokens, vocabulary and padding. Scenes: deterministic, held-out colour-shape pairs only
in test, masks match the drawn pixels, captions follow the grammar."""
import numpy as np
import pytest

from coursekit.data import emoji, scenes


@pytest.fixture(scope="module")
def data():
    return emoji.load_emoji()


def test_images_and_captions_join(data):
    assert data.images.shape == (len(data), 32, 32, 3) and data.images.dtype == np.uint8
    assert len(data) == 3786  # every Google image of emoji-datasource-google 16.0.0
    assert len(set(data.hexcodes)) == len(data)
    assert all(data.captions) and all(isinstance(w, str) for c in data.captions for w in c)
    i = data.labels.index("waving hand: medium-dark skin tone")
    assert data.captions[i] == ["waving", "hand", "medium-dark", "skin", "tone"]
    assert data.tone[i] == "4" and data.base[i] == "1F44B"
    # the picture is not blank: emoji are drawn on white
    assert data.images.mean() < 250 and (data.images.reshape(len(data), -1).std(1) > 5).all()


def test_split_is_compositional(data):
    train, test, valid = (data.subset(s) for s in ("train", "test", "valid"))
    assert len(train) + len(test) + len(valid) == len(data)
    assert 250 < len(test) < 400 and len(valid) == len(test)
    train_pairs = set(zip(train.base, train.tone))
    train_bases, train_tones = set(train.base), set(train.tone)
    train_words = {w for c in train.captions for w in c}
    for b, t, cap in zip(test.base, test.tone, test.captions):
        assert t in "12345" and len(t) == 1
        assert b in train_bases and t in train_tones and (b, t) not in train_pairs
        assert set(cap) <= train_words  # every word is known, the combination is new
    # each base with five tones: one in test, one in valid, three in training (+ the plain one)
    for b in set(test.base):
        tones = [t for bb, t in zip(data.base, data.tone) if bb == b and len(t) == 1]
        assert sorted(tones) == list("12345")
        assert sum(1 for bb, t in zip(train.base, train.tone) if bb == b and len(t) == 1) == 3
    assert emoji.load_emoji("test").labels == test.labels


def test_tokenize_vocab_encode():
    assert emoji.tokenize("couple with heart: woman, man") == ["couple", "with", "heart",
                                                               "woman", "man"]
    assert emoji.tokenize("man’s shoe") == ["man’s", "shoe"]
    caps = [["a", "b"], ["b", "c", "b"]]
    w2i = emoji.build_vocab(caps)
    assert [w for w, _ in sorted(w2i.items(), key=lambda kv: kv[1])] == \
        ["<NULL>", "<START>", "<END>", "<UNK>", "b", "a", "c"]
    ids = emoji.encode_captions([["a"], ["b", "zzz", "c"]], w2i)
    np.testing.assert_array_equal(ids, [[1, 5, 2, 0, 0], [1, 4, 3, 6, 2]])
    np.testing.assert_array_equal(emoji.encode_captions([["b", "c", "a"]], w2i, max_len=1),
                                  [[1, 4, 2]])
    with pytest.raises(ValueError, match="split"):
        emoji.load_emoji("dev")


def test_scenes_are_deterministic_and_held_out():
    a, b = scenes.make_scenes(40, "train", seed=3), scenes.make_scenes(40, "train", seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.captions == b.captions
    assert not np.array_equal(a.images, scenes.make_scenes(40, "train", seed=4).images)
    tr, te = scenes.make_scenes(300, "train"), scenes.make_scenes(300, "test")
    pairs = lambda s: [{(c, sh) for _, c, sh in objs} for objs in s.objects]  # noqa: E731
    assert all(not (p & scenes.HELD_OUT) for p in pairs(tr))
    assert all(p & scenes.HELD_OUT for p in pairs(te))
    seen = {x for p in pairs(tr) for x in p}
    assert {c for c, _ in seen} == set(scenes.COLOURS) and {s for _, s in seen} == set(scenes.SHAPES)


def test_scene_masks_and_captions():
    s = scenes.make_scenes(50, "test", seed=1)
    assert s.images.shape == (50, 32, 32, 3) and s.masks.shape == (50, 2, 32, 32)
    for img, masks, cap, objs, rel in zip(s.images, s.masks, s.captions, s.objects, s.relations):
        assert cap == [*objs[0], *rel.split(), *objs[1]]
        assert not (masks[0] & masks[1]).any() and masks[0].any() and masks[1].any()
        for m, (_, colour, _) in zip(masks, objs):
            mean = img[m].astype(float).mean(0)
            assert np.abs(mean - scenes.COLOURS[colour]).max() < 8  # only pixel noise
        ys0, xs0 = np.nonzero(masks[0])
        ys1, xs1 = np.nonzero(masks[1])
        if rel == "left of":
            assert xs0.max() < xs1.min()
        else:
            assert ys0.max() < ys1.min()
    with pytest.raises(ValueError, match="split"):
        scenes.make_scenes(3, "valid")
    with pytest.raises(ValueError, match="n"):
        scenes.make_scenes(0)
    with pytest.raises(ValueError, match="shape"):
        scenes.draw_object("hexagon", 5, 5, 3)
