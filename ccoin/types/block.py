"""Blocks: the header (what is signed and hashed), the attestation it carries, and the body.

Header wire layout (msgpack array, in this order):

    [version, height, previousBlockHash, timestampMs, generatorPublicKey, payloadHash,
     numberOfTransactions, totalAmount, totalFee, reward, stateRoot, withdrawalRoot,
     retirementRoot, attestation | nil, blockSignature]

timestampMs: chain milliseconds since the genesis time (version 2; version 1 held whole
seconds, too coarse for slots under a second). Transactions keep whole seconds.
retirementRoot (version 3): the Merkle root of the block's carbon retirement leaves, zero
when it has none, as withdrawalRoot is for its withdrawals (docs/spec/carbon.md).

Signing bytes: packb(["CCOIN-BLOCK", network_id, <the first 14 fields>]).
Block hash: SHA-256(signing bytes + blockSignature); block id: base58 of its first 14 bytes.
payloadHash: Merkle root (`ccoin.types.merkle`) over the transactions' full wire bytes, so it
commits to co-signatures too (the transaction hash does not).
Block wire layout: [header, [transaction, ...]].
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import msgpack

from ccoin.crypto.address import id_from_hash
from ccoin.crypto.keys import KeyPair
from ccoin.errors import DecodeError, ErrorCode
from ccoin.types.codec import (
    field_bytes,
    field_int,
    field_list,
    packb,
    unpack_canonical,
)
from ccoin.types.merkle import merkle_root
from ccoin.types.transaction import CoSignature, Transaction

BLOCK_DOMAIN = "CCOIN-BLOCK"
BLOCK_VERSION = 3
HASH_LEN = 32
MAX_BLOCK_BYTES = 16 * 1024 * 1024
MAX_BLOCK_TRANSACTIONS = 50_000
MAX_ATTESTATION_VOTES = 101
ZERO_HASH = bytes(32)
ZERO_SIGNATURE = bytes(64)
MAX_HEIGHT = 2**63 - 1
# The transactions' INT seconds span, in milliseconds.
MAX_TIMESTAMP_MS = (2**31 - 1) * 1000


@dataclass(frozen=True)
class Attestation:
    """Aggregated finality votes: every signer signed the same (source, target) vote data
    (BSC fast-finality style). The vote's signing bytes are fixed by the consensus issue."""

    source_height: int
    source_hash: bytes
    target_height: int
    target_hash: bytes
    votes: tuple[CoSignature, ...]

    def __post_init__(self) -> None:
        field_int(self.source_height, "attestation.sourceHeight", 0, MAX_HEIGHT)
        field_bytes(self.source_hash, "attestation.sourceHash", size=HASH_LEN)
        field_int(self.target_height, "attestation.targetHeight", 0, MAX_HEIGHT)
        field_bytes(self.target_hash, "attestation.targetHash", size=HASH_LEN)
        if not 1 <= len(self.votes) <= MAX_ATTESTATION_VOTES:
            raise DecodeError(ErrorCode.BAD_FIELD, "attestation.votes: 1 to 101 votes")
        previous = b""
        for vote in self.votes:
            field_bytes(vote.public_key, "attestation.votes[].publicKey", size=32)
            field_bytes(vote.signature, "attestation.votes[].signature", size=64)
            if vote.public_key <= previous:
                raise DecodeError(
                    ErrorCode.NON_CANONICAL, "attestation.votes: sorted by key, no duplicates"
                )
            previous = vote.public_key

    def to_array(self) -> list[Any]:
        return [
            self.source_height,
            self.source_hash,
            self.target_height,
            self.target_hash,
            [[v.public_key, v.signature] for v in self.votes],
        ]

    @classmethod
    def from_array(cls, arr: Any) -> Attestation:
        sh, shash, th, thash, votes = field_list(arr, "attestation", size=5)
        pairs = field_list(votes, "attestation.votes", max_len=MAX_ATTESTATION_VOTES)
        parsed = []
        for pair in pairs:
            pk, sig = field_list(pair, "attestation.votes[]", size=2)
            parsed.append(CoSignature(pk, sig))
        return cls(sh, shash, th, thash, tuple(parsed))

    def to_json(self) -> dict[str, Any]:
        return {
            "sourceHeight": self.source_height,
            "sourceHash": self.source_hash.hex(),
            "targetHeight": self.target_height,
            "targetHash": self.target_hash.hex(),
            "votes": [
                {"publicKey": v.public_key.hex(), "signature": v.signature.hex()}
                for v in self.votes
            ],
        }


@dataclass(frozen=True)
class BlockHeader:
    version: int
    height: int
    previous_block_hash: bytes
    timestamp_ms: int
    generator_public_key: bytes
    payload_hash: bytes
    number_of_transactions: int
    total_amount: int
    total_fee: int
    reward: int
    state_root: bytes
    withdrawal_root: bytes
    attestation: Attestation | None
    block_signature: bytes = ZERO_SIGNATURE
    # On the wire right after withdrawalRoot; last here only because it has a default.
    retirement_root: bytes = ZERO_HASH
    # init=False: `dataclasses.replace` gives the copy a fresh cache, never a stale hash.
    _hash: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        field_int(self.version, "version", 0, 255)
        field_int(self.height, "height", 0, MAX_HEIGHT)
        field_bytes(self.previous_block_hash, "previousBlockHash", size=HASH_LEN)
        field_int(self.timestamp_ms, "timestampMs", 0, MAX_TIMESTAMP_MS)
        field_bytes(self.generator_public_key, "generatorPublicKey", size=32)
        field_bytes(self.payload_hash, "payloadHash", size=HASH_LEN)
        field_int(self.number_of_transactions, "numberOfTransactions", 0, MAX_BLOCK_TRANSACTIONS)
        field_int(self.total_amount, "totalAmount")
        field_int(self.total_fee, "totalFee")
        field_int(self.reward, "reward")
        field_bytes(self.state_root, "stateRoot", size=HASH_LEN)
        field_bytes(self.withdrawal_root, "withdrawalRoot", size=HASH_LEN)
        field_bytes(self.retirement_root, "retirementRoot", size=HASH_LEN)
        if self.attestation is not None and type(self.attestation) is not Attestation:
            raise DecodeError(ErrorCode.WRONG_TYPE, "attestation: expected an Attestation")
        field_bytes(self.block_signature, "blockSignature", size=64)

    @property
    def timestamp_seconds(self) -> int:
        """Whole chain seconds, the unit of transactions' timestamps."""
        return self.timestamp_ms // 1000

    def unsigned_fields(self) -> list[Any]:
        return [
            self.version,
            self.height,
            self.previous_block_hash,
            self.timestamp_ms,
            self.generator_public_key,
            self.payload_hash,
            self.number_of_transactions,
            self.total_amount,
            self.total_fee,
            self.reward,
            self.state_root,
            self.withdrawal_root,
            self.retirement_root,
            self.attestation.to_array() if self.attestation else None,
        ]

    def signing_bytes(self, network_id: bytes) -> bytes:
        return packb([BLOCK_DOMAIN, network_id, *self.unsigned_fields()])

    def hash(self, network_id: bytes) -> bytes:
        cached = self._hash
        if cached and cached[0] == network_id:
            return cached[1]
        digest = hashlib.sha256(self.signing_bytes(network_id) + self.block_signature).digest()
        cached[:] = [network_id, digest]
        return digest

    def id(self, network_id: bytes) -> str:
        return id_from_hash(self.hash(network_id))

    def signed(self, key: KeyPair, network_id: bytes) -> BlockHeader:
        if key.public_key != self.generator_public_key:
            raise ValueError("the key does not match generatorPublicKey")
        signature = key.sign(self.signing_bytes(network_id))
        return replace(self, block_signature=signature)

    def to_array(self) -> list[Any]:
        return [*self.unsigned_fields(), self.block_signature]

    def encode(self) -> bytes:
        return packb(self.to_array())

    @classmethod
    def decode(cls, data: bytes) -> BlockHeader:
        return cls.from_array(unpack_canonical(data, max_size=64 * 1024, what="block header"))

    @classmethod
    def from_array(cls, arr: Any) -> BlockHeader:
        f = field_list(arr, "block header", size=15)
        attestation = None if f[13] is None else Attestation.from_array(f[13])
        return cls(
            version=f[0],
            height=f[1],
            previous_block_hash=f[2],
            timestamp_ms=f[3],
            generator_public_key=f[4],
            payload_hash=f[5],
            number_of_transactions=f[6],
            total_amount=f[7],
            total_fee=f[8],
            reward=f[9],
            state_root=f[10],
            withdrawal_root=f[11],
            retirement_root=f[12],
            attestation=attestation,
            block_signature=f[14],
        )

    def to_json(self, network_id: bytes) -> dict[str, Any]:
        return {
            "id": self.id(network_id),
            "version": self.version,
            "height": self.height,
            "previousBlockHash": self.previous_block_hash.hex(),
            "timestampMs": self.timestamp_ms,
            # whole chain seconds, as transactions' timestamps count
            "timestamp": self.timestamp_seconds,
            "generatorPublicKey": self.generator_public_key.hex(),
            "payloadHash": self.payload_hash.hex(),
            "numberOfTransactions": self.number_of_transactions,
            "totalAmount": str(self.total_amount),
            "totalFee": str(self.total_fee),
            "reward": str(self.reward),
            "stateRoot": self.state_root.hex(),
            "withdrawalRoot": self.withdrawal_root.hex(),
            "retirementRoot": self.retirement_root.hex(),
            "attestation": self.attestation.to_json() if self.attestation else None,
            "blockSignature": self.block_signature.hex(),
            "hash": self.hash(network_id).hex(),
        }


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    transactions: tuple[Transaction, ...] = ()
    # The Merkle root over the transactions, computed once: a received block is checked at
    # the P2P boundary and again by the ledger.
    _payload: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def to_array(self) -> list[Any]:
        return [self.header.to_array(), [tx.to_array() for tx in self.transactions]]

    def encode(self) -> bytes:
        # msgpack nests by concatenation, so the block's bytes are its parts' bytes joined:
        # every transaction's encoding is cached, none is packed again.
        parts = [array_header(2), self.header.encode(), array_header(len(self.transactions))]
        parts.extend(tx.encode() for tx in self.transactions)
        return b"".join(parts)

    @classmethod
    def decode(
        cls, data: bytes, known: Callable[[bytes], Transaction | None] | None = None
    ) -> Block:
        """Decode, rejecting what `unpack_canonical` rejects. `known` may return an already
        decoded transaction for its exact bytes (gossip usually delivered it first)."""
        if not isinstance(data, bytes):
            raise DecodeError(ErrorCode.WRONG_TYPE, "block: expected bytes")
        if len(data) > MAX_BLOCK_BYTES:
            raise DecodeError(ErrorCode.TOO_LONG, f"block: {len(data)} bytes")
        header_raw, tx_raws = _split_block(data)
        txs = []
        for raw in tx_raws:
            tx = known(raw) if known is not None else None
            txs.append(tx if tx is not None else Transaction.decode(raw))
        block = cls(BlockHeader.decode(header_raw), tuple(txs))
        # Outer array headers in their shortest form, nothing before, between or after.
        if b"".join([array_header(2), header_raw, array_header(len(txs)), *tx_raws]) != data:
            raise DecodeError(ErrorCode.NON_CANONICAL, "block: bytes are not canonical")
        return block

    def payload_hash(self) -> bytes:
        if not self._payload:
            self._payload.append(payload_hash(self.transactions))
        return self._payload[0]


def array_header(length: int) -> bytes:
    """The canonical msgpack header of an array of `length` items."""
    if length < 16:
        return bytes([0x90 | length])
    if length < 1 << 16:
        return b"\xdc" + length.to_bytes(2, "big")
    return b"\xdd" + length.to_bytes(4, "big")


def _split_block(data: bytes) -> tuple[bytes, list[bytes]]:
    """The raw bytes of a block's header and of each of its transactions."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=MAX_BLOCK_BYTES)
    unpacker.feed(data)
    try:
        if unpacker.read_array_header() != 2:
            raise DecodeError(ErrorCode.BAD_FIELD, "block: expected [header, transactions]")
        header_start = unpacker.tell()
        unpacker.skip()
        header_end = unpacker.tell()
        count = unpacker.read_array_header()
        if count > MAX_BLOCK_TRANSACTIONS:
            raise DecodeError(ErrorCode.TOO_LONG, f"block: {count} transactions")
        start = unpacker.tell()
        raws = []
        for _ in range(count):
            unpacker.skip()
            end = unpacker.tell()
            raws.append(data[start:end])
            start = end
    except DecodeError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise DecodeError(ErrorCode.DECODE_ERROR, f"block: {exc.__class__.__name__}") from None
    if start != len(data):
        raise DecodeError(ErrorCode.TRAILING_BYTES, "block: trailing bytes")
    return data[header_start:header_end], raws


def payload_hash(transactions: tuple[Transaction, ...] | list[Transaction]) -> bytes:
    return merkle_root([tx.encode() for tx in transactions])
