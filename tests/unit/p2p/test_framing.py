"""Framing: 4-byte big-endian length + payload, over in-memory streams."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from ccoin.p2p.errors import MalformedFrame, P2PClosed, P2PError
from ccoin.p2p.framing import MAX_FRAME, FrameReader, encode_frame, write_frame


async def test_round_trip_several_frames() -> None:
    left, right = trio.testing.memory_stream_pair()
    payloads = [b"a", b"hello" * 1000, bytes(range(256)) * 2000, b"z"]
    for payload in payloads:
        await write_frame(left, payload)
    reader = FrameReader(right)
    assert [await reader.read() for _ in payloads] == payloads


async def test_frames_split_across_arbitrary_chunks() -> None:
    left, right = trio.testing.memory_stream_pair()
    data = encode_frame(b"first") + encode_frame(b"second" * 500) + encode_frame(b"x")
    reader = FrameReader(right)
    async with trio.open_nursery() as nursery:

        async def drip() -> None:
            for i in range(0, len(data), 7):  # 7-byte pieces cut through every header
                await left.send_all(data[i : i + 7])
                await trio.testing.wait_all_tasks_blocked()

        nursery.start_soon(drip)
        assert await reader.read() == b"first"
        assert await reader.read() == b"second" * 500
        assert await reader.read() == b"x"


async def test_clean_eof_between_frames_is_closed() -> None:
    left, right = trio.testing.memory_stream_pair()
    await write_frame(left, b"only")
    await left.aclose()
    reader = FrameReader(right)
    assert await reader.read() == b"only"
    with pytest.raises(P2PClosed):
        await reader.read()


@pytest.mark.parametrize("partial", [b"\x00", b"\x00\x00\x00", b"\x00\x00\x00\x05abc"])
async def test_eof_inside_a_frame(partial: bytes) -> None:
    left, right = trio.testing.memory_stream_pair()
    await left.send_all(partial)
    await left.aclose()
    with pytest.raises(P2PError, match="connection closed mid-frame") as info:
        await FrameReader(right).read()
    assert not isinstance(info.value, P2PClosed | MalformedFrame)


async def test_zero_length_frame_is_malformed() -> None:
    left, right = trio.testing.memory_stream_pair()
    await left.send_all(b"\x00\x00\x00\x00")
    with pytest.raises(MalformedFrame, match="empty frame"):
        await FrameReader(right).read()


async def test_oversize_rejected_before_the_body_is_read() -> None:
    left, right = trio.testing.memory_stream_pair()
    # Only the header is sent: if the reader waited for the body, this would hang.
    await left.send_all((101).to_bytes(4, "big"))
    with trio.fail_after(1), pytest.raises(MalformedFrame, match="frame too large"):
        await FrameReader(right, max_frame=100).read()


async def test_default_limit_and_per_read_limit() -> None:
    left, right = trio.testing.memory_stream_pair()
    await left.send_all((MAX_FRAME + 1).to_bytes(4, "big"))
    with trio.fail_after(1), pytest.raises(MalformedFrame):
        await FrameReader(right).read()

    left, right = trio.testing.memory_stream_pair()
    await write_frame(left, b"x" * 50)
    await write_frame(left, b"y" * 50)
    reader = FrameReader(right)
    assert await reader.read(limit=50) == b"x" * 50
    with pytest.raises(MalformedFrame):
        await reader.read(limit=49)


async def test_max_size_frame_is_accepted() -> None:
    left, right = trio.testing.memory_stream_pair()
    reader = FrameReader(right, max_frame=1000)
    await write_frame(left, b"m" * 1000, max_frame=1000)
    assert await reader.read() == b"m" * 1000


def test_encode_frame_refuses_what_a_reader_would_reject() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    with pytest.raises(P2PError, match="empty frame"):
        encode_frame(b"")
    with pytest.raises(P2PError, match="frame too large"):
        encode_frame(b"x" * 11, max_frame=10)
    with pytest.raises(ValueError):
        FrameReader(trio.testing.memory_stream_pair()[0], max_frame=2**32)
