"""Prepare ``co2.csv``: weekly atmospheric CO2 at Mauna Loa, 1958-2001 (public domain).

Source: the PyPI wheel ``statsmodels==0.15.0``, file
``statsmodels/datasets/co2/co2.csv`` (columns ``date,co2``: the Saturday of each
week as ``YYYYMMDD`` and the mean concentration in ppmv, empty for the 59 weeks
with no measurement; 2,284 weeks from 1958-03-29 to 2001-12-29). Keeling and
Whorf 2004, Scripps Institution of Oceanography via CDIAC; "This is public
domain" says statsmodels' ``datasets/co2/data.py``. Copied as it is, with line
ends normalised; statsmodels is never installed or imported.
Chapter 7 (forecasting).
"""
from __future__ import annotations

from pathlib import Path

from coursekit.data.prepare._source import read_member
from coursekit.data.prepare._statsmodels import STATSMODELS, csv_member, normalise_csv

SOURCE = STATSMODELS
OUTPUTS = ("co2.csv",)


def build(archive: Path) -> dict[str, bytes]:
    """Read the wheel -> ``{"co2.csv": bytes}`` (2,284 weeks and a header)."""
    return {OUTPUTS[0]: normalise_csv(read_member(archive, csv_member("co2")))}
