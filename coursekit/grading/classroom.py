"""Grading a whole class in one command: an LMS-ready CSV, regrading, a per-question summary.

``coursekit grade CLASS_FOLDER --assignment A --results OUT`` takes a folder holding
either one notebook per student (the student id is the file's stem) or one folder per
student (the id is the folder's name; the notebook is the first ``*.ipynb`` inside, sorted,
checkpoints skipped), and writes into ``OUT``:

- ``results/<id>.json``: Gradescope's results.json for each student;
- ``grades.csv``: one row per student, ready for an LMS import: ``student_id``, the points
  of every question, ``total``, ``max_score``, ``late`` (only with a deadline: the
  notebook's modification time after it), ``regraded`` (``yes`` if graded in this run) and
  ``similarity_flags`` (pairs for review; nothing is scored from them);
- ``summary.txt`` (and ``summary.csv``): per question, the class mean, how many students
  lost points, and the most common feedback line of the failed tests (numbers masked, so
  the same mistake with other values counts once): which question confused students;
- ``similarity.txt``: the similarity report (:mod:`coursekit.grading.similarity`);
- ``.coursekit-grades.json``: what was graded, keyed by a hash of the notebook, of the
  assignment folder's files and of the secret. A second run grades again only the
  submissions whose key changed and says which.

Chapter: the instructors' appendix (``book/instructors.md``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from coursekit.grading import similarity
from coursekit.grading.loader import local_sources

CACHE = ".coursekit-grades.json"


def collect(paths) -> dict[str, Path]:
    """Student id -> notebook for files and class folders (see the module docstring)."""
    found: dict[str, Path] = {}

    def add(sid: str, nb: Path):
        name, k = sid, 2
        while name in found:
            name, k = f"{sid}-{k}", k + 1
        found[name] = nb

    for p in map(Path, paths):
        if p.is_file():
            add(p.stem, p)
            continue
        for entry in sorted(p.iterdir()):
            if entry.is_file() and entry.suffix == ".ipynb":
                add(entry.stem, entry)
            elif entry.is_dir() and not entry.name.startswith("."):
                notebooks = sorted(q for q in entry.rglob("*.ipynb")
                                   if ".ipynb_checkpoints" not in q.parts)
                if notebooks:
                    add(entry.name, notebooks[0])
    return found


def submission_key(path: Path, assignment_folder, secret: str) -> str:
    """What a result depends on: the notebook's bytes, the assignment's files, the secret."""
    h = hashlib.sha256(path.read_bytes())
    for name, data in local_sources(assignment_folder).items():
        h.update(name.encode() + b"\x00" + hashlib.sha256(data).digest())
    h.update(hashlib.sha256(secret.encode()).digest())
    return h.hexdigest()


def parse_deadline(text: str | None) -> datetime | None:
    """An ISO 8601 deadline (``2026-12-01T23:59``, UTC when no offset is given)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--deadline must be ISO 8601 like 2026-12-01T23:59 or "
                         f"2026-12-01T23:59+01:00, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def submitted_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def _mask(line: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e[+-]?\d+)?", "#", line).strip()


def summary_rows(results: dict[str, dict], assignment) -> list[dict]:
    """Per question: mean points, students below full points, most common failure line."""
    rows = []
    for q in assignment.questions:
        got = [r["extra_data"]["questions"][q.id][0] for r in results.values()]
        lines = Counter()
        for r in results.values():
            seen = {_mask(t["output"].splitlines()[0]) for t in r["tests"]
                    if t["name"].startswith(q.id + " ") and t["score"] < t["max_score"]
                    and t["output"]}
            lines.update(seen)  # once per student
        common, n = lines.most_common(1)[0] if lines else ("", 0)
        rows.append({"question": q.id, "title": q.title, "max_points": q.points,
                     "mean": round(sum(got) / len(got), 3) if got else 0.0,
                     "failures": sum(g < q.points for g in got),
                     "most_common_feedback": common, "students_with_it": n})
    return rows


def summary_text(rows: list[dict], n: int) -> str:
    out = [f"Per-question summary over {n} submissions (failures: students below full points)"]
    for r in rows:
        out.append(f"  {r['question']:<4} {r['title']:<28} mean {r['mean']:6.2f} / "
                   f"{r['max_points']:g}   failures {r['failures']:3d}")
        if r["students_with_it"]:
            out.append(f"       most common: ({r['students_with_it']} students) "
                       f"{r['most_common_feedback'][:150]}")
    return "\n".join(out) + "\n"


def grade_class(paths, assignment, out_dir, *, secret: str, grade_fn, deadline=None,
                threshold: float = similarity.THRESHOLD) -> dict:
    """Grade a class into ``out_dir``; only submissions whose key changed are graded again.

    grade_fn(list of notebook paths) -> list of SubmissionResult (in order), e.g. a
    :func:`coursekit.grading.grade.grade_many` with its limits bound. Returns a dict with
    ``regraded``, ``kept`` (student ids), ``flags``, ``summary`` and ``written`` (paths).
    """
    from coursekit.grading.grade import code_cells, results_json
    out = Path(out_dir)
    (out / "results").mkdir(parents=True, exist_ok=True)
    cache_path = out / CACHE
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    students = collect(paths)
    keys = {sid: submission_key(p, assignment.folder, secret) for sid, p in students.items()}
    todo = [sid for sid in students if cache.get(sid, {}).get("key") != keys[sid]]
    graded = dict(zip(todo, grade_fn([students[s] for s in todo]))) if todo else {}
    results = {}
    for sid in students:
        if sid in graded:
            results[sid] = results_json(graded[sid], assignment)
            cache[sid] = {"key": keys[sid], "result": results[sid]}
        else:
            results[sid] = cache[sid]["result"]
        results[sid]["extra_data"]["regraded"] = sid in graded
    for gone in set(cache) - set(students):
        del cache[gone]
    cells = {}
    for sid, p in students.items():
        try:
            cells[sid] = code_cells(p.read_bytes())
        except (OSError, ValueError):
            cells[sid] = []
    graded_names = sorted({g for q in assignment.questions for g in q.graded})
    flags = similarity.compare_class(cells, graded_names, threshold=threshold)
    by_student: dict[str, list[str]] = {}
    for f in flags:
        by_student.setdefault(f.submission, []).append(f"{f.function}~{f.other} {f.similarity:.2f}")
        if ": " in f.other:  # a pair of submissions: flag both
            other, _, func = f.other.partition(": ")
            by_student.setdefault(other, []).append(f"{func}~{f.submission}: {f.function} "
                                                    f"{f.similarity:.2f}")
    written = []
    for sid, res in results.items():
        p = out / "results" / f"{sid}.json"
        p.write_text(json.dumps(res, indent=1) + "\n")
        written.append(p)
    qids = [q.id for q in assignment.questions]
    with open(out / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student_id", *qids, "total", "max_score"] + (["late"] if deadline else [])
                   + ["regraded", "similarity_flags"])
        for sid in sorted(results):
            res, q = results[sid], results[sid]["extra_data"]["questions"]
            late = ["yes" if submitted_at(students[sid]) > deadline else "no"] if deadline else []
            w.writerow([sid, *[f"{q[i][0]:g}" for i in qids], f"{res['score']:g}",
                        f"{assignment.points:g}", *late,
                        "yes" if sid in graded else "no", "; ".join(by_student.get(sid, []))])
    written.append(out / "grades.csv")
    rows = summary_rows(results, assignment)
    (out / "summary.txt").write_text(summary_text(rows, len(results)))
    with open(out / "summary.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["question"])
        w.writeheader()
        w.writerows(rows)
    (out / "similarity.txt").write_text(similarity.report_text(flags, len(results), threshold))
    written += [out / "summary.txt", out / "summary.csv", out / "similarity.txt"]
    cache_path.write_text(json.dumps(cache, sort_keys=True) + "\n")
    return {"regraded": sorted(graded), "kept": sorted(set(students) - set(graded)),
            "flags": flags, "summary": rows, "written": written}
