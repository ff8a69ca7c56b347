"""Wire messages: one frame carries one message, a canonical msgpack array
`[kind, field, ...]` (DESIGN section 3: fixed field order, shortest integers, bin for bytes).

Transactions, blocks and votes travel as opaque bytes here: the node decodes and verifies
them. Decoding is strict: an unknown kind, a wrong number of fields, a wrong type, an
out-of-range integer, an over-long list or item, trailing or non-canonical bytes all raise
`DecodeError`.

    kind  message        fields after the kind
    1     Status         version, network_id, node_name, head_height, head_hash,
                         finalized_height, finalized_hash
    2     Transactions   [tx bytes, ...]
    3     NewBlock       block bytes
    4     Votes          [vote bytes, ...]
    5     GetBlocks      from_height, max_count
    6     Blocks         [block bytes, ...]
    7     Ping           nonce
    8     Pong           nonce
    9     Disconnect     reason
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ccoin.errors import DecodeError, ErrorCode
from ccoin.p2p.framing import MAX_FRAME
from ccoin.types.codec import (
    MAX_BIGINT,
    MAX_UINT64,
    field_bytes,
    field_int,
    field_list,
    field_str,
    packb,
    unpack_canonical,
)

HASH_LEN = 32
MAX_VERSION = 2**32 - 1
MAX_NODE_NAME = 64
MAX_TX_ITEMS = 5_000
MAX_TX_BYTES = 96 * 1024  # above the ledger's 80 KiB transaction limit, never below it
MAX_BLOCK_BYTES = 16 * 1024 * 1024
MAX_VOTE_ITEMS = 1_000
MAX_VOTE_BYTES = 16 * 1024  # a vote is a few hundred bytes; room for the consensus format
MAX_GET_BLOCKS = 500
MAX_BLOCKS_ITEMS = 500
MAX_REASON = 200
MAX_MESSAGE = MAX_FRAME


class Kind(IntEnum):
    STATUS = 1
    TRANSACTIONS = 2
    NEW_BLOCK = 3
    VOTES = 4
    GET_BLOCKS = 5
    BLOCKS = 6
    PING = 7
    PONG = 8
    DISCONNECT = 9


def _items(
    items: tuple[bytes, ...], name: str, *, min_count: int, max_count: int, max_item: int
) -> None:
    if type(items) is not tuple:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected a tuple of byte strings")
    if not min_count <= len(items) <= max_count:
        code = ErrorCode.TOO_LONG if len(items) > max_count else ErrorCode.BAD_FIELD
        raise DecodeError(code, f"{name}: {len(items)} items, allowed {min_count}..{max_count}")
    for i, item in enumerate(items):
        field_bytes(item, f"{name}[{i}]", max_size=max_item)
        if not item:
            raise DecodeError(ErrorCode.BAD_FIELD, f"{name}[{i}]: empty")


def _list(value: Any, name: str, max_count: int) -> tuple[bytes, ...]:
    return tuple(field_list(value, name, max_len=max_count))


@dataclass(frozen=True)
class Status:
    """Handshake, re-sent when the head or finality changes.

    `[1, version:uint32, network_id:bin32, node_name:str<=64, head_height:int,
    head_hash:bin32, finalized_height:int, finalized_hash:bin32]`; heights in [0, 2**63-1].
    """

    version: int
    network_id: bytes
    node_name: str
    head_height: int
    head_hash: bytes
    finalized_height: int
    finalized_hash: bytes

    def __post_init__(self) -> None:
        field_int(self.version, "status.version", 0, MAX_VERSION)
        field_bytes(self.network_id, "status.network_id", size=HASH_LEN)
        field_str(self.node_name, "status.node_name", max_len=MAX_NODE_NAME)
        field_int(self.head_height, "status.head_height", 0, MAX_BIGINT)
        field_bytes(self.head_hash, "status.head_hash", size=HASH_LEN)
        field_int(self.finalized_height, "status.finalized_height", 0, MAX_BIGINT)
        field_bytes(self.finalized_hash, "status.finalized_hash", size=HASH_LEN)

    def encode(self) -> bytes:
        return packb(
            [
                Kind.STATUS.value,
                self.version,
                self.network_id,
                self.node_name,
                self.head_height,
                self.head_hash,
                self.finalized_height,
                self.finalized_hash,
            ]
        )

    @classmethod
    def from_fields(cls, f: list[Any]) -> Status:
        return cls(*f)


@dataclass(frozen=True)
class Transactions:
    """Batched transaction gossip: `[2, [tx:bin<=96KiB, ...]]`, 1..5,000 non-empty items."""

    items: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _items(
            self.items, "transactions", min_count=1, max_count=MAX_TX_ITEMS, max_item=MAX_TX_BYTES
        )

    def encode(self) -> bytes:
        return packb([Kind.TRANSACTIONS.value, list(self.items)])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Transactions:
        return cls(_list(f[0], "transactions", MAX_TX_ITEMS))


@dataclass(frozen=True)
class NewBlock:
    """A freshly produced block: `[3, block:bin]`, 1 byte to 16 MiB."""

    block: bytes

    def __post_init__(self) -> None:
        field_bytes(self.block, "new_block.block", max_size=MAX_BLOCK_BYTES)
        if not self.block:
            raise DecodeError(ErrorCode.BAD_FIELD, "new_block.block: empty")

    def encode(self) -> bytes:
        return packb([Kind.NEW_BLOCK.value, self.block])

    @classmethod
    def from_fields(cls, f: list[Any]) -> NewBlock:
        return cls(f[0])


@dataclass(frozen=True)
class Votes:
    """Finality votes: `[4, [vote:bin<=16KiB, ...]]`, 1..1,000 non-empty items."""

    items: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _items(self.items, "votes", min_count=1, max_count=MAX_VOTE_ITEMS, max_item=MAX_VOTE_BYTES)

    def encode(self) -> bytes:
        return packb([Kind.VOTES.value, list(self.items)])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Votes:
        return cls(_list(f[0], "votes", MAX_VOTE_ITEMS))


@dataclass(frozen=True)
class GetBlocks:
    """Sync request: `[5, from_height:int, max_count:1..500]`, answered with `Blocks`."""

    from_height: int
    max_count: int

    def __post_init__(self) -> None:
        field_int(self.from_height, "get_blocks.from_height", 0, MAX_BIGINT)
        field_int(self.max_count, "get_blocks.max_count", 1, MAX_GET_BLOCKS)

    def encode(self) -> bytes:
        return packb([Kind.GET_BLOCKS.value, self.from_height, self.max_count])

    @classmethod
    def from_fields(cls, f: list[Any]) -> GetBlocks:
        return cls(f[0], f[1])


@dataclass(frozen=True)
class Blocks:
    """Sync response: `[6, [block:bin<=16MiB, ...]]`, 0..500 non-empty items (0: none
    available). The frame limit bounds the total, so large blocks come a few at a time."""

    items: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _items(
            self.items, "blocks", min_count=0, max_count=MAX_BLOCKS_ITEMS, max_item=MAX_BLOCK_BYTES
        )

    def encode(self) -> bytes:
        return packb([Kind.BLOCKS.value, list(self.items)])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Blocks:
        return cls(_list(f[0], "blocks", MAX_BLOCKS_ITEMS))


@dataclass(frozen=True)
class Ping:
    """Liveness probe: `[7, nonce:uint64]`; answered with a `Pong` carrying the same nonce."""

    nonce: int

    def __post_init__(self) -> None:
        field_int(self.nonce, "ping.nonce", 0, MAX_UINT64)

    def encode(self) -> bytes:
        return packb([Kind.PING.value, self.nonce])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Ping:
        return cls(f[0])


@dataclass(frozen=True)
class Pong:
    """Liveness answer: `[8, nonce:uint64]`."""

    nonce: int

    def __post_init__(self) -> None:
        field_int(self.nonce, "pong.nonce", 0, MAX_UINT64)

    def encode(self) -> bytes:
        return packb([Kind.PONG.value, self.nonce])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Pong:
        return cls(f[0])


@dataclass(frozen=True)
class Disconnect:
    """Why the sender is closing: `[9, reason:str<=200]`; the connection closes after it."""

    reason: str

    def __post_init__(self) -> None:
        field_str(self.reason, "disconnect.reason", max_len=MAX_REASON)

    def encode(self) -> bytes:
        return packb([Kind.DISCONNECT.value, self.reason])

    @classmethod
    def from_fields(cls, f: list[Any]) -> Disconnect:
        return cls(f[0])


Message = Status | Transactions | NewBlock | Votes | GetBlocks | Blocks | Ping | Pong | Disconnect

_DECODERS: dict[int, tuple[int, Callable[[list[Any]], Message]]] = {
    Kind.STATUS: (7, Status.from_fields),
    Kind.TRANSACTIONS: (1, Transactions.from_fields),
    Kind.NEW_BLOCK: (1, NewBlock.from_fields),
    Kind.VOTES: (1, Votes.from_fields),
    Kind.GET_BLOCKS: (2, GetBlocks.from_fields),
    Kind.BLOCKS: (1, Blocks.from_fields),
    Kind.PING: (1, Ping.from_fields),
    Kind.PONG: (1, Pong.from_fields),
    Kind.DISCONNECT: (1, Disconnect.from_fields),
}


def decode_message(data: bytes, *, max_size: int = MAX_MESSAGE) -> Message:
    """Decode one frame's payload into its message, or raise `DecodeError`."""
    value = unpack_canonical(data, max_size=max_size, what="p2p message")
    fields = field_list(value, "message")
    if not fields:
        raise DecodeError(ErrorCode.BAD_FIELD, "message: empty array")
    kind = field_int(fields[0], "message.kind", 0, 255)
    entry = _DECODERS.get(kind)
    if entry is None:
        raise DecodeError(ErrorCode.BAD_FIELD, f"message.kind: unknown kind {kind}")
    arity, build = entry
    field_list(fields, f"message({Kind(kind).name.lower()})", size=arity + 1)
    return build(fields[1:])
