"""The HTTP server against slow and vanishing clients, over real sockets on 127.0.0.1 and
the real clock (the timeouts are Hypercorn's and the kernel's): a stalled request is cut
off after `readTimeoutSeconds`, `maxConnections` and `maxConnectionsPerClient` hold, a disconnect is
one debug line."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
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
from ccoin.rpc.limits import ConnectionSlots
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
