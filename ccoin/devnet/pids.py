"""Pid files of devnet node processes, and whether the process a pid file names still runs.

A pid alone can be reused by an unrelated process after a node died without removing its
pid file; where /proc exists, a pid only counts as a node when its command line carries the
node's config path, so `down` never signals a stranger.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PID_FILE = "node.pid"
LOG_FILE = "node.log"
_PROC = Path("/proc")


def read_pid(path: Path) -> int | None:
    """The pid in `path`, or None when the file is missing or does not hold a pid."""
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        return None
    return int(text)


def write_pid(path: Path, pid: int) -> None:
    """Write `pid` to `path` atomically (a reader never sees a half-written file)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(f"{pid}\n")
    os.replace(tmp, path)


def _reap(pid: int) -> bool:
    """Collect `pid` if it is an exited child of ours; True when it was (it is gone)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (or already collected)
        return False
    return done == pid


def process_alive(pid: int) -> bool:
    if _reap(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def node_alive(pid: int, config: Path) -> bool:
    """True when `pid` runs and (where /proc tells) is the node started with `config`."""
    if not process_alive(pid):
        return False
    if not (_PROC / "self" / "cmdline").exists():
        return True  # no /proc: the pid is all there is to go on
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        cmdline = (_PROC / str(pid) / "cmdline").read_bytes()
    except (OSError, UnicodeDecodeError):
        return False  # it vanished meanwhile
    state = stat.rpartition(")")[2].split()[:1]
    if state in (["Z"], ["X"]):
        return False  # exited; its parent has not collected it yet
    if not cmdline:
        # Just after exec the new program's arguments are not readable yet: give it the
        # benefit of the doubt rather than call a starting node dead.
        return True
    return os.fsencode(str(config)) in cmdline.split(b"\0")
