"""The statsmodels 0.15.0 wheel, shared by the sunspots and CO2 prepare modules.

statsmodels ships its example datasets as small CSV files under
``statsmodels/datasets/<name>/<name>.csv``. Only those files are read (with
``zipfile``); statsmodels is never installed or imported. The wheel is the
CPython 3.11 manylinux one that ``pip download --only-binary=:all:`` picks on
the course's machines (the CSVs are the same in every wheel of the release).
"""
from __future__ import annotations

from coursekit.data.prepare._source import Source

STATSMODELS = Source(
    registry="pypi", package="statsmodels", version="0.15.0",
    filename="statsmodels-0.15.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    sha256="b67886b66d9c7ca118526accedb5c6de7ffd74c015dc0492ea0b1690192b65da")


def csv_member(name: str) -> str:
    """The path of dataset ``name``'s CSV inside the wheel."""
    return f"statsmodels/datasets/{name}/{name}.csv"


def normalise_csv(raw: bytes) -> bytes:
    """ASCII CSV with ``\\n`` line ends, no blank lines, one final newline."""
    lines = [line.strip() for line in raw.decode("ascii").splitlines()]
    return ("\n".join(line for line in lines if line) + "\n").encode("ascii")
