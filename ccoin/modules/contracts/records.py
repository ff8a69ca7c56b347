"""Contract state records: the deployed contract and the receipt of a deploy or call.

ContractRecord layout: [owner address raw, name, code, version, deployedHeight, codeHash]
Receipt layout: [ok, gasLimit, gasUsed, errorCode | nil, error | nil, value | nil,
                 [[contract, event name, fields], ...], [[from contract, recipient,
                 amount], ...], contract raw]   (contracts as addresses: a call may reach
                 others)

Both live in state tables (0x15, 0x1e), so the stateRoot pins them: two nodes that charge
different gas or reach a different outcome disagree on the header. `value` and each event's
`fields` are the contract's own msgpack (`ccoin.vm.api.encode_value`). Their JSON form
(`Receipt.to_json`: `stored_value`, then `contract_value_json`) is total: every receipt
the node ever stored has one, whatever it holds (`docs/spec/rpc.md`, section 1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgpack

from ccoin.crypto.address import ADDRESS_RAW_LEN, address_from_raw
from ccoin.errors import ErrorCode
from ccoin.types.codec import (
    MAX_BIGINT,
    field_bytes,
    field_int,
    field_list,
    field_str,
    packb,
    unpack_canonical,
)

_CODE_NAMES = {code.number: code.name for code in ErrorCode}
# A receipt holds what one result frame carried (at most 4 MiB, `ccoin.vm.ipc.MAX_FRAME`)
# and little else, so this bound never refuses a receipt the node wrote.
MAX_RECEIPT_BYTES = 5 * 1024 * 1024
MAX_CONTRACT_RECORD_BYTES = 80 * 1024


@dataclass(frozen=True)
class ContractRecord:
    owner: bytes  # address raw of the account that deployed it (may be multisignature)
    name: str
    code: str
    version: int
    deployed_height: int

    @property
    def code_hash(self) -> bytes:
        return hashlib.sha256(self.code.encode("utf-8")).digest()

    def encode(self) -> bytes:
        return packb(
            [
                self.owner,
                self.name,
                self.code,
                self.version,
                self.deployed_height,
                self.code_hash,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> ContractRecord:
        arr = unpack_canonical(data, max_size=MAX_CONTRACT_RECORD_BYTES, what="contract record")
        owner, name, code, version, height, _code_hash = field_list(arr, "contract", size=6)
        return cls(
            field_bytes(owner, "contract.owner", size=ADDRESS_RAW_LEN),
            field_str(name, "contract.name", max_len=64),
            field_str(code, "contract.code", max_len=MAX_CONTRACT_RECORD_BYTES),
            field_int(version, "contract.version", 1),
            field_int(height, "contract.deployedHeight", 0),
        )

    def to_json(self, address: str) -> dict[str, Any]:
        return {
            "address": address,
            "owner": address_from_raw(self.owner),
            "name": self.name,
            "version": self.version,
            "deployedHeight": self.deployed_height,
            "codeHash": self.code_hash.hex(),
            "code": self.code,
        }


@dataclass(frozen=True)
class Receipt:
    """What a type 5 or 8 transaction did. On failure: the error and no events or
    transfers (its writes were never applied); the fee was paid all the same."""

    ok: bool
    gas_limit: int
    gas_used: int
    contract: bytes  # address raw called, or deployed / upgraded
    error_code: int | None = None
    error: str | None = None
    value: bytes | None = None
    events: tuple[tuple[str, str, bytes], ...] = ()  # (contract, name, fields)
    transfers: tuple[tuple[str, str, int], ...] = ()  # (from contract, to, amount)

    def encode(self) -> bytes:
        return packb(
            [
                self.ok,
                self.gas_limit,
                self.gas_used,
                self.error_code,
                self.error,
                self.value,
                [list(event) for event in self.events],
                [list(transfer) for transfer in self.transfers],
                self.contract,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> Receipt:
        arr = unpack_canonical(data, max_size=MAX_RECEIPT_BYTES, what="receipt")
        ok, limit, used, code, error, value, events, transfers, contract = field_list(
            arr, "receipt", size=9
        )
        if type(ok) is not bool:
            raise TypeError("receipt.ok")
        return cls(
            ok=ok,
            gas_limit=field_int(limit, "receipt.gasLimit", 0),
            gas_used=field_int(used, "receipt.gasUsed", 0),
            contract=field_bytes(contract, "receipt.contract", size=ADDRESS_RAW_LEN),
            error_code=None if code is None else field_int(code, "receipt.errorCode", 0),
            error=None if error is None else field_str(error, "receipt.error", max_len=4096),
            value=None if value is None else field_bytes(value, "receipt.value"),
            events=tuple(
                (
                    field_str(e[0], "event.contract", max_len=21),
                    field_str(e[1], "event.name", max_len=256),
                    field_bytes(e[2], "event.fields"),
                )
                for e in field_list(events, "receipt.events")
            ),
            transfers=tuple(
                (
                    field_str(t[0], "transfer.from", max_len=21),
                    field_str(t[1], "transfer.to", max_len=21),
                    field_int(t[2], "amount", 1, MAX_BIGINT),
                )
                for t in field_list(transfers, "receipt.transfers")
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "contract": address_from_raw(self.contract),
            "gasLimit": self.gas_limit,
            "gasUsed": self.gas_used,
            "errorCode": self.error_code,
            "errorName": None if self.error_code is None else _CODE_NAMES.get(self.error_code),
            "error": self.error,
            "value": None if self.value is None else contract_value_json(stored_value(self.value)),
            "events": [
                {"contract": c, "name": name, "fields": contract_value_json(stored_value(fields))}
                for c, name, fields in self.events
            ],
            "transfers": [
                {"from": source, "recipientId": to, "amount": str(n)}
                for source, to, n in self.transfers
            ],
        }


# The contract encoding's ext types (`ccoin.vm.api.EXT_BIG_INT`, `EXT_DECIMAL`).
EXT_BIG_INT = 1
EXT_DECIMAL = 2


def stored_value(data: bytes) -> Any:
    """A receipt's value or event fields as the contract encoding wrote them
    (`ccoin.vm.api.encode_value`), read without the runtime's limits on what a contract may
    make now: a receipt written under an earlier gas schedule keeps its JSON form. Linear in
    the size (at most `MAX_RECEIPT_BYTES`)."""
    return msgpack.unpackb(data, raw=False, ext_hook=_stored_ext, strict_map_key=False)


def _stored_ext(code: int, data: bytes) -> object:
    if code == EXT_BIG_INT:
        return int.from_bytes(data, "big", signed=True)
    if code == EXT_DECIMAL:
        return Decimal(data.decode())
    raise ValueError(f"unknown ext type {code} in a contract value")


# Integers a JSON number carries exactly in every parser (an IEEE double's, JavaScript's
# Number.MAX_SAFE_INTEGER); beyond them a string of decimal digits.
MAX_SAFE_JSON_INT = 2**53 - 1
# Python's int-to-str is quadratic and refuses more than 4,300 digits by default (CPython's
# `sys.int_info.default_max_str_digits`); beyond that, hex, which is linear.
MAX_DECIMAL_DIGITS = 4300
_DECIMAL_LIMIT = 10**MAX_DECIMAL_DIGITS  # the least int with more than 4,300 digits

_Frame = tuple[list[Any] | dict[str, Any], Iterator[Any]]


def contract_value_json(value: Any) -> Any:
    """A contract value (what the contract encoding decodes to, `stored_value` or
    `ccoin.vm.api.decode_value`: None, bool, int, str, bytes, Decimal, lists, dicts; and
    tuples, which encode as arrays) in JSON, exactly:

    - null, booleans and strings as they are;
    - integers within +-(2**53 - 1) as numbers; beyond, a string of their decimal digits
      ("-" first when negative); with more than 4,300 digits, "int:0x" + hex
      ("int:-0x" + hex when negative);
    - bytes as "0x" + hex, Decimals as their string;
    - lists as arrays; dicts as objects whose keys are converted the same way, then
      written as text (null, true, false, digits; a string as itself).

    Any other type raises TypeError. Iterative: a value may nest as deep as msgpack lets
    it (about 1,000 levels) without touching Python's recursion limit."""
    if type(value) not in _CONTAINERS:
        return _scalar_json(value)
    root = _shell(value)
    stack = [root]
    while stack:
        out, items = stack[-1]
        if isinstance(out, list):
            for item in items:
                if type(item) in _CONTAINERS:  # descend; this list resumes after it
                    frame = _shell(item)
                    out.append(frame[0])
                    stack.append(frame)
                    break
                out.append(_scalar_json(item))
            else:
                stack.pop()
        else:
            for key, item in items:
                if type(item) in _CONTAINERS:
                    frame = _shell(item)
                    out[_key_text(key)] = frame[0]
                    stack.append(frame)
                    break
                out[_key_text(key)] = _scalar_json(item)
            else:
                stack.pop()
    return root[0]


_CONTAINERS = frozenset((list, tuple, dict))


def _shell(value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> _Frame:
    """An empty container, and the items that will fill it."""
    if type(value) is dict:
        fields: dict[str, Any] = {}
        return fields, iter(value.items())
    items: list[Any] = []
    return items, iter(value)


def _scalar_json(value: Any) -> Any:
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if -MAX_SAFE_JSON_INT <= value <= MAX_SAFE_JSON_INT:
            return value
        # Comparing ints looks at their sizes first: no digits are computed here.
        if -_DECIMAL_LIMIT < value < _DECIMAL_LIMIT:
            return str(value)
        return ("int:-0x" if value < 0 else "int:0x") + format(abs(value), "x")
    if kind is bytes:
        return "0x" + value.hex()
    if kind is Decimal:
        return str(value)
    raise TypeError(f"a contract value of type {kind.__name__} has no JSON form")


def _key_text(key: Any) -> str:
    converted = _scalar_json(key)  # keys are scalars: lists and dicts are not hashable
    if type(converted) is str:
        return converted
    if converted is None:
        return "null"
    if type(converted) is bool:
        return "true" if converted else "false"
    return str(converted)  # a safe integer
