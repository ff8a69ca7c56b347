"""One transaction's contract calls: the call tree across the contracts it reaches.

A call transaction runs one contract; that contract may call others
(`call_contract(address, function, *args)`), to a depth of `MAX_CONTRACT_DEPTH`. All of it
runs in one sandbox child, under one gas meter and one Python call-depth counter, and
produces one write set. `CallTree` keeps what the whole tree did, keyed by contract:

- storage reads and writes (each contract sees only its own keys);
- events, tagged with the contract that emitted them;
- C sent (`coins.send`), tagged with the contract it came from; each contract's balance is
  tracked as the call goes, so a contract can never send more than it holds, and C sent to
  a contract in the tree is in its balance at once.

A nested call that fails (any exception of its own, not out of gas) is undone entirely
(its writes, events and transfers) and surfaces in the caller as a `ContractError`, which
the caller may catch; out of gas and the depth limits end the whole transaction.
Arguments and return values cross between contracts as copies (encoded and decoded,
charged by size), so no object is shared between two contracts.

The `Backend` is what the tree reads: storage by (contract, key) and a contract's code and
balance at the start of the transaction. The sandbox child implements it over its pipe;
tests use a dict (`ccoin.testing.vm.FakeChain`). Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ccoin.vm import gas
from ccoin.vm.api import (
    MAX_ADDRESS_TEXT,
    CallContext,
    ContractError,
    charged_encode,
    decode_value,
    encode_result,
    overdraft,
)
from ccoin.vm.failures import VmTypeError, VmValueError, describe
from ccoin.vm.gas import Meter, VmAbort
from ccoin.vm.instrument import CompiledContract
from ccoin.vm.runtime import Frames

MAX_CONTRACT_DEPTH = 8  # contracts on the stack at once, the transaction's own included
MAX_KEY = 1024
MAX_VALUE = 64 * 1024


@dataclass(frozen=True)
class LoadedContract:
    """What a backend gives for a contract: compiled, its source's size in bytes (the
    load's gas) and its C balance before the transaction."""

    compiled: CompiledContract
    size: int
    balance: int


class Backend(Protocol):
    def read(self, contract: str, key: bytes) -> bytes | None: ...

    def load(self, contract: str) -> LoadedContract | None:
        """The contract at `contract`, or None when there is none (any string may be asked:
        it comes from contract code)."""
        ...


@dataclass(frozen=True)
class TreeResult:
    """What the whole tree did, for the node to apply (on success only)."""

    writes: tuple[tuple[str, bytes, bytes | None], ...]  # sorted by (contract, key)
    events: tuple[tuple[str, str, bytes], ...]  # (contract, name, encoded fields), in order
    transfers: tuple[tuple[str, str, int], ...]  # (from contract, to, amount), in order


class CallTree:
    def __init__(self, backend: Backend, meter: Meter, ctx: CallContext) -> None:
        self.backend = backend
        self.meter = meter
        self.root_context = ctx
        self.frames = Frames()  # Python-level depth, shared by every contract in the tree
        self.depth = 1
        self.writes: dict[tuple[str, bytes], bytes | None] = {}
        self.reads: dict[tuple[str, bytes], bytes | None] = {}
        self.events: list[tuple[str, str, bytes]] = []
        self.transfers: list[tuple[str, str, int]] = []
        self.balances: dict[str, int] = {ctx.contract: ctx.balance}
        self.loaded: dict[str, LoadedContract | None] = {}

    def root(self) -> ContractFrame:
        return ContractFrame(self, self.root_context)

    def result(self) -> TreeResult:
        return TreeResult(
            tuple((c, k, self.writes[(c, k)]) for c, k in sorted(self.writes)),
            tuple(self.events),
            tuple(self.transfers),
        )

    # -- what one frame does --------------------------------------------------------------

    def get(self, contract: str, key: bytes) -> bytes | None:
        _check_bytes(key, "key", MAX_KEY)
        slot = (contract, key)
        if slot in self.writes:
            return self.writes[slot]
        if slot not in self.reads:
            self.reads[slot] = self.backend.read(contract, key)
        return self.reads[slot]

    def set(self, contract: str, key: bytes, value: bytes | None) -> None:
        _check_bytes(key, "key", MAX_KEY)
        if value is not None:
            _check_bytes(value, "value", MAX_VALUE)
        self.writes[(contract, key)] = value

    def emit(self, contract: str, name: str, fields: bytes) -> None:
        if type(name) is not str or type(fields) is not bytes:
            raise VmTypeError("an event is a name (str) and encoded fields")
        self.events.append((contract, name, fields))

    def send(self, contract: str, to: str, amount: int) -> None:
        if type(to) is not str:
            raise VmTypeError("the recipient must be an address (str)")
        held = self.balances[contract]
        if amount > held:
            raise overdraft(amount, held)
        self.balances[contract] = held - amount
        if to in self.balances:
            self.balances[to] += amount
        self.transfers.append((contract, to, amount))

    def call(self, caller: CallContext, target: str, function: str, args: Sequence[Any]) -> Any:
        schedule = self.meter.schedule
        self.meter.charge(schedule["call"] + schedule["storage_read"])
        if type(target) is not str or type(function) is not str:
            raise VmTypeError("call_contract(address, function, *args): address and name are str")
        if len(target) > MAX_ADDRESS_TEXT:
            raise ContractError("no contract at that address")
        if self.depth >= MAX_CONTRACT_DEPTH:
            raise ContractError(f"contract calls nested deeper than {MAX_CONTRACT_DEPTH}")
        loaded = self._load(target)
        if target not in self.balances:  # C sent to it earlier in this call is its already
            incoming = sum(amount for _from, to, amount in self.transfers if to == target)
            self.balances[target] = loaded.balance + incoming
        sent = self._copy(list(args))
        self.meter.charge(schedule["per_item"] * len(self.writes))  # the undo copy below
        mark = (dict(self.writes), len(self.events), len(self.transfers), dict(self.balances))
        ctx = replace(
            caller, sender=caller.contract, contract=target, value=0, balance=self.balances[target]
        )
        self.depth += 1
        try:
            frame = ContractFrame(self, ctx)
            instance = loaded.compiled.instantiate(self.meter, frame, self.frames)
            return self._copy(instance.call(function, sent))
        except (MemoryError, RecursionError):
            raise  # the machine's, not the contract's: a fault
        except Exception as exc:
            self.writes, events, transfers, self.balances = mark
            del self.events[events:], self.transfers[transfers:]
            raise ContractError(f"{target}.{function[:64]} failed: {describe(exc)}") from None
        finally:
            self.depth -= 1

    def _load(self, target: str) -> LoadedContract:
        if target not in self.loaded:
            found = self.loaded[target] = self.backend.load(target)
            if found is not None:
                self.meter.charge(self.meter.schedule["storage_read_per_byte"] * found.size)
        entry = self.loaded[target]
        if entry is None:
            raise ContractError(f"no contract at {target!r}")  # at most MAX_ADDRESS_TEXT
        return entry

    def _copy(self, value: Any) -> Any:
        data = charged_encode(self.meter, value)
        self.meter.charge(gas.scan_cost(self.meter.schedule, gas.byte_words(len(data))))
        return decode_value(data)


class ContractFrame:
    """`ContractApi` for one contract on the tree's stack."""

    def __init__(self, tree: CallTree, ctx: CallContext) -> None:
        self.tree = tree
        self._ctx = ctx

    @property
    def ctx(self) -> CallContext:
        return self._ctx

    def storage_get(self, key: bytes) -> bytes | None:
        return self.tree.get(self._ctx.contract, key)

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        self.tree.set(self._ctx.contract, key, value)

    def emit(self, name: str, fields: bytes) -> None:
        self.tree.emit(self._ctx.contract, name, fields)

    def transfer(self, to: str, amount: int) -> None:
        self.tree.send(self._ctx.contract, to, amount)

    def balance(self) -> int:
        return self.tree.balances[self._ctx.contract]

    def call(self, contract: str, function: str, args: list[Any]) -> Any:
        return self.tree.call(self._ctx, contract, function, args)


def _check_bytes(value: object, name: str, limit: int) -> None:
    if type(value) is not bytes:
        raise VmTypeError(f"storage {name} must be bytes")
    if len(value) > limit:
        raise VmValueError(f"storage {name} longer than {limit} bytes")


@dataclass(frozen=True)
class TreeOutcome:
    """A transaction's call, whole: on failure no `tree` (nothing to apply). `encoded` is
    the return value as the receipt holds it; `value` is that, decoded (tuples as lists)."""

    ok: bool
    gas_used: int
    value: Any = None
    error: str | None = None
    tree: TreeResult | None = None
    encoded: bytes = b"\xc0"  # msgpack nil


def run_call(
    backend: Backend,
    contract: CompiledContract,
    function: str,
    args: Sequence[Any],
    gas_limit: int,
    ctx: CallContext,
) -> TreeOutcome:
    """Run one transaction's call (and whatever it calls). The contract's own failures are
    outcomes; MemoryError and RecursionError (the machine's) propagate."""
    meter = Meter(gas_limit)
    tree = CallTree(backend, meter, ctx)
    try:
        value = contract.instantiate(meter, tree.root(), tree.frames).call(function, args)
        encoded = encode_result(meter, value)
    except (MemoryError, RecursionError):
        raise
    except (Exception, VmAbort) as exc:
        return TreeOutcome(False, meter.used, error=describe(exc))
    return TreeOutcome(
        True, meter.used, value=decode_value(encoded), tree=tree.result(), encoded=encoded
    )
