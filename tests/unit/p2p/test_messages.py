"""Wire messages: every message round-trips, and malformed encodings raise DecodeError."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccoin.errors import DecodeError, ErrorCode
from ccoin.p2p import messages as m
from ccoin.p2p.messages import (
    Blocks,
    Disconnect,
    GetBlocks,
    Message,
    NewBlock,
    Ping,
    Pong,
    Status,
    Transactions,
    Votes,
    decode_message,
)
from ccoin.types.codec import packb

EXAMPLES = settings(max_examples=60, deadline=None)

hash32 = st.binary(min_size=32, max_size=32)
height = st.integers(0, 2**63 - 1)
blob = st.binary(min_size=1, max_size=64)
items = st.lists(blob, min_size=1, max_size=8).map(tuple)
nonce = st.integers(0, 2**64 - 1)

messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(
        Status,
        version=st.integers(0, 2**32 - 1),
        network_id=hash32,
        node_name=st.text(max_size=64),
        head_height=height,
        head_hash=hash32,
        finalized_height=height,
        finalized_hash=hash32,
    ),
    st.builds(Transactions, items),
    st.builds(NewBlock, blob),
    st.builds(Votes, items),
    st.builds(GetBlocks, height, st.integers(1, 500)),
    st.builds(Blocks, st.lists(blob, max_size=8).map(tuple)),
    st.builds(Ping, nonce),
    st.builds(Pong, nonce),
    st.builds(Disconnect, st.text(max_size=200)),
)

# A value of the wrong type for each kind of field.
WRONG_VALUES: list[Any] = [None, True, 1.5, "text", b"bytes", [1], {"a": 1}]


def fields_of(message: Message) -> list[Any]:
    value = msgpack.unpackb(message.encode(), raw=False)
    assert isinstance(value, list)
    return value


def rejects(data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_message(data)
    return info.value


@EXAMPLES
@given(messages)
def test_round_trip(message: Message) -> None:
    data = message.encode()
    assert decode_message(data) == message
    assert decode_message(data).encode() == data


@EXAMPLES
@given(messages)
def test_layout_is_kind_then_fields(message: Message) -> None:
    fields = fields_of(message)
    kinds = {
        Status: 1,
        Transactions: 2,
        NewBlock: 3,
        Votes: 4,
        GetBlocks: 5,
        Blocks: 6,
        Ping: 7,
        Pong: 8,
        Disconnect: 9,
    }
    assert fields[0] == kinds[type(message)]
    assert len(fields) == 1 + len(message.__dataclass_fields__)


@EXAMPLES
@given(messages, st.data())
def test_wrong_arity_rejected(message: Message, data: st.DataObject) -> None:
    fields = fields_of(message)
    extra = data.draw(st.sampled_from([0, b"", "x", None]))
    assert rejects(packb([*fields, extra])).code is ErrorCode.BAD_FIELD
    assert rejects(packb(fields[:-1])).code is ErrorCode.BAD_FIELD


@EXAMPLES
@given(messages, st.data())
def test_wrong_field_type_rejected(message: Message, data: st.DataObject) -> None:
    fields = fields_of(message)
    index = data.draw(st.integers(1, len(fields) - 1))
    original = fields[index]
    candidates = [v for v in WRONG_VALUES if type(v) is not type(original)]
    if type(original) is int:
        candidates.append(-1)  # every integer field is non-negative
    mutated = [*fields]
    mutated[index] = data.draw(st.sampled_from(candidates))
    rejects(packb(mutated))


@EXAMPLES
@given(messages, st.binary(min_size=1, max_size=4))
def test_trailing_bytes_rejected(message: Message, tail: bytes) -> None:
    assert rejects(message.encode() + tail).code is ErrorCode.TRAILING_BYTES


@EXAMPLES
@given(messages, st.data())
def test_every_truncation_rejected(message: Message, data: st.DataObject) -> None:
    encoded = message.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    rejects(encoded[:cut])


@pytest.mark.parametrize("kind", [0, 10, 127, 255, -1, 256, 2**40])
def test_unknown_kind_rejected(kind: int) -> None:
    rejects(packb([kind, 1]))


@pytest.mark.parametrize(
    "value",
    [[], {}, 7, b"\x07", "status", None, [True, 1], [7.0, 1]],
)
def test_not_a_message_array(value: Any) -> None:
    rejects(packb(value))


def test_non_canonical_bytes_rejected() -> None:
    # Ping(5) is 92 07 05; the kind and the nonce written as uint8 (cc) are not canonical.
    assert Ping(5).encode() == b"\x92\x07\x05"
    assert rejects(b"\x92\xcc\x07\x05").code is ErrorCode.NON_CANONICAL
    assert rejects(b"\x92\x07\xcc\x05").code is ErrorCode.NON_CANONICAL
    # An array-16 header for a 2-element array.
    assert rejects(b"\xdc\x00\x02\x07\x05").code is ErrorCode.NON_CANONICAL


def test_size_limit_checked_before_parsing() -> None:
    data = Disconnect("x" * 100).encode()
    assert rejects_with_limit(data, len(data) - 1).code is ErrorCode.TOO_LONG
    assert decode_message(data, max_size=len(data)) == Disconnect("x" * 100)


def rejects_with_limit(data: bytes, limit: int) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode_message(data, max_size=limit)
    return info.value


@pytest.mark.parametrize(
    ("kind", "count"),
    [(2, m.MAX_TX_ITEMS + 1), (4, m.MAX_VOTE_ITEMS + 1), (6, m.MAX_BLOCKS_ITEMS + 1)],
)
def test_oversize_lists_rejected(kind: int, count: int) -> None:
    assert rejects(packb([kind, [b"x"] * count])).code is ErrorCode.TOO_LONG
    decode_message(packb([kind, [b"x"] * (count - 1)]))  # the limit itself is fine


@pytest.mark.parametrize(
    ("kind", "limit"),
    [(2, m.MAX_TX_BYTES), (4, m.MAX_VOTE_BYTES), (6, m.MAX_BLOCK_BYTES)],
)
def test_oversize_items_rejected(kind: int, limit: int) -> None:
    assert rejects(packb([kind, [b"ok", b"x" * (limit + 1)]])).code is ErrorCode.TOO_LONG
    decode_message(packb([kind, [b"x" * limit]]))


def test_new_block_size() -> None:
    assert rejects(packb([3, b"x" * (m.MAX_BLOCK_BYTES + 1)])).code is ErrorCode.TOO_LONG
    assert decode_message(packb([3, b"x" * m.MAX_BLOCK_BYTES])) == NewBlock(
        b"x" * m.MAX_BLOCK_BYTES
    )
    rejects(packb([3, b""]))


@pytest.mark.parametrize(
    "fields",
    [
        [2, []],  # Transactions needs at least one item
        [4, []],
        [2, [b""]],  # items are never empty
        [6, [b"block", b""]],
        [5, 0, 0],  # max_count in 1..500
        [5, 0, 501],
        [5, -1, 1],
        [5, 2**63, 1],
        [7, -1],
        [1, 1, b"\x00" * 31, "n", 0, b"\x00" * 32, 0, b"\x00" * 32],  # network_id size
        [1, 1, b"\x00" * 32, "n" * 65, 0, b"\x00" * 32, 0, b"\x00" * 32],  # node_name length
        [1, 2**32, b"\x00" * 32, "n", 0, b"\x00" * 32, 0, b"\x00" * 32],  # version range
        [1, 1, b"\x00" * 32, "n", 0, b"\x00" * 32, -1, b"\x00" * 32],
        [9, "r" * 201],
        [9, b"reason"],
        [2, [b"a", "b"]],
        [2, b"not a list"],
    ],
)
def test_out_of_range_and_invalid_fields(fields: list[Any]) -> None:
    rejects(packb(fields))


def test_blocks_may_be_empty() -> None:
    assert decode_message(Blocks(()).encode()) == Blocks(())


def test_constructors_validate_like_the_decoder() -> None:
    with pytest.raises(DecodeError):
        Transactions(())
    with pytest.raises(DecodeError):
        Transactions([b"x"])  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        GetBlocks(0, 501)
    with pytest.raises(DecodeError):
        Status(1, b"short", "n", 0, bytes(32), 0, bytes(32))
    with pytest.raises(DecodeError):
        Ping(2**64)
    with pytest.raises(DecodeError):
        Disconnect("x" * 201)
