"""Contract state records: the deployed contract and the receipt of a deploy or call.

ContractRecord layout: [owner address raw, name, code, version, deployedHeight, codeHash]
Receipt layout: [ok, gasLimit, gasUsed, errorCode | nil, error | nil, value | nil,
                 [[contract, event name, fields], ...], [[from contract, recipient,
                 amount], ...], contract raw]   (contracts as addresses: a call may reach
                 others)

Both live in state tables (0x15, 0x1e), so the stateRoot pins them: two nodes that charge
different gas or reach a different outcome disagree on the header. `value` and each event's
`fields` are the contract's own msgpack (`ccoin.vm.api.encode_value`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
        from ccoin.vm.api import decode_value  # the contract's own value encoding

        return {
            "ok": self.ok,
            "contract": address_from_raw(self.contract),
            "gasLimit": self.gas_limit,
            "gasUsed": self.gas_used,
            "errorCode": self.error_code,
            "errorName": None if self.error_code is None else _CODE_NAMES.get(self.error_code),
            "error": self.error,
            "value": None if self.value is None else contract_value_json(decode_value(self.value)),
            "events": [
                {"contract": c, "name": name, "fields": contract_value_json(decode_value(fields))}
                for c, name, fields in self.events
            ],
            "transfers": [
                {"from": source, "recipientId": to, "amount": str(n)}
                for source, to, n in self.transfers
            ],
        }


def contract_value_json(value: Any) -> Any:
    """A contract value in JSON: null, booleans, integers and strings as they are; bytes as
    "0x" + hex; Decimals as their string; lists as arrays; dicts as objects whose keys are
    converted the same way and then written as text."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is bytes:
        return "0x" + value.hex()
    if type(value) is Decimal:
        return str(value)
    if type(value) in (list, tuple):
        return [contract_value_json(item) for item in value]
    if type(value) is dict:
        return {_key_text(k): contract_value_json(v) for k, v in value.items()}
    return repr(value)  # not produced by the contract encoding; shown rather than failing


def _key_text(key: Any) -> str:
    converted = contract_value_json(key)
    return converted if type(converted) is str else json.dumps(converted)
