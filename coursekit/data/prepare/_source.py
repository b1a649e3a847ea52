"""Stand-in for the lead's shared preparation machinery (replaced by main's on merge).

Only what the ch09/ch10 prepare modules import: the ``Source`` record.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a dataset's archive comes from: registry, package, version, file name, sha256."""

    registry: str
    package: str
    version: str
    filename: str
    sha256: str
