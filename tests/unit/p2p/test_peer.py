"""One peer connection over in-memory streams: dispatch, pings, penalties, queues."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import trio
import trio.testing

from ccoin.p2p.errors import P2PError
from ccoin.p2p.framing import FrameReader, write_frame
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
from ccoin.p2p.peer import PeerAddress, PeerConnection, PeerHooks, PeerTimings

NID = b"\x01" * 32
FP = b"\xfe" * 32


def status(network_id: bytes = NID, height: int = 0) -> Status:
    return Status(1, network_id, "remote", height, bytes(32), 0, bytes(32))


@dataclass
class Recorder:
    delivered: list[tuple[bytes, Message]] = field(default_factory=list)
    penalties: list[str] = field(default_factory=list)
    changes: int = 0
    _event: trio.Event = field(default_factory=trio.Event)

    def _poke(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def deliver(self, peer: bytes, message: Message) -> None:
        self.delivered.append((peer, message))
        self._poke()

    def penalize(self, peer: bytes, reason: str) -> None:
        assert peer == FP
        self.penalties.append(reason)
        self._poke()

    def changed(self) -> None:
        self.changes += 1
        self._poke()

    async def wait(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._event.wait()

    @property
    def hooks(self) -> PeerHooks:
        return PeerHooks(deliver=self.deliver, penalize=self.penalize, changed=self.changed)


class Remote:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.reader = FrameReader(stream)

    async def send(self, message: Message) -> None:
        await write_frame(self.stream, message.encode())

    async def receive(self) -> Message:
        return decode_message(await self.reader.read())


@asynccontextmanager
async def connected(
    *,
    send_queue: int = 16,
    timings: PeerTimings | None = None,
    lockstep: bool = False,
) -> AsyncIterator[tuple[PeerConnection, Remote, Recorder]]:
    make = trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
    local, remote = make()
    connection = PeerConnection(
        local,
        FrameReader(local),
        fingerprint=FP,
        name="remote",
        address=PeerAddress("127.0.0.1", 1),
        inbound=True,
        status=status(),
        send_queue=send_queue,
        max_frame=1 << 20,
        timings=timings or PeerTimings(),
    )
    recorder = Recorder()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run, recorder.hooks)
        yield connection, Remote(remote), recorder
        nursery.cancel_scope.cancel()


async def test_payload_messages_are_delivered_in_order() -> None:
    sent: list[Message] = [
        Transactions((b"tx1", b"tx2")),
        NewBlock(b"block"),
        Votes((b"v",)),
        GetBlocks(3, 10),
        Blocks(()),
    ]
    with trio.fail_after(5):
        async with connected() as (_, remote, rec):
            for message in sent:
                await remote.send(message)
            await rec.wait(lambda: len(rec.delivered) == len(sent))
    assert rec.delivered == [(FP, message) for message in sent]
    assert rec.penalties == []


async def test_ping_is_answered() -> None:
    with trio.fail_after(5):
        async with connected() as (_, remote, rec):
            await remote.send(Ping(42))
            assert await remote.receive() == Pong(42)
    assert rec.delivered == []


async def test_answered_pings_keep_the_connection(autojump_clock: trio.testing.MockClock) -> None:
    pings = 0
    async with connected() as (connection, remote, _):

        async def answer() -> None:
            nonlocal pings
            while True:
                message = await remote.receive()
                assert isinstance(message, Ping)
                pings += 1
                await remote.send(Pong(message.nonce))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer)
            await trio.sleep(200)  # virtual time
            nursery.cancel_scope.cancel()
        assert connection.close_reason is None
    assert pings == 200 // 15


async def test_unanswered_ping_times_out(autojump_clock: trio.testing.MockClock) -> None:
    async with connected() as (connection, _, rec):
        start = trio.current_time()
        await connection.closed.wait()
        assert trio.current_time() - start == pytest.approx(15 + 30)
    assert connection.close_reason == "ping timeout"
    assert rec.penalties == ["timeout"]


async def test_wrong_pong_nonce_does_not_count(autojump_clock: trio.testing.MockClock) -> None:
    async with connected() as (connection, remote, rec):
        ping = await remote.receive()
        assert isinstance(ping, Ping)
        await remote.send(Pong(ping.nonce ^ 1))
        await connection.closed.wait()
    assert connection.close_reason == "ping timeout"
    assert rec.penalties == ["timeout"]


async def test_invalid_message_is_penalized_and_reading_goes_on() -> None:
    with trio.fail_after(5):
        async with connected() as (connection, remote, rec):
            await write_frame(remote.stream, b"\xc1")  # never valid msgpack
            await write_frame(remote.stream, b"\x92\x07\xcc\x05")  # non-canonical Ping
            await remote.send(Transactions((b"after",)))
            await rec.wait(lambda: len(rec.delivered) == 1)
            assert connection.close_reason is None
    assert rec.penalties == ["invalid_message", "invalid_message"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"\x00\x00\x00\x00", "empty frame"), (b"\xff\xff\xff\xff", "frame too large")],
)
async def test_malformed_frame_closes_and_penalizes(raw: bytes, reason: str) -> None:
    with trio.fail_after(5):
        async with connected() as (connection, remote, rec):
            await remote.stream.send_all(raw)
            await connection.closed.wait()
    assert connection.close_reason == reason
    assert rec.penalties == ["malformed_frame"]


async def test_status_updates_are_kept_not_delivered() -> None:
    with trio.fail_after(5):
        async with connected() as (connection, remote, rec):
            await remote.send(status(height=5))
            await rec.wait(lambda: rec.changes == 1)
            assert connection.status.head_height == 5
            await remote.send(status(network_id=b"\x02" * 32))
            await connection.closed.wait()
    assert connection.close_reason == "wrong network"
    assert rec.delivered == []


async def test_disconnect_and_eof_close() -> None:
    with trio.fail_after(5):
        async with connected() as (connection, remote, _):
            await remote.send(Disconnect("bye"))
            await connection.closed.wait()
        assert connection.close_reason == "peer disconnected: bye"
        async with connected() as (connection, remote, _):
            await remote.stream.aclose()
            await connection.closed.wait()
        assert connection.close_reason == "closed by peer"


async def test_full_queue_refuses_without_waiting() -> None:
    with trio.fail_after(5):
        async with connected(send_queue=1, lockstep=True) as (connection, remote, _):
            assert connection.enqueue(Ping(1).encode())
            await trio.testing.wait_all_tasks_blocked()  # the writer holds it, blocked
            assert connection.enqueue(Ping(2).encode())  # fills the queue
            assert not connection.enqueue(Ping(3).encode())
            assert await remote.receive() == Ping(1)
            assert await remote.receive() == Ping(2)
            await connection.send(Ping(4).encode())  # waits for space, then goes out
            assert await remote.receive() == Ping(4)


async def test_stuck_writer_times_out(autojump_clock: trio.testing.MockClock) -> None:
    timings = PeerTimings(ping_interval=1000, ping_timeout=1000, write_timeout=30)
    async with connected(lockstep=True, timings=timings) as (connection, _, _):
        connection.enqueue(Ping(1).encode())  # nobody reads the other end
        await connection.closed.wait()
    assert connection.close_reason == "write timeout"


async def test_send_after_close_raises() -> None:
    with trio.fail_after(5):
        async with connected() as (connection, _, _):
            connection.close("test")
            await connection.closed.wait()
            assert connection.close_reason == "test"
            assert not connection.enqueue(b"x")
            with pytest.raises(P2PError, match="peer disconnected"):
                await connection.send(b"x")
