"""The HTTP server against slow and vanishing clients, over real sockets on 127.0.0.1 and
the real clock (the timeouts are Hypercorn's and the kernel's): a stalled request is cut
off after `readTimeoutSeconds`, `maxConnections` and `maxConnectionsPerClient` hold, a disconnect is
one debug line."""

from __future__ import annotations

import contextlib
import errno
import logging
import resource
import select
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trio

from ccoin.node.clock import ChainClock
from ccoin.node.config import RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.p2p.peer import PeerAddress
from ccoin.rpc.limits import FILES_BESIDE_CONNECTIONS, ConnectionSlots
from ccoin.rpc.server import RpcServer
from tests.unit.rpc.conftest import NET, node_config

WAIT = 10.0  # seconds: the most any awaited event may take
STALLED_HEAD = (
    b"POST /rpc HTTP/1.1\r\nHost: ccoin.test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
    b'{"jsonrpc": "2.0", '
)  # headers, then a body that never ends


class Records(logging.Handler):
    """Every record of the `ccoin` loggers, debug included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record)

    def named(self, message: str) -> list[logging.LogRecord]:
        return [r for r in self.lines if r.getMessage() == message]

    def text(self) -> str:
        formatter = logging.Formatter()
        return "\n".join(formatter.format(r) for r in self.lines)


@dataclass
class Served:
    server: RpcServer
    url: str
    log: Records

    async def status(self) -> None:
        """One ordinary call, answered."""
        async with httpx.AsyncClient(base_url=self.url, timeout=WAIT) as http:
            response = await http.post(
                "/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}
            )
        assert response.status_code == 200
        assert response.json()["result"]["networkId"]


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, **limits: int) -> AsyncIterator[Served]:
    node = Node(
        node_config(tmp_path, PoolLimits()),
        NET.genesis,
        NET.delegates[0],
        clock=ChainClock(unix_at_start=NET.genesis.genesis_time),
    )
    server = RpcServer(node, RpcConfig(listen=PeerAddress("127.0.0.1", 0), **limits))
    records = Records()
    logger = logging.getLogger("ccoin")
    level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    try:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(server.run)
            yield Served(server, url, records)
            nursery.cancel_scope.cancel()
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
        node.close()


async def stalled(url: str) -> trio.SocketStream:
    port = int(url.rsplit(":", 1)[1])
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(STALLED_HEAD)
    return stream


async def closed_by_server(stream: trio.SocketStream) -> None:
    """Until the server closes the connection (whatever it sent first)."""
    with contextlib.suppress(trio.BrokenResourceError):
        for _ in range(1000):  # a bounded read: a 408 or nothing, then EOF
            if await stream.receive_some(65536) == b"":
                return
    # a reset is a close as well


async def wait_until(condition: Callable[[], bool]) -> None:
    with trio.fail_after(WAIT):
        while not condition():
            await trio.sleep(0.01)  # a poll of in-process state, bounded by WAIT


def assert_quiet(log: Records) -> None:
    assert not [r for r in log.lines if r.levelno >= logging.WARNING], log.text()
    assert not [r for r in log.lines if r.exc_info], log.text()
    assert "Traceback" not in log.text()


async def test_a_stalled_request_is_cut_off_after_the_read_timeout(tmp_path: Path) -> None:
    async with serve(tmp_path, read_timeout_seconds=1) as served:
        slow = await stalled(served.url)
        started = trio.current_time()
        await served.status()  # others are answered while it stalls
        with trio.fail_after(WAIT):
            await closed_by_server(slow)
        assert trio.current_time() - started >= 0.9
        await slow.aclose()
        await served.status()
        assert_quiet(served.log)


@pytest.mark.parametrize("cap_name", ["max_connections", "max_connections_per_client"])
async def test_the_connection_cap_holds_and_the_log_stays_small(
    tmp_path: Path, cap_name: str
) -> None:
    cap, attackers = 20, 50
    # 2 s: all 50 connect well before the first held one times out
    async with serve(tmp_path, read_timeout_seconds=2, **{cap_name: cap}) as served:
        server = served.server
        streams = []
        most = 0
        for _ in range(attackers):
            streams.append(await stalled(served.url))
            most = max(most, server.open_connections)
        await wait_until(lambda: server.open_connections + server.refused == attackers)
        assert server.refused == attackers - cap
        assert server.open_connections == cap
        with trio.fail_after(WAIT):
            for stream in streams:  # the excess at once, the others after the read timeout
                await closed_by_server(stream)
        await wait_until(lambda: server.open_connections == 0)
        assert most <= cap
        await served.status()  # still serving
        for stream in streams:
            await stream.aclose()
        assert_quiet(served.log)
        # at most one line per connection: a few kB, not 40 lines of traceback each
        assert len(served.log.lines) <= attackers + 5, served.log.text()


async def test_a_client_gone_mid_body_is_one_debug_line(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        gone = await stalled(served.url)
        await gone.aclose()
        await wait_until(lambda: bool(served.log.named("rpc_client_disconnected")))
        await served.status()
        (line,) = served.log.named("rpc_client_disconnected")
        assert line.levelno == logging.DEBUG and line.exc_info is None
        assert line.fields == {"client": "127.0.0.1", "path": "/rpc"}  # type: ignore[attr-defined]
        others = [r for r in served.log.lines if r.getMessage() != "rpc_listening"]
        assert others == [line], served.log.text()
        assert_quiet(served.log)


def test_one_client_cannot_take_every_slot() -> None:
    slots = ConnectionSlots(total=10, per_client=4)
    assert [slots.take("10.0.0.1") for _ in range(6)] == [True] * 4 + [False] * 2
    assert all(slots.take("10.0.0.2") for _ in range(4))  # others are still served
    assert [slots.take("10.0.0.3") for _ in range(3)] == [True, True, False]  # the total
    slots.give("10.0.0.1")
    assert slots.take("10.0.0.3") and not slots.take("10.0.0.4")
    for client in ["10.0.0.1"] * 3 + ["10.0.0.2"] * 4 + ["10.0.0.3"] * 3:
        slots.give(client)
    assert slots.open == 0 and slots.take("10.0.0.1")


async def test_a_request_cut_off_by_the_read_timeout_gets_no_answer(tmp_path: Path) -> None:
    """Closed, not answered: the request was never whole (Starlette would answer the
    disconnect with a 500, and Hypercorn would still send it before closing)."""
    async with serve(tmp_path, read_timeout_seconds=1) as served:
        slow = await stalled(served.url)
        received = b""
        with trio.fail_after(WAIT), contextlib.suppress(trio.BrokenResourceError):
            for _ in range(1000):  # a bounded read, to EOF
                chunk = await slow.receive_some(65536)
                if not chunk:
                    break
                received += chunk
        assert received == b""
        await slow.aclose()
        await served.status()
        assert_quiet(served.log)


async def test_a_burst_of_connections_waits_in_the_listen_queue(tmp_path: Path) -> None:
    """500 connects while the server cannot accept (this test holds the event loop): each
    one completes in the listen queue. With Hypercorn's backlog of 100 the kernel would drop
    the SYNs past it, and those clients would wait a second or more for each retry."""
    burst = 500
    async with serve(tmp_path, max_connections_per_client=burst + 1) as served:
        port = int(served.url.rsplit(":", 1)[1])
        socks = []
        try:
            for _ in range(burst):
                sock = socket.socket()
                socks.append(sock)
                sock.setblocking(False)
                assert sock.connect_ex(("127.0.0.1", port)) in (0, errno.EINPROGRESS)
            waiting = list(socks)
            deadline = time.monotonic() + WAIT
            while waiting and time.monotonic() < deadline:  # the handshakes, not the server
                _, done, _ = select.select([], waiting, [], deadline - time.monotonic())
                waiting = [s for s in waiting if s not in done]
            assert not waiting, f"{len(waiting)} of {burst} connects not completed"
            assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for s in socks)
        finally:
            for sock in socks:
                sock.close()
        await served.status()


@contextlib.contextmanager
def soft_file_limit(soft: int) -> Iterator[None]:
    old, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (old, hard))


async def test_the_open_file_limit_is_raised_to_fit_max_connections(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000 + FILES_BESIDE_CONNECTIONS:
        pytest.skip(f"the hard limit of open files is {hard}")
    with soft_file_limit(1024):
        async with serve(tmp_path, max_connections=2000) as served:
            assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 2000 + FILES_BESIDE_CONNECTIONS
            assert served.server.slots.total == 2000
            await served.status()
            assert_quiet(served.log)


async def test_a_hard_limit_too_low_lowers_the_cap_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connections never take the files the rest of the node needs (accept would fail
    with EMFILE, and so would the store's next file)."""
    raised: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 1536))
    monkeypatch.setattr(resource, "setrlimit", lambda _, value: raised.append(value))
    async with serve(tmp_path, max_connections=4000, max_connections_per_client=3000) as served:
        assert raised == [(1536, 1536)]
        assert served.server.slots.total == 1536 - FILES_BESIDE_CONNECTIONS
        assert served.server.slots.per_client == 1536 - FILES_BESIDE_CONNECTIONS
        await served.status()
    (line,) = [r for r in served.log.lines if r.levelno >= logging.WARNING]
    assert line.getMessage() == "rpc_file_limit"
    assert line.fields == {"files": 1536, "maxConnections": 4000, "serving": 1024}  # type: ignore[attr-defined]


async def test_a_closed_connection_gives_its_slot_back_at_once(tmp_path: Path) -> None:
    """One request per connection, then the client closes: the server closes its end and
    frees the slot then, not after the keep-alive timer (Hypercorn waits for it, in
    CLOSE-WAIT, and the 129th such call within `idleTimeoutSeconds` was refused)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}

    def call(url: str) -> int:  # a client on its own thread, as a real one would be
        return httpx.post(f"{url}/rpc", json=body, timeout=WAIT).status_code

    async with serve(tmp_path, idle_timeout_seconds=3600) as served:
        for _ in range(10):
            assert await trio.to_thread.run_sync(call, served.url) == 200
            await wait_until(lambda: served.server.open_connections == 0)
        assert served.server.refused == 0
        assert_quiet(served.log)


async def test_a_kept_alive_connection_is_closed_after_the_read_timeout(tmp_path: Path) -> None:
    """Hypercorn reads nothing more from a connection silent for `readTimeoutSeconds`, so
    the server closes it then, rather than keeping it unread until `idleTimeoutSeconds`."""
    async with serve(tmp_path, read_timeout_seconds=1, idle_timeout_seconds=3600) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=WAIT) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}
            assert (await http.post("/rpc", json=body)).status_code == 200
            assert served.server.open_connections == 1  # kept alive
            started = trio.current_time()
            await wait_until(lambda: served.server.open_connections == 0)
            assert trio.current_time() - started >= 0.5
            assert (await http.post("/rpc", json=body)).status_code == 200  # a new one
        assert_quiet(served.log)
