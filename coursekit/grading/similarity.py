"""A similarity report for the instructor: graded functions that look copied.

For every graded function of every submission the grader computes a normalised
fingerprint, in the manner of MOSS (Schleimer, Wilkerson and Aiken, *Winnowing:
local algorithms for document fingerprinting*, SIGMOD 2003):

1. the function's AST with its docstring dropped and every variable, argument and
   function name replaced by one token, every literal by another (attribute names
   such as ``.T`` or ``np.tanh`` stay: they are what the code does, not what it is
   called), read statement by statement as sequences of node types;
2. the hashes of the k-grams (``K`` consecutive tokens) of each statement;
3. winnowing: in every window of ``W`` consecutive hashes of a statement the smallest
   is kept, so that a shared run of at least ``W + K - 1`` tokens is always detected.

Two functions are as similar as the Jaccard index of their fingerprint sets (shared
fingerprints over all fingerprints of the two), so a small helper found inside a long
function does not make the long one a copy. Renaming every variable changes nothing; reordering independent lines
changes nothing either, since k-grams stay inside their statement. Each submission's
graded functions are compared with every function of coursekit and with the
same-named functions of the other submissions. Pairs at or above a threshold are
*flagged* for a person to review, in the class CSV and in ``similarity.txt``;
nothing is scored from them.

Chapter: the instructors' appendix (``book/instructors.md``).
"""
from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["K", "W", "THRESHOLD", "MIN_FINGERPRINTS", "Flag", "tokens", "fingerprint",
           "similarity", "functions_in_code", "coursekit_functions", "compare_class",
           "report_text"]

K = 5               # tokens per k-gram
W = 3               # winnowing window (hashes)
THRESHOLD = 0.9     # flagged at or above this (independent solutions here reach 0.81)
MIN_FINGERPRINTS = 6  # functions shorter than this are too generic to compare
MIN_STATEMENTS = 3    # and so are one- and two-statement functions (the obvious one-liner)


@dataclass(frozen=True)
class Flag:
    """A pair for a person to review: ``function`` of ``submission`` against ``other``."""
    submission: str
    function: str
    other: str          # "coursekit.nn.rnn.rnn_forward" or "<submission>: <function>"
    similarity: float

    def line(self) -> str:
        return f"{self.submission}: {self.function} ~ {self.other} ({self.similarity:.0%})"


class _Tokens(ast.NodeVisitor):
    def __init__(self):
        self.out: list[str] = []

    def generic_visit(self, node):
        if isinstance(node, (ast.expr_context, ast.Load, ast.Store, ast.Del)):
            return
        if isinstance(node, ast.Name):
            self.out.append("Name")
            return
        if isinstance(node, ast.Constant):
            self.out.append("Const")
            return
        self.out.append(type(node).__name__)
        if isinstance(node, ast.Attribute):
            self.out.append("." + node.attr)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node = _without_docstring(node)
        super().generic_visit(node)


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _without_docstring(node):
    copy = type(node)(**{f: getattr(node, f) for f in node._fields})
    copy.body = node.body[1:] or [ast.Pass()]
    return copy


def tokens(node: ast.AST) -> list[str]:
    """The normalised token sequence of ``node`` (names and literals abstracted)."""
    visitor = _Tokens()
    visitor.visit(node)
    return visitor.out


def _hash(gram: tuple) -> int:
    return int.from_bytes(hashlib.blake2b("\x00".join(gram).encode(), digest_size=8).digest(),
                          "little")


_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def statements(node: ast.AST) -> list[list[str]]:
    """Normalised token runs, one per statement of ``node``'s body (nested bodies flattened;
    a compound statement contributes its header: loop target and iterable, condition, ...)."""
    runs = []
    for stmt in getattr(node, "body", []):
        if _is_docstring(stmt):
            continue
        if isinstance(stmt, _COMPOUND):
            head = [type(stmt).__name__]
            for field in ("target", "iter", "test", "items", "args"):
                value = getattr(stmt, field, None)
                for part in value if isinstance(value, list) else [value] if value else []:
                    head += tokens(part)
            runs.append(head)
            runs += statements(stmt)
            for extra in ("orelse", "finalbody", "handlers"):
                for sub in getattr(stmt, extra, []) or []:
                    runs += statements(sub) if hasattr(sub, "body") else [tokens(sub)]
        else:
            runs.append(tokens(stmt))
    return runs


def fingerprint(node: ast.AST, k: int = K, w: int = W) -> frozenset:
    """The winnowed k-gram hashes of ``node``'s normalised statements.

    k-grams never cross a statement boundary, so reordering independent statements keeps
    them; a statement shorter than ``k`` tokens is one gram.
    """
    chosen = set()
    for run in statements(node):
        hashes = [_hash(tuple(run[i:i + k])) for i in range(max(1, len(run) - k + 1))]
        if len(hashes) <= w:
            chosen.update(hashes)
            continue
        for i in range(len(hashes) - w + 1):
            chosen.add(min(hashes[i:i + w]))
    return frozenset(chosen)


def similarity(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two fingerprint sets (0 when either function is tiny)."""
    if min(len(a), len(b)) < MIN_FINGERPRINTS:
        return 0.0
    return len(a & b) / len(a | b)


def _parse(source: str) -> ast.Module | None:
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _comparable(node) -> frozenset:
    """The fingerprint of a function long enough to compare, else an empty set."""
    return fingerprint(node) if len(statements(node)) >= MIN_STATEMENTS else frozenset()


def functions_in_code(cells: list[str], names=None) -> dict[str, frozenset]:
    """Fingerprints of the top-level functions defined in ``cells`` (the last definition of a
    name wins, as when the notebook runs); only ``names`` if given."""
    found = {}
    for cell in cells:
        tree = _parse(cell)
        for node in tree.body if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    (names is None or node.name in names):
                found[node.name] = _comparable(node)
    return found


_PACKAGE_CACHE: dict = {}


def coursekit_functions() -> dict[str, frozenset]:
    """Fingerprints of every function and method of coursekit, by dotted name."""
    if _PACKAGE_CACHE:
        return _PACKAGE_CACHE
    import coursekit
    root = Path(coursekit.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        module = ".".join(["coursekit", *path.relative_to(root).with_suffix("").parts])
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        _PACKAGE_CACHE[f"{module}.{node.name}.{item.name}"] = _comparable(item)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                _PACKAGE_CACHE[f"{module}.{node.name}"] = _comparable(node)
    return _PACKAGE_CACHE


def compare_class(submissions: dict[str, list[str]], graded, *, threshold: float = THRESHOLD,
                  package: dict | None = None) -> list[Flag]:
    """Flag graded functions similar to a coursekit function or to another submission's.

    submissions: name (student id) -> the code cells of its notebook; graded: the graded
    function names. Returns the flags, most similar first; each pair of submissions once.
    """
    package = coursekit_functions() if package is None else package
    prints = {s: functions_in_code(cells, set(graded)) for s, cells in submissions.items()}
    flags = []
    for sub, funcs in sorted(prints.items()):
        for name, fp in sorted(funcs.items()):
            best = max(((similarity(fp, other), qual) for qual, other in package.items()),
                       default=(0.0, ""))
            if best[0] >= threshold:
                flags.append(Flag(sub, name, best[1], round(best[0], 3)))
    subs = sorted(prints)
    for i, a in enumerate(subs):
        for b in subs[i + 1:]:
            for name in sorted(set(prints[a]) & set(prints[b])):
                s = similarity(prints[a][name], prints[b][name])
                if s >= threshold:
                    flags.append(Flag(a, name, f"{b}: {name}", round(s, 3)))
    return sorted(flags, key=lambda f: (-f.similarity, f.submission, f.function))


def report_text(flags: list[Flag], n_submissions: int, threshold: float = THRESHOLD) -> str:
    """The short report for a person: who, which function, against what, how similar."""
    head = [f"Similarity report: {n_submissions} submissions, graded functions compared with "
            f"every coursekit function and with each other (winnowed {K}-grams of the "
            f"normalised AST, flagged at {threshold:.0%} or more).",
            "Nothing here changes a score: review each pair by reading the two functions."]
    if not flags:
        return "\n".join(head + ["No pair reached the threshold."]) + "\n"
    return "\n".join(head + [f"{len(flags)} flagged:"] + ["  " + f.line() for f in flags]) + "\n"
