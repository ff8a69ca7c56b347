"""The node's side of the sandbox: `SandboxRunner` runs jobs in seccomp-confined children.

One fork server ("zygote", `ccoin.vm.worker`) is started per runner from a clean
interpreter; every call runs in its own child forked from it, so no call can see another
call's state (a reset namespace in a reused process would not do: with a hole in the linter
a job could change ``builtins``, module globals or interpreter caches for the next one).
The node process itself is never forked (it has threads, keys and open databases).

The zygote forks children ahead of their jobs: each is confined (rlimits, descriptors,
import machinery, seccomp) and waits on a fresh pipe pair whose other ends the zygote hands
to the node over a ``SOCK_SEQPACKET`` control socket (``SCM_RIGHTS``). A call takes the
oldest waiting child, sends it the job on its own pipe and serves its storage reads; fork
and confinement are off the call's path, and no two children share a channel.

Contracts are compiled here, not in the child: `CompileCache` (a bounded LRU keyed by the
SHA-256 of the source) holds each source's `compile_contract` result, and the child gets
the code object `marshal`-ed plus the export names. A source the compiler rejects is a
result (gas 0) without a child.

A child that dies, is killed by seccomp, overruns the wall timeout, runs out of address
space or sends a malformed frame is the node's fault, never the contract's: the runner
throws the zygote away, retries once on a fresh one, then raises `WorkerFault`. A job's
own exception is a `JobResult` with ``ok=False`` and no writes. The runner applies
nothing: the write set goes back to the caller.

A child's exit after its (complete, well-formed) result is checked off the call's path: the
zygote's ``exit`` report must say status 0 and the child's reply pipe must hold nothing
more. The check runs at the start of the runner's later calls, waiting for a report not
yet in only when more than ``unchecked_exits`` children (default 2) are unchecked; a bad
exit is then a `WorkerFault` of the call being started (retried like any fault), while the
result already returned stands (it was complete before the child died). A child that ends
without a result is still a fault of its own call. ``unchecked_exits=0`` checks each
child's exit before its call returns (a bad exit is that call's fault), at about 0.6 ms
per call.

`SandboxRunner.call` runs a `ContractCall`: the child runs one exported function under a
gas meter; the `CallResult` carries the gas used, and on success the return value, write
set, events and transfers. Out of gas, call depth, lint rejection and every exception the
contract or runtime raises are results (``ok=False``, gas used, no writes), the same on
every node; everything else is a `WorkerFault`.

Synchronous by design: the node calls `run` from a worker thread. One call at a time per
runner (a lock); run several runners for parallelism.

May import: `ccoin.errors`, `ccoin.vm.ipc`, `ccoin.vm.api`, `ccoin.vm.instrument`. No
trio, no storage.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol, TypeVar

from ccoin.vm import ipc
from ccoin.vm.api import CallContext, decode_value, encode_value
from ccoin.vm.instrument import compile_contract

StorageReader = Callable[[bytes], bytes | None]
WriteSet = tuple[tuple[bytes, bytes | None], ...]
TreeWrites = tuple[tuple[str, bytes, bytes | None], ...]  # (contract, key, value)
Result = TypeVar("Result")

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY = 512 * 1024 * 1024
STARTUP_TIMEOUT = 20.0
EXIT_GRACE = 2.0
UNCHECKED_EXITS = 2
"""Children whose exit a call may leave unchecked (see `_Zygote._check_finished`)."""
MAX_ADDRESS_TEXT = 64
CACHE_ENTRIES = 256
CACHE_BYTES = 64 * 1024 * 1024


class ContractHost(Protocol):
    """What a call's child may ask the node for: the storage of a contract in the call
    (by its own keys) and the contracts it calls (`None` when there is no such contract;
    any string may be asked, it comes from contract code)."""

    def read(self, contract: str, key: bytes) -> bytes | None: ...

    def load(self, contract: str) -> tuple[str, int] | None:
        """The contract's source and its C balance before the transaction."""
        ...


@dataclass(frozen=True)
class RootStorage:
    """A `ContractHost` over one contract's storage reader: it calls no other contract."""

    get: StorageReader

    def read(self, contract: str, key: bytes) -> bytes | None:
        return self.get(key)

    def load(self, contract: str) -> tuple[str, int] | None:
        return None


class WorkerFault(RuntimeError):
    """The sandbox failed for a reason that is not the contract's: a node fault."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"contract worker fault: {reason}")


@dataclass(frozen=True)
class Job:
    """One call. `builtins` is "none" for real contracts; "full" only for escape tests."""

    source: str
    entry: str
    args: tuple[Any, ...] = ()
    builtins: Literal["full", "none"] = "none"

    def to_frame(self) -> dict[str, Any]:
        return {
            "t": "job",
            "source": self.source,
            "entry": self.entry,
            "args": list(self.args),
            "builtins": self.builtins,
        }


@dataclass(frozen=True)
class JobResult:
    """What a job did: its return value and write set, or its error and no writes."""

    ok: bool
    value: Any = None
    error: str | None = None
    writes: WriteSet = field(default=())


@dataclass(frozen=True)
class ContractCall:
    """One call of an exported contract function, run compiled and metered."""

    source: str
    function: str
    args: tuple[Any, ...]
    gas_limit: int
    context: CallContext

    def to_frame(self, code: bytes, exports: tuple[str, ...]) -> dict[str, Any]:
        """The ``call`` frame, with the contract as compiled by the node (`CompileCache`)."""
        return {
            "t": "call",
            "code": code,
            "exports": list(exports),
            "function": self.function,
            "args": encode_value(list(self.args)),
            "gas_limit": self.gas_limit,
            "sender": self.context.sender,
            "contract": self.context.contract,
            "height": self.context.height,
            "timestamp": self.context.timestamp,
            "tx_id": self.context.tx_id,
            "value": self.context.value,
            "balance": self.context.balance,
        }


@dataclass(frozen=True)
class CallResult:
    """A contract call's deterministic outcome. On failure: the error, the gas used, and no
    writes, events or transfers. Values decode as `ccoin.vm.api.decode_value` (tuples come
    back as lists)."""

    ok: bool
    gas_used: int
    value: Any = None
    error: str | None = None
    writes: TreeWrites = field(default=())  # sorted by (contract, key)
    events: tuple[tuple[str, str, dict[str, Any]], ...] = field(default=())  # contract, name
    transfers: tuple[tuple[str, str, int], ...] = field(default=())  # from contract, to, amount

    def writes_of(self, contract: str) -> WriteSet:
        """The writes to one contract's storage, as (key, value)."""
        return tuple((key, value) for owner, key, value in self.writes if owner == contract)


@dataclass(frozen=True)
class CompiledSource:
    """A contract source as the node compiled it: the `marshal`-ed code object and the
    export names, or (``code`` None) the deterministic error that rejected it."""

    code: bytes | None
    exports: tuple[str, ...] = ()
    error: str | None = None

    @property
    def size(self) -> int:
        return len(self.code or b"") + len(self.error or "") + 64 * (1 + len(self.exports))


class CompileCache:
    """`compile_contract` results keyed by the SHA-256 of the source: a bounded LRU.

    Compiling (lint, instrument, compile) is deterministic, so a cached entry is what a
    fresh compile would give. A rejection (`ContractRejected`, or any other exception the
    compiler raises) is cached as its error text; MemoryError and RecursionError are the
    machine's, not the source's: a `WorkerFault`, not cached. Thread-safe; one may be shared
    by several runners.
    """

    def __init__(self, max_entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a compile cache needs room for one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, CompiledSource] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, source: str) -> CompiledSource:
        key = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
        entry = _compile(source)  # outside the lock: other sources need not wait
        with self._lock:
            self.misses += 1
            if key not in self._entries:
                self._entries[key] = entry
                self._bytes += entry.size
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries or (
                self._bytes > self.max_bytes and len(self._entries) > 1
            ):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
        return entry


def _compile(source: str) -> CompiledSource:
    try:
        contract = compile_contract(source)
    except (MemoryError, RecursionError) as exc:
        raise WorkerFault(f"{type(exc).__name__} compiling the contract") from None
    except Exception as exc:  # the source's own, deterministic failure: a result
        return CompiledSource(code=None, error=f"{type(exc).__name__}: {exc}")
    return CompiledSource(code=marshal.dumps(contract.code), exports=contract.exports)


def _no_storage(key: bytes) -> bytes | None:
    return None


def _python_path() -> str:
    """Directories the worker needs: this package's root and its dependencies'."""
    import msgpack
    import pyseccomp

    roots = [Path(__file__).resolve().parents[2]]
    roots += [Path(msgpack.__file__).resolve().parents[1], Path(pyseccomp.__file__).parent]
    return os.pathsep.join(dict.fromkeys(str(root) for root in roots))


class _Session:
    """One call's exchange with its child: which contracts it may touch (the called one and
    each one loaded for it), and the answers to its reads and loads. Untrusted input: a
    malformed request, or storage of a contract not in the call, is a `WorkerFault`."""

    def __init__(self, host: ContractHost, root: str, cache: CompileCache) -> None:
        self.host = host
        self.root = root
        self.cache = cache
        self.contracts = {root}

    def fresh(self) -> _Session:
        """This session, started over (for a retry): only the called contract again."""
        self.contracts = {self.root}
        return self

    def read(self, frame: dict[str, Any]) -> bytes | None:
        contract, key = frame.get("contract", self.root), frame.get("key")
        if type(key) is not bytes:
            raise WorkerFault("storage read without a bytes key")
        if contract not in self.contracts:
            raise WorkerFault("storage read of a contract outside the call")
        return self.host.read(contract, key)

    def load(self, frame: dict[str, Any]) -> dict[str, Any]:
        contract = frame.get("contract")
        if type(contract) is not str or len(contract) > MAX_ADDRESS_TEXT:
            raise WorkerFault("contract load without an address")
        found = self.host.load(contract)
        compiled = None if found is None else self.cache.get(found[0])
        if found is None or compiled is None or compiled.code is None:
            return {"t": "code", "code": None}  # no contract there: a ContractError
        self.contracts.add(contract)
        return {
            "t": "code",
            "code": compiled.code,
            "exports": list(compiled.exports),
            "size": len(found[0].encode("utf-8")),
            "balance": found[1],
        }


@dataclass
class _Child:
    """A child forked ahead of its job: its pid and the node's ends of its two pipes."""

    pid: int
    to_fd: int
    reader: ipc.FrameReader

    def close(self) -> None:
        for fd in (self.to_fd, self.reader.fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class _Zygote:
    """One fork-server process, its control socket, and the children it has forked.

    The zygote keeps `ccoin.vm.worker.CHILDREN` children forked ahead, each confined and
    waiting for its job on a fresh pipe pair whose other ends it hands over in a ``child``
    frame (``SCM_RIGHTS``). A call takes the oldest waiting child, talks to it alone, then
    waits for the ``exit`` report of that pid; the zygote forks a replacement meanwhile.
    """

    def __init__(self, memory: int, cpu_seconds: int, max_frame: int, unchecked_exits: int) -> None:
        env = {"PYTHONHASHSEED": "0", "PYTHONPATH": _python_path()}
        argv = [sys.executable, "-S", "-s", "-P", "-B", "-m", "ccoin.vm.worker"]
        self.max_frame = max_frame
        self.unchecked_exits = unchecked_exits
        self.current: _Child | None = None
        self.finished: deque[_Child] = deque()
        self.waiting: deque[_Child] = deque()
        self.exits: dict[int, int] = {}
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [*argv, str(memory), str(cpu_seconds)],
                stdin=subprocess.DEVNULL,
                stdout=theirs.fileno(),
                stderr=subprocess.DEVNULL,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        except BaseException:
            self.control.close()
            raise
        finally:
            theirs.close()
        self.control.setblocking(False)
        try:
            ready = self._receive(time.monotonic() + STARTUP_TIMEOUT)
        except (ipc.FrameError, WorkerFault) as exc:
            self.discard()
            raise WorkerFault(f"worker did not start: {exc}") from None
        if ready["t"] != "ready":
            self.discard()
            raise WorkerFault("worker did not start: unexpected first frame")

    def _receive(self, deadline: float | None) -> dict[str, Any]:
        """One frame from the zygote (None: only if one is already there, else raise
        `BlockingIOError`); a ``child`` frame queues the child it announces, an ``exit``
        frame records the status."""
        while True:
            try:
                data, fds, flags, _ = socket.recv_fds(
                    self.control, 65536, 2, socket.MSG_CMSG_CLOEXEC
                )
                break
            except BlockingIOError:
                if deadline is None:
                    raise
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.control], [], [], remaining)[0]:
                    raise ipc.FrameTimeout() from None
        try:
            if not data:
                raise WorkerFault("worker ended (control socket closed)")
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                raise WorkerFault("truncated control message from worker")
            try:
                frame = ipc.decode_frame(data, max_size=self.max_frame)
            except ipc.FrameError as exc:
                raise WorkerFault(f"bad frame from worker: {exc}") from None
            kind, pid = frame["t"], frame.get("pid")
            if kind == "child" and type(pid) is int and len(fds) == 2:
                to_fd, from_fd = fds
                fds = []
                os.set_blocking(to_fd, False)
                os.set_blocking(from_fd, False)
                reader = ipc.FrameReader(from_fd, max_size=self.max_frame)
                self.waiting.append(_Child(pid, to_fd, reader))
            elif kind == "exit" and type(pid) is int and type(frame.get("status")) is int:
                self.exits[pid] = frame["status"]
            elif kind != "ready" or fds:
                raise WorkerFault(f"unexpected {kind!r} frame from worker")
            return frame
        finally:
            for fd in fds:
                os.close(fd)

    def _exit_status(self, pid: int, deadline: float) -> int:
        while pid not in self.exits:
            try:
                self._receive(deadline)
            except ipc.FrameTimeout:
                raise WorkerFault("no exit report from the worker") from None
        return self.exits.pop(pid)

    def call(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        session: _Session,
        timeout: float,
    ) -> Result:
        self._check_finished(self.unchecked_exits)
        deadline = time.monotonic() + timeout
        try:
            while not self.waiting:
                self._receive(deadline)
            child = self.current = self.waiting.popleft()
            try:
                self._write(child, frame, deadline)
                reply = self._serve_child(child, session, deadline)
            except ipc.EndOfStream:
                self._died(child)  # its reply pipe ended between frames: the child is gone
        except ipc.FrameTimeout:
            raise WorkerFault(f"call exceeded the wall timeout of {timeout} s") from None
        except ipc.FrameError as exc:
            raise WorkerFault(f"bad frame from worker: {exc}") from None
        result = parse(reply)
        self.current = None
        self.finished.append(child)
        if self.unchecked_exits == 0:
            self._check_finished(0)  # strict: this call's own exit, before its result
        return result

    def _write(self, child: _Child, message: dict[str, Any], deadline: float) -> None:
        try:
            ipc.write_frame(child.to_fd, message, max_size=self.max_frame, deadline=deadline)
        except BrokenPipeError:
            self._died(child)
        except OSError as exc:
            raise WorkerFault(f"pipe to worker broken: {exc}") from None

    def _died(self, child: _Child) -> NoReturn:
        status = self._exit_status(child.pid, time.monotonic() + EXIT_GRACE)
        raise WorkerFault(f"worker died: {_describe(status)}")

    def _serve_child(self, child: _Child, session: _Session, deadline: float) -> dict[str, Any]:
        """Answer the child's storage reads and contract loads until its reply frame."""
        while True:
            frame = child.reader.read(deadline)
            kind = frame["t"]
            if kind == "get":
                answer = {"t": "value", "value": session.read(frame)}
            elif kind == "load":
                answer = session.load(frame)
            elif kind == "result":
                return frame
            elif kind == "fault":
                raise WorkerFault(f"worker reported: {frame.get('reason')!r}")
            else:
                raise WorkerFault(f"unexpected {kind!r} frame from worker")
            self._write(child, answer, deadline)

    def _check_finished(self, allowed: int) -> None:
        """Check the exits of children that returned a result: each must have exited with
        status 0 and sent nothing after its result. Reports already received are checked
        now; a report not yet in waits (up to `EXIT_GRACE`) only while more than `allowed`
        children are unchecked. A bad exit is a `WorkerFault` (of the call now running)."""
        with contextlib.suppress(BlockingIOError):
            while True:
                self._receive(None)
        while self.finished:
            child = self.finished[0]
            if child.pid not in self.exits and len(self.finished) <= allowed:
                return
            try:
                status = self._exit_status(child.pid, time.monotonic() + EXIT_GRACE)
                if status != 0:
                    raise WorkerFault(f"worker died after its result: {_describe(status)}")
                # The child is gone and nobody else holds its reply pipe: anything left in
                # it was sent after the result.
                if not child.reader.at_eof():
                    raise WorkerFault("unexpected data from worker after its result")
            finally:
                self.finished.popleft()
                child.close()

    def discard(self) -> None:
        """Kill the running child (if any), close every child's pipes (a waiting child
        then exits) and the control socket, and let the zygote reap its children and
        exit; kill the whole group if it does not within the grace period."""
        with contextlib.suppress(OSError, WorkerFault, ipc.FrameError):
            while True:  # exit reports already sent: those pids must not be signalled
                self._receive(None)
        if self.current is not None:
            if self.current.pid not in self.exits:
                # Not reported, so not reaped by the zygote: the pid cannot have been reused.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.current.pid, signal.SIGKILL)
            self.current.close()
            self.current = None
        for queue in (self.waiting, self.finished):
            while queue:
                queue.popleft().close()
        self.control.close()
        try:
            self.process.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _describe(status: object) -> str:
    if type(status) is not int:
        return "unknown status"
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code} without a result"


def _parse_result(frame: dict[str, Any]) -> JobResult:
    if frame.get("ok") is False:
        error = frame.get("error")
        if type(error) is not str or "writes" in frame:
            raise WorkerFault("malformed error result")
        return JobResult(ok=False, error=error)
    if frame.get("ok") is not True:
        raise WorkerFault("malformed result")
    return JobResult(ok=True, value=frame.get("value"), writes=_parse_writes(frame.get("writes")))


def _call_parser(gas_limit: int, session: _Session) -> Callable[[dict[str, Any]], CallResult]:
    def parse(frame: dict[str, Any]) -> CallResult:
        gas_used = frame.get("gas_used")
        if type(gas_used) is not int or not 0 <= gas_used <= gas_limit:
            raise WorkerFault("malformed call result: gas_used")
        if frame.get("ok") is False:
            error = frame.get("error")
            if type(error) is not str or set(frame) != {"t", "ok", "error", "gas_used"}:
                raise WorkerFault("malformed call error result")
            return CallResult(ok=False, gas_used=gas_used, error=error)
        if frame.get("ok") is not True or type(frame.get("value")) is not bytes:
            raise WorkerFault("malformed call result")
        try:
            value = decode_value(frame["value"])
            events = _parse_events(frame.get("events"), session.contracts)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise WorkerFault(f"malformed call result: {exc}") from None
        return CallResult(
            ok=True,
            gas_used=gas_used,
            value=value,
            writes=_parse_tree_writes(frame.get("writes"), session.contracts),
            events=events,
            transfers=_parse_transfers(frame.get("transfers"), session.contracts),
        )

    return parse


def _parse_events(
    events: object, contracts: set[str]
) -> tuple[tuple[str, str, dict[str, Any]], ...]:
    if type(events) is not list:
        raise ValueError("events")
    parsed: list[tuple[str, str, dict[str, Any]]] = []
    for event in events:
        if type(event) is not list or len(event) != 3 or event[0] not in contracts:
            raise ValueError("events")
        if type(event[1]) is not str or type(event[2]) is not bytes:
            raise ValueError("events")
        try:
            fields = decode_value(event[2])
        except Exception:  # msgpack raises several unrelated types for bad input
            raise ValueError("event fields") from None
        if type(fields) is not dict:
            raise ValueError("event fields")
        parsed.append((event[0], event[1], fields))
    return tuple(parsed)


def _parse_transfers(transfers: object, contracts: set[str]) -> tuple[tuple[str, str, int], ...]:
    if type(transfers) is not list:
        raise WorkerFault("malformed transfers")
    parsed: list[tuple[str, str, int]] = []
    for item in transfers:
        if type(item) is not list or len(item) != 3 or item[0] not in contracts:
            raise WorkerFault("malformed transfers")
        if type(item[1]) is not str or type(item[2]) is not int or item[2] <= 0:
            raise WorkerFault("malformed transfers")
        parsed.append((item[0], item[1], item[2]))
    return tuple(parsed)


def _parse_tree_writes(items: object, contracts: set[str]) -> TreeWrites:
    if type(items) is not list:
        raise WorkerFault("malformed result")
    writes: list[tuple[str, bytes, bytes | None]] = []
    for item in items:
        if type(item) is not list or len(item) != 3 or item[0] not in contracts:
            raise WorkerFault("malformed write set")
        if type(item[1]) is not bytes or not (item[2] is None or type(item[2]) is bytes):
            raise WorkerFault("malformed write set")
        if writes and (writes[-1][0], writes[-1][1]) >= (item[0], item[1]):
            raise WorkerFault("write set not sorted by contract and key")
        writes.append((item[0], item[1], item[2]))
    return tuple(writes)


def _parse_writes(pairs: object) -> WriteSet:
    if type(pairs) is not list:
        raise WorkerFault("malformed result")
    writes: list[tuple[bytes, bytes | None]] = []
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not bytes:
            raise WorkerFault("malformed write set")
        if not (pair[1] is None or type(pair[1]) is bytes):
            raise WorkerFault("malformed write set")
        if writes and writes[-1][0] >= pair[0]:
            raise WorkerFault("write set not sorted by key")
        writes.append((pair[0], pair[1]))
    return tuple(writes)


class SandboxRunner:
    """Runs jobs in fresh seccomp-confined processes forked from one warm zygote."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_limit: int = DEFAULT_MEMORY,
        max_frame: int = ipc.MAX_FRAME,
        compile_cache: CompileCache | None = None,
        unchecked_exits: int = UNCHECKED_EXITS,
    ) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.max_frame = max_frame
        self.compile_cache = CompileCache() if compile_cache is None else compile_cache
        self.unchecked_exits = unchecked_exits
        self.faults = 0
        self._zygote: _Zygote | None = None
        self._lock = threading.Lock()

    def run(self, job: Job, storage_get: StorageReader = _no_storage) -> JobResult:
        """Run `job`; a worker fault is retried once on a fresh worker, then raised."""
        session = _Session(RootStorage(storage_get), "", self.compile_cache)
        return self._run(job.to_frame(), _parse_result, session)

    def call(
        self, call: ContractCall, host: ContractHost | StorageReader = _no_storage
    ) -> CallResult:
        """Run a contract call and whatever it calls; a worker fault is retried once on a
        fresh worker, then raised. `host` serves the storage of the contracts in the call
        (their own keys, un-namespaced) and the contracts it calls; a plain storage reader
        serves the called contract alone.

        The contract is compiled here, once per source (`CompileCache`); a source the
        compiler rejects is a result (gas 0) without starting a child."""
        compiled = self._compile(call.source)
        if compiled.code is None:
            assert compiled.error is not None
            return CallResult(ok=False, gas_used=0, error=compiled.error)
        frame = call.to_frame(compiled.code, compiled.exports)
        served = host if not callable(host) else RootStorage(host)
        session = _Session(served, call.context.contract, self.compile_cache)
        return self._run(frame, _call_parser(call.gas_limit, session), session)

    def _compile(self, source: object) -> CompiledSource:
        for attempt in (1, 2):
            try:
                if type(source) is not str:
                    raise WorkerFault("malformed call: the source is not a str")
                return self.compile_cache.get(source)
            except WorkerFault:
                self.faults += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _run(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        session: _Session,
    ) -> Result:
        with self._lock:
            try:
                return self._run_once(frame, parse, session.fresh())
            except WorkerFault:
                self.faults += 1
            try:
                return self._run_once(frame, parse, session.fresh())
            except WorkerFault:
                self.faults += 1
                raise

    def _run_once(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        session: _Session,
    ) -> Result:
        if self._zygote is None:
            cpu_seconds = int(self.timeout) + 1  # a backstop; the wall timeout acts first
            self._zygote = _Zygote(
                self.memory_limit, cpu_seconds, self.max_frame, self.unchecked_exits
            )
        try:
            return self._zygote.call(frame, parse, session, self.timeout)
        except BaseException:
            # After any failure the pipes may hold a half-finished exchange: start afresh.
            self._zygote.discard()
            self._zygote = None
            raise

    def close(self) -> None:
        with self._lock:
            if self._zygote is not None:
                self._zygote.discard()
                self._zygote = None

    def __enter__(self) -> SandboxRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
