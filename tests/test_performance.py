"""The "Performance and quality" appendix: built from benchmark output, every row stamped.

- ``benchmarks/_record.write_result`` writes the figures with the machine and the date;
- every JSON in ``benchmarks/results/`` records its date and machine;
- :func:`coursekit.book.performance.report` shows each recorded figure with its machine
  and date, says "not recorded" where a file has no date, and says when a section has
  no result file instead of inventing one;
- the built appendix page (the session's one book build) carries those tables.
"""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from coursekit.book import performance

ROOT = Path(__file__).resolve().parents[1]


def record_module():
    spec = importlib.util.spec_from_file_location("_record", ROOT / "benchmarks" / "_record.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_write_result_stamps_machine_and_date(tmp_path):
    path = record_module().write_result("demo", {"x": 1.5}, {"n": 3}, out=tmp_path / "demo.json")
    rec = json.loads(path.read_text())
    assert rec["benchmark"] == "demo" and rec["figures"] == {"x": 1.5} and rec["settings"] == {"n": 3}
    assert re.match(r"\d{4}-\d\d-\d\dT", rec["date"]) and rec["machine"]["cpus"] >= 1


def test_every_benchmark_result_records_date_and_machine():
    files = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert files
    for path in files:
        rec = json.loads(path.read_text(encoding="utf-8"))
        assert rec.get("date") and rec.get("machine"), f"{path.name} lacks date or machine"


def synthetic():
    m = {"cpu": "Test CPU 9000", "cpus": 2, "torch": "2.13.0+cpu", "torch_threads": 1}
    return {
        "notebooks": {"date": "2031-01-02T03:04:05+00:00", "machine": m,
                      "settings": {"budget_s": 60},
                      "figures": {"notebooks": {"book/01_a.ipynb": {"seconds": 12.34, "error": None},
                                                "book/02_b.ipynb": {"seconds": 75.0, "error": None}},
                                  "total_s": 87.34}},
        "bench_lstm": {"date": "2031-01-03T00:00:00+00:00", "machine": m,
                       "settings": {"N": 32, "T": 50, "D": 128, "H": 128},
                       "figures": {"LSTM": {"float64": {"numpy_s": 0.0123, "torch_s": 0.00615,
                                                        "ratio": 2.0, "ratio_min": 1.9}}}},
        "old_experiment": {"meta": {"torch": "2.13.0+cpu", "threads": 1},
                           "accuracy": {"lstm": 0.987}},
    }


def test_report_shows_each_figure_with_machine_and_date():
    text = performance.report(synthetic())
    row = next(line for line in text.splitlines() if "book/01_a.ipynb" in line)
    assert "12.3 s" in row and "Test CPU 9000" in row and "2031-01-02" in row and "| ok |" in row
    assert "over budget" in next(line for line in text.splitlines() if "book/02_b" in line)
    lstm = next(line for line in text.splitlines() if line.startswith("| LSTM"))
    assert "12.3 ms" in lstm and "| 2.00 |" in lstm and "2031-01-03" in lstm
    old = next(line for line in text.splitlines() if "old_experiment" in line)
    assert "accuracy lstm 0.987" in old and "not recorded" in old
    assert "Not measured yet" in text  # grading speed and CUDA: no file, and it says so


def test_report_on_the_committed_results_stamps_every_row():
    text = performance.report()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "measured on" not in line]
    assert rows
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        machine, date = cells[-2], cells[-1]
        assert machine and (re.match(r"\d{4}-\d\d-\d\d", date) or date.startswith("not recorded")), line
    g2p = json.loads((ROOT / "benchmarks" / "results" / "g2p.json").read_text())
    assert any("g2p" in line and g2p["date"][:10] in line for line in rows)


def test_checkpoints_are_listed():
    rows = performance.checkpoint_metrics()
    names = {r[0] for r in rows}
    assert names == {p.name for p in performance.CHECKPOINTS.glob("*.pt")}


@pytest.mark.slow
def test_book_appendix_page_shows_the_tables(built_book):
    rc, html_dir, log = built_book
    if rc not in (0, None) or not (html_dir / "index.html").is_file():
        pytest.fail(f"book build failed (exit {rc}):\n{log[-4000:]}")
    page = (html_dir / "book" / "performance.html").read_text(encoding="utf-8")
    assert page.count("<table") >= 2
    g2p = json.loads((ROOT / "benchmarks" / "results" / "g2p.json").read_text())
    assert g2p["date"][:10] in page
