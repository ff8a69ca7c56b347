"""The sandboxed side of the contract runner: a fork server and its per-call children.

Started by `ccoin.vm.runner` as ``python -S -s -P -B -m ccoin.vm.worker MEMORY CPU SEED``
with a clean environment whose only entries are ``PYTHONHASHSEED=SEED`` (0 on every node;
the zygote refuses to start if the two differ) and ``PYTHONPATH`` (not ``-I``: isolated
mode ignores ``PYTHONHASHSEED``), fd 0 on ``/dev/null`` and fd 1 a
``SOCK_SEQPACKET`` socket to the node (the control socket: one frame per packet). The
process (the "zygote") imports everything a call may need, generates the seccomp filter's
BPF program once, empties its import machinery, then keeps `CHILDREN` children forked
ahead: for each, two fresh pipes, a fork (libc ``fork`` when single-threaded, see
`fork_bare`), and a ``child`` frame to the node carrying the pid and, as ``SCM_RIGHTS``, the
node's ends of the pipes. It waits for any child to end, reports its wait status as an
``exit`` frame and forks a replacement; it stops after a child that did not exit with
status 0, or when the node has gone. It never reads a job, never uses a child's pipes and
never runs contract code, so every call starts from the same clean, pre-imported state and
no call can see another's.

The child: its fds 0 and 1 are its own request and reply pipes. It sets rlimits, closes
every other descriptor, empties the import machinery (already empty: a guard), loads the
filter (default action: kill the process), then blocks reading its one job on fd 0; runs
it, sends ``result`` (or ``fault``) on fd 1 and leaves with ``os._exit`` (normal shutdown
would call ``rt_sigaction`` and be killed): status 0 after a reply, `EXIT_NO_JOB` if fd 0
ended or held no job, `EXIT_FAILED` otherwise. Storage reads are ``get`` frames answered by
the node with ``value`` frames; writes are kept in the child and sent back in the result.

Two job kinds. ``job`` runs raw Python (``builtins`` "full" only for the escape tests);
``call`` runs one exported function of a contract the node compiled (its code object
`marshal`-ed) as a `ccoin.vm.host.CallTree` over `PipeBackend` (storage reads and the
contracts it calls cross the pipe; writes, events and transfers of every contract in the
call are collected and sent back). Frames (all maps, see `ccoin.vm.ipc`; the full table is in
``docs/spec/vm.md`` section 3)::

    zygote -> node  {"t": "ready"}  once, first
    zygote -> node  {"t": "child", "pid": int}  + SCM_RIGHTS [request write end,
                                                              reply read end]
    zygote -> node  {"t": "exit", "pid": int, "status": int}  (the raw wait status)
    node -> child   {"t": "job", "source": str, "entry": str, "args": list,
                     "builtins": "full" | "none"}
    node -> child   {"t": "call", "code": bytes, "exports": [str, ...], "function": str,
                     "args": bytes, "gas_limit": int, "sender": str, "contract": str,
                     "height": int, "timestamp": int, "tx_id": str, "value": int,
                     "balance": int}
                    (code: `marshal` of the compiled module; args: `encode_value` of a list)
    child -> node   {"t": "get", "contract": str, "key": bytes}   (a job's: no contract)
    node -> child   {"t": "value", "value": bytes | None}
    child -> node   {"t": "load", "contract": str}
    node -> child   {"t": "code", "code": bytes | None, "exports": [str, ...],
                     "size": int, "balance": int}   (code None: no such contract)
    child -> node   {"t": "result", "ok": true, "value": any,
                     "writes": [[bytes, bytes | None], ...]}  (job; sorted by key)
    child -> node   {"t": "result", "ok": false, "error": str}   (job)
    child -> node   {"t": "result", "ok": true, "value": bytes, "gas_used": int,
                     "writes": [[contract, bytes, bytes | None], ...],
                     "events": [[contract, str, bytes], ...],
                     "transfers": [[from contract, to, int], ...]}
                    (call; sorted writes; value and event fields are `encode_value` bytes)
    child -> node   {"t": "result", "ok": false, "error": str, "gas_used": int}   (call)
    child -> node   {"t": "fault", "reason": str}  (the node's fault, e.g. RLIMIT_AS reached)

May import: `ccoin.errors`, `ccoin.vm.ipc`, the pure vm modules (`instrument` and what it
imports), `msgpack`, `pyseccomp` (which loads `ctypes`), `_socket` (not `socket`: a job's
``import socket`` must still fail). All are imported by the zygote, before the fork, so the
child never needs the import machinery.
"""

from __future__ import annotations

import _socket
import builtins
import ctypes
import marshal
import os
import resource
import signal
import struct
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

import pyseccomp

from ccoin.vm import ipc
from ccoin.vm.api import CallContext, decode_value
from ccoin.vm.failures import MAX_ERROR, describe
from ccoin.vm.host import LoadedContract, TreeOutcome
from ccoin.vm.host import run_call as run_tree
from ccoin.vm.instrument import CompiledContract

REQUEST_FD = 0
REPLY_FD = 1
CONTROL_FD = 1
"""The zygote's fd 1: a ``SOCK_SEQPACKET`` socket to the node (one frame per packet)."""
CHILDREN = 2
"""Children the zygote keeps forked: the one running a job and the next, waiting."""
INT_MAX_STR_DIGITS = 4300
MAX_KEY = 1024
MAX_VALUE = 64 * 1024
EXIT_NO_JOB = 3
"""A child's exit status when its fd 0 ended (or held no job) before a job arrived."""
EXIT_FAILED = 4
"""A child's exit status when it failed outside the job (e.g. its reply could not be sent)."""

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


PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class _Descriptor:
    """What `SyscallFilter.export_bpf` needs of a file: its descriptor."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


class CompiledFilter:
    """A `build_filter` filter as the BPF program libseccomp generates for it, made once in
    the zygote. `load` does what ``seccomp_load`` does for this filter (no flags set):
    ``PR_SET_NO_NEW_PRIVS``, then ``PR_SET_SECCOMP`` with the program; without generating
    the program again in every child (about 0.3 ms and 200 page faults each)."""

    def __init__(self, syscall_filter: Any) -> None:
        read_fd, write_fd = os.pipe()
        try:
            syscall_filter.export_bpf(_Descriptor(write_fd))
            os.close(write_fd)
            write_fd = -1
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.program = b"".join(chunks)
        if not self.program or len(self.program) % 8 or len(self.program) // 8 > 4096:
            raise RuntimeError("libseccomp exported no usable BPF program")
        self._buffer = ctypes.create_string_buffer(self.program, len(self.program))
        self._fprog = _SockFprog(len(self.program) // 8, ctypes.addressof(self._buffer))
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl.restype = ctypes.c_int
        self._prctl.argtypes = (ctypes.c_int, *(ctypes.c_ulong,) * 4)

    def load(self) -> None:
        if self._prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        fprog = ctypes.addressof(self._fprog)
        if self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def confine(syscall_filter: Any, memory: int, cpu_seconds: int) -> None:
    """Everything the child does between fork and running contract code."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.closerange(REPLY_FD + 1, 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (REPLY_FD + 1, REPLY_FD + 1))
    empty_import_machinery()  # already empty (the zygote did it): a no-op kept as a guard
    syscall_filter.load()


def empty_import_machinery() -> None:
    """Imports of modules not already loaded then fail the same way on every node instead
    of reaching the file system (where seccomp would kill a child). The zygote does this
    once, after its own imports and before its first fork (freeing the finders' caches
    costs about half a millisecond, paid once instead of in every child)."""
    sys.stdout = sys.stderr = sys.stdin = None
    sys.meta_path.clear()
    sys.path_hooks.clear()
    sys.path_importer_cache.clear()
    sys.path.clear()


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
        # Raw Python for the sandbox's own tests: its text, cut so that it fits a frame.
        return {"t": "result", "ok": False, "error": f"{type(exc).__name__}: {exc}"[:MAX_ERROR]}


def run_call(request: dict[str, Any]) -> dict[str, Any]:
    """Run one exported function of a compiled contract; the reply frame. Only called in a
    confined child.

    The node compiled (and linted) the contract and sends its code object `marshal`-ed:
    loading it is memory work only. The contract's own failures (`ContractError` and the
    other exceptions the runtime raises, out of gas, call depth, an unencodable or oversized
    result) are results with the gas used and no writes. Machine-dependent failures
    (MemoryError, RecursionError) and a broken storage channel are faults.
    """
    try:
        ctx, function, args, gas_limit = _parse_call(request)
        contract = _load_contract(request)
    except (KeyError, TypeError, ValueError, EOFError) as exc:
        return {"t": "fault", "reason": f"malformed call frame: {exc}"}
    outcome: TreeOutcome | None = None
    try:
        outcome = run_tree(PipeBackend(), contract, function, args, gas_limit, ctx)
        if outcome.tree is None:
            error = outcome.error or "failed"
            return {"t": "result", "ok": False, "error": error, "gas_used": outcome.gas_used}
        tree = outcome.tree
        reply = {
            "t": "result",
            "ok": True,
            "value": outcome.encoded,
            "gas_used": outcome.gas_used,
            "writes": [list(write) for write in tree.writes],
            "events": [list(event) for event in tree.events],
            "transfers": [list(transfer) for transfer in tree.transfers],
        }
        ipc.encode_frame(reply)  # must fit one frame (the same limit on every node)
        return reply
    except (MemoryError, RecursionError) as exc:
        return {"t": "fault", "reason": f"{type(exc).__name__} in the worker"}
    except _StorageChannelBroken:
        return {"t": "fault", "reason": "storage channel broken"}
    except Exception as exc:  # an unstorable or oversized result: the contract's own
        gas_used = outcome.gas_used if outcome is not None else 0
        return {"t": "result", "ok": False, "error": describe(exc), "gas_used": gas_used}
    except BaseException as exc:
        return {"t": "fault", "reason": f"unexpected {type(exc).__name__}"}


def _load_contract(request: dict[str, Any]) -> CompiledContract:
    """The contract the node compiled: its code object (trusted: the node made it)."""
    blob, exports = request["code"], request["exports"]
    if type(blob) is not bytes:
        raise TypeError("code must be bytes")
    if type(exports) is not list or any(type(name) is not str for name in exports):
        raise TypeError("exports must be a list of str")
    code = marshal.loads(blob)
    if type(code) is not CodeType:
        raise TypeError("code is not a code object")
    return CompiledContract(code=code, exports=tuple(exports), filename=code.co_filename)


def _parse_call(request: dict[str, Any]) -> tuple[CallContext, str, list[Any], int]:
    def field(name: str, kind: type) -> Any:
        value = request[name]
        if type(value) is not kind:
            raise TypeError(f"{name} must be {kind.__name__}")
        return value

    ctx = CallContext(
        sender=field("sender", str),
        contract=field("contract", str),
        height=field("height", int),
        timestamp=field("timestamp", int),
        tx_id=field("tx_id", str),
        value=field("value", int),
        balance=field("balance", int),
    )
    if not 0 <= ctx.value <= ctx.balance:
        raise ValueError("value must be within the balance")
    args = decode_value(field("args", bytes))
    gas_limit = field("gas_limit", int)
    if type(args) is not list or gas_limit < 0:
        raise ValueError("args must encode a list and gas_limit be >= 0")
    return ctx, field("function", str), args, gas_limit


class PipeBackend:
    """`ccoin.vm.host.Backend` inside the child: storage reads and contract loads cross the
    pipe to the node (the call tree caches reads for the call)."""

    def read(self, contract: str, key: bytes) -> bytes | None:
        answer = _ask({"t": "get", "contract": contract, "key": key}, "value")
        value = answer.get("value")
        if not (value is None or type(value) is bytes):
            raise _StorageChannelBroken()
        return value

    def load(self, contract: str) -> LoadedContract | None:
        answer = _ask({"t": "load", "contract": contract}, "code")
        if answer.get("code") is None:
            return None
        try:
            compiled = _load_contract(answer)
            size, balance = answer["size"], answer["balance"]
        except (KeyError, TypeError, ValueError, EOFError):
            raise _StorageChannelBroken() from None
        if type(size) is not int or type(balance) is not int or size < 0 or balance < 0:
            raise _StorageChannelBroken()
        return LoadedContract(compiled, size, balance)


def _ask(frame: dict[str, Any], answer_kind: str) -> dict[str, Any]:
    try:
        ipc.write_frame(REPLY_FD, frame)
        answer = ipc.read_frame(REQUEST_FD)
    except (ipc.FrameError, OSError):
        raise _StorageChannelBroken() from None
    if answer["t"] != answer_kind:
        raise _StorageChannelBroken()
    return answer


def _read_over_pipe(key: bytes) -> bytes | None:
    try:
        ipc.write_frame(REPLY_FD, {"t": "get", "key": key})
        answer = ipc.read_frame(REQUEST_FD)
    except (ipc.FrameError, OSError):
        raise _StorageChannelBroken() from None
    value = answer.get("value")
    if answer["t"] != "value" or not (value is None or type(value) is bytes):
        raise _StorageChannelBroken()
    return value


def sorted_writes(writes: dict[bytes, bytes | None]) -> list[list[bytes | None]]:
    return [[key, writes[key]] for key in sorted(writes)]


def _storage_getter(writes: dict[bytes, bytes | None]) -> Callable[[bytes], bytes | None]:
    def storage_get(key: bytes) -> bytes | None:
        _check_bytes(key, "key", MAX_KEY)
        if key in writes:
            return writes[key]
        return _read_over_pipe(key)

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


def child_main(syscall_filter: CompiledFilter, memory: int, cpu: int) -> None:
    """A child forked ahead of its job: confine, wait for one job on fd 0, run it, reply.

    Its fds 0 and 1 are its own pair of fresh pipes (the node holds the other ends), so a
    waiting child shares no channel with the running one. Exit status 0 only after the
    reply was written; `EXIT_NO_JOB` when fd 0 ends (or holds no job) before a job came;
    `EXIT_FAILED` otherwise.
    """
    status = EXIT_FAILED
    try:
        confine(syscall_filter, memory, cpu)
        status = EXIT_NO_JOB
        request = ipc.read_frame(REQUEST_FD)
        if request["t"] in ("job", "call"):
            status = EXIT_FAILED
            reply = run_call(request) if request["t"] == "call" else run_job(request)
            ipc.write_frame(REPLY_FD, reply)
            status = 0
    finally:
        os._exit(status)


_libc = ctypes.PyDLL(None, use_errno=True)  # PyDLL: the GIL stays held across the call
_libc.fork.restype = ctypes.c_int
_libc.fork.argtypes = ()


def single_threaded() -> bool:
    """Whether this process has one thread (kernel view, not only Python's)."""
    return len(os.listdir("/proc/self/task")) == 1


def fork_bare() -> int:
    """libc ``fork`` without CPython's at-fork work (``os.fork`` re-creates the threading
    module's locks and reseeds `random` in the child: about 200 page faults and half a
    millisecond of CPU per child, for state no child uses). Only for a single-threaded
    process, where there are no other threads' locks or states to repair: the zygote."""
    pid: int = _libc.fork()
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return pid


def spawn(
    control: _socket.socket,
    syscall_filter: CompiledFilter,
    memory: int,
    cpu: int,
    fork: Callable[[], int] = os.fork,
) -> int:
    """Fork one child on two fresh pipes and hand the node its ends with a ``child`` frame."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    pid = fork()
    if pid == 0:
        os.dup2(request_read, REQUEST_FD)
        os.dup2(reply_write, REPLY_FD)  # confine() closes every other descriptor
        child_main(syscall_filter, memory, cpu)
    os.close(request_read)
    os.close(reply_write)
    try:
        fds = struct.pack("2i", request_write, reply_read)
        frame = ipc.encode_frame({"t": "child", "pid": pid})
        control.sendmsg([frame], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    finally:
        os.close(request_write)
        os.close(reply_read)
    return pid


def serve(memory: int, cpu: int) -> None:
    """The zygote's loop: keep `CHILDREN` children forked ahead (one may be running a job),
    report each one's wait status, fork its replacement; stop after a child that did not
    exit cleanly (status not 0) or when the control socket breaks.

    The zygote never reads a job, never touches a child's pipes after handing them over,
    and never runs contract code.
    """
    control = _socket.socket(fileno=CONTROL_FD)
    syscall_filter = CompiledFilter(build_filter())
    fork = fork_bare if single_threaded() else os.fork
    empty_import_machinery()  # the zygote imports nothing after this
    children: set[int] = set()
    try:
        control.send(ipc.encode_frame({"t": "ready"}))
        while True:
            while len(children) < CHILDREN:
                children.add(spawn(control, syscall_filter, memory, cpu, fork))
            pid, status = os.waitpid(-1, 0)
            children.discard(pid)
            control.send(ipc.encode_frame({"t": "exit", "pid": pid, "status": status}))
            if status != 0:
                return
    except OSError:
        return  # the node has gone: nobody to report to
    finally:
        for pid in children:  # waiting children only: this process is their parent
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def main(argv: list[str]) -> None:
    sys.set_int_max_str_digits(INT_MAX_STR_DIGITS)
    if len(argv) != 3 or os.environ.get("PYTHONHASHSEED") != argv[2]:
        os._exit(2)  # started wrongly: the runner sees a dead worker, a fault
    serve(int(argv[0]), int(argv[1]))
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
