"""Write a benchmark's figures as JSON, stamped with the machine and the date.

Every script in ``benchmarks/`` that prints speed or quality figures also records
them with :func:`write_result` in ``benchmarks/results/<name>.json``; the book's
"Performance and quality" appendix (``coursekit.book.performance``) is built from
those files, so no figure in it is typed by hand.
"""
from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """What the figures were measured on: OS, CPU, core count, Python, numpy, torch."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            info["cpu"] = names[0]
    except OSError:
        pass
    for mod in ("numpy", "torch"):
        if mod in sys.modules:
            info[mod] = sys.modules[mod].__version__
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    return info


def write_result(name: str, figures: dict, settings: dict | None = None,
                 out: Path | None = None) -> Path:
    """Write ``{"benchmark", "date", "machine", "settings", "figures"}`` to ``out``."""
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "settings": settings or {}, "figures": figures}
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path
