"""Bridge assets: type 6 (a deposit from BSC, credited on the sidechain) and type 7 (a
withdrawal to a BSC address)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ccoin.types.asset_base import BRIDGE_ADDRESS_LEN, TxType, asset_fields, bad_asset
from ccoin.types.codec import (
    MAX_UINT64,
    field_bytes,
    field_int,
    json_bigint,
    json_hex,
    json_int,
    json_object,
)


@dataclass(frozen=True)
class InTransferAsset:
    """Type 6: a deposit from BSC. Recipient and amount are the transaction's own fields;
    the transaction's `signatures` carry the delegates' attestations."""

    bsc_chain_id: int
    bridge_address: bytes
    deposit_nonce: int
    bsc_tx_hash: bytes
    TYPE: ClassVar[TxType] = TxType.IN_TRANSFER
    RECIPIENT_REQUIRED: ClassVar[bool] = True
    AMOUNT: ClassVar[str] = "positive"

    def __post_init__(self) -> None:
        field_int(self.bsc_chain_id, "asset.bscChainId", 1, MAX_UINT64)
        field_bytes(self.bridge_address, "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN)
        field_int(self.deposit_nonce, "asset.depositNonce", 0, MAX_UINT64)
        field_bytes(self.bsc_tx_hash, "asset.bscTxHash", size=32)

    def to_array(self) -> list[Any]:
        return [self.bsc_chain_id, self.bridge_address, self.deposit_nonce, self.bsc_tx_hash]

    @classmethod
    def from_array(cls, arr: Any) -> InTransferAsset:
        chain, bridge, nonce, tx_hash = asset_fields(arr, "in-transfer", 4)
        return cls(
            field_int(chain, "asset.bscChainId", 0, MAX_UINT64),
            bridge,
            field_int(nonce, "asset.depositNonce", 0, MAX_UINT64),
            tx_hash,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "bscChainId": self.bsc_chain_id,
            "bridgeAddress": self.bridge_address.hex(),
            "depositNonce": str(self.deposit_nonce),
            "bscTxHash": self.bsc_tx_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> InTransferAsset:
        obj = json_object(
            obj, "asset", frozenset({"bscChainId", "bridgeAddress", "depositNonce", "bscTxHash"})
        )
        return cls(
            json_int(obj.get("bscChainId"), "asset.bscChainId", 0, MAX_UINT64),
            json_hex(obj.get("bridgeAddress"), "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN),
            json_bigint(obj.get("depositNonce"), "asset.depositNonce", MAX_UINT64),
            json_hex(obj.get("bscTxHash"), "asset.bscTxHash", size=32),
        )


@dataclass(frozen=True)
class OutTransferAsset:
    """Type 7: a withdrawal to a BSC address; the amount is the transaction's `amount`."""

    bsc_recipient: bytes
    TYPE: ClassVar[TxType] = TxType.OUT_TRANSFER
    AMOUNT: ClassVar[str] = "positive"

    def __post_init__(self) -> None:
        field_bytes(self.bsc_recipient, "asset.bscRecipient", size=BRIDGE_ADDRESS_LEN)
        if self.bsc_recipient == bytes(BRIDGE_ADDRESS_LEN):
            raise bad_asset("asset.bscRecipient: the zero address would burn the tokens")

    def to_array(self) -> list[Any]:
        return [self.bsc_recipient]

    @classmethod
    def from_array(cls, arr: Any) -> OutTransferAsset:
        (recipient,) = asset_fields(arr, "out-transfer", 1)
        return cls(recipient)

    def to_json(self) -> dict[str, Any]:
        return {"bscRecipient": self.bsc_recipient.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> OutTransferAsset:
        obj = json_object(obj, "asset", frozenset({"bscRecipient"}))
        return cls(json_hex(obj.get("bscRecipient"), "asset.bscRecipient", size=20))
