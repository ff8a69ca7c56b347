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
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from ccoin.vm import ipc
from ccoin.vm.calls import (
    CallResult,
    ContractCall,
    ContractHost,
    Job,
    JobResult,
    RootStorage,
    StorageReader,
    TreeWrites,
    WallTimeout,
    WorkerFault,
    WriteSet,
    call_parser,
    parse_result,
)
from ccoin.vm.compile_cache import CACHE_BYTES, CACHE_ENTRIES, CompileCache, CompiledSource

__all__ = [
    "CACHE_BYTES",
    "CACHE_ENTRIES",
    "CallResult",
    "CompileCache",
    "CompiledSource",
    "ContractCall",
    "ContractHost",
    "Job",
    "JobResult",
    "RootStorage",
    "SandboxRunner",
    "StorageReader",
    "TreeWrites",
    "WallTimeout",
    "WorkerFault",
    "WriteSet",
]

Result = TypeVar("Result")

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY = 512 * 1024 * 1024
STARTUP_TIMEOUT = 20.0
EXIT_GRACE = 2.0
UNCHECKED_EXITS = 2
"""Children whose exit a call may leave unchecked (see `_Zygote._check_finished`)."""
MAX_ADDRESS_TEXT = 64


def _no_storage(key: bytes) -> bytes | None:
    return None


_EMPTY = RootStorage(_no_storage)  # a call that reads nothing and calls nobody


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
        self.contracts.clear()  # the same set: the result's parser holds it
        self.contracts.add(self.root)
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

    def __init__(
        self, memory: int, cpu_seconds: int, max_frame: int, unchecked_exits: int, hash_seed: int
    ) -> None:
        env = {"PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": _python_path()}
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
                [*argv, str(memory), str(cpu_seconds), str(hash_seed)],
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
            raise WallTimeout(f"call exceeded the wall timeout of {timeout} s") from None
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
        hash_seed: int = 0,
    ) -> None:
        """`hash_seed`: the workers' PYTHONHASHSEED (0 on every node; another only for the
        tests that show results do not depend on it)."""
        self.hash_seed = hash_seed
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.max_frame = max_frame
        self.compile_cache = CompileCache() if compile_cache is None else compile_cache
        self.unchecked_exits = unchecked_exits
        self.faults = 0
        self._zygote: _Zygote | None = None
        self._lock = threading.Lock()

    def run(self, job: Job, storage_get: StorageReader = _no_storage) -> JobResult:
        """Run `job`; a worker fault is retried once on a fresh worker (a wall timeout is
        not: it would only cost the timeout again), then raised."""
        session = _Session(RootStorage(storage_get), "", self.compile_cache)
        return self._run(job.to_frame(), parse_result, session)

    def call(self, call: ContractCall, host: ContractHost = _EMPTY) -> CallResult:
        """Run a contract call and whatever it calls; a worker fault is retried once on a
        fresh worker, then raised. `host` serves the storage of the contracts in the call
        (their own keys, un-namespaced) and the contracts it calls (`RootStorage` serves
        one contract's storage and no other contract).

        The contract is compiled here, once per source (`CompileCache`); a source the
        compiler rejects is a result (gas 0) without starting a child."""
        compiled = self._compile(call.source)
        if compiled.code is None:
            assert compiled.error is not None
            return CallResult(ok=False, gas_used=0, error=compiled.error)
        frame = call.to_frame(compiled.code, compiled.exports)
        session = _Session(host, call.context.contract, self.compile_cache)
        return self._run(frame, call_parser(call.gas_limit, session.contracts), session)

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
            except WallTimeout:
                self.faults += 1
                raise
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
                self.memory_limit, cpu_seconds, self.max_frame, self.unchecked_exits, self.hash_seed
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
