"""``coursekit info``: what this installation holds (versions, modules, data)."""
from __future__ import annotations

import pkgutil
import platform

import coursekit


def describe() -> dict[str, str]:
    """Versions of Python, numpy, torch and coursekit, and the modules it ships."""
    import numpy
    out = {"coursekit": coursekit.__version__, "python": platform.python_version(),
           "numpy": numpy.__version__}
    try:
        import torch
        out["torch"] = torch.__version__
        out["cuda available"] = str(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch is a hard dependency
        out["torch"] = "not installed"
    mods = sorted(m.name for m in pkgutil.iter_modules(coursekit.__path__) if not m.name.startswith("_"))
    out["modules"] = ", ".join(mods)
    return out


def _run(args) -> int:
    for k, v in describe().items():
        print(f"{k:>15}: {v}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("info", help="print versions and the modules this installation provides")
    p.set_defaults(func=_run)
