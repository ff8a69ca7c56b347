"""Transaction assets: the type-specific part of a transaction (DESIGN section 4).

Each asset is a frozen dataclass with its canonical array (`to_array` / `from_array`, the
form inside the signing bytes and on the wire) and its JSON form (`to_json` / `from_json`,
bytes as lowercase hex). Construction validates the asset on its own (stateless rules);
rules that need state live in `ccoin.ledger`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias

from ccoin.crypto.address import is_address
from ccoin.errors import CcoinError, ErrorCode, InvalidTransaction
from ccoin.types.codec import (
    MAX_UINT64,
    MIN_BIGINT,
    field_bytes,
    field_int,
    field_list,
    field_str,
    json_bigint,
    json_hex,
    json_int,
    json_object,
    json_str,
    packb,
)

PUBLIC_KEY_LEN = 32
BRIDGE_ADDRESS_LEN = 20
FINGERPRINT_LEN = 32
MAX_TRANSFER_DATA = 64
MAX_VOTES_PER_TX = 33
MAX_MULTISIG_KEYS = 16
MAX_MULTISIG_LIFETIME_HOURS = 72
MAX_CONTRACT_CODE = 64 * 1024
MAX_CONTRACT_NAME = 64
MAX_METHOD_NAME = 64
MAX_ARGS_DEPTH = 8
MAX_ARGS_ITEMS = 256
MAX_ARG_STR = 4096
MAX_GAS_LIMIT = 10**9
# Contract code plus arguments must leave room in a transaction (MAX_TX_BYTES, 80 KiB) for
# the other fields and up to 101 co-signatures (~10 KiB).
MAX_CONTRACT_ASSET_BYTES = 68 * 1024

_USERNAME_RE = re.compile(r"\A[a-z0-9!@$&_.]{1,20}\Z")
_VOTE_RE = re.compile(r"\A[+-][0-9a-f]{64}\Z")
_CONTRACT_NAME_RE = re.compile(r"\A[A-Za-z0-9_.-]{1,64}\Z")
_METHOD_RE = re.compile(r"\A[a-z][a-z0-9_]{0,63}\Z")
_FINGERPRINT_HEX_RE = re.compile(r"\A[0-9a-f]{64}\Z")


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


def _bad(message: str) -> InvalidTransaction:
    return InvalidTransaction(ErrorCode.TX_BAD_ASSET, message)


def _asset_fields(arr: Any, name: str, size: int) -> list[Any]:
    return field_list(arr, f"asset ({name})", size=size)


@dataclass(frozen=True)
class TransferAsset:
    """Type 0: an optional memo of at most 64 bytes."""

    data: bytes = b""
    TYPE: ClassVar[TxType] = TxType.TRANSFER

    def __post_init__(self) -> None:
        field_bytes(self.data, "asset.data", max_size=MAX_TRANSFER_DATA)

    def to_array(self) -> list[Any]:
        return [self.data]

    @classmethod
    def from_array(cls, arr: Any) -> TransferAsset:
        (data,) = _asset_fields(arr, "transfer", 1)
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
        (pk,) = _asset_fields(arr, "second signature", 1)
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
            raise _bad("asset.username: 1-20 characters of a-z 0-9 ! @ $ & _ .")
        field_bytes(self.bridge_address, "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN)
        field_bytes(self.cert_fingerprint, "asset.certFingerprint", size=FINGERPRINT_LEN)
        if self.bridge_address == bytes(BRIDGE_ADDRESS_LEN):
            raise _bad("asset.bridgeAddress: the zero address cannot sign")

    def to_array(self) -> list[Any]:
        return [self.username, self.bridge_address, self.cert_fingerprint]

    @classmethod
    def from_array(cls, arr: Any) -> DelegateAsset:
        username, bridge, fingerprint = _asset_fields(arr, "delegate", 3)
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
            raise _bad(f"asset.votes: {len(entries)} entries, limit {MAX_VOTES_PER_TX}")
        keys = set()
        for entry in entries:
            if not _VOTE_RE.match(entry):
                raise _bad(f"asset.votes: {entry[:70]!r} is not '+' or '-' and 64 lowercase hex")
            keys.add(entry[1:])
        if len(keys) != len(entries):
            raise _bad("asset.votes: a delegate appears more than once")

    @property
    def changes(self) -> list[tuple[bool, bytes]]:
        """(True for +, False for -, delegate public key) in the order written."""
        return [(e[0] == "+", bytes.fromhex(e[1:])) for e in self.votes.split(",")]

    def to_array(self) -> list[Any]:
        return [self.votes]

    @classmethod
    def from_array(cls, arr: Any) -> VoteAsset:
        (votes,) = _asset_fields(arr, "vote", 1)
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
            raise _bad("asset.keysgroup: expected a tuple of keys")
        if not 1 <= len(self.keysgroup) <= MAX_MULTISIG_KEYS:
            raise _bad(f"asset.keysgroup: 1 to {MAX_MULTISIG_KEYS} keys")
        for key in self.keysgroup:
            field_bytes(key, "asset.keysgroup[]", size=PUBLIC_KEY_LEN)
        if len(set(self.keysgroup)) != len(self.keysgroup):
            raise _bad("asset.keysgroup: duplicate key")
        field_int(self.min, "asset.min", 1, MAX_MULTISIG_KEYS)
        if self.min > len(self.keysgroup):
            raise _bad("asset.min: larger than the keysgroup")
        field_int(self.lifetime, "asset.lifetime", 1, MAX_MULTISIG_LIFETIME_HOURS)

    def to_array(self) -> list[Any]:
        return [self.min, self.lifetime, list(self.keysgroup)]

    @classmethod
    def from_array(cls, arr: Any) -> MultisignatureAsset:
        min_, lifetime, keys = _asset_fields(arr, "multisignature", 3)
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
            raise _bad(f"asset.keysgroup: a list of 1 to {MAX_MULTISIG_KEYS} hex keys")
        return cls(
            json_int(obj.get("min"), "asset.min", 0, MAX_UINT64),
            json_int(obj.get("lifetime"), "asset.lifetime", 0, MAX_UINT64),
            tuple(json_hex(k, "asset.keysgroup[]", size=PUBLIC_KEY_LEN) for k in keys),
        )


# Contract arguments: null, booleans, integers (msgpack's range), strings and nested arrays.
# No floats, bytes or maps: each has one JSON form and one msgpack form, so JSON and bytes
# round-trip exactly. The VM issue defines how contracts see them.
ContractValue: TypeAlias = bool | int | str | tuple["ContractValue", ...] | None


def _contract_args(value: Any, name: str, depth: int = 0) -> tuple[ContractValue, ...]:
    if type(value) not in (list, tuple):
        raise _bad(f"{name}: expected an array")
    if len(value) > MAX_ARGS_ITEMS:
        raise _bad(f"{name}: more than {MAX_ARGS_ITEMS} items")
    out: list[ContractValue] = []
    for item in value:
        kind = type(item)
        if item is None or kind is bool:
            out.append(item)
        elif kind is int:
            if not MIN_BIGINT <= item <= MAX_UINT64:
                raise _bad(f"{name}: integer out of range")
            out.append(item)
        elif kind is str:
            out.append(field_str(item, name, max_len=MAX_ARG_STR))
        elif kind in (list, tuple):
            if depth + 1 >= MAX_ARGS_DEPTH:
                raise _bad(f"{name}: nested deeper than {MAX_ARGS_DEPTH}")
            out.append(_contract_args(item, name, depth + 1))
        else:
            raise _bad(f"{name}: only null, booleans, integers, strings and arrays")
    return tuple(out)


def _check_asset_size(array: list[Any]) -> None:
    size = len(packb(array))
    if size > MAX_CONTRACT_ASSET_BYTES:
        raise _bad(f"asset: {size} bytes encoded, limit {MAX_CONTRACT_ASSET_BYTES}")


def _args_to_json(args: tuple[ContractValue, ...]) -> list[Any]:
    return [_args_to_json(a) if type(a) is tuple else a for a in args]


@dataclass(frozen=True)
class ContractDeployAsset:
    """Type 5: the whitepaper's "application store": name, code, init args."""

    name: str
    code: str
    init_args: tuple[ContractValue, ...] = ()
    TYPE: ClassVar[TxType] = TxType.CONTRACT_DEPLOY

    def __post_init__(self) -> None:
        field_str(self.name, "asset.name", max_len=MAX_CONTRACT_NAME)
        if not _CONTRACT_NAME_RE.match(self.name):
            raise _bad("asset.name: 1-64 characters of A-Z a-z 0-9 _ . -")
        field_str(self.code, "asset.code", max_len=MAX_CONTRACT_CODE)
        if not self.code or len(self.code.encode("utf-8")) > MAX_CONTRACT_CODE:
            raise _bad(f"asset.code: 1 to {MAX_CONTRACT_CODE} bytes of UTF-8")
        _contract_args(self.init_args, "asset.initArgs")
        _check_asset_size(self.to_array())

    def to_array(self) -> list[Any]:
        return [self.name, self.code, list(self.init_args)]

    @classmethod
    def from_array(cls, arr: Any) -> ContractDeployAsset:
        name, code, args = _asset_fields(arr, "contract deploy", 3)
        return cls(
            field_str(name, "asset.name", max_len=MAX_CONTRACT_NAME),
            field_str(code, "asset.code", max_len=MAX_CONTRACT_CODE),
            _contract_args(args, "asset.initArgs"),
        )

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "initArgs": _args_to_json(self.init_args)}

    @classmethod
    def from_json(cls, obj: Any) -> ContractDeployAsset:
        obj = json_object(obj, "asset", frozenset({"name", "code", "initArgs"}))
        return cls(
            json_str(obj.get("name"), "asset.name", max_len=MAX_CONTRACT_NAME),
            json_str(obj.get("code"), "asset.code", max_len=MAX_CONTRACT_CODE),
            _contract_args(obj.get("initArgs", []), "asset.initArgs"),
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

    def __post_init__(self) -> None:
        field_int(self.bsc_chain_id, "asset.bscChainId", 1, MAX_UINT64)
        field_bytes(self.bridge_address, "asset.bridgeAddress", size=BRIDGE_ADDRESS_LEN)
        field_int(self.deposit_nonce, "asset.depositNonce", 0, MAX_UINT64)
        field_bytes(self.bsc_tx_hash, "asset.bscTxHash", size=32)

    def to_array(self) -> list[Any]:
        return [self.bsc_chain_id, self.bridge_address, self.deposit_nonce, self.bsc_tx_hash]

    @classmethod
    def from_array(cls, arr: Any) -> InTransferAsset:
        chain, bridge, nonce, tx_hash = _asset_fields(arr, "in-transfer", 4)
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

    def __post_init__(self) -> None:
        field_bytes(self.bsc_recipient, "asset.bscRecipient", size=BRIDGE_ADDRESS_LEN)
        if self.bsc_recipient == bytes(BRIDGE_ADDRESS_LEN):
            raise _bad("asset.bscRecipient: the zero address would burn the tokens")

    def to_array(self) -> list[Any]:
        return [self.bsc_recipient]

    @classmethod
    def from_array(cls, arr: Any) -> OutTransferAsset:
        (recipient,) = _asset_fields(arr, "out-transfer", 1)
        return cls(recipient)

    def to_json(self) -> dict[str, Any]:
        return {"bscRecipient": self.bsc_recipient.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> OutTransferAsset:
        obj = json_object(obj, "asset", frozenset({"bscRecipient"}))
        return cls(json_hex(obj.get("bscRecipient"), "asset.bscRecipient", size=20))


@dataclass(frozen=True)
class ContractCallAsset:
    """Type 8: call `method` of the contract at `contract` with `args`, at most `gas_limit`."""

    contract: str
    method: str
    args: tuple[ContractValue, ...]
    gas_limit: int
    TYPE: ClassVar[TxType] = TxType.CONTRACT_CALL

    def __post_init__(self) -> None:
        field_str(self.contract, "asset.contract", max_len=21)
        if not is_address(self.contract):
            raise _bad("asset.contract: not a valid address")
        field_str(self.method, "asset.method", max_len=MAX_METHOD_NAME)
        if not _METHOD_RE.match(self.method):
            raise _bad("asset.method: a lowercase name, a-z first, then a-z 0-9 _")
        _contract_args(self.args, "asset.args")
        field_int(self.gas_limit, "asset.gasLimit", 1, MAX_GAS_LIMIT)
        _check_asset_size(self.to_array())

    def to_array(self) -> list[Any]:
        return [self.contract, self.method, list(self.args), self.gas_limit]

    @classmethod
    def from_array(cls, arr: Any) -> ContractCallAsset:
        contract, method, args, gas = _asset_fields(arr, "contract call", 4)
        return cls(
            field_str(contract, "asset.contract", max_len=21),
            field_str(method, "asset.method", max_len=MAX_METHOD_NAME),
            _contract_args(args, "asset.args"),
            field_int(gas, "asset.gasLimit", 0, MAX_UINT64),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "method": self.method,
            "args": _args_to_json(self.args),
            "gasLimit": self.gas_limit,
        }

    @classmethod
    def from_json(cls, obj: Any) -> ContractCallAsset:
        obj = json_object(obj, "asset", frozenset({"contract", "method", "args", "gasLimit"}))
        return cls(
            json_str(obj.get("contract"), "asset.contract", max_len=21),
            json_str(obj.get("method"), "asset.method", max_len=MAX_METHOD_NAME),
            _contract_args(obj.get("args", []), "asset.args"),
            json_int(obj.get("gasLimit"), "asset.gasLimit", 0, MAX_UINT64),
        )


GOVERNANCE_ACTIONS = ("admit", "revoke")
GOVERNANCE_KINDS = ("account", "node")


@dataclass(frozen=True)
class GovernanceAsset:
    """Type 9: admit or revoke an account (subject = address) or a node certificate
    (subject = its SHA-256 fingerprint, 64 lowercase hex)."""

    action: str
    kind: str
    subject: str
    TYPE: ClassVar[TxType] = TxType.GOVERNANCE

    def __post_init__(self) -> None:
        if self.action not in GOVERNANCE_ACTIONS:
            raise _bad("asset.action: 'admit' or 'revoke'")
        if self.kind not in GOVERNANCE_KINDS:
            raise _bad("asset.kind: 'account' or 'node'")
        field_str(self.subject, "asset.subject", max_len=64)
        if self.kind == "account" and not is_address(self.subject):
            raise _bad("asset.subject: not a valid address")
        if self.kind == "node" and not _FINGERPRINT_HEX_RE.match(self.subject):
            raise _bad("asset.subject: a certificate fingerprint is 64 lowercase hex")

    def to_array(self) -> list[Any]:
        return [self.action, self.kind, self.subject]

    @classmethod
    def from_array(cls, arr: Any) -> GovernanceAsset:
        action, kind, subject = _asset_fields(arr, "governance", 3)
        return cls(
            field_str(action, "asset.action", max_len=8),
            field_str(kind, "asset.kind", max_len=8),
            field_str(subject, "asset.subject", max_len=64),
        )

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "subject": self.subject}

    @classmethod
    def from_json(cls, obj: Any) -> GovernanceAsset:
        obj = json_object(obj, "asset", frozenset({"action", "kind", "subject"}))
        return cls(
            json_str(obj.get("action"), "asset.action", max_len=8),
            json_str(obj.get("kind"), "asset.kind", max_len=8),
            json_str(obj.get("subject"), "asset.subject", max_len=64),
        )


EVIDENCE_KINDS = ("double-block", "double-vote")
MAX_EVIDENCE_ITEM = 32 * 1024


@dataclass(frozen=True)
class EvidenceAsset:
    """Type 10: proof that a delegate signed two things no honest delegate signs: two block
    headers for one slot (`double-block`), or two conflicting finality votes (`double-vote`).
    `first` and `second` are the two signed messages' canonical bytes (a header or a vote).
    The ledger checks the proof against its signatures and jails the delegate."""

    kind: str
    first: bytes
    second: bytes
    TYPE: ClassVar[TxType] = TxType.EVIDENCE

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise _bad("asset.kind: 'double-block' or 'double-vote'")
        field_bytes(self.first, "asset.first", max_size=MAX_EVIDENCE_ITEM)
        field_bytes(self.second, "asset.second", max_size=MAX_EVIDENCE_ITEM)
        if not self.first or self.first == self.second:
            raise _bad("asset: two different signed messages are needed")

    def to_array(self) -> list[Any]:
        return [self.kind, self.first, self.second]

    @classmethod
    def from_array(cls, arr: Any) -> EvidenceAsset:
        kind, first, second = _asset_fields(arr, "evidence", 3)
        return cls(field_str(kind, "asset.kind", max_len=16), first, second)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first.hex(), "second": self.second.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> EvidenceAsset:
        obj = json_object(obj, "asset", frozenset({"kind", "first", "second"}))
        return cls(
            json_str(obj.get("kind"), "asset.kind", max_len=16),
            json_hex(obj.get("first"), "asset.first", max_size=MAX_EVIDENCE_ITEM),
            json_hex(obj.get("second"), "asset.second", max_size=MAX_EVIDENCE_ITEM),
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
    )
}


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
        raise _bad(f"asset: {exc}") from None
    return asset


def asset_from_json(tx_type: int, obj: Any) -> Asset:
    cls = asset_class(tx_type)
    try:
        asset: Asset = cls.from_json(obj)
    except CcoinError:
        raise
    except (ValueError, TypeError) as exc:
        raise _bad(f"asset: {exc}") from None
    return asset
