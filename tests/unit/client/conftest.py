"""An in-process node behind the real ASGI app, and clients that reach it without sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import trio

from ccoin.client import AsyncClient
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig, RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.p2p.peer import PeerAddress
from ccoin.rpc.app import RpcApp
from ccoin.testing import factories as f

NET = f.make_testnet(accounts=8, delegates=1, genesis_time=1_800_000_000)
URL = "http://node.test"


def make_node(tmp_path: Path) -> Node:
    config = NodeConfig(
        "n0", tmp_path / "data", tmp_path / "genesis.json", None, None, PoolLimits()
    )
    clock = ChainClock(unix_at_start=NET.genesis.genesis_time)
    return Node(config, NET.genesis, NET.delegates[0], clock=clock)


def asgi_app(node: Node) -> object:
    return RpcApp(node, RpcConfig(listen=PeerAddress("127.0.0.1", 0))).app


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the app and records the JSON-RPC method of each."""

    inner: httpx.AsyncBaseTransport
    methods: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(orjson.loads(request.content)["method"])
        return await self.inner.handle_async_request(request)


@dataclass
class Served:
    node: Node
    client: AsyncClient
    transport: Recorder


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[Served]:
    """A running node and an `AsyncClient` whose clock is the node's."""
    node = make_node(tmp_path)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            transport = Recorder(httpx.ASGITransport(app=asgi_app(node)))  # type: ignore[arg-type]
            async with AsyncClient(URL, transport=transport, clock=node.clock.now) as client:
                yield Served(node, client, transport)
            nursery.cancel_scope.cancel()
    finally:
        node.close()
