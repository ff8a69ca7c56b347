"""Frame encoding and the strict decoder of `ccoin.vm.ipc`."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import msgpack
import pytest

from ccoin.errors import ErrorCode
from ccoin.vm import ipc


def test_round_trip() -> None:
    message = {"t": "get", "key": b"\x00k", "n": [1, -2, None, "x"]}
    assert ipc.decode_frame(ipc.encode_frame(message)) == message


def test_oversized_frame_rejected_on_encode_and_decode() -> None:
    with pytest.raises(ipc.FrameTooLarge) as info:
        ipc.encode_frame({"t": "x", "blob": b"a" * 100}, max_size=64)
    assert info.value.code is ErrorCode.TOO_LONG
    header_only = ipc.HEADER.pack(ipc.MAX_FRAME + 1)
    with pytest.raises(ipc.FrameTooLarge):
        ipc.decode_frame(header_only)


def test_truncated_frames_rejected() -> None:
    frame = ipc.encode_frame({"t": "x", "v": b"abc"})
    with pytest.raises(ipc.TruncatedFrame):
        ipc.decode_frame(frame[:3])
    with pytest.raises(ipc.TruncatedFrame):
        ipc.decode_frame(frame[:-1])
    # A header that lies about a shorter body leaves the value cut off.
    body = frame[ipc.HEADER.size :]
    with pytest.raises(ipc.TruncatedFrame):
        ipc.decode_body(body[:-1])


def test_trailing_bytes_rejected() -> None:
    frame = ipc.encode_frame({"t": "x"})
    with pytest.raises(ipc.TrailingBytes):
        ipc.decode_frame(frame + b"\x00")
    body = msgpack.packb({"t": "x"}) + b"\xc0"
    with pytest.raises(ipc.TrailingBytes) as info:
        ipc.decode_frame(ipc.HEADER.pack(len(body)) + body)
    assert info.value.code is ErrorCode.TRAILING_BYTES


@pytest.mark.parametrize(
    "body",
    [
        b"\xc1",  # the one byte msgpack never uses
        b"\x81\xa1t",  # a map cut short (seen as out of data)
        msgpack.packb([1, 2]),  # not a map
        msgpack.packb({"u": 1}),  # no kind
        msgpack.packb({"t": 1}),  # kind not a string
        msgpack.packb({"t": "x", "f": 1.5}),  # floats
        msgpack.packb({"t": "x", "e": msgpack.ExtType(1, b"z")}),  # ext types
        msgpack.packb({1: "x"}),  # non-string map key
    ],
)
def test_malformed_bodies_rejected(body: bytes) -> None:
    with pytest.raises(ipc.FrameError):
        ipc.decode_body(body)


def test_non_canonical_rejected() -> None:
    # 1 as a uint16 instead of a positive fixint.
    body = b"\x82\xa1t\xa1x\xa1n\xcd\x00\x01"
    assert msgpack.unpackb(body) == {"t": "x", "n": 1}
    with pytest.raises(ipc.NonCanonicalFrame):
        ipc.decode_body(body)


def test_deep_nesting_rejected() -> None:
    value: object = []
    for _ in range(100):
        value = [value]
    with pytest.raises(ipc.MalformedFrame):
        ipc.decode_body(msgpack.packb({"t": "x", "v": value}))


def test_unpackable_value_is_a_typed_error() -> None:
    with pytest.raises(ipc.MalformedFrame):
        ipc.encode_frame({"t": "x", "v": object()})


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_pipe_round_trip_and_eof(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    ipc.write_frame(write_fd, {"t": "a", "v": b"x" * 60000})
    assert ipc.read_frame(read_fd)["v"] == b"x" * 60000
    os.write(write_fd, ipc.encode_frame({"t": "b"})[:-1])
    os.close(write_fd)
    with pytest.raises(ipc.TruncatedFrame):
        ipc.read_frame(read_fd)


def test_pipe_oversized_header_rejected_before_body(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    os.write(write_fd, ipc.HEADER.pack(1 << 30))
    with pytest.raises(ipc.FrameTooLarge):
        ipc.read_frame(read_fd, max_size=1024)


def test_pipe_deadline(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    os.write(write_fd, b"\x00\x00")  # half a header, then silence
    with pytest.raises(ipc.FrameTimeout):
        ipc.read_frame(read_fd, deadline=time.monotonic() + 0.05)
