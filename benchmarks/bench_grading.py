"""How fast does the grader grade? Prints figures, never passes or fails.

    python benchmarks/bench_grading.py [--class-size 50] [-j 2] [--repeats 3]

1. Seconds to grade one submission (the solved instructor notebook), the median
   of a few runs, after the one-off start-up (importing the references).
2. Submissions per minute for a class: ``--class-size`` distinct copies of the
   solved notebook (each with its own comment, so each gets its own hidden
   inputs) plus the release, graded with ``-j`` children at a time.
Goal (issue 3): one submission in under 10 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
A1 = ROOT / "assignments" / "a1_rnn_scratch"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--class-size", type=int, default=50)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/bench_grading.json")
    args = ap.parse_args()

    from coursekit.grading import sandbox
    from coursekit.grading.grade import (grade_many, grade_submission, load_assignment,
                                         reference_functions)
    t0 = time.perf_counter()
    assignment, _ = load_assignment(A1)
    refs = reference_functions(assignment)
    startup = time.perf_counter() - t0
    sandbox.make_subreaper()
    source = A1 / f"{assignment.name}.ipynb"
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        r = grade_submission(source, assignment, secret="bench", references=refs)
        times.append(time.perf_counter() - t)
    print(f"start-up (load tests.py, import references incl. torch): {startup:.2f} s")
    print(f"one submission: {statistics.median(times):.2f} s median of {args.repeats} "
          f"(min {min(times):.2f}, max {max(times):.2f}); score {r.score:g}/{r.max_score:g}; "
          f"goal < 10 s")

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.class_size):
            nb = nbformat.read(source, as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(f"# student {i:03d}"))
            p = Path(tmp) / f"student_{i:03d}.ipynb"
            nbformat.write(nb, p)
            paths.append(p)
        t = time.perf_counter()
        results = grade_many(paths, assignment, secret="bench", jobs=args.jobs, progress=True)
        wall = time.perf_counter() - t
    scores = [r.score for r in results]
    print(f"class of {args.class_size} with -j {args.jobs}: {wall:.1f} s, "
          f"{60 * args.class_size / wall:.1f} submissions per minute "
          f"({wall / args.class_size:.2f} s each); all full marks: {min(scores) == 100}")
    print(f"cpu cores: {os.cpu_count()}", file=sys.stderr)
    if not args.no_save:
        from _record import write_result
        write_result("bench_grading", {
            "startup_s": startup, "one_submission_s": statistics.median(times),
            "one_submission_score": r.score, "class_size": args.class_size, "class_wall_s": wall,
            "submissions_per_minute": 60 * args.class_size / wall,
            "class_all_full_marks": min(scores) == 100},
            {"class_size": args.class_size, "jobs": args.jobs, "repeats": args.repeats,
             "assignment": assignment.name})


if __name__ == "__main__":
    main()
