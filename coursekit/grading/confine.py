"""Process confinement for the sandbox: Landlock, a subreaper, and killing every descendant.

- :func:`make_subreaper`: orphans of student code are re-parented to the grader
  (``PR_SET_CHILD_SUBREAPER``), which is also made non-dumpable so a same-uid
  child cannot read its environment or memory through ``/proc``.
- :func:`confine`: in the child, before it runs anything, Landlock leaves the
  file system writable only beneath the scratch directory (and ``/dev/null``)
  and, from Landlock ABI 6, forbids signalling processes outside the sandbox.
- :func:`kill_tree`: kills the child's process group and session, any process
  carrying its token in its environment, and orphans re-parented to the grader.
"""
from __future__ import annotations

import ctypes
import os
import signal
import struct
import threading
import time

_live_children: set[int] = set()
_live_lock = threading.Lock()
_subreaper = False  # set by make_subreaper()


def make_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to this process (PR_SET_CHILD_SUBREAPER).

    Also marks the process non-dumpable so a same-uid child cannot read its
    environment or memory through /proc. Returns False where unsupported.
    """
    global _subreaper
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
        _subreaper = ok
        return ok
    except (OSError, AttributeError):
        return False


# ----------------------------------------------------------- Landlock
_LL_FS_WRITE = sum(1 << b for b in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))  # write, remove, make *
_LL_REFER, _LL_TRUNCATE, _LL_SCOPE_SIGNAL = 1 << 13, 1 << 14, 1 << 1
_landlock_state: tuple | None = None


def landlock_abi() -> int:
    """Landlock ABI version of this kernel (0 when unavailable). Cached; call before forking."""
    global _landlock_state
    if _landlock_state is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
            _landlock_state = (libc, max(0, int(abi)))
        except (OSError, AttributeError):
            _landlock_state = (None, 0)
    return _landlock_state[1]


def confine(writable_dir: str) -> None:
    """In the child: writes only beneath ``writable_dir`` (and /dev/null), no outside signals."""
    libc, abi = _landlock_state or (None, 0)
    if abi < 1:
        return
    fs = _LL_FS_WRITE | (_LL_REFER if abi >= 2 else 0) | (_LL_TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("=QQQ", fs, 0, _LL_SCOPE_SIGNAL) if abi >= 6 else struct.pack("=Q", fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = libc.syscall(444, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        return
    file_rights = (1 << 1) | (_LL_TRUNCATE if abi >= 3 else 0)
    for path, rights in ((writable_dir, fs), ("/dev/null", file_rights)):
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
        libc.syscall(445, ctypes.c_int(ruleset), ctypes.c_int(1), rule, ctypes.c_uint32(0))
        os.close(fd)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, required by landlock_restrict_self
    libc.syscall(446, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    os.close(ruleset)


def _proc_stat(pid: int):
    """(ppid, pgrp, session) of ``pid`` from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            rest = f.read().rsplit(b")", 1)[1].split()
        return int(rest[1]), int(rest[2]), int(rest[3])
    except (OSError, IndexError, ValueError):
        return None


def _has_token(pid: int, token: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return token in f.read()
    except OSError:
        return False


def kill_tree(leader: int, token: str) -> int:
    """Kill every process of the child's group/session/token, and orphans; return how many."""
    me, tok, killed = os.getpid(), f"COURSEKIT_SANDBOX_TOKEN={token}".encode(), 0
    try:
        os.killpg(leader, signal.SIGKILL)
    except OSError:
        pass
    for _ in range(20):
        victims = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            pid = int(name)
            st = _proc_stat(pid)
            if st is None:
                continue
            ppid, pgrp, sid = st
            with _live_lock:
                orphan = _subreaper and ppid == me and pid not in _live_children
            if pgrp == leader or sid == leader or orphan or _has_token(pid, tok):
                victims.append(pid)
        if not victims:
            break
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.02)
        _reap_zombies()
    _reap_zombies()
    return killed


def _reap_zombies() -> None:
    """Collect exited orphans re-parented to us (never our live sandbox children)."""
    if not _subreaper:
        return
    for name in os.listdir("/proc"):
        if name.isdigit():
            pid = int(name)
            st = _proc_stat(pid)
            with _live_lock:
                ours = pid in _live_children
            if st and st[0] == os.getpid() and not ours:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
