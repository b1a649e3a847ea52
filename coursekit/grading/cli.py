"""``coursekit assign`` and ``coursekit grade``: registered into the ``coursekit`` command."""
from __future__ import annotations

import os
import sys
from pathlib import Path


TERM_README = """What `coursekit assign` wrote for this term.

publish/     the student notebooks: solutions removed, public tests inlined. Safe to publish
             (course site, LMS, a public repository).
gradescope/  one autograder zip per assignment: tests.py, reference.py (the solutions),
             checks.py and, if you gave one, secret.txt. PRIVATE: upload each to Gradescope
             ("Configure Autograder") and keep it out of every public place.

The solved instructor sources stay in your private course repository; nothing here is one.
"""


def _assignment_folders(args) -> list[Path]:
    if not args.all:
        if not args.assignment:
            raise ValueError("give an assignment folder, or --all to release every assignment")
        return [Path(args.assignment)]
    root = Path(args.assignment or "assignments")
    folders = sorted(p.parent for p in root.glob("*/tests.py"))
    if not folders:
        raise ValueError(f"--all: no assignment (a folder with tests.py) under {root}")
    return folders


def _assign(args) -> int:
    from coursekit.grading.assign import assign
    from coursekit.grading.grade import GraderError, resolve_secret
    try:
        secret = None
        if args.secret_file or os.environ.get("COURSEKIT_GRADER_SECRET"):
            secret, _ = resolve_secret(args.secret_file)
        folders = _assignment_folders(args)
        if args.zip and len(folders) > 1:
            raise ValueError("--zip names one file: use --out for --all")
        written = []
        for folder in folders:
            if args.out:
                out = Path(args.out)
                written += assign(folder, secret=secret, release_dir=out / "publish",
                                  zip_path=out / "gradescope" / f"{folder.name}_autograder.zip")
            else:
                written += assign(folder, zip_path=args.zip, secret=secret)
        if args.out:
            (Path(args.out) / "README.txt").write_text(TERM_README)
            written.append(Path(args.out) / "README.txt")
    except (GraderError, FileNotFoundError, ValueError) as e:
        print(f"coursekit assign: error: {e}", file=sys.stderr)
        return 2
    for p in written:
        print(f"wrote {p}")
    if secret is None:
        print("note: no secret in the zip; hidden inputs use the documented default secret. "
              "Set COURSEKIT_GRADER_SECRET or pass --secret-file for real grading.")
    return 0


def _grade_class(args, assignment, secret, limits) -> int:
    from coursekit.grading.classroom import grade_class, parse_deadline
    from coursekit.grading.grade import grade_many
    try:
        deadline = parse_deadline(args.deadline)
    except ValueError as e:
        print(f"coursekit grade: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.results or "grades")

    def grade_fn(paths):
        return grade_many(paths, assignment, secret=secret, jobs=args.jobs, limits=limits,
                          test_timeout=args.test_timeout, progress=not args.quiet)

    info = grade_class(args.submissions, assignment, out, secret=secret, grade_fn=grade_fn,
                       deadline=deadline, threshold=args.similarity_threshold)
    print(f"graded {len(info['regraded'])} submission(s): {', '.join(info['regraded']) or '-'}")
    print(f"unchanged since the last run, results kept: {', '.join(info['kept']) or '-'}")
    print((out / "summary.txt").read_text(), end="")
    print((out / "similarity.txt").read_text(), end="")
    for p in info["written"][-5:]:
        print(f"wrote {p}")
    print(f"wrote {len(info['written']) - 5} results in {out / 'results'}")
    return 0


def _grade(args) -> int:
    from coursekit.grading import sandbox
    from coursekit.grading.grade import (GraderError, grade_many, load_assignment, report_text,
                                         resolve_secret, write_results)
    try:
        assignment, root = load_assignment(args.assignment)
        secret, where = resolve_secret(args.secret_file, root)
        missing = [p for p in args.submissions if not Path(p).exists()]
        if missing:
            raise GraderError(f"submission not found: {', '.join(missing)}")
        if args.jobs < 1:
            raise GraderError("-j/--jobs must be at least 1")
    except GraderError as e:
        print(f"coursekit grade: error: {e}", file=sys.stderr)
        return 2
    sandbox.make_subreaper()  # orphans of student code come back to us, and get killed
    limits = sandbox.Limits(wall=args.timeout, setup=min(args.timeout, sandbox.Limits.setup),
                            memory=int(args.memory_gb * (1 << 30)))
    if any(Path(p).is_dir() for p in args.submissions) or args.deadline:
        return _grade_class(args, assignment, secret, limits)
    results = grade_many(args.submissions, assignment, secret=secret, jobs=args.jobs,
                         limits=limits, test_timeout=args.test_timeout,
                         progress=not args.quiet)
    for r in results:
        print(report_text(r, assignment, failures=len(results) == 1 or args.verbose))
    if len(results) > 1:
        scores = [r.score for r in results]
        print(f"{len(results)} submissions: mean {sum(scores) / len(scores):.2f} / "
              f"{assignment.points:g}; hidden inputs seeded from {where}")
    if args.results:
        for p in write_results(results, assignment, args.results, args.csv):
            print(f"wrote {p}")
    elif args.csv:
        from coursekit.grading.grade import write_csv
        write_csv(results, assignment, args.csv)
        print(f"wrote {args.csv}")
    return 0


def register(sub) -> None:
    """Add the ``assign`` and ``grade`` subcommands to the ``coursekit`` parser."""
    p = sub.add_parser("assign", help="write an assignment's student notebook and autograder zip",
                       description="Generate release/<name>.ipynb (solutions removed) and the "
                                   "Gradescope autograder zip, byte for byte reproducibly.")
    p.add_argument("assignment", nargs="?",
                   help="the assignment folder, e.g. assignments/a1_rnn_scratch (with --all: the "
                        "folder holding the assignments, default assignments)")
    p.add_argument("--all", action="store_true",
                   help="release every assignment (every folder with a tests.py)")
    p.add_argument("--out", help="write the term's release into one folder: publish/ (student "
                                 "notebooks) and gradescope/ (autograder zips, private)")
    p.add_argument("--zip", help="where to write the autograder zip "
                                 "(default: <assignment>/_build/<name>_autograder.zip)")
    p.add_argument("--secret-file", help="file holding the grading secret to put in the zip "
                                         "(default: $COURSEKIT_GRADER_SECRET if set, else none)")
    p.set_defaults(func=_assign)

    g = sub.add_parser("grade", help="grade notebooks in a sandbox; write results.json and a CSV",
                       description="Grade one or many submitted notebooks. Exits 0 when grading "
                                   "completed, whatever the scores; 2 when the grader cannot run.")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="notebooks, or a class folder (one notebook or one folder per student): "
                        "then --results gets grades.csv, summary.txt and similarity.txt")
    g.add_argument("--assignment", required=True,
                   help="the assignment folder (with tests.py) or its autograder zip")
    g.add_argument("--results", help="results.json for one submission, else a folder "
                                     "(one <name>.json per submission plus grades.csv)")
    g.add_argument("--csv", help="write the class CSV here")
    g.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded in parallel")
    g.add_argument("--secret-file", help="file with the instructor secret "
                                         "(default: $COURSEKIT_GRADER_SECRET)")
    g.add_argument("--timeout", type=float, default=60.0,
                   help="wall seconds per submission, restarts included (default 60)")
    g.add_argument("--test-timeout", type=float, default=None,
                   help="wall seconds per test (default: each question's own, 10 s)")
    g.add_argument("--memory-gb", type=float, default=4.0,
                   help="address-space limit of the student's process in GiB (default 4)")
    g.add_argument("--deadline", help="class mode: flag submissions whose notebook was modified "
                                      "after this ISO 8601 time (UTC unless an offset is given)")
    g.add_argument("--similarity-threshold", type=float, default=0.9,
                   help="class mode: flag graded functions at least this similar to a coursekit "
                        "function or another submission's (default 0.9; nothing is scored)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    g.add_argument("-v", "--verbose", action="store_true",
                   help="list failed tests for every submission, not only a single one")
    g.set_defaults(func=_grade)
