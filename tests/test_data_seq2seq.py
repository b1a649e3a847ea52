"""The G2P (CMU dictionary) and German-English (Ding) datasets: prepare modules and loaders."""
import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest

from coursekit import data
from coursekit.data import cmudict, de_en
from coursekit.data.prepare import cmudict as prep_cmudict
from coursekit.data.prepare import de_en as prep_de_en

SOURCES = Path(os.environ.get("COURSEKIT_SOURCES", Path.home() / ".cache" / "coursekit-sources"))
README = (Path(data.__file__).parent / "README.md").read_text()


def _archive(module):
    path = SOURCES / module.SOURCE.filename
    if not path.exists():
        pytest.skip(f"{module.SOURCE.filename} not in {SOURCES} (fetch it to run this test)")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == module.SOURCE.sha256
    return path


@pytest.mark.parametrize("module", [prep_cmudict, prep_de_en])
def test_build_reproduces_the_committed_file(module):
    outputs = module.build(_archive(module))
    assert sorted(outputs) == sorted(module.OUTPUTS)
    for name, blob in outputs.items():
        assert blob == (Path(data.__file__).parent / "files" / name).read_bytes(), name


@pytest.mark.parametrize("module", [prep_cmudict, prep_de_en])
def test_readme_records_source_and_output_hashes(module):
    assert module.SOURCE.sha256 in README
    assert module.SOURCE.version in README and module.SOURCE.package in README
    for name in module.OUTPUTS:
        blob = (Path(data.__file__).parent / "files" / name).read_bytes()
        assert hashlib.sha256(blob).hexdigest() in README, name
        assert gzip.decompress(blob)  # a valid gzip stream
        assert blob[4:8] == b"\0\0\0\0"  # gzip mtime 0: the bytes depend on the content only


# --------------------------------------------------------------------- G2P
def test_cmudict_parse_on_a_small_example():
    text = ("aalborg AO1 L B AO0 R G # place, danish\naalborg(2) AA1 L B AO0 R G\n"
            "abc's EY1 B IY2 S IY2 Z\nab-c EY1\naa AA1\naa(2) AA2\n")
    assert prep_cmudict.parse(text) == {
        "aalborg": [("AO", "L", "B", "AO", "R", "G"), ("AA", "L", "B", "AO", "R", "G")],
        "abc's": [("EY", "B", "IY", "S", "IY", "Z")],
        "aa": [("AA",)],  # variants equal once stress is gone merge
    }


def test_cmudict_split_depends_on_the_word_only():
    assert prep_cmudict.split_of("hello") == prep_cmudict.split_of("hello")
    counts = {s: 0 for s in cmudict.SPLITS}
    for i in range(20_000):
        counts[prep_cmudict.split_of(f"w{i}")] += 1
    assert 0.86 < counts["train"] / 20_000 < 0.90 and 0.08 < counts["test"] / 20_000 < 0.12


def test_g2p_loader_sizes_alphabets_and_disjoint_words():
    splits = {s: cmudict.load_g2p(s) for s in cmudict.SPLITS}
    assert [len(splits[s]) for s in cmudict.SPLITS] == [109_999, 2_488, 12_439]
    words = [w for s in cmudict.SPLITS for w, _ in splits[s]]
    assert len(words) == len(set(words))  # every word, with all its variants, in one split
    for s, entries in splits.items():
        for word, prons in entries:
            assert prep_cmudict.split_of(word) == s
            assert set(word) <= set(cmudict.GRAPHEMES)
            assert 1 <= len(prons) <= 4 and len(set(prons)) == len(prons)
            assert all(p and set(p) <= set(cmudict.PHONEMES) for p in prons)
    assert dict(splits["train"])["hello"] in [(("HH", "AH", "L", "OW"), ("HH", "EH", "L", "OW"))]
    assert len(cmudict.training_pairs(splits["train"])) == 117_678
    with pytest.raises(ValueError, match="split"):
        cmudict.load_g2p("dev")


def test_training_pairs_one_per_variant():
    entries = [("ab", (("AE", "B"), ("EY", "B"))), ("c", (("S", "IY"),))]
    assert cmudict.training_pairs(entries) == [(("a", "b"), ("AE", "B")), (("a", "b"), ("EY", "B")),
                                               (("c",), ("S", "IY"))]


# --------------------------------------------------------------- translation
def test_de_en_keep_rules():
    keep = prep_de_en.keep
    assert keep("Halt den Mund!", "Hold your tongue!")
    assert not keep("Halt den Mund", "Hold your tongue!")               # no final mark
    assert not keep("der Preis von etw.", "the price of sth.")         # lower case, placeholder
    assert not keep("Er sagte es jdm.", "He told sb.")                 # placeholder
    assert not keep("Das ist (sehr) gut.", "That is (very) good.")     # brackets
    assert not keep("Ja.", "Yes.")                                     # one English word
    assert not keep("Ja.", "A B C D E F G H I J K.")                   # eleven English words


def test_de_en_extract_pairs_aligns_sub_entries():
    text = ("# comment :: line\n"
            "Mund {m} | Halt den Mund! | Halt den Mund! :: mouth | Hold your tongue! | Hold your tongue!\n"
            "a | b :: only one side\n"
            "Wie geht's? :: How are you?\n")
    assert prep_de_en.extract_pairs(text) == [("Halt den Mund!", "Hold your tongue!"),
                                              ("Wie geht's?", "How are you?")]


def test_de_en_groups_never_cross_the_split():
    pairs = [("A a.", "X x."), ("A a.", "Y y."), ("B b.", "Y y."), ("C c.", "Z z.")]
    splits = prep_de_en.assign_splits(pairs)
    assert splits[0] == splits[1] == splits[2]  # connected through A and Y


def test_de_en_loader_sizes_and_disjoint_sentences():
    splits = {s: de_en.load_pairs(s) for s in de_en.SPLITS}
    assert [len(splits[s]) for s in de_en.SPLITS] == [9_993, 611, 1_177]
    for side in (0, 1):
        seen = [{p[side] for p in splits[s]} for s in de_en.SPLITS]
        assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    for de, en in splits["test"]:
        assert de[-1] in ".!?" and en[-1] in ".!?" and 2 <= len(en.split()) <= 10
    refs = de_en.references("test")
    assert len(refs) == len({d for d, _ in splits["test"]})
    assert sum(len(r) for _, r in refs) == len(splits["test"]) and max(len(r) for _, r in refs) >= 2
    with pytest.raises(ValueError, match="split"):
        de_en.load_pairs("dev")


def test_tokenize():
    assert de_en.tokenize("That’s the lot for now.") == ["that's", "the", "lot", "for", "now", "."]
    assert de_en.tokenize("Sein Zimmergenosse hatte „Angst“!") == [
        "sein", "zimmergenosse", "hatte", '"', "angst", '"', "!"]
    assert de_en.tokenize("His room-mate waited...") == ["his", "room-mate", "waited", "..."]
    with pytest.raises(TypeError):
        de_en.tokenize(["a"])


def test_gpl_notice_ships_with_the_pairs():
    files = Path(data.__file__).parent / "files"
    head = gzip.decompress((files / "de_en_pairs.tsv.gz").read_bytes()).decode()[:2000]
    assert "GNU General Public License" in head and "version 2" in head
    assert re.search(r"GNU GENERAL PUBLIC LICENSE\s+Version 2", (files / "de_en_pairs.COPYING").read_text())
