"""Execute the book's notebooks and print how long each one takes.

Budgets (CONVENTIONS.md): a chapter runs in at most 60 s on the 2-core CPU
machine, the whole book in at most 5 minutes. This script prints the figures
and flags what is over budget; it never fails unless asked to.

Each notebook runs with nbclient in a temporary copy of its folder, so the
repository is never written to (no outputs saved, no stray files). By default
it runs every notebook listed in ``_toc.yml``; paths given on the command line
(assignment notebooks, say) are run instead, or as well with ``--book``.

    python benchmarks/run_notebooks.py
    python benchmarks/run_notebooks.py assignments/a1_rnn_scratch/release/a1_rnn_scratch.ipynb --book
    python benchmarks/run_notebooks.py --fail-over-budget     # exit 1 if any is over
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__", "_static")


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The .ipynb files named in ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    found = []
    for name in names:
        path = root / name
        path = path if path.suffix else path.with_suffix(".ipynb")
        if path.suffix == ".ipynb" and path.is_file():
            found.append(path)
    return found


def run_notebook(path: Path, timeout: int) -> tuple[float, str | None, list[tuple[float, int]]]:
    """Execute one notebook in a temp copy of its folder.

    Returns (wall seconds including kernel start, error or None, [(cell seconds, cell index)]).
    """
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nbbench-") as tmp:
        workdir = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, workdir, ignore=IGNORE)
        kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                                resources={"metadata": {"path": str(workdir)}})
        error = None
        start = time.perf_counter()
        try:
            client.execute()
        except Exception as exc:  # report and go on with the next notebook
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        seconds = time.perf_counter() - start
    return seconds, error, cell_seconds(nb)


def cell_seconds(nb) -> list[tuple[float, int]]:
    """(seconds, cell index) of each executed cell, slowest first (nbclient's timing metadata)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        t0, t1 = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if t0 and t1:
            dt = datetime.fromisoformat(t1.replace("Z", "+00:00")) \
                - datetime.fromisoformat(t0.replace("Z", "+00:00"))
            cells.append((dt.total_seconds(), index))
    return sorted(cells, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: the book's, from _toc.yml)")
    parser.add_argument("--book", action="store_true",
                        help="also run the book's notebooks when paths are given")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds allowed per notebook (default 60)")
    parser.add_argument("--total-budget", type=float, default=300.0,
                        help="seconds allowed for all the notebooks run, together (default 300)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="per-cell timeout in seconds (default 600)")
    parser.add_argument("--fail-over-budget", action="store_true",
                        help="exit 1 if a notebook fails or is over budget")
    parser.add_argument("--save", action="store_true",
                        help="write the times to benchmarks/results/notebooks.json (the book's "
                             "performance appendix reads it)")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks]
    if not notebooks or args.book:
        notebooks = toc_notebooks() + notebooks
    if not notebooks:
        print("no notebooks to run")
        return 0

    print(f"{'notebook':<55} {'seconds':>8}  status   slowest cell")
    total, bad = 0.0, 0
    timed = {}
    for path in notebooks:
        seconds, error, cells = run_notebook(path, args.timeout)
        total += seconds
        over = seconds > args.budget
        status = "ERROR" if error else ("OVER" if over else "ok")
        bad += bool(error or over)
        slowest = f"cell {cells[0][1]} {cells[0][0]:.1f}s" if cells else ""
        try:
            name = str(path.relative_to(ROOT))
        except ValueError:
            name = str(path)
        print(f"{name:<55} {seconds:8.1f}  {status:<7}  {slowest}")
        timed[name] = {"seconds": seconds, "error": error,
                       "slowest_cell_s": cells[0][0] if cells else None}
        if error:
            print(f"    {error}")
    total_over = total > args.total_budget
    print(f"{'total':<55} {total:8.1f}  {'OVER' if total_over else 'ok':<7}"
          f"  budget {args.budget:g}s per notebook, {args.total_budget:g}s in all")
    if bad or total_over:
        print(f"{bad} notebook(s) failed or over the {args.budget:g}s budget"
              + ("; the total is over budget" if total_over else ""))
    if args.save:
        from _record import write_result
        write_result("notebooks", {"notebooks": timed, "total_s": total},
                     {"budget_s": args.budget, "total_budget_s": args.total_budget})
    return 1 if args.fail_over_budget and (bad or total_over) else 0


if __name__ == "__main__":
    sys.exit(main())
