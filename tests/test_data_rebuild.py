"""Every committed data file is rebuilt byte for byte from its pinned source archive.

Parametrized over the modules of ``coursekit.data.prepare``, so a new dataset is
covered without new code. The archives are fetched once into a cache by
``python -m coursekit.data.prepare --fetch`` (``.ci/run`` does it); a test whose archive
is not in the cache skips and says so, unless ``COURSEKIT_REQUIRE_SOURCES=1`` (set by
CI), where a missing archive is a failure.
"""
from __future__ import annotations

import hashlib
import os

import pytest

from coursekit.data import DATA_DIR, FILES_DIR
from coursekit.data.prepare import datasets, rebuild_differences, sources
from coursekit.data.prepare._source import cached, npz_bytes, gzip_bytes

DATASETS = datasets()
REQUIRED = os.environ.get("COURSEKIT_REQUIRE_SOURCES") == "1"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_committed_files_are_documented(name):
    """Each output exists, and README.md gives its sha256 and the source's version."""
    mod = DATASETS[name]
    readme = (DATA_DIR / "README.md").read_text()
    for source in sources(mod):
        assert source.version in readme and source.sha256 in readme, \
            f"README.md must name {source.spec} and the archive's sha256"
    for fname in mod.OUTPUTS:
        path = FILES_DIR / fname
        assert path.is_file(), f"{fname} is missing: python -m coursekit.data.prepare {name}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() in readme, \
            f"README.md must give the sha256 of {fname}"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_rebuild_is_byte_identical(name):
    missing = [s.filename for s in sources(DATASETS[name]) if cached(s) is None]
    if missing:
        msg = (f"{', '.join(missing)} not in the source cache: run "
               f"`python -m coursekit.data.prepare --fetch {name}`")
        if REQUIRED:
            pytest.fail(msg)
        pytest.skip(msg)
    assert rebuild_differences(name) == []


def test_deterministic_writers():
    import numpy as np
    a = {"x": np.arange(6, dtype=np.int16).reshape(2, 3), "y": np.array([1.5])}
    assert npz_bytes(**a) == npz_bytes(y=a["y"], x=a["x"])       # names sorted, no timestamps
    import io
    with np.load(io.BytesIO(npz_bytes(**a)), allow_pickle=False) as z:
        assert (z["x"] == a["x"]).all() and z["y"][0] == 1.5
    assert gzip_bytes(b"abc") == gzip_bytes(b"abc")
    with pytest.raises(TypeError, match="object arrays"):
        npz_bytes(bad=np.array([{}], dtype=object))
