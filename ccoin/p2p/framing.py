"""Frames: a 4-byte big-endian length, then that many payload bytes (one message).

A zero length is malformed (no message encodes to nothing), and a length above the limit
is rejected before any of the body is read, so a peer cannot make us buffer it.
"""

from __future__ import annotations

import trio

from ccoin.p2p.errors import MalformedFrame, P2PClosed, P2PError

HEADER_LEN = 4
# The largest message is a NewBlock carrying a 16 MiB block, plus its msgpack envelope.
MAX_FRAME = 16 * 1024 * 1024 + 1024
_CHUNK = 256 * 1024


class FrameReader:
    """Reads whole frames from a stream, buffering what arrives past the current frame."""

    def __init__(self, stream: trio.abc.ReceiveStream, max_frame: int = MAX_FRAME) -> None:
        if not 0 < max_frame < 2**32:
            raise ValueError("max_frame must fit in the 4-byte length")
        self._stream = stream
        self._max_frame = max_frame
        self._buffer = bytearray()

    async def read(self, *, limit: int | None = None) -> bytes:
        """The next frame's payload; `limit` lowers the maximum for this frame only.

        Raises `P2PClosed` on a clean end of stream between frames, `MalformedFrame` (a
        `P2PError`) for an empty or oversized frame, and `P2PError` for an end of stream
        inside a frame.
        """
        await self._fill(HEADER_LEN)
        length = int.from_bytes(self._buffer[:HEADER_LEN], "big")
        if length == 0:
            raise MalformedFrame("empty frame")
        if length > min(self._max_frame, limit or self._max_frame):
            raise MalformedFrame("frame too large")
        await self._fill(HEADER_LEN + length)
        payload = bytes(self._buffer[HEADER_LEN : HEADER_LEN + length])
        del self._buffer[: HEADER_LEN + length]
        return payload

    async def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            want = max(_CHUNK // 4, min(size - len(self._buffer), _CHUNK))
            chunk = await self._stream.receive_some(want)
            if not chunk:
                if self._buffer:
                    raise P2PError("connection closed mid-frame")
                raise P2PClosed()
            self._buffer += chunk


def encode_frame(payload: bytes, max_frame: int = MAX_FRAME) -> bytes:
    if not payload:
        raise P2PError("empty frame")
    if len(payload) > max_frame:
        raise P2PError("frame too large")
    return len(payload).to_bytes(HEADER_LEN, "big") + payload


async def write_frame(
    stream: trio.abc.SendStream, payload: bytes, max_frame: int = MAX_FRAME
) -> None:
    """Send one frame in a single `send_all` (one write, header and body together)."""
    await stream.send_all(encode_frame(payload, max_frame))
