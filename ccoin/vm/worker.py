"""The sandboxed side of the contract runner: a fork server and its per-call children.

Started by `ccoin.vm.runner` as ``python -S -s -P -B -m ccoin.vm.worker MEMORY CPU`` with a
clean environment whose only entries are ``PYTHONHASHSEED=0`` and ``PYTHONPATH`` (not
``-I``: isolated mode ignores ``PYTHONHASHSEED``). The process (the "zygote") imports
everything a call may need, builds the seccomp filter once, then loops: read a ``job``
frame on fd 0, fork, wait for the child, report its wait status as an ``exit`` frame on
fd 1. It never runs contract code itself, so every call starts from the same clean,
pre-imported state and no call can see another's.

The child: sends ``pid``, sets rlimits, closes every other descriptor, empties the import
machinery, loads the filter (default action: kill the process), runs the job, sends
``result`` (or ``fault``) and leaves with ``os._exit`` (normal shutdown would call
``rt_sigaction`` and be killed). Storage reads are ``get`` frames answered by the node
with ``value`` frames; writes are kept in the child and sent back in the result.

Frames (all maps, see `ccoin.vm.ipc`)::

    node -> zygote  {"t": "job", "source": str, "entry": str, "args": list,
                     "builtins": "full" | "none"}
    child -> node   {"t": "pid", "pid": int}
    child -> node   {"t": "get", "key": bytes}
    node -> child   {"t": "value", "value": bytes | None}
    child -> node   {"t": "result", "ok": true, "value": any,
                     "writes": [[bytes, bytes | None], ...]}  (sorted by key)
    child -> node   {"t": "result", "ok": false, "error": str}
    child -> node   {"t": "fault", "reason": str}  (the node's fault, e.g. RLIMIT_AS reached)
    zygote -> node  {"t": "ready"} once at start; {"t": "exit", "status": int} after each
                    job (the child's raw wait status)

May import: `ccoin.errors`, `ccoin.vm.ipc`, `msgpack`, `pyseccomp` (which loads `ctypes`).
"""

from __future__ import annotations

import builtins
import os
import resource
import sys
from collections.abc import Callable
from typing import Any

import pyseccomp

from ccoin.vm import ipc

REQUEST_FD = 0
REPLY_FD = 1
INT_MAX_STR_DIGITS = 4300
MAX_KEY = 1024
MAX_VALUE = 64 * 1024

# Measured on this kind of machine (DESIGN section 11): what a pre-imported interpreter
# doing pure computation over two pipes needs. read/write are further pinned to one fd.
MEMORY_SYSCALLS = ("brk", "mmap", "munmap", "mremap", "madvise")
OTHER_SYSCALLS = ("futex", "rt_sigreturn", "exit", "exit_group")


class _StorageChannelBroken(BaseException):
    """The node's answer to a storage read was not a valid ``value`` frame."""


def build_filter() -> Any:
    """The seccomp filter every child loads: all else kills the process."""
    syscall_filter = pyseccomp.SyscallFilter(pyseccomp.KILL_PROCESS)
    syscall_filter.add_rule(pyseccomp.ALLOW, "read", pyseccomp.Arg(0, pyseccomp.EQ, REQUEST_FD))
    syscall_filter.add_rule(pyseccomp.ALLOW, "write", pyseccomp.Arg(0, pyseccomp.EQ, REPLY_FD))
    for name in MEMORY_SYSCALLS + OTHER_SYSCALLS:
        syscall_filter.add_rule(pyseccomp.ALLOW, name)
    return syscall_filter


def confine(syscall_filter: Any, memory: int, cpu_seconds: int) -> None:
    """Everything the child does between fork and running contract code."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.closerange(REPLY_FD + 1, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (REPLY_FD + 1, REPLY_FD + 1))
    sys.stdout = sys.stderr = sys.stdin = None
    # Imports of modules not already loaded fail the same way on every node instead of
    # reaching the file system (where seccomp would kill the child).
    sys.meta_path.clear()
    sys.path_hooks.clear()
    sys.path_importer_cache.clear()
    sys.path.clear()
    syscall_filter.load()


def run_job(request: dict[str, Any]) -> dict[str, Any]:
    """Run one job; the reply frame to send. Only called inside a confined child."""
    writes: dict[bytes, bytes | None] = {}
    namespace: dict[str, Any] = {
        "__builtins__": builtins.__dict__ if request.get("builtins") == "full" else {},
        "storage_get": _storage_getter(writes),
        "storage_set": _storage_setter(writes),
    }
    try:
        code = compile(str(request["source"]), "<contract>", "exec")
        exec(code, namespace)
        value = namespace[str(request["entry"])](*list(request["args"]))
        reply = {"t": "result", "ok": True, "value": value, "writes": sorted_writes(writes)}
        ipc.encode_frame(reply)  # a value that cannot cross the pipe is the job's error
        return reply
    except MemoryError:
        return {"t": "fault", "reason": "memory limit reached"}
    except _StorageChannelBroken:
        return {"t": "fault", "reason": "storage channel broken"}
    except BaseException as exc:  # any other exception is the contract's own failure
        return {"t": "result", "ok": False, "error": f"{type(exc).__name__}: {exc}"}


def sorted_writes(writes: dict[bytes, bytes | None]) -> list[list[bytes | None]]:
    return [[key, writes[key]] for key in sorted(writes)]


def _storage_getter(writes: dict[bytes, bytes | None]) -> Callable[[bytes], bytes | None]:
    def storage_get(key: bytes) -> bytes | None:
        _check_bytes(key, "key", MAX_KEY)
        if key in writes:
            return writes[key]
        ipc.write_frame(REPLY_FD, {"t": "get", "key": key})
        try:
            answer = ipc.read_frame(REQUEST_FD)
        except ipc.FrameError:
            raise _StorageChannelBroken() from None
        value = answer.get("value")
        if answer["t"] != "value" or not (value is None or type(value) is bytes):
            raise _StorageChannelBroken()
        return value

    return storage_get


def _storage_setter(writes: dict[bytes, bytes | None]) -> Callable[[bytes, bytes | None], None]:
    def storage_set(key: bytes, value: bytes | None) -> None:
        _check_bytes(key, "key", MAX_KEY)
        if value is not None:
            _check_bytes(value, "value", MAX_VALUE)
        writes[key] = value

    return storage_set


def _check_bytes(value: object, name: str, limit: int) -> None:
    if type(value) is not bytes:
        raise TypeError(f"storage {name} must be bytes")
    if len(value) > limit:
        raise ValueError(f"storage {name} longer than {limit} bytes")


def child_main(request: dict[str, Any], syscall_filter: Any, memory: int, cpu: int) -> None:
    try:
        ipc.write_frame(REPLY_FD, {"t": "pid", "pid": os.getpid()})
        confine(syscall_filter, memory, cpu)
        reply = run_job(request)
        ipc.write_frame(REPLY_FD, reply)
    finally:
        os._exit(0)


def serve(memory: int, cpu: int) -> None:
    """The zygote's loop: one forked child per job, until ``stop`` or end of input."""
    syscall_filter = build_filter()
    ipc.write_frame(REPLY_FD, {"t": "ready"})
    while True:
        try:
            request = ipc.read_frame(REQUEST_FD)
        except ipc.FrameError:
            return
        if request["t"] != "job":
            return
        pid = os.fork()
        if pid == 0:
            child_main(request, syscall_filter, memory, cpu)
        _, status = os.waitpid(pid, 0)
        ipc.write_frame(REPLY_FD, {"t": "exit", "status": status})


def main(argv: list[str]) -> None:
    sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)
    if sys.flags.hash_randomization or len(argv) != 2:
        os._exit(2)  # started wrongly: the runner sees a dead worker, a fault
    serve(int(argv[0]), int(argv[1]))
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
