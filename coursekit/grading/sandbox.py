"""Run a submission's code in a child process that cannot hurt the grader.

The child (:mod:`coursekit.grading.child`) gets

- its own session and process group, CPU-time, address-space, file-size and
  core-dump limits (``resource.setrlimit``), and a wall-clock limit per test
  and per submission enforced from here;
- a fresh scratch directory as working directory and ``HOME``, holding only
  the code cells, the inputs and the list of calls; the assignment folder,
  ``tests.py``, the secret and the expected outputs are never passed to it;
- a minimal environment (no ``COURSEKIT_GRADER_SECRET``);
- where Linux offers Landlock, a file system that is read-only outside the
  scratch directory (so it cannot rewrite ``tests.py``, coursekit, other
  submissions or results) and no way to signal processes outside its sandbox;
- when the grader runs as root and user ``nobody`` can run this Python, the
  uid of ``nobody`` (so it cannot read the secret file, write the results or
  signal the grader).

When it ends, every process it started is killed: its process group, its
session, any process carrying its sandbox token in the environment and, when
the grader made itself a child subreaper (``coursekit grade`` does), every
orphan re-parented to the grader. A test during which the child exits,
crashes or runs out of time fails alone: the child is started again for the
remaining tests.
"""
from __future__ import annotations

import json
import os
import pwd
import resource
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from coursekit.grading.confine import (_live_children, _live_lock, confine, kill_tree,  # noqa: F401
                                       landlock_abi, make_subreaper)

LOG_TAIL = 3000
MAX_ERR = 1500
MAX_NPZ_BYTES = 256 << 20

@dataclass
class Limits:
    """Resource limits for one submission."""
    wall: float = 60.0          # seconds for the whole submission, restarts included
    setup: float = 30.0         # seconds to run the notebook's definitions
    memory: int = 4 << 30       # bytes of address space (RLIMIT_AS)
    file_size: int = 64 << 20   # bytes any file the child writes may reach
    nproc: int = 64             # processes, only when running as nobody


@dataclass
class Outcome:
    """What came back for one test: arrays, or an error message (never both)."""
    arrays: dict | None = None
    error: str | None = None


@dataclass
class RunReport:
    outcomes: dict = field(default_factory=dict)  # test index -> Outcome
    log_tail: str = ""
    restarts: int = 0
    seconds: float = 0.0
    user: str = ""
    landlock: int = 0


_nobody_ok: bool | None = None


def _can_use_nobody() -> bool:
    """True when root and ``nobody`` can start this Python and import numpy and coursekit."""
    global _nobody_ok
    if _nobody_ok is None:
        _nobody_ok = False
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("nobody")
                r = subprocess.run([sys.executable, "-c", "import numpy, coursekit.grading.child"],
                                   preexec_fn=_drop(pw.pw_uid, pw.pw_gid), env=_base_env(),
                                   cwd="/", capture_output=True, timeout=60)
                _nobody_ok = r.returncode == 0
            except (KeyError, OSError, subprocess.TimeoutExpired):
                pass
    return _nobody_ok


def _drop(uid: int, gid: int):
    def f():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return f


def _base_env() -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "COURSEKIT_GRADING": "1"}
    if os.environ.get("PYTHONPATH"):  # e.g. the Gradescope bundle's lib/ with coursekit
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _limits_fn(limits: Limits, cpu: int, user: tuple | None, scratch: str):
    def f():
        os.setsid()  # own session and process group
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if user:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
            _drop(*user)()
        confine(scratch)
    return f


# --------------------------------------------------------------- running
def _read_tail(path: str, n: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_regular(path: str, limit: int, root: str) -> bytes | None:
    """Bytes of ``path`` if it is a plain file inside ``root`` (no symlink, FIFO, device).

    Everything in the scratch directory was written by student code: a FIFO
    would block the grader, a symlink could point anywhere. None otherwise.
    """
    real = os.path.realpath(path)
    if not real.startswith(os.path.realpath(root) + os.sep):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return f.read(limit)


def _load_outcome(base: str, root: str) -> Outcome | None:
    """Read ``out/K.npz`` (arrays only, size-checked) or ``out/K.err``; None if neither."""
    import io
    import zipfile
    data = _read_regular(base + ".npz", MAX_NPZ_BYTES, root)
    if data is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if sum(i.file_size for i in z.infolist()) > MAX_NPZ_BYTES:
                    return Outcome(error="the returned arrays are too large")
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return Outcome(arrays={k: np.array(npz[k]) for k in npz.files})
        except Exception as e:  # noqa: BLE001 - anything malformed is the submission's failure
            return Outcome(error=f"the returned values could not be read ({type(e).__name__})")
    if os.path.lexists(base + ".npz"):
        return Outcome(error="the returned values could not be read (not a plain file)")
    err = _read_regular(base + ".err", 1 << 20, root)
    if err is not None:
        return Outcome(error=err[-MAX_ERR:].decode("utf-8", "replace").strip() or "error")
    return None


def _write_new(path: str, text: str) -> None:
    """Create ``path`` afresh: never follow or reuse whatever student code left there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def run_submission(cells: list[str], tests: list[dict], inputs: dict, timeouts: list[float],
                   forbidden: list[str], limits: Limits | None = None,
                   allowed: list[str] | None = None,
                   blocked_imports: list[str] | None = None) -> RunReport:
    """Run ``tests`` against the code ``cells`` in sandboxed children.

    Args:
        cells: the notebook's code cell sources, in order.
        tests: per test ``{"steps": [...], "outputs": [...]}`` (kwargs resolved).
        inputs: ``"t{K}__{name}" -> array`` for every test K.
        timeouts: wall seconds allowed per test.
        forbidden: dotted coursekit paths the submission must not call.
        allowed: if given, the only coursekit modules the submission may use.
        blocked_imports: packages (e.g. ``torch``) whose use fails the test that uses them.
    """
    limits = limits or Limits()
    start = time.monotonic()
    deadline = start + limits.wall
    jobdir = tempfile.mkdtemp(prefix="coursekit-job-")  # 0700: the child cannot enter it
    scratch = tempfile.mkdtemp(prefix="coursekit-sandbox-")
    user = None
    if _can_use_nobody():
        pw = pwd.getpwnam("nobody")
        user = (pw.pw_uid, pw.pw_gid)
        os.chown(scratch, *user)
    report = RunReport(user="nobody" if user else "grader's own user",
                       landlock=landlock_abi())  # probed before forking
    log_path = os.path.join(jobdir, "log")
    try:
        with open(os.path.join(scratch, "plan.json"), "w") as f:
            json.dump({"cells": cells, "tests": tests, "forbidden": forbidden,
                       "allowed": allowed or [], "blocked_imports": blocked_imports or []}, f)
        np.savez(os.path.join(scratch, "inputs.npz"), **inputs)
        pending = list(range(len(tests)))
        setup_failed = None
        while pending and time.monotonic() < deadline:
            for name in ("progress", "setup_done", "finished"):
                try:
                    os.remove(os.path.join(scratch, name))
                except FileNotFoundError:
                    pass
            _write_new(os.path.join(scratch, "todo.json"), json.dumps(pending))
            crashed, why = _run_once(scratch, log_path, limits, user, timeouts, deadline)
            for k in pending:
                got = _load_outcome(os.path.join(scratch, "out", str(k)), scratch)
                if got is not None:
                    report.outcomes[k] = got
            if crashed is None and why is not None:  # died before any test started
                setup_failed = why
                break
            if crashed is not None and crashed not in report.outcomes:
                report.outcomes[crashed] = Outcome(error=why)
            left = [k for k in pending if k not in report.outcomes]
            if left == pending:  # no progress at all: do not loop
                setup_failed = why or "the submission's process stopped without running any test"
                break
            if left:
                report.restarts += 1
            pending = left
        for k in range(len(tests)):
            if k not in report.outcomes:
                report.outcomes[k] = Outcome(error=setup_failed or
                                             "not run: the time budget for this submission ran out")
        report.log_tail = _read_tail(log_path, LOG_TAIL)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(jobdir, ignore_errors=True)
    report.seconds = time.monotonic() - start
    return report


def _run_once(scratch, log_path, limits, user, timeouts, deadline):
    """One child run. Returns (index of the test it died in or None, reason or None)."""
    token = secrets.token_hex(16)
    env = {**_base_env(), "HOME": scratch, "TMPDIR": scratch, "COURSEKIT_SANDBOX_TOKEN": token}
    cpu = int(max(1, deadline - time.monotonic())) + 1
    # registered under the lock, so a parallel kill_tree never takes it for an orphan
    with open(log_path, "ab") as log, _live_lock:
        proc = subprocess.Popen([sys.executable, "-s", "-m", "coursekit.grading.child"],
                                cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, close_fds=True,
                                preexec_fn=_limits_fn(limits, cpu, user, scratch))
        _live_children.add(proc.pid)
    started = time.monotonic()
    current, current_since, reason = None, started, None
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            cur = _read_progress(scratch)
            if cur != current:
                current, current_since = cur, now
            if current is None and not os.path.exists(os.path.join(scratch, "setup_done")):
                if now - started > limits.setup:
                    reason = (f"timed out after {limits.setup:g} s while running the notebook's "
                              f"definitions (imports, def, class)")
                    break
            elif current is not None and 0 <= current < len(timeouts) \
                    and now - current_since > timeouts[current]:
                reason = f"timed out after {timeouts[current]:g} s (endless loop?)"
                break
            if now > deadline:
                reason = "timed out: the time budget for this submission ran out"
                break
    finally:
        kill_tree(proc.pid, token)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        with _live_lock:
            _live_children.discard(proc.pid)
    current = _read_progress(scratch)
    if reason is None:
        if proc.returncode == 0 and os.path.exists(os.path.join(scratch, "finished")):
            return None, None
        reason = _describe_exit(proc.returncode)
    if current is None:
        return None, f"the notebook's definitions (imports, def, class) could not run: {reason}"
    return current, reason


def _read_progress(scratch):
    data = _read_regular(os.path.join(scratch, "progress"), 20, scratch)
    try:
        return int(data) if data else None
    except ValueError:
        return None


def _describe_exit(rc) -> str:
    if rc is None:
        return "the process was stopped"
    if rc < 0:
        sig = -rc
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        extra = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: memory or time limit)",
                 "SIGSEGV": " (crash)", "SIGXFSZ": " (wrote too much output)"}.get(name, "")
        return f"the process was killed by {name}{extra} during this test"
    return f"the process exited with code {rc} during this test (sys.exit/os._exit?)"
