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

Two job kinds. ``job`` runs raw Python (``builtins`` "full" only for the escape tests);
``call`` compiles a contract with `ccoin.vm.instrument.compile_contract` and runs one
exported function under a `Meter` with `PipeApi` (storage reads over the pipe, writes,
events and transfers collected). Frames (all maps, see `ccoin.vm.ipc`; the full table is
in ``docs/spec/vm.md`` section 3)::

    node -> zygote  {"t": "job", "source": str, "entry": str, "args": list,
                     "builtins": "full" | "none"}
    node -> zygote  {"t": "call", "source": str, "function": str, "args": bytes,
                     "gas_limit": int, "sender": str, "contract": str, "height": int,
                     "timestamp": int, "tx_id": str, "value": int, "balance": int}
                                                         (args: `encode_value` of a list)
    child -> node   {"t": "pid", "pid": int}
    child -> node   {"t": "get", "key": bytes}
    node -> child   {"t": "value", "value": bytes | None}
    child -> node   {"t": "result", "ok": true, "value": any,
                     "writes": [[bytes, bytes | None], ...]}  (job; sorted by key)
    child -> node   {"t": "result", "ok": false, "error": str}   (job)
    child -> node   {"t": "result", "ok": true, "value": bytes, "gas_used": int,
                     "writes": [[bytes, bytes | None], ...], "events": [[str, bytes], ...],
                     "transfers": [[str, int], ...]}      (call; value and event fields
                                                           are `encode_value` bytes)
    child -> node   {"t": "result", "ok": false, "error": str, "gas_used": int}   (call)
    child -> node   {"t": "fault", "reason": str}  (the node's fault, e.g. RLIMIT_AS reached)
    zygote -> node  {"t": "ready"} once at start; {"t": "exit", "status": int} after each
                    job (the child's raw wait status)

May import: `ccoin.errors`, `ccoin.vm.ipc`, the pure vm modules (`instrument` and what it
imports), `msgpack`, `pyseccomp` (which loads `ctypes`). All are imported by the zygote,
before the fork, so the child never needs the import machinery.
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
from ccoin.vm.api import CallContext, ContractBalance, decode_value, encode_value
from ccoin.vm.gas import Meter, VmAbort
from ccoin.vm.instrument import compile_contract

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


def run_call(request: dict[str, Any]) -> dict[str, Any]:
    """Compile and run one contract call; the reply frame. Only called in a confined child.

    The contract's own failures (lint rejection, `ContractError` and the other exceptions
    the runtime raises, out of gas, call depth, an unencodable or oversized result) are
    results with the gas used and no writes. Machine-dependent failures (MemoryError,
    RecursionError) and a broken storage channel are faults.
    """
    try:
        ctx, function, args, gas_limit = _parse_call(request)
        source = request["source"]
        if type(source) is not str:
            raise TypeError("source")
    except (KeyError, TypeError, ValueError) as exc:
        return {"t": "fault", "reason": f"malformed call frame: {exc}"}
    meter = Meter(gas_limit)
    api = PipeApi(ctx)
    try:
        contract = compile_contract(source)  # not metered: see docs/spec/vm.md section 3
        value = encode_value(contract.instantiate(meter, api).call(function, args))
        reply = {
            "t": "result",
            "ok": True,
            "value": value,
            "gas_used": meter.used,
            "writes": sorted_writes(api.writes),
            "events": api.events,
            "transfers": api.transfers,
        }
        ipc.encode_frame(reply)  # must fit one frame (the same limit on every node)
        return reply
    except (MemoryError, RecursionError) as exc:
        return {"t": "fault", "reason": f"{type(exc).__name__} in the worker"}
    except _StorageChannelBroken:
        return {"t": "fault", "reason": "storage channel broken"}
    except (Exception, VmAbort) as exc:  # the contract's own, deterministic failure
        error = f"{type(exc).__name__}: {exc}"
        return {"t": "result", "ok": False, "error": error, "gas_used": meter.used}
    except BaseException as exc:
        return {"t": "fault", "reason": f"unexpected {type(exc).__name__}"}


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


class PipeApi:
    """`ContractApi` inside the child: reads cross the pipe (cached for the call), writes,
    events and transfers are collected and sent back with the result."""

    def __init__(self, ctx: CallContext) -> None:
        self._ctx = ctx
        self._balance = ContractBalance(ctx.balance)
        self.writes: dict[bytes, bytes | None] = {}
        self.reads: dict[bytes, bytes | None] = {}
        self.events: list[list[str | bytes]] = []
        self.transfers: list[list[str | int]] = []

    @property
    def ctx(self) -> CallContext:
        return self._ctx

    def storage_get(self, key: bytes) -> bytes | None:
        _check_bytes(key, "key", MAX_KEY)
        if key in self.writes:
            return self.writes[key]
        if key not in self.reads:
            self.reads[key] = _read_over_pipe(key)
        return self.reads[key]

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        _check_bytes(key, "key", MAX_KEY)
        if value is not None:
            _check_bytes(value, "value", MAX_VALUE)
        self.writes[key] = value

    def emit(self, name: str, fields: dict[str, Any]) -> None:
        if type(name) is not str:
            raise TypeError("event name must be str")
        self.events.append([name, encode_value(fields)])

    def transfer(self, to: str, amount: int) -> None:
        if type(to) is not str:
            raise TypeError("transfer recipient must be str")
        self._balance.spend(amount)
        self.transfers.append([to, amount])

    def balance(self) -> int:
        return self._balance.amount

    def call(self, contract: str, function: str, args: list[Any]) -> Any:
        raise NotImplementedError("contract-to-contract calls come with the call transaction")


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


def child_main(request: dict[str, Any], syscall_filter: Any, memory: int, cpu: int) -> None:
    try:
        ipc.write_frame(REPLY_FD, {"t": "pid", "pid": os.getpid()})
        confine(syscall_filter, memory, cpu)
        reply = run_call(request) if request["t"] == "call" else run_job(request)
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
        if request["t"] not in ("job", "call"):
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
