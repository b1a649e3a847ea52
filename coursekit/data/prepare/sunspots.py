"""Prepare ``sunspots.csv``: yearly sunspot numbers 1700-2008 (public domain).

Source: the PyPI wheel ``statsmodels==0.15.0``, file
``statsmodels/datasets/sunspots/sunspots.csv`` (columns ``YEAR,SUNACTIVITY``,
309 rows; from NOAA's National Geophysical Data Center; "This data is public
domain" says statsmodels' ``datasets/sunspots/data.py``). Copied as it is, with
line ends normalised; statsmodels is never installed or imported.
Chapter 7 (forecasting).
"""
from __future__ import annotations

from pathlib import Path

from coursekit.data.prepare._source import read_member
from coursekit.data.prepare._statsmodels import STATSMODELS, csv_member, normalise_csv

SOURCE = STATSMODELS
OUTPUTS = ("sunspots.csv",)


def build(archive: Path) -> dict[str, bytes]:
    """Read the wheel -> ``{"sunspots.csv": bytes}`` (309 years and a header)."""
    return {OUTPUTS[0]: normalise_csv(read_member(archive, csv_member("sunspots")))}
