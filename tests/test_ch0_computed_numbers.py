"""Chapters 1-5 quote no typed figure: every decimal number in their prose is glued from code.

A figure that a computation produces (an accuracy, a time, a loss, a ratio)
must reach the markdown through myst-nb's ``glue`` (``{glue:text}`name:.3f```),
so that the number on the page is the number the code printed on this run.
What may be typed is listed in ``ALLOWED``: settings the reader can see in the
code under the text (a learning rate, a spectral radius chosen for an
experiment) and constants of formulas (``10^{-6}``, sigma(0) = 0.5). The test
also checks that every glued name is glued by some code cell of the same
chapter, so a typo in a role cannot silently render nothing. Those two glue checks, and
one that every inline glue role is ``{glue:text}`` (``{glue:}`` would print a glued string
with its quotes), run over every chapter.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("0[1-5]_*.ipynb"))
ALL_CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))

#: Typed numbers that are not results: settings shown in the code cells, and constants.
ALLOWED = {
    "01": {"0.5", "0.95", "1.5",            # spectral radii chosen for the explorer
           "1%",                            # a threshold chosen in an exercise
           "10^{-7}"},                      # the usual threshold of a float64 gradient check
    "02": {"10^{-6}", "10^{-8}", "10^{-10}",  # the finite-difference step and its accuracy
           "0.5", "0.9", "1.1", "1.5",      # spectral radii chosen for the experiments
           "3.0", "0.03", "0.3",            # learning rate and clipping thresholds (settings)
           "0.25",                          # chance level with four symbols, 1/4
           "10^{-3}"},                      # a threshold set by an exercise
    "03": {"0.5", "0.9", "1.5",             # temperatures chosen for samples
           "0.01", "0.05"},                 # settings named by exercises
    "04": {"0.5", "0.73", "0.95",           # sigma(0), sigma(1), sigma(3) to two decimals
           "0.01",                          # the learning rate of the experiment (a setting)
           "0.9", "0.25",                   # a success threshold chosen here; chance, 1/4
           "50%", "25%"},                   # two of four keys told apart; chance with K = 4
    "05": set(),
}

_GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`]*)`")
_CODE = re.compile(r"`[^`]*`")
_NUMBER = re.compile(r"(?<![\w.])\d*\.\d+(?:e-?\d+)?|(?<![\w.])\d+(?:\.\d+)?\s?%|10\^\{?-?\d+\}?")
_GLUE_CALL = re.compile(r"""glue\(\s*(?:f?["'])([^"']+)["']""")


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _typed_numbers(markdown: str):
    text = _GLUE_ROLE.sub(" ", markdown)
    text = re.sub(r"\{cite(?::\w+)?\}`[^`]*`", " ", text)
    text = _CODE.sub(" ", text)
    return [m.group().replace(" ", "") for m in _NUMBER.finditer(text)]


def test_every_chapter_is_checked():
    assert [p.name[:2] for p in CHAPTERS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name[:2])
def test_prose_numbers_are_glued_or_allowed(path):
    allowed = ALLOWED[path.name[:2]]
    typed = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "markdown":
            typed += [(i, n) for n in _typed_numbers("".join(cell["source"])) if n not in allowed]
    assert not typed, f"{path.name}: typed numbers in markdown (glue them or allow them): {typed}"


@pytest.mark.parametrize("path", ALL_CHAPTERS, ids=lambda p: p.name[:2])
def test_every_glued_name_is_glued_by_the_chapter(path):
    cells = _cells(path)
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    glued = set(_GLUE_CALL.findall(code))
    used = {m.split(":")[0] for c in cells if c["cell_type"] == "markdown"
            for m in _GLUE_ROLE.findall("".join(c["source"]))}
    patterns = [re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(g)) + "$") for g in glued]
    missing = sorted(name for name in used if not any(p.match(name) for p in patterns))
    assert not missing, f"{path.name}: glued in markdown but never by code: {missing}"


@pytest.mark.parametrize("path", ALL_CHAPTERS, ids=lambda p: p.name[:2])
def test_inline_glue_strips_quotes(path):
    """``{glue:}`` pastes the text/plain repr, so a glued string shows as '20.32' with its
    quotes; ``{glue:text}`` evaluates the repr first and prints 20.32."""
    bare = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "markdown"
            and "{glue:}`" in "".join(c["source"])]
    assert not bare, f"{path.name}: cells {bare} use {{glue:}}; write {{glue:text}}"


def test_the_detector_sees_typed_numbers_and_ignores_glued_ones():
    md = ("accuracy 0.311 against {glue:text}`acc:.3f`, `lr=0.02` in code, "
          "about 3% and $10^{-6}$")
    assert _typed_numbers(md) == ["0.311", "3%", "10^{-6}"]
