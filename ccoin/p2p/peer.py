"""One established, authenticated connection: a reader, a writer and a pinger task.

The writer drains a bounded queue of encoded messages, so a slow peer fills its own queue
and nobody else's. Ping, Pong, Status and Disconnect are handled here; everything else is
handed to `PeerHooks.deliver` (the network's inbox). Misbehaviour goes to
`PeerHooks.penalize`, which may close the connection.

A connection closes when any of its tasks ends; `close(reason)` records the first reason.
No Disconnect message is sent on a live connection: the writer may be cut off mid-frame,
after which the stream is unusable (trio's SSLStream is broken by a cancelled send).
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from ccoin.errors import DecodeError
from ccoin.node.log import event
from ccoin.p2p.errors import MalformedFrame, P2PClosed, P2PError
from ccoin.p2p.framing import FrameReader, write_frame
from ccoin.p2p.messages import Disconnect, Message, Ping, Pong, Status, decode_message

# Errors a broken or closed transport raises; anything else is a bug and propagates.
TRANSPORT_ERRORS = (
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    ssl.SSLError,
    OSError,
)


@dataclass(frozen=True)
class PeerAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class PeerHooks:
    deliver: Callable[[bytes, Message], Awaitable[None]]
    penalize: Callable[[bytes, str], None]
    changed: Callable[[], None]


@dataclass(frozen=True)
class PeerTimings:
    ping_interval: float = 15.0
    ping_timeout: float = 30.0
    write_timeout: float = 30.0


class PeerConnection:
    def __init__(
        self,
        stream: trio.abc.Stream,
        reader: FrameReader,
        *,
        fingerprint: bytes,
        name: str,
        address: PeerAddress,
        inbound: bool,
        status: Status,
        send_queue: int,
        max_frame: int,
        timings: PeerTimings,
    ) -> None:
        self.fingerprint = fingerprint
        self.name = name
        self.address = address
        self.inbound = inbound
        self.status = status
        self.closed = trio.Event()
        self.close_reason: str | None = None
        self._stream = stream
        self._reader = reader
        self._max_frame = max_frame
        self._timings = timings
        self._queue_in, self._queue_out = trio.open_memory_channel[bytes](send_queue)
        self._scope = trio.CancelScope()
        self._pong_nonce: int | None = None
        self._pong = trio.Event()

    def enqueue(self, payload: bytes) -> bool:
        """Queue without waiting; False when the queue is full or the connection closed."""
        try:
            self._queue_in.send_nowait(payload)
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return True

    async def send(self, payload: bytes) -> None:
        """Queue, waiting for space; `P2PError` if the connection closes meanwhile."""
        try:
            await self._queue_in.send(payload)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise P2PError("peer disconnected") from None

    def close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
        self._scope.cancel()

    async def run(self, hooks: PeerHooks) -> None:
        """Run until the connection ends; the caller closes the stream afterwards."""
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._guard, self._write_loop)
                    nursery.start_soon(self._guard, self._ping_loop, hooks)
                    await self._guard(self._read_loop, hooks)
                    nursery.cancel_scope.cancel()
        finally:
            self._queue_in.close()
            self._queue_out.close()
            self.closed.set()

    async def _guard(self, loop: Callable[..., Awaitable[None]], *args: object) -> None:
        try:
            await loop(*args)
        except P2PClosed:
            self.close("closed by peer")
        except P2PError as exc:
            self.close(exc.reason)
        except trio.TooSlowError:
            self.close("write timeout")
        except TRANSPORT_ERRORS as exc:
            self.close(f"connection lost ({exc.__class__.__name__})")
        self._scope.cancel()

    async def _read_loop(self, hooks: PeerHooks) -> None:
        while True:
            try:
                payload = await self._reader.read()
            except MalformedFrame:
                hooks.penalize(self.fingerprint, "malformed_frame")
                raise
            try:
                message = decode_message(payload, max_size=self._max_frame)
            except DecodeError as exc:
                event("peer_invalid_message", peer=self.fingerprint.hex()[:16], error=str(exc))
                hooks.penalize(self.fingerprint, "invalid_message")
                continue
            await self._dispatch(message, hooks)

    async def _dispatch(self, message: Message, hooks: PeerHooks) -> None:
        if isinstance(message, Ping):
            self.enqueue(Pong(message.nonce).encode())  # dropped when full: we are clogged
        elif isinstance(message, Pong):
            if message.nonce == self._pong_nonce:
                self._pong_nonce = None
                self._pong.set()
        elif isinstance(message, Status):
            if message.network_id != self.status.network_id:
                raise P2PError("wrong network")
            self.status = message
            hooks.changed()
        elif isinstance(message, Disconnect):
            raise P2PError(f"peer disconnected: {message.reason}")
        else:
            await hooks.deliver(self.fingerprint, message)

    async def _write_loop(self) -> None:
        async for payload in self._queue_out:
            with trio.fail_after(self._timings.write_timeout):
                await write_frame(self._stream, payload, self._max_frame)

    async def _ping_loop(self, hooks: PeerHooks) -> None:
        while True:
            await trio.sleep(self._timings.ping_interval)
            self._pong_nonce = secrets.randbits(64)
            self._pong = trio.Event()
            self.enqueue(Ping(self._pong_nonce).encode())  # if dropped, the timeout follows
            with trio.move_on_after(self._timings.ping_timeout):
                await self._pong.wait()
                continue
            hooks.penalize(self.fingerprint, "timeout")
            raise P2PError("ping timeout")
