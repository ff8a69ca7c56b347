"""The node's side of the sandbox: `SandboxRunner` runs jobs in seccomp-confined children.

One fork server ("zygote", `ccoin.vm.worker`) is started per runner from a clean
interpreter; it forks a fresh child for every call, so no call can see another call's
state (a reset namespace in a reused process would not do: with a hole in the linter a job
could change ``builtins``, module globals or interpreter caches for the next one). Forking
a pre-imported single-threaded zygote costs about a millisecond; the node process itself is
never forked (it has threads, keys and open databases).

A child that dies, is killed by seccomp, overruns the wall timeout, runs out of address
space or sends a malformed frame is the node's fault, never the contract's: the runner
throws the zygote away, retries once on a fresh one, then raises `WorkerFault`. A job's
own exception is a `JobResult` with ``ok=False`` and no writes. The runner applies
nothing: the write set goes back to the caller.

`SandboxRunner.call` runs a `ContractCall`: the child compiles the contract and runs one
exported function under a gas meter; the `CallResult` carries the gas used, and on success
the return value, write set, events and transfers. Out of gas, call depth, lint rejection
and every exception the contract or runtime raises are results (``ok=False``, gas used, no
writes), the same on every node; everything else is a `WorkerFault`.

Synchronous by design: the node calls `run` from a worker thread. One call at a time per
runner (a lock); run several runners for parallelism.

May import: `ccoin.errors`, `ccoin.vm.ipc`, `ccoin.vm.api`. No trio, no storage.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from ccoin.vm import ipc
from ccoin.vm.api import CallContext, decode_value, encode_value

StorageReader = Callable[[bytes], bytes | None]
WriteSet = tuple[tuple[bytes, bytes | None], ...]
Result = TypeVar("Result")

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY = 512 * 1024 * 1024
STARTUP_TIMEOUT = 20.0
EXIT_GRACE = 2.0


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

    def to_frame(self) -> dict[str, Any]:
        return {
            "t": "call",
            "source": self.source,
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
    writes: WriteSet = field(default=())
    events: tuple[tuple[str, dict[str, Any]], ...] = field(default=())
    transfers: tuple[tuple[str, int], ...] = field(default=())


def _no_storage(key: bytes) -> bytes | None:
    return None


def _python_path() -> str:
    """Directories the worker needs: this package's root and its dependencies'."""
    import msgpack
    import pyseccomp

    roots = [Path(__file__).resolve().parents[2]]
    roots += [Path(msgpack.__file__).resolve().parents[1], Path(pyseccomp.__file__).parent]
    return os.pathsep.join(dict.fromkeys(str(root) for root in roots))


class _Zygote:
    """One fork-server process and the pipes to it."""

    def __init__(self, memory: int, cpu_seconds: int, max_frame: int) -> None:
        env = {"PYTHONHASHSEED": "0", "PYTHONPATH": _python_path()}
        argv = [sys.executable, "-S", "-s", "-P", "-B", "-m", "ccoin.vm.worker"]
        self.max_frame = max_frame
        self.child_pid: int | None = None
        self.process = subprocess.Popen(
            [*argv, str(memory), str(cpu_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_fd = self.process.stdin.fileno()
        self.from_fd = self.process.stdout.fileno()
        try:
            ready = self.read(time.monotonic() + STARTUP_TIMEOUT)
        except (ipc.FrameError, WorkerFault) as exc:
            self.discard()
            raise WorkerFault(f"worker did not start: {exc}") from None
        if ready["t"] != "ready":
            self.discard()
            raise WorkerFault("worker did not start: unexpected first frame")

    def read(self, deadline: float) -> dict[str, Any]:
        return ipc.read_frame(self.from_fd, max_size=self.max_frame, deadline=deadline)

    def write(self, message: dict[str, Any]) -> None:
        try:
            ipc.write_frame(self.to_fd, message, max_size=self.max_frame)
        except OSError as exc:
            raise WorkerFault(f"pipe to worker broken: {exc}") from None

    def call(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        storage_get: StorageReader,
        timeout: float,
    ) -> Result:
        deadline = time.monotonic() + timeout
        self.write(frame)
        try:
            reply = self._serve_child(storage_get, deadline)
        except ipc.FrameTimeout:
            raise WorkerFault(f"call exceeded the wall timeout of {timeout} s") from None
        except ipc.FrameError as exc:
            raise WorkerFault(f"bad frame from worker: {exc}") from None
        result = parse(reply)
        self._expect_clean_exit(time.monotonic() + EXIT_GRACE)
        return result

    def _serve_child(self, storage_get: StorageReader, deadline: float) -> dict[str, Any]:
        """Answer the child's storage reads until it sends its reply frame."""
        while True:
            frame = self.read(deadline)
            kind = frame["t"]
            if kind == "pid" and self.child_pid is None and type(frame.get("pid")) is int:
                self.child_pid = frame["pid"]
            elif kind == "get" and self.child_pid is not None:
                key = frame.get("key")
                if type(key) is not bytes:
                    raise WorkerFault("storage read without a bytes key")
                self.write({"t": "value", "value": storage_get(key)})
            elif kind == "result" and self.child_pid is not None:
                return frame
            elif kind == "fault":
                raise WorkerFault(f"worker reported: {frame.get('reason')!r}")
            elif kind == "exit":
                self.child_pid = None
                raise WorkerFault(f"worker died: {_describe(frame.get('status'))}")
            else:
                raise WorkerFault(f"unexpected {kind!r} frame from worker")

    def _expect_clean_exit(self, deadline: float) -> None:
        try:
            frame = self.read(deadline)
        except ipc.FrameError as exc:
            raise WorkerFault(f"no exit report after the result: {exc}") from None
        if frame["t"] != "exit":
            raise WorkerFault(f"unexpected {frame['t']!r} frame after the result")
        self.child_pid = None
        if frame.get("status") != 0:
            raise WorkerFault(f"worker died after its result: {_describe(frame.get('status'))}")

    def discard(self) -> None:
        """Kill the running child (if any), then let the zygote reap it and exit on EOF."""
        if self.child_pid is not None:
            # The zygote reaps only after the child ends, so the pid cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child_pid, signal.SIGKILL)
            self.child_pid = None
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
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


def _call_parser(gas_limit: int) -> Callable[[dict[str, Any]], CallResult]:
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
            events = _parse_events(frame.get("events"))
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise WorkerFault(f"malformed call result: {exc}") from None
        return CallResult(
            ok=True,
            gas_used=gas_used,
            value=value,
            writes=_parse_writes(frame.get("writes")),
            events=events,
            transfers=_parse_transfers(frame.get("transfers")),
        )

    return parse


def _parse_events(events: object) -> tuple[tuple[str, dict[str, Any]], ...]:
    if type(events) is not list:
        raise ValueError("events")
    parsed: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        if type(event) is not list or len(event) != 2 or type(event[0]) is not str:
            raise ValueError("events")
        if type(event[1]) is not bytes:
            raise ValueError("events")
        try:
            fields = decode_value(event[1])
        except Exception:  # msgpack raises several unrelated types for bad input
            raise ValueError("event fields") from None
        if type(fields) is not dict:
            raise ValueError("event fields")
        parsed.append((event[0], fields))
    return tuple(parsed)


def _parse_transfers(transfers: object) -> tuple[tuple[str, int], ...]:
    if type(transfers) is not list:
        raise WorkerFault("malformed transfers")
    parsed: list[tuple[str, int]] = []
    for item in transfers:
        if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
            raise WorkerFault("malformed transfers")
        if type(item[1]) is not int or item[1] <= 0:
            raise WorkerFault("malformed transfers")
        parsed.append((item[0], item[1]))
    return tuple(parsed)


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
    ) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.max_frame = max_frame
        self.faults = 0
        self._zygote: _Zygote | None = None
        self._lock = threading.Lock()

    def run(self, job: Job, storage_get: StorageReader = _no_storage) -> JobResult:
        """Run `job`; a worker fault is retried once on a fresh worker, then raised."""
        return self._run(job.to_frame(), _parse_result, storage_get)

    def call(self, call: ContractCall, storage_get: StorageReader = _no_storage) -> CallResult:
        """Run a contract call (storage keys are the contract's own, un-namespaced); a
        worker fault is retried once on a fresh worker, then raised."""
        return self._run(call.to_frame(), _call_parser(call.gas_limit), storage_get)

    def _run(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        storage_get: StorageReader,
    ) -> Result:
        with self._lock:
            try:
                return self._run_once(frame, parse, storage_get)
            except WorkerFault:
                self.faults += 1
            try:
                return self._run_once(frame, parse, storage_get)
            except WorkerFault:
                self.faults += 1
                raise

    def _run_once(
        self,
        frame: dict[str, Any],
        parse: Callable[[dict[str, Any]], Result],
        storage_get: StorageReader,
    ) -> Result:
        if self._zygote is None:
            cpu_seconds = int(self.timeout) + 1  # a backstop; the wall timeout acts first
            self._zygote = _Zygote(self.memory_limit, cpu_seconds, self.max_frame)
        try:
            return self._zygote.call(frame, parse, storage_get, self.timeout)
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
