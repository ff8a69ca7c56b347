"""The contract API: what a contract sees of the chain, and the protocol the node fills.

`ContractApi` is the boundary: storage get/set of raw bytes (already namespaced to the
contract by whoever implements it), the call context, events, transfers and calls to
other contracts. The sandbox worker implements it over its pipe; tests use the in-memory
fake in `ccoin.testing.vm`. Everything here charges gas *before* asking the API, so the
API implementation never has to know about gas.

Storage layout inside a contract's namespace::

    b"v/" + name                      a Var
    b"m/" + name + b"/" + encode(key)  one entry of a Map

Values are msgpack (`encode_value`); ints beyond 64 bits and Decimals are ext types 1
and 2; tuples come back as lists. A value is charged by its deep size before it is encoded
(`charged_encode`), so sharing cannot make encoding cost more than it was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import msgpack

from ccoin.vm import gas
from ccoin.vm.failures import ContractError, VmKeyError, VmTypeError, VmValueError
from ccoin.vm.gas import Meter
from ccoin.vm.values import (
    DECIMAL_CONTEXT,
    MAX_DECIMAL_TEXT,
    MAX_INT_BITS,
    byte_words,
)

__all__ = ["ContractError"]

EXT_BIG_INT = 1
EXT_DECIMAL = 2
_MISSING = object()
MAX_ADDRESS_TEXT = 64
"""No address is longer; a longer recipient or callee is refused before it goes anywhere."""


@dataclass(frozen=True, slots=True)
class CallContext:
    """`ctx` inside a contract. All fields come from the transaction and the block.

    `value` is the C (base units) the call transaction attached; it is already in the
    contract's balance, which was `balance` when the call started."""

    sender: str
    contract: str
    height: int
    timestamp: int
    tx_id: str
    value: int = 0
    balance: int = 0


class ContractApi(Protocol):
    @property
    def ctx(self) -> CallContext: ...

    def storage_get(self, key: bytes) -> bytes | None: ...

    def storage_set(self, key: bytes, value: bytes | None) -> None: ...

    def emit(self, name: str, fields: bytes) -> None:
        """An event: its name and its fields as `encode_value` bytes (already charged)."""
        ...

    def transfer(self, to: str, amount: int) -> None: ...

    def balance(self) -> int: ...

    def call(self, contract: str, function: str, args: list[Any]) -> Any: ...


class ApiObject:
    """Marker: contracts may read the attributes and call the methods named in `PUBLIC`."""

    __slots__ = ()
    PUBLIC: frozenset[str] = frozenset()


def _ext(value: object) -> msgpack.ExtType:
    if type(value) is int:
        length = (value.bit_length() + 8) // 8
        return msgpack.ExtType(EXT_BIG_INT, value.to_bytes(length, "big", signed=True))
    if type(value) is Decimal:
        return msgpack.ExtType(EXT_DECIMAL, str(value).encode())
    raise VmTypeError(f"{type(value).__name__} cannot be stored")


def _ext_hook(code: int, data: bytes) -> object:
    if code == EXT_BIG_INT:
        if len(data) * 8 > MAX_INT_BITS + 8:
            raise VmValueError(f"stored int of more than {MAX_INT_BITS} bits")
        return int.from_bytes(data, "big", signed=True)
    if code == EXT_DECIMAL:
        if len(data) > MAX_DECIMAL_TEXT:
            raise VmValueError("stored Decimal text too long")
        return DECIMAL_CONTEXT.create_decimal(data.decode())
    raise VmValueError(f"unknown ext type {code}")


def encode_value(value: object) -> bytes:
    """Deterministic bytes for a storable value (None, bool, int, str, bytes, Decimal,
    lists/tuples/dicts of those)."""
    packed: bytes = msgpack.packb(value, use_bin_type=True, default=_ext, strict_types=True)
    return packed


def decode_value(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, ext_hook=_ext_hook, strict_map_key=False)


MAX_RETURN = 64 * 1024
"""A call's return value, encoded, is at most this long (it goes into the receipt)."""


def encode_result(meter: Meter, value: object) -> bytes:
    """A call's return value as the receipt holds it: charged, encoded, at most
    `MAX_RETURN` bytes (`ValueError` beyond)."""
    encoded = charged_encode(meter, value)
    if len(encoded) > MAX_RETURN:
        raise VmValueError(f"a return value of more than {MAX_RETURN} bytes")
    return encoded


def charged_encode(meter: Meter, value: object) -> bytes:
    """`encode_value(value)`, charged `per_byte_word` per deep unit before encoding (a unit
    encodes to at most about 9 bytes, so the bytes made are bounded by the gas paid)."""
    gas.charge_deep(meter, value, base="builtin", rate="per_byte_word")
    return encode_value(value)


class Storage:
    """Gas-charged access to the API's storage."""

    __slots__ = ("api", "meter")

    def __init__(self, meter: Meter, api: ContractApi) -> None:
        self.meter = meter
        self.api = api

    def read(self, key: bytes) -> Any:
        schedule = self.meter.schedule
        self.meter.charge(gas.storage_read_cost(schedule, key, None))
        data = self.api.storage_get(key)
        if data is None:
            return _MISSING
        self.meter.charge(schedule["storage_read_per_byte"] * len(data))
        return decode_value(data)

    def write(self, key: bytes, value: Any) -> None:
        data = None if value is _MISSING else charged_encode(self.meter, value)
        self.meter.charge(gas.storage_write_cost(self.meter.schedule, key, data))
        self.api.storage_set(key, data)


class Var(ApiObject):
    """One persistent value: `total = Var(0)` then `total.get()` / `total.set(v)`."""

    __slots__ = ("default", "key", "storage")
    PUBLIC = frozenset({"get", "set"})

    def __init__(self, storage: Storage, name: str, default: Any = None) -> None:
        self.storage = storage
        self.key = b"v/" + name.encode()
        self.default = default

    def get(self) -> Any:
        value = self.storage.read(self.key)
        return self.default if value is _MISSING else value

    def set(self, value: Any) -> None:
        self.storage.write(self.key, value)


class Map(ApiObject):
    """A persistent mapping: `balances = Map(0)`; a missing key reads as the default
    (or raises KeyError when the Map has none). Values read are copies: write them back."""

    __slots__ = ("default", "prefix", "storage")
    PUBLIC = frozenset({"get"})

    def __init__(self, storage: Storage, name: str, default: Any = _MISSING) -> None:
        self.storage = storage
        self.prefix = b"m/" + name.encode() + b"/"
        self.default = default

    def _key(self, key: Any) -> bytes:
        if type(key) not in (str, int, bytes, bool, tuple):
            raise VmTypeError("Map keys are str, int, bytes, bool or tuples of those")
        return self.prefix + charged_encode(self.storage.meter, key)

    def __getitem__(self, key: Any) -> Any:
        encoded = self._key(key)
        value = self.storage.read(encoded)
        if value is _MISSING:
            if self.default is _MISSING:
                raise VmKeyError(repr(key)[:80])  # a key of at most 1 KiB, encoded
            return self.default
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self.storage.read(self._key(key))
        return default if value is _MISSING else value

    def __setitem__(self, key: Any, value: Any) -> None:
        self.storage.write(self._key(key), value)

    def __delitem__(self, key: Any) -> None:
        self.storage.write(self._key(key), _MISSING)

    def __contains__(self, key: Any) -> bool:
        return self.storage.read(self._key(key)) is not _MISSING


class ContextView(ApiObject):
    """`ctx` as contracts see it (read-only attributes)."""

    __slots__ = ("contract", "height", "sender", "timestamp", "tx_id", "value")
    PUBLIC = frozenset(__slots__)

    def __init__(self, ctx: CallContext) -> None:
        self.sender = ctx.sender
        self.contract = ctx.contract
        self.height = ctx.height
        self.timestamp = ctx.timestamp
        self.tx_id = ctx.tx_id
        self.value = ctx.value


class Coins(ApiObject):
    """`coins` inside a contract: its own C. `coins.send(to, amount)` pays from the
    contract's balance (applied when the call succeeds); `coins.balance()` is what it holds
    now. (An object rather than two globals, so an export named `transfer` or `balance`,
    natural for a token, neither hides nor is hidden by them.)"""

    __slots__ = ("api", "meter")
    PUBLIC = frozenset({"send", "balance"})

    def __init__(self, meter: Meter, api: ContractApi) -> None:
        self.meter = meter
        self.api = api

    def send(self, to: str, amount: int) -> None:
        schedule = self.meter.schedule
        self.meter.charge(schedule["transfer"])
        if type(amount) is not int or amount <= 0:
            raise VmValueError("amount must be a positive int")
        if type(to) is not str:
            raise VmTypeError("the recipient must be an address (str)")
        self.meter.charge(schedule["per_byte_word"] * byte_words(len(to)))
        self.api.transfer(to[: MAX_ADDRESS_TEXT + 1], amount)  # longer: invalid either way

    def balance(self) -> int:
        self.meter.charge(self.meter.schedule["builtin"])
        return self.api.balance()


def overdraft(amount: int, held: int) -> ContractError:
    """The one refusal of a transfer beyond what a contract holds (every API gives it)."""
    return ContractError(f"transfer of {amount}: the contract holds {held}")


class ContractBalance:
    """One contract's C balance as the call goes: the start balance less what it sent (the
    single-contract fake's; `ccoin.vm.host.CallTree` tracks every contract in a call)."""

    __slots__ = ("amount",)

    def __init__(self, amount: int) -> None:
        self.amount = amount

    def spend(self, amount: int) -> None:
        if amount > self.amount:
            raise overdraft(amount, self.amount)
        self.amount -= amount
