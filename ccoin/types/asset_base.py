"""What every transaction asset shares: the type numbers, the field sizes and the helpers
that turn a bad asset into a typed error (`TX_BAD_ASSET`).

An asset class is a frozen dataclass with `TYPE` (its number), `to_array` / `from_array`,
`to_json` / `from_json`, and, where its type differs from the envelope's defaults,
`RECIPIENT_REQUIRED = True` (default: recipientId must be absent) and `AMOUNT` = "any" or
"positive" (default "zero": amount must be 0). The envelope (`ccoin.types.transaction`)
reads those two, so a module's new type never edits the envelope."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.types.codec import field_list

PUBLIC_KEY_LEN = 32
BRIDGE_ADDRESS_LEN = 20
FINGERPRINT_LEN = 32


class TxType(IntEnum):
    TRANSFER = 0
    SECOND_SIGNATURE = 1
    DELEGATE = 2
    VOTE = 3
    MULTISIGNATURE = 4
    CONTRACT_DEPLOY = 5
    IN_TRANSFER = 6
    OUT_TRANSFER = 7
    CONTRACT_CALL = 8
    GOVERNANCE = 9
    EVIDENCE = 10
    # The carbon module (ccoin.modules.carbon, docs/spec/carbon.md)
    CARBON_COMMITTEE = 11
    CARBON_PROJECT = 12
    CARBON_ISSUE = 13
    CARBON_TRANSFER = 14
    CARBON_RETIRE = 15
    CARBON_CANCEL = 16


def bad_asset(message: str) -> InvalidTransaction:
    return InvalidTransaction(ErrorCode.TX_BAD_ASSET, message)


def asset_fields(arr: Any, name: str, size: int) -> list[Any]:
    return field_list(arr, f"asset ({name})", size=size)
