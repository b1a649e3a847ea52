"""The "Performance and quality" appendix: every figure read from what a benchmark wrote.

Sources, all written by the scripts in ``benchmarks/`` (none typed by hand):

- ``benchmarks/results/*.json``: chapter execution times (``run_notebooks.py --save``),
  numpy / torch speed ratios (``bench_rnn.py``, ``bench_lstm.py``), grading speed
  (``bench_grading.py``), training and evaluation runs (``train_g2p.py``,
  ``train_translation.py``), CUDA throughput (``cuda_throughput.py``);
- ``coursekit/data/results/*.json``: the experiments that chapters load;
- ``coursekit/data/checkpoints/*.pt``: the ``metrics`` each checkpoint stores, measured
  on its saved weights by the script that trained it.

Each row says where and when it was measured: the ``machine`` and ``date`` the file
records. Where a file records no date, the row says so and gives the date the file was
last committed (from git), labelled as such. :func:`report` returns the Markdown the
appendix displays.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import coursekit

PACKAGE = Path(coursekit.__file__).resolve().parent
ROOT = PACKAGE.parent
DIRS = (ROOT / "benchmarks" / "results", PACKAGE / "data" / "results")
CHECKPOINTS = PACKAGE / "data" / "checkpoints"


def load_results(dirs=DIRS) -> dict[str, dict]:
    """``{file stem: record}`` for every JSON file in ``dirs`` (later dirs do not override)."""
    out = {}
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            out.setdefault(path.stem, dict(record, _path=str(path)))
    return out


def _committed(path: str) -> str:
    try:
        proc = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path], cwd=ROOT,
                              capture_output=True, text=True, timeout=20)
        return proc.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def stamp(record: dict) -> tuple[str, str]:
    """(machine, date) as the record states them; missing parts are said to be missing."""
    m = record.get("machine") or record.get("meta") or {}
    if isinstance(m, str):       # some scripts record the machine as one line of text
        m = {"processor": m}
    parts = []
    if m.get("cpu") or m.get("processor"):
        parts.append(m.get("cpu") or m.get("processor"))
    if m.get("cpus"):
        parts.append(f"{m['cpus']} CPUs")
    threads = m.get("torch_threads", m.get("threads"))
    if threads:
        parts.append(f"{threads} torch thread{'s' if threads != 1 else ''}")
    if m.get("torch"):
        parts.append(f"torch {m['torch']}")
    if m.get("platform"):
        parts.append(m["platform"].split("-with-")[0])
    machine = ", ".join(str(p) for p in parts) or "machine not recorded"
    date = record.get("date") or m.get("date") or ""
    if date:
        date = date[:10]
    else:
        committed = _committed(record.get("_path", ""))
        date = "not recorded" + (f" (file committed {committed})" if committed else "")
    return machine, date


def _fmt(x, digits: int = 3) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def chapter_times(results: dict) -> list[list]:
    rec = results.get("notebooks")
    if not rec:
        return []
    machine, date = stamp(rec)
    budget = rec.get("settings", {}).get("budget_s")
    return [[name, f"{v['seconds']:.1f} s", "error" if v.get("error") else
             ("over budget" if budget and v["seconds"] > budget else "ok"), machine, date]
            for name, v in rec["figures"]["notebooks"].items()]


def speed_ratios(results: dict) -> list[list]:
    rows = []
    for name in ("bench_rnn", "bench_lstm"):
        rec = results.get(name)
        if not rec:
            continue
        machine, date = stamp(rec)
        s = rec.get("settings", {})
        shape = f"N={s.get('N')} T={s.get('T')} D={s.get('D')} H={s.get('H')}"
        for cell, by_dtype in rec["figures"].items():
            for dtype, f in by_dtype.items():
                rows.append([cell, dtype, shape, f"{f['numpy_s'] * 1e3:.1f} ms",
                             f"{f['torch_s'] * 1e3:.1f} ms", f"{f['ratio']:.2f}", machine, date])
    return rows


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _flat(d: dict, prefix: str = "") -> dict:
    """Numbers of a nested record by dotted-ish key; a list of runs (seeds) becomes its mean
    (``key (mean of n)``), a list of curves the mean of their last points (``key final``)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + " "))
        elif _number(v):
            out[key] = v
        elif isinstance(v, list) and v and all(_number(x) for x in v):
            out[f"{key} (mean of {len(v)})"] = sum(v) / len(v)
        elif (isinstance(v, list) and v and all(isinstance(x, list) and x and all(map(_number, x))
                                                 for x in v)):
            out[f"{key} final (mean of {len(v)})"] = sum(x[-1] for x in v) / len(v)
    return out


QUALITY = ("per", "wer", "bleu", "acc", "loss", "solved", "bits", "perplexity")


def _quality(figures: dict, n: int = 8) -> str:
    def tokens(k):
        return re.sub(r" (final )?\(mean of \d+\)$", "", k.lower()).split()
    keep = [k for k in figures if any(w in t for t in tokens(k) for w in QUALITY)]
    keep = keep or list(figures)
    return ", ".join(f"{k} {_fmt(figures[k])}" for k in keep[:n])


def checkpoint_metrics(folder: Path = CHECKPOINTS) -> list[list]:
    """One row per checkpoint: its stored metrics (loss, accuracy, BLEU, ...)."""
    import torch
    rows = []
    for path in sorted(Path(folder).glob("*.pt")):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        metrics = ckpt.get("metrics") or {}
        machine, date = stamp(dict(metrics, _path=str(path)))
        shown = {k: v for k, v in _flat(metrics).items()
                 if not k.startswith(("machine", "settings")) and "seed" not in k}
        text = _quality(shown) or "no metrics stored"
        rows.append([path.name, ckpt.get("model", "").rsplit(".", 1)[-1], text, machine, date])
    return rows


def quality_runs(results: dict) -> list[list]:
    """Training and evaluation runs recorded by the benchmarks (not the speed benchmarks)."""
    skip = {"notebooks", "bench_rnn", "bench_lstm", "bench_grading", "cuda_throughput"}
    rows = []
    for name, rec in results.items():
        if name in skip:
            continue
        machine, date = stamp(rec)
        body = {k: v for k, v in rec.items()
                if k not in ("machine", "meta", "date", "settings", "config", "_path", "examples")}
        text = _quality(_flat(body), 10) or "no figures in the file"
        rows.append([name, text, machine, date])
    return rows


def grading_speed(results: dict) -> list[list]:
    rec = results.get("bench_grading")
    if not rec:
        return []
    machine, date = stamp(rec)
    f = rec["figures"]
    return [[rec.get("settings", {}).get("assignment", ""), f"{f['one_submission_s']:.2f} s",
             f"{f['class_size']} in {f['class_wall_s']:.0f} s "
             f"({f['submissions_per_minute']:.1f} per minute, -j {rec['settings'].get('jobs')})",
             machine, date]]


def cuda_throughput(results: dict) -> list[list]:
    rec = results.get("cuda_throughput")
    if not rec:
        return []
    machine, date = stamp(rec)
    return [[k, _fmt(v), machine, date] for k, v in _flat(rec.get("figures", {})).items()]


SECTIONS = (
    ("Chapter execution times", "run_notebooks.py --save",
     ["notebook", "seconds", "status", "measured on", "date"], lambda r: chapter_times(r)),
    ("numpy against torch: forward plus backward", "bench_rnn.py, bench_lstm.py",
     ["cell", "dtype", "shape", "numpy", "torch", "numpy / torch", "measured on", "date"],
     lambda r: speed_ratios(r)),
    ("Checkpoints the chapters load", "the training scripts (metrics stored in each checkpoint)",
     ["checkpoint", "model", "metrics", "measured on", "date"], lambda r: checkpoint_metrics()),
    ("Training and evaluation runs", "the training and experiment scripts",
     ["result", "figures", "measured on", "date"], lambda r: quality_runs(r)),
    ("Grading speed", "bench_grading.py",
     ["assignment", "one submission", "a class", "measured on", "date"], lambda r: grading_speed(r)),
    ("Training throughput, CPU and CUDA", "cuda_throughput.py",
     ["figure", "value", "measured on", "date"], lambda r: cuda_throughput(r)),
)


def report(results: dict | None = None) -> str:
    """The appendix's Markdown: one table per section, or a line saying nothing is recorded."""
    results = load_results() if results is None else results
    parts = []
    for title, script, header, rows_of in SECTIONS:
        rows = rows_of(results)
        parts.append(f"**{title}** (from `benchmarks/`: {script})")
        parts.append(_table(header, rows) if rows else
                     "Not measured yet: no result file is committed for this section.")
    return "\n\n".join(parts) + "\n"


def report_html(results: dict | None = None) -> str:
    """The same report as HTML tables (what the appendix page displays).

    myst-nb does not turn pipe tables in a cell's Markdown output into tables
    (executablebooks/MyST-NB#570), so the page shows this HTML rather than :func:`report`.
    """
    from html import escape

    results = load_results() if results is None else results
    parts = []
    for title, script, header, rows_of in SECTIONS:
        rows = rows_of(results)
        parts.append(f"<p><strong>{escape(title)}</strong> (from <code>benchmarks/</code>: "
                     f"{escape(script)})</p>")
        if not rows:
            parts.append("<p>Not measured yet: no result file is committed for this section.</p>")
            continue
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{escape(_fmt(c))}</td>" for c in row) + "</tr>"
                       for row in rows)
        parts.append(f'<table class="table"><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table>")
    return "\n".join(parts) + "\n"
