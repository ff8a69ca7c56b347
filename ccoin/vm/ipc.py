"""Frames between the node and a sandboxed contract worker.

A frame is a 4-byte big-endian unsigned length followed by exactly that many bytes of
msgpack holding one map (``{"t": kind, ...}``). Decoding is strict: the length may not
exceed the reader's maximum, the body must be well-formed msgpack of one value with no
trailing bytes, re-pack to the very same bytes (canonical), contain no ext types and no
floats, and be a map with a string ``t``. Every rejection is a typed `FrameError`.

Reads and writes go through raw file descriptors (``os.read`` / ``os.write``) so the
worker needs nothing but the ``read`` and ``write`` syscalls once seccomp is on. The node's
side uses a `FrameReader` (one ``read`` for as many bytes as the pipe holds, frames cut from
a buffer; ``select`` only when the pipe is empty) and `write_frame` with a deadline on a
non-blocking descriptor, so a stuck peer cannot block it past its deadline.

May import: `ccoin.errors`, `msgpack`. No trio, no storage.
"""

from __future__ import annotations

import os
import select
import struct
import time
from typing import Any

import msgpack

from ccoin.errors import CcoinError, ErrorCode

HEADER = struct.Struct(">I")
MAX_FRAME = 4 * 1024 * 1024
"""Default largest body either side accepts (bytes)."""
_MAX_DEPTH = 32


class FrameError(CcoinError):
    """Bytes on the pipe that do not form a valid frame."""


class FrameTooLarge(FrameError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(ErrorCode.TOO_LONG, f"frame of {size} bytes, limit {limit}")


class TruncatedFrame(FrameError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.DECODE_ERROR, message)


class EndOfStream(TruncatedFrame):
    """The stream ended cleanly between frames (`FrameReader`): the peer is gone."""

    def __init__(self) -> None:
        super().__init__("end of stream between frames")


class MalformedFrame(FrameError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.DECODE_ERROR, message)


class TrailingBytes(FrameError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.TRAILING_BYTES, "trailing bytes after the frame body")


class NonCanonicalFrame(FrameError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NON_CANONICAL, message)


class FrameTimeout(FrameError):
    """The peer did not complete a frame before the deadline."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.DECODE_ERROR, "timed out waiting for a frame")


def _reject_ext(code: int, data: bytes) -> Any:
    raise MalformedFrame(f"ext type {code} not allowed")


def encode_frame(message: dict[str, Any], *, max_size: int = MAX_FRAME) -> bytes:
    """Header plus canonical body; raises `FrameTooLarge` or `MalformedFrame`."""
    try:
        body: bytes = msgpack.packb(message, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedFrame(f"value cannot be packed: {exc}") from None
    if len(body) > max_size:
        raise FrameTooLarge(len(body), max_size)
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes, *, max_size: int = MAX_FRAME) -> dict[str, Any]:
    """Decode one frame body (without its header) under the strict rules above."""
    if len(body) > max_size:
        raise FrameTooLarge(len(body), max_size)
    try:
        value = msgpack.unpackb(
            body, raw=False, strict_map_key=True, ext_hook=_reject_ext, use_list=True
        )
    except FrameError:
        raise
    except msgpack.ExtraData:
        raise TrailingBytes() from None
    except (msgpack.OutOfData, ValueError) as exc:
        if isinstance(exc, msgpack.OutOfData) or "incomplete" in str(exc):
            raise TruncatedFrame("frame body ends inside a value") from None
        raise MalformedFrame(f"not msgpack: {exc.__class__.__name__}") from None
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise MalformedFrame(f"not msgpack: {exc.__class__.__name__}") from None
    _check_value(value, 0)
    if msgpack.packb(value, use_bin_type=True) != body:
        raise NonCanonicalFrame("frame body is not canonical msgpack")
    if type(value) is not dict or type(value.get("t")) is not str:
        raise MalformedFrame("frame is not a map with a string 't'")
    return value


def _check_value(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise MalformedFrame("frame nests too deeply")
    if type(value) is float:
        raise MalformedFrame("floats are not allowed")
    if type(value) is list:
        for item in value:
            _check_value(item, depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            _check_value(key, depth + 1)
            _check_value(item, depth + 1)


def decode_frame(data: bytes, *, max_size: int = MAX_FRAME) -> dict[str, Any]:
    """Decode a complete frame held in memory: exactly one header and its body."""
    if len(data) < HEADER.size:
        raise TruncatedFrame("frame shorter than its header")
    (size,) = HEADER.unpack_from(data)
    if size > max_size:
        raise FrameTooLarge(size, max_size)
    if len(data) < HEADER.size + size:
        raise TruncatedFrame(f"frame body has {len(data) - HEADER.size} of {size} bytes")
    if len(data) > HEADER.size + size:
        raise TrailingBytes()
    return decode_body(data[HEADER.size :], max_size=max_size)


def write_frame(
    fd: int, message: dict[str, Any], *, max_size: int = MAX_FRAME, deadline: float | None = None
) -> None:
    """Write one frame fully to `fd`. Without a deadline a blocking write; with one (`fd`
    should then be non-blocking) a missed deadline is `FrameTimeout`."""
    view = memoryview(encode_frame(message, max_size=max_size))
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            if deadline is None:
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise FrameTimeout() from None
            continue
        view = view[written:]


class FrameReader:
    """Frames from a non-blocking `fd`, read in as few ``read`` calls as the data allows.

    Bytes after the frame returned stay buffered for the next `read`. Decoding is
    `decode_body`'s; end of file before a full frame is `TruncatedFrame`, a missed deadline
    `FrameTimeout`.
    """

    CHUNK = 1 << 16

    def __init__(self, fd: int, *, max_size: int = MAX_FRAME) -> None:
        self.fd = fd
        self.max_size = max_size
        self._buffer = bytearray()

    def read(self, deadline: float) -> dict[str, Any]:
        """The next frame; `deadline` is a `time.monotonic()` value, checked even when the
        frame is already buffered (a peer that keeps talking still runs out of time)."""
        if time.monotonic() >= deadline:
            raise FrameTimeout()
        self._fill(HEADER.size, deadline)
        (size,) = HEADER.unpack_from(self._buffer)
        if size > self.max_size:
            raise FrameTooLarge(size, self.max_size)
        end = HEADER.size + size
        self._fill(end, deadline)
        body = bytes(self._buffer[HEADER.size : end])
        del self._buffer[:end]
        return decode_body(body, max_size=self.max_size)

    def at_eof(self) -> bool:
        """Whether the stream has ended with nothing left unread (never waits)."""
        if self._buffer:
            return False
        try:
            return os.read(self.fd, 1) == b""
        except BlockingIOError:
            return False

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            try:
                chunk = os.read(self.fd, max(self.CHUNK, size - len(self._buffer)))
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                    raise FrameTimeout() from None
                continue
            if not chunk:
                if not self._buffer:
                    raise EndOfStream()
                missing = size - len(self._buffer)
                raise TruncatedFrame(f"end of stream with {missing} of {size} bytes missing")
            self._buffer += chunk


def read_frame(
    fd: int, *, max_size: int = MAX_FRAME, deadline: float | None = None
) -> dict[str, Any]:
    """Read one frame from `fd`. `deadline` is a `time.monotonic()` value or None (block).

    End of file before a full frame is `TruncatedFrame`; a missed deadline `FrameTimeout`.
    """
    header = _read_exact(fd, HEADER.size, deadline)
    (size,) = HEADER.unpack(header)
    if size > max_size:
        raise FrameTooLarge(size, max_size)
    return decode_body(_read_exact(fd, size, deadline), max_size=max_size)


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise FrameTimeout()
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise TruncatedFrame(f"end of stream with {missing} of {size} bytes missing")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
