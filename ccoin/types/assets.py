"""Transaction assets: the type-specific part of a transaction (DESIGN section 4).

Each asset is a frozen dataclass with its canonical array (`to_array` / `from_array`, the
form inside the signing bytes and on the wire) and its JSON form (`to_json` / `from_json`,
bytes as lowercase hex). Construction validates the asset on its own (stateless rules);
rules that need state live in `ccoin.ledger`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from ccoin.errors import CcoinError, ErrorCode, InvalidTransaction
from ccoin.modules.bridge.wire import InTransferAsset, OutTransferAsset
from ccoin.modules.carbon.wire import ASSETS as CARBON_ASSETS
from ccoin.modules.carbon.wire import (
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.modules.contracts.wire import (
    MAX_ARGS_DEPTH,
    MAX_CONTRACT_ASSET_BYTES,
    MAX_CONTRACT_CODE,
    ContractCallAsset,
    ContractDeployAsset,
    ContractValue,
)
from ccoin.types.asset_base import (
    BRIDGE_ADDRESS_LEN,
    FINGERPRINT_LEN,
    PUBLIC_KEY_LEN,
    TxType,
    asset_fields,
    bad_asset,
)
from ccoin.types.codec import (
    MAX_UINT64,
    field_bytes,
    field_int,
    field_list,
    field_str,
    json_hex,
    json_int,
    json_object,
    json_str,
)
from ccoin.types.network_assets import EvidenceAsset, GovernanceAsset

MAX_TRANSFER_DATA = 64
MAX_VOTES_PER_TX = 33
MAX_MULTISIG_KEYS = 16
MAX_MULTISIG_LIFETIME_HOURS = 72

_USERNAME_RE = re.compile(r"\A[a-z0-9!@$&_.]{1,20}\Z")
_VOTE_RE = re.compile(r"\A[+-][0-9a-f]{64}\Z")


@dataclass(frozen=True)
class TransferAsset:
    """Type 0: an optional memo of at most 64 bytes."""

    data: bytes = b""
    TYPE: ClassVar[TxType] = TxType.TRANSFER
    RECIPIENT_REQUIRED: ClassVar[bool] = True
    AMOUNT: ClassVar[str] = "any"

    def __post_init__(self) -> None:
        field_bytes(self.data, "asset.data", max_size=MAX_TRANSFER_DATA)

    def to_array(self) -> list[Any]:
        return [self.data]

    @classmethod
    def from_array(cls, arr: Any) -> TransferAsset:
        (data,) = asset_fields(arr, "transfer", 1)
        return cls(field_bytes(data, "asset.data", max_size=MAX_TRANSFER_DATA))

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data.hex()} if self.data else {}

    @classmethod
    def from_json(cls, obj: Any) -> TransferAsset:
        obj = json_object(obj, "asset", frozenset({"data"}))
        if "data" not in obj:
            return cls()
        return cls(json_hex(obj["data"], "asset.data", max_size=MAX_TRANSFER_DATA))


@dataclass(frozen=True)
class SecondSignatureAsset:
    """Type 1: the second public key that must co-sign every later transaction."""

    public_key: bytes
    TYPE: ClassVar[TxType] = TxType.SECOND_SIGNATURE

    def __post_init__(self) -> None:
        field_bytes(self.public_key, "asset.publicKey", size=PUBLIC_KEY_LEN)

    def to_array(self) -> list[Any]:
        return [self.public_key]

    @classmethod
    def from_array(cls, arr: Any) -> SecondSignatureAsset:
        (pk,) = asset_fields(arr, "second signature", 1)
        return cls(field_bytes(pk, "asset.publicKey", size=PUBLIC_KEY_LEN))

    def to_json(self) -> dict[str, Any]:
        return {"publicKey": self.public_key.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> SecondSignatureAsset:
        obj = json_object(obj, "asset", frozenset({"publicKey"}))
        return cls(json_hex(obj.get("publicKey"), "asset.publicKey", size=PUBLIC_KEY_LEN))


@dataclass(frozen=True)
class DelegateAsset:
    """Type 2: username, secp256k1 bridge address (20 bytes), node certificate fingerprint."""

    username: str
    bridge_address: bytes
    cert_fingerprint: bytes
    TYPE: ClassVar[TxType] = TxType.DELEGATE

    def __post_init__(self) -> None:
        field_str(self.username, "asset.username", max_len=20)
        if not _USERNAME_RE.match(self.username):
            raise bad_asset("asset.username: 1-20 characters of a-z 0-9 ! @ $ & _ .")
        field_bytes(self.bridge_address, "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN)
        field_bytes(self.cert_fingerprint, "asset.certFingerprint", size=FINGERPRINT_LEN)
        if self.bridge_address == bytes(BRIDGE_ADDRESS_LEN):
            raise bad_asset("asset.bridgeAddress: the zero address cannot sign")

    def to_array(self) -> list[Any]:
        return [self.username, self.bridge_address, self.cert_fingerprint]

    @classmethod
    def from_array(cls, arr: Any) -> DelegateAsset:
        username, bridge, fingerprint = asset_fields(arr, "delegate", 3)
        return cls(field_str(username, "asset.username", max_len=20), bridge, fingerprint)

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "bridgeAddress": self.bridge_address.hex(),
            "certFingerprint": self.cert_fingerprint.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> DelegateAsset:
        obj = json_object(obj, "asset", frozenset({"username", "bridgeAddress", "certFingerprint"}))
        return cls(
            json_str(obj.get("username"), "asset.username", max_len=20),
            json_hex(obj.get("bridgeAddress"), "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN),
            json_hex(obj.get("certFingerprint"), "asset.certFingerprint", size=FINGERPRINT_LEN),
        )


@dataclass(frozen=True)
class VoteAsset:
    """Type 3: the Asset_Votes TEXT form, `+<pubkey hex>,-<pubkey hex>`, 1-33 entries."""

    votes: str
    TYPE: ClassVar[TxType] = TxType.VOTE

    def __post_init__(self) -> None:
        field_str(self.votes, "asset.votes", max_len=MAX_VOTES_PER_TX * 66)
        entries = self.votes.split(",")
        if len(entries) > MAX_VOTES_PER_TX:
            raise bad_asset(f"asset.votes: {len(entries)} entries, limit {MAX_VOTES_PER_TX}")
        keys = set()
        for entry in entries:
            if not _VOTE_RE.match(entry):
                raise bad_asset(
                    f"asset.votes: {entry[:70]!r} is not '+' or '-' and 64 lowercase hex"
                )
            keys.add(entry[1:])
        if len(keys) != len(entries):
            raise bad_asset("asset.votes: a delegate appears more than once")

    @property
    def changes(self) -> list[tuple[bool, bytes]]:
        """(True for +, False for -, delegate public key) in the order written."""
        return [(e[0] == "+", bytes.fromhex(e[1:])) for e in self.votes.split(",")]

    def to_array(self) -> list[Any]:
        return [self.votes]

    @classmethod
    def from_array(cls, arr: Any) -> VoteAsset:
        (votes,) = asset_fields(arr, "vote", 1)
        return cls(field_str(votes, "asset.votes", max_len=MAX_VOTES_PER_TX * 66))

    def to_json(self) -> dict[str, Any]:
        return {"votes": self.votes}

    @classmethod
    def from_json(cls, obj: Any) -> VoteAsset:
        obj = json_object(obj, "asset", frozenset({"votes"}))
        return cls(json_str(obj.get("votes"), "asset.votes", max_len=MAX_VOTES_PER_TX * 66))


@dataclass(frozen=True)
class MultisignatureAsset:
    """Type 4: min co-signatures of the keysgroup, lifetime (hours) of a pending transaction."""

    min: int
    lifetime: int
    keysgroup: tuple[bytes, ...]
    TYPE: ClassVar[TxType] = TxType.MULTISIGNATURE

    def __post_init__(self) -> None:
        if type(self.keysgroup) is not tuple:
            raise bad_asset("asset.keysgroup: expected a tuple of keys")
        if not 1 <= len(self.keysgroup) <= MAX_MULTISIG_KEYS:
            raise bad_asset(f"asset.keysgroup: 1 to {MAX_MULTISIG_KEYS} keys")
        for key in self.keysgroup:
            field_bytes(key, "asset.keysgroup[]", size=PUBLIC_KEY_LEN)
        if len(set(self.keysgroup)) != len(self.keysgroup):
            raise bad_asset("asset.keysgroup: duplicate key")
        field_int(self.min, "asset.min", 1, MAX_MULTISIG_KEYS)
        if self.min > len(self.keysgroup):
            raise bad_asset("asset.min: larger than the keysgroup")
        field_int(self.lifetime, "asset.lifetime", 1, MAX_MULTISIG_LIFETIME_HOURS)

    def to_array(self) -> list[Any]:
        return [self.min, self.lifetime, list(self.keysgroup)]

    @classmethod
    def from_array(cls, arr: Any) -> MultisignatureAsset:
        min_, lifetime, keys = asset_fields(arr, "multisignature", 3)
        keys = field_list(keys, "asset.keysgroup", max_len=MAX_MULTISIG_KEYS)
        return cls(
            field_int(min_, "asset.min", 0, MAX_UINT64),
            field_int(lifetime, "asset.lifetime", 0, MAX_UINT64),
            tuple(keys),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "lifetime": self.lifetime,
            "keysgroup": [k.hex() for k in self.keysgroup],
        }

    @classmethod
    def from_json(cls, obj: Any) -> MultisignatureAsset:
        obj = json_object(obj, "asset", frozenset({"min", "lifetime", "keysgroup"}))
        keys = obj.get("keysgroup")
        if type(keys) is not list or len(keys) > MAX_MULTISIG_KEYS:
            raise bad_asset(f"asset.keysgroup: a list of 1 to {MAX_MULTISIG_KEYS} hex keys")
        return cls(
            json_int(obj.get("min"), "asset.min", 0, MAX_UINT64),
            json_int(obj.get("lifetime"), "asset.lifetime", 0, MAX_UINT64),
            tuple(json_hex(k, "asset.keysgroup[]", size=PUBLIC_KEY_LEN) for k in keys),
        )


Asset: TypeAlias = (
    TransferAsset
    | SecondSignatureAsset
    | DelegateAsset
    | VoteAsset
    | MultisignatureAsset
    | ContractDeployAsset
    | InTransferAsset
    | OutTransferAsset
    | ContractCallAsset
    | GovernanceAsset
    | EvidenceAsset
    | CommitteeAsset
    | ProjectAsset
    | IssueAsset
    | CarbonTransferAsset
    | RetireAsset
    | CancelAsset
)

ASSET_CLASSES: dict[int, Any] = {
    cls.TYPE: cls
    for cls in (
        TransferAsset,
        SecondSignatureAsset,
        DelegateAsset,
        VoteAsset,
        MultisignatureAsset,
        ContractDeployAsset,
        InTransferAsset,
        OutTransferAsset,
        ContractCallAsset,
        GovernanceAsset,
        EvidenceAsset,
        # the modules' assets (each module's wire file lists its own)
        *CARBON_ASSETS,
    )
}


# The envelope's rules per type, from the asset classes (see ccoin.types.asset_base).
RECIPIENT_REQUIRED_TYPES = frozenset(
    t for t, cls in ASSET_CLASSES.items() if getattr(cls, "RECIPIENT_REQUIRED", False)
)
AMOUNT_TYPES = frozenset(
    t for t, cls in ASSET_CLASSES.items() if getattr(cls, "AMOUNT", "zero") != "zero"
)
POSITIVE_AMOUNT_TYPES = frozenset(
    t for t, cls in ASSET_CLASSES.items() if getattr(cls, "AMOUNT", "zero") == "positive"
)


def asset_class(tx_type: int) -> Any:
    try:
        return ASSET_CLASSES[tx_type]
    except KeyError:
        raise InvalidTransaction(
            ErrorCode.TX_UNKNOWN_TYPE, f"unknown transaction type {tx_type}"
        ) from None


def asset_from_array(tx_type: int, arr: Any) -> Asset:
    cls = asset_class(tx_type)
    try:
        asset: Asset = cls.from_array(arr)
    except (ValueError, TypeError) as exc:  # unpacking a wrong-length list
        raise bad_asset(f"asset: {exc}") from None
    return asset


def asset_from_json(tx_type: int, obj: Any) -> Asset:
    cls = asset_class(tx_type)
    try:
        asset: Asset = cls.from_json(obj)
    except CcoinError:
        raise
    except (ValueError, TypeError) as exc:
        raise bad_asset(f"asset: {exc}") from None
    return asset


__all__ = [
    "AMOUNT_TYPES",
    "ASSET_CLASSES",
    "BRIDGE_ADDRESS_LEN",
    "FINGERPRINT_LEN",
    "MAX_ARGS_DEPTH",
    "MAX_CONTRACT_ASSET_BYTES",
    "MAX_CONTRACT_CODE",
    "MAX_MULTISIG_KEYS",
    "POSITIVE_AMOUNT_TYPES",
    "PUBLIC_KEY_LEN",
    "RECIPIENT_REQUIRED_TYPES",
    "Asset",
    "ContractCallAsset",
    "ContractDeployAsset",
    "ContractValue",
    "DelegateAsset",
    "EvidenceAsset",
    "GovernanceAsset",
    "InTransferAsset",
    "MultisignatureAsset",
    "OutTransferAsset",
    "SecondSignatureAsset",
    "TransferAsset",
    "TxType",
    "VoteAsset",
    "asset_class",
    "asset_from_array",
    "asset_from_json",
]
