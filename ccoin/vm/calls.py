"""What crosses between the node and a sandboxed call: the requests (`Job`, `ContractCall`),
the results (`JobResult`, `CallResult`), the node's side of a call's reads (`ContractHost`)
and the checks every result frame passes before the node believes it (`parse_result`,
`call_parser`): a malformed frame, or one naming a contract outside the call, is a
`WorkerFault`, never a result.

May import: `ccoin.vm.api`. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ccoin.vm.api import CallContext, decode_value, encode_value

StorageReader = Callable[[bytes], bytes | None]
WriteSet = tuple[tuple[bytes, bytes | None], ...]
TreeWrites = tuple[tuple[str, bytes, bytes | None], ...]  # (contract, key, value)


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


class WallTimeout(WorkerFault):
    """The call overran the sandbox's wall timeout (not retried: it would cost as much)."""


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


def parse_result(frame: dict[str, Any]) -> JobResult:
    if frame.get("ok") is False:
        error = frame.get("error")
        if type(error) is not str or "writes" in frame:
            raise WorkerFault("malformed error result")
        return JobResult(ok=False, error=error)
    if frame.get("ok") is not True:
        raise WorkerFault("malformed result")
    return JobResult(ok=True, value=frame.get("value"), writes=_parse_writes(frame.get("writes")))


def call_parser(gas_limit: int, contracts: set[str]) -> Callable[[dict[str, Any]], CallResult]:
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
            events = _parse_events(frame.get("events"), contracts)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise WorkerFault(f"malformed call result: {exc}") from None
        return CallResult(
            ok=True,
            gas_used=gas_used,
            value=value,
            writes=_parse_tree_writes(frame.get("writes"), contracts),
            events=events,
            transfers=_parse_transfers(frame.get("transfers"), contracts),
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
