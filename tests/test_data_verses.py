"""The Spanish-English verse pairs (Reina-Valera 1909 and KJV): prepare module and loader.

The byte-for-byte rebuild from the two pinned ``.deb`` files is in ``test_data_rebuild.py``
(parametrized over every prepare module); here are the reading and cleaning rules on
small made-up modules, and the committed file's properties.
"""
import struct
import zlib

import pytest

from coursekit.data import verses
from coursekit.data.prepare import verses as prep


def _ztext(testaments):
    """A zText module in memory: {"ot.bzs": ..., ...} from lists of blocks of verse strings."""
    blobs = {}
    for name, blocks in testaments.items():
        bzs, bzv, bzz = b"", b"", b""
        for b, verses_ in enumerate(blocks):
            plain = b""
            for text in verses_:
                raw = text.encode("utf-8")
                bzv += struct.pack("<IIH", b, len(plain), len(raw))
                plain += raw
            packed = zlib.compress(plain)
            bzs += struct.pack("<III", len(bzz), len(packed), len(plain))
            bzz += packed
        blobs.update({f"{name}.bzs": bzs, f"{name}.bzv": bzv, f"{name}.bzz": bzz})
    return blobs


def test_read_ztext_follows_both_indexes():
    blobs = _ztext({"ot": [["", "a"], ["bé", "c"]], "nt": [["d"]]})
    assert prep.read_ztext(blobs) == ["", "a", "bé", "c", "d"]
    bzs = bytearray(blobs["ot.bzs"])
    bzs[8:12] = struct.pack("<I", 99)  # the first block's plain size is wrong
    with pytest.raises(ValueError, match="block"):
        prep.read_ztext({**blobs, "ot.bzs": bytes(bzs)})


def test_clean_keeps_words_and_drops_notes_and_titles():
    markup = ('<title type="psalm">A Psalm of David.</title><w lemma="strong:H0430">God</w> '
              '<transChange type="added">is</transChange> good<note type="x">Heb. tob</note>. ¶')
    assert prep.clean(markup) == "God is good."
    assert prep.clean('<chapter n="2" osisID="Gen.2" sID="Gen.2"/> ') == ""


def test_verse_names_skip_book_and_chapter_headings():
    slots = ["", '<milestone type="x-importer"/>',
             '<div canonical="true" osisID="Gen" sID="gen2" type="book"/> <title>Genesis</title>',
             '<chapter n="1" osisID="Gen.1" sID="Gen.1"/>', "In the beginning", "",
             '<div sID="p" type="x-p"/> <chapter n="2" osisID="Gen.2" sID="Gen.2"/> ', "Thus",
             '<div canonical="true" osisID="Exod" sID="ex" type="book"/>',
             '<chapter n="1" osisID="Exod.1" sID="Exod.1"/>', "Now these"]
    assert prep.verse_names(slots) == [None, None, None, None, "Gen.1.1", "Gen.1.2", None,
                                       "Gen.2.1", None, None, "Exod.1.1"]


def test_aligned_verses_keep_rule_and_versification_check():
    en = ['<div osisID="Gen" sID="g" type="book"/>', '<chapter osisID="Gen.1" sID="Gen.1"/>',
          "In the beginning God", "Too short", "", "And God said, Let there be light"]
    es = ["", "", "En el principio Dios", "Muy corto.", "Sólo aquí está", "Y dijo Dios: Sea la luz"]
    assert prep.aligned_verses(es, en) == [
        ("Gen.1.1", "En el principio Dios", "In the beginning God"),
        ("Gen.1.4", "Y dijo Dios: Sea la luz", "And God said, Let there be light")]
    assert not prep.keep("uno dos tres", " ".join(["w"] * 21))
    with pytest.raises(ValueError, match="versification"):
        prep.aligned_verses(es[:-1], en)


def test_loader_sizes_order_and_disjoint_sentences():
    splits = {s: verses.load_verses(s) for s in verses.SPLITS}
    assert [len(splits[s]) for s in verses.SPLITS] == [10_003, 561, 1_168]
    assert splits["train"][0] == ("Gen.1.1", "EN el principio crió Dios los cielos y la tierra.",
                                  "In the beginning God created the heaven and the earth.")
    for side in (1, 2):
        seen = [{v[side] for v in splits[s]} for s in verses.SPLITS]
        assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    refs = [r for s in verses.SPLITS for r, _, _ in splits[s]]
    assert len(refs) == len(set(refs))
    for _, es, en in splits["test"]:
        assert 3 <= len(es.split()) <= 20 and 3 <= len(en.split()) <= 20 and "<" not in es + en
    assert verses.load_pairs("valid") == [(es, en) for _, es, en in splits["valid"]]
    test_refs = verses.references("test")
    assert sum(len(r) for _, r in test_refs) == len(splits["test"])
    assert verses.tokenize("¿Qué te he hecho?") == ["¿", "qué", "te", "he", "hecho", "?"]
    with pytest.raises(ValueError, match="split"):
        verses.load_pairs("dev")


def test_header_names_both_sources():
    import gzip
    head = gzip.decompress(verses.VERSES_PATH.read_bytes()).decode()[:1000]
    for source in prep.SOURCE:
        assert f"{source.package} {source.version}" in head
    assert "public domain" in head
