"""The whitepaper's Transaction record: canonical bytes, signing bytes, hash, id, JSON.

Wire layout (msgpack array, in this order; byte layout documented in
`docs/spec/transactions.md`):

    [type, timestamp, senderPublicKey, recipientId | nil, amount, fee, asset,
     signature, signSignature | nil, signatures]

`signatures` is an array of `[publicKey, signature]` pairs sorted by public key (one form
only, so the bytes stay canonical). Signing bytes are

    packb(["CCOIN-TX", network_id, type, timestamp, senderPublicKey, recipientId | nil,
           amount, fee, asset])

and hash = SHA-256(signing bytes + signature + signSignature): co-signatures are left out,
so collecting them cannot change a transaction's identity.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ccoin.crypto.address import MAX_ADDRESS_LEN, address_from_public_key, address_raw, id_from_hash
from ccoin.crypto.keys import KeyPair
from ccoin.errors import DecodeError, ErrorCode, InvalidTransaction
from ccoin.types.assets import (
    AMOUNT_TYPES,
    MAX_MULTISIG_KEYS,
    POSITIVE_AMOUNT_TYPES,
    RECIPIENT_REQUIRED_TYPES,
    Asset,
    TxType,
    asset_class,
    asset_from_array,
    asset_from_json,
)
from ccoin.types.codec import (
    MAX_BIGINT,
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
    unpack_canonical,
)

TX_DOMAIN = "CCOIN-TX"
NETWORK_ID_LEN = 32
PUBLIC_KEY_LEN = 32
SIGNATURE_LEN = 64
MAX_TX_BYTES = 80 * 1024
MAX_TIMESTAMP = 2**31 - 1  # INT
# Type 6 carries one attestation per delegate; others at most the multisig keysgroup.
MAX_COSIGNATURES = 101

_COSIG_TEXT_RE = re.compile(r"\A[0-9a-f]{192}\Z")

# Types whose recipientId is required (all others must leave it absent), that may carry an
# amount (all others must have 0), and whose amount must be positive: from the asset classes.
_RECIPIENT_REQUIRED = RECIPIENT_REQUIRED_TYPES
_AMOUNT_ALLOWED = AMOUNT_TYPES
_AMOUNT_POSITIVE = POSITIVE_AMOUNT_TYPES


@dataclass(frozen=True, order=True)
class CoSignature:
    """A multisignature co-signature (or, for type 6, a delegate attestation)."""

    public_key: bytes
    signature: bytes

    def to_text(self) -> str:
        return self.public_key.hex() + self.signature.hex()


@dataclass(frozen=True)
class TxBody:
    """Everything a transaction's signatures sign."""

    type: int
    timestamp: int
    sender_public_key: bytes
    recipient_id: str | None
    amount: int
    fee: int
    asset: Asset

    def __post_init__(self) -> None:
        if type(self.type) is TxType:
            object.__setattr__(self, "type", int(self.type))
        field_int(self.type, "type", 0, 255)  # first: True == 1 would pick type 1's asset
        cls = asset_class(self.type)
        if type(self.asset) is not cls:
            raise InvalidTransaction(
                ErrorCode.TX_BAD_ASSET, f"type {self.type} needs a {cls.__name__}"
            )
        field_int(self.timestamp, "timestamp", 0, MAX_TIMESTAMP)
        field_bytes(self.sender_public_key, "senderPublicKey", size=PUBLIC_KEY_LEN)
        field_int(self.amount, "amount")
        field_int(self.fee, "fee")
        if self.recipient_id is not None:
            address_raw(self.recipient_id)
        tx_type = self.type
        if tx_type in _RECIPIENT_REQUIRED and self.recipient_id is None:
            raise InvalidTransaction(ErrorCode.TX_RECIPIENT_REQUIRED)
        if tx_type not in _RECIPIENT_REQUIRED and self.recipient_id is not None:
            raise InvalidTransaction(ErrorCode.TX_RECIPIENT_FORBIDDEN)
        if tx_type not in _AMOUNT_ALLOWED and self.amount != 0:
            raise InvalidTransaction(ErrorCode.TX_AMOUNT_FORBIDDEN)
        if tx_type in _AMOUNT_POSITIVE and self.amount == 0:
            raise InvalidTransaction(
                ErrorCode.TX_BAD_ASSET, f"type {tx_type} moves an amount above 0"
            )

    @property
    def sender_id(self) -> str:
        return address_from_public_key(self.sender_public_key)

    def fields(self) -> list[Any]:
        return [
            self.type,
            self.timestamp,
            self.sender_public_key,
            self.recipient_id,
            self.amount,
            self.fee,
            self.asset.to_array(),
        ]

    def signing_bytes(self, network_id: bytes) -> bytes:
        return packb([TX_DOMAIN, network_id, *self.fields()])

    def sign(
        self,
        key: KeyPair,
        network_id: bytes,
        *,
        second_key: KeyPair | None = None,
    ) -> Transaction:
        if key.public_key != self.sender_public_key:
            raise ValueError("the key does not match senderPublicKey")
        message = self.signing_bytes(network_id)
        signature = key.sign(message)
        sign_signature = second_key.sign(message + signature) if second_key else None
        return Transaction(self, signature, sign_signature)


@dataclass(frozen=True)
class Transaction:
    """A signed transaction: its body, signature, optional second signature and co-signatures."""

    body: TxBody
    signature: bytes
    sign_signature: bytes | None = None
    signatures: tuple[CoSignature, ...] = ()
    _digest: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)
    # The canonical bytes once known (from `decode` or the first `encode`): a transaction is
    # encoded for its size, the payload hash and its stored record, so this saves two packs.
    _encoded: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        field_bytes(self.signature, "signature", size=SIGNATURE_LEN)
        if self.sign_signature is not None:
            field_bytes(self.sign_signature, "signSignature", size=SIGNATURE_LEN)
        if len(self.signatures) > MAX_COSIGNATURES:
            raise DecodeError(ErrorCode.TOO_LONG, f"signatures: limit {MAX_COSIGNATURES}")
        previous = b""
        for cosig in self.signatures:
            field_bytes(cosig.public_key, "signatures[].publicKey", size=PUBLIC_KEY_LEN)
            field_bytes(cosig.signature, "signatures[].signature", size=SIGNATURE_LEN)
            if cosig.public_key <= previous:
                raise DecodeError(
                    ErrorCode.NON_CANONICAL, "signatures: sorted by public key, no duplicates"
                )
            previous = cosig.public_key
        if (
            self.body.type not in (TxType.MULTISIGNATURE, TxType.IN_TRANSFER)
            and len(self.signatures) > MAX_MULTISIG_KEYS
        ):
            raise DecodeError(ErrorCode.TOO_LONG, f"signatures: limit {MAX_MULTISIG_KEYS}")

    # -- identity ---------------------------------------------------------------------

    def digest(self, network_id: bytes) -> tuple[bytes, bytes]:
        """(signing bytes, hash) for `network_id`, computed once per object."""
        cached = self._digest
        if cached and cached[0] == network_id:
            return cached[1], cached[2]
        message = self.body.signing_bytes(network_id)
        tx_hash = hashlib.sha256(message + self.signature + (self.sign_signature or b"")).digest()
        cached[:] = [network_id, message, tx_hash]
        return message, tx_hash

    def hash(self, network_id: bytes) -> bytes:
        return self.digest(network_id)[1]

    def id(self, network_id: bytes) -> str:
        """base58 of the hash's first 14 bytes; cached with the digest (base58 is pure
        Python, and the RPC path asks for an id more than once)."""
        tx_hash = self.digest(network_id)[1]
        cached = self._digest
        if len(cached) == 3:
            cached.append(id_from_hash(tx_hash))
        return str(cached[3])

    @property
    def type(self) -> int:
        return self.body.type

    @property
    def sender_id(self) -> str:
        return self.body.sender_id

    def with_signatures(self, signatures: list[CoSignature]) -> Transaction:
        merged = {c.public_key: c for c in (*self.signatures, *signatures)}
        return Transaction(
            self.body, self.signature, self.sign_signature, tuple(sorted(merged.values()))
        )

    def cosign(self, key: KeyPair, network_id: bytes) -> Transaction:
        """Add `key`'s co-signature over the signing bytes."""
        message = self.digest(network_id)[0]
        return self.with_signatures([CoSignature(key.public_key, key.sign(message))])

    # -- bytes --------------------------------------------------------------------------

    def to_array(self) -> list[Any]:
        return [
            *self.body.fields(),
            self.signature,
            self.sign_signature,
            [[c.public_key, c.signature] for c in self.signatures],
        ]

    def encode(self) -> bytes:
        cached = self._encoded
        if not cached:
            cached.append(packb(self.to_array()))
        return cached[0]

    @classmethod
    def decode(cls, data: bytes) -> Transaction:
        tx = cls.from_array(unpack_canonical(data, max_size=MAX_TX_BYTES, what="transaction"))
        tx._encoded.append(bytes(data))
        return tx

    @classmethod
    def from_array(cls, arr: Any) -> Transaction:
        fields = field_list(arr, "transaction", size=10)
        tx_type = field_int(fields[0], "type", 0, 255)
        recipient = fields[3]
        if recipient is not None:
            recipient = field_str(recipient, "recipientId", max_len=MAX_ADDRESS_LEN)
        body = TxBody(
            type=tx_type,
            timestamp=field_int(fields[1], "timestamp", 0, MAX_TIMESTAMP),
            sender_public_key=field_bytes(fields[2], "senderPublicKey", size=PUBLIC_KEY_LEN),
            recipient_id=recipient,
            amount=field_int(fields[4], "amount"),
            fee=field_int(fields[5], "fee"),
            asset=asset_from_array(tx_type, fields[6]),
        )
        cosigs = field_list(fields[9], "signatures", max_len=MAX_COSIGNATURES)
        signatures = []
        for pair in cosigs:
            pk, sig = field_list(pair, "signatures[]", size=2)
            signatures.append(CoSignature(pk, sig))
        return cls(
            body,
            field_bytes(fields[7], "signature", size=SIGNATURE_LEN),
            fields[8],
            tuple(signatures),
        )

    # -- JSON (the whitepaper's field names) --------------------------------------------

    def to_json(self, network_id: bytes, *, block_id: str | None = None) -> dict[str, Any]:
        body = self.body
        out: dict[str, Any] = {"id": self.id(network_id)}
        if block_id is not None:
            out["blockId"] = block_id
        out.update(
            type=body.type,
            timestamp=body.timestamp,
            senderId=body.sender_id,
            recipientId=body.recipient_id,
            amount=str(body.amount),
            fee=str(body.fee),
            signature=self.signature.hex(),
            signSignature=self.sign_signature.hex() if self.sign_signature else None,
            signatures=",".join(c.to_text() for c in self.signatures) or None,
            senderPublicKey=body.sender_public_key.hex(),
            asset=body.asset.to_json(),
        )
        return out

    @classmethod
    def from_json(cls, obj: Any, network_id: bytes) -> Transaction:
        """Parse the JSON form. `id` and `senderId`, when given, must match what the bytes
        say (a mismatch usually means the wrong network id)."""
        obj = json_object(obj, "transaction", _JSON_FIELDS)
        body = body_from_json(obj)
        sign_signature = obj.get("signSignature")
        if sign_signature is not None:
            sign_signature = json_hex(sign_signature, "signSignature", size=SIGNATURE_LEN)
        tx = cls(
            body,
            json_hex(obj.get("signature"), "signature", size=SIGNATURE_LEN),
            sign_signature,
            cosignatures_from_text(obj.get("signatures")),
        )
        claimed = obj.get("id")
        if claimed is not None and claimed != tx.id(network_id):
            raise DecodeError(
                ErrorCode.BAD_ID,
                f"id {claimed!r} does not match the transaction ({tx.id(network_id)}); "
                "is it for another network?",
            )
        return tx


_BODY_JSON_FIELDS = frozenset(
    {"type", "timestamp", "senderId", "recipientId", "amount", "fee", "senderPublicKey", "asset"}
)
_JSON_FIELDS = _BODY_JSON_FIELDS | {
    "id",
    "blockId",
    "signature",
    "signSignature",
    "signatures",
}


def body_from_json(obj: Any) -> TxBody:
    """The unsigned part of a transaction's JSON form (extra signature fields are ignored)."""
    if type(obj) is not dict:
        raise DecodeError(ErrorCode.BAD_JSON, "transaction: expected an object")
    for name in ("type", "timestamp", "senderPublicKey", "amount", "fee"):
        if name not in obj:
            raise DecodeError(ErrorCode.BAD_JSON, f"transaction: missing field {name}")
    tx_type = json_int(obj["type"], "type", 0, 255)
    recipient = obj.get("recipientId")
    if recipient is not None:
        recipient = json_str(recipient, "recipientId", max_len=MAX_ADDRESS_LEN)
    body = TxBody(
        type=tx_type,
        timestamp=json_int(obj["timestamp"], "timestamp", 0, MAX_TIMESTAMP),
        sender_public_key=json_hex(obj["senderPublicKey"], "senderPublicKey", size=32),
        recipient_id=recipient,
        amount=json_bigint(obj["amount"], "amount"),
        fee=json_bigint(obj["fee"], "fee"),
        asset=asset_from_json(tx_type, obj.get("asset", {})),
    )
    sender_id = obj.get("senderId")
    if sender_id is not None and sender_id != body.sender_id:
        raise DecodeError(
            ErrorCode.BAD_ADDRESS, f"senderId {sender_id!r} does not match senderPublicKey"
        )
    return body


def unsigned_to_json(body: TxBody) -> dict[str, Any]:
    """The JSON form of a body not yet signed (what `ccoin tx build` prints)."""
    return {
        "type": body.type,
        "timestamp": body.timestamp,
        "senderId": body.sender_id,
        "recipientId": body.recipient_id,
        "amount": str(body.amount),
        "fee": str(body.fee),
        "senderPublicKey": body.sender_public_key.hex(),
        "asset": body.asset.to_json(),
    }


def cosignatures_from_text(text: Any) -> tuple[CoSignature, ...]:
    """Parse the stored TEXT form: comma-joined hex of publicKey (32) + signature (64)."""
    if text is None or text == "":
        return ()
    if type(text) is not str:
        raise DecodeError(ErrorCode.BAD_JSON, "signatures: expected comma-joined hex or null")
    entries = text.split(",")
    if len(entries) > MAX_COSIGNATURES:
        raise DecodeError(ErrorCode.TOO_LONG, f"signatures: limit {MAX_COSIGNATURES}")
    cosigs = []
    for entry in entries:
        if not _COSIG_TEXT_RE.match(entry):
            raise DecodeError(
                ErrorCode.BAD_JSON,
                "signatures: each entry is 192 lowercase hex (publicKey + signature)",
            )
        raw = bytes.fromhex(entry)
        cosigs.append(CoSignature(raw[:32], raw[32:]))
    merged = {c.public_key: c for c in cosigs}
    if len(merged) != len(cosigs):
        raise DecodeError(ErrorCode.BAD_JSON, "signatures: a public key appears twice")
    return tuple(sorted(cosigs))


def check_amount_range(value: int, what: str) -> int:
    if not 0 <= value <= MAX_BIGINT:
        raise InvalidTransaction(ErrorCode.TX_BALANCE_OVERFLOW, f"{what} leaves the BIGINT range")
    return value
