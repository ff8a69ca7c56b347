"""An in-process node behind the ASGI app, talked to with httpx: no sockets, no sleeps.

`open_api` builds a node from the shared test genesis and wraps it in `RpcApp`. With
`run=False` the node never produces a block, so the chain stands still and a test can
compare state before and after exactly; with `run=True` it produces under trio's
`MockClock` (autojump), so slots pass as fast as the machine can apply blocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode
from ccoin.node.clock import ChainClock
from ccoin.node.config import BridgeNodeConfig, NodeConfig, RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.p2p.peer import PeerAddress
from ccoin.rpc.app import RpcApp
from ccoin.testing import factories as f
from ccoin.testing.waits import within_blocks
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction

NET = f.make_testnet(accounts=4, delegates=1, genesis_time=1_800_000_000)
ALICE, BOB, CAROL, GOVERNOR = NET.accounts
LOOPBACK = PeerAddress("127.0.0.1", 0)
BASE_URL = "http://ccoin.test"


@dataclass(frozen=True)
class Snapshot:
    """What an invalid request must leave as it found."""

    balances: tuple[int, ...]
    pool_size: int
    pool_bytes: int
    admitted: float
    head: str


@dataclass
class ApiClient:
    node: Node
    app: RpcApp
    http: httpx.AsyncClient

    @property
    def nid(self) -> bytes:
        return self.node.network_id

    def now(self) -> int:
        """The chain time to stamp new transactions with."""
        return int(self.node.chain_time())

    def transfer(self, sender: KeyPair = ALICE, amount: int = 1_000, **kw: Any) -> Transaction:
        recipient = kw.pop("recipient", BOB.address)
        kw.setdefault("timestamp", self.now())
        return f.transfer(sender, recipient, amount, kw.pop("network_id", self.nid), **kw)

    def tx_json(self, tx: Transaction) -> dict[str, Any]:
        return tx.to_json(self.nid)

    async def post(self, body: Any) -> httpx.Response:
        if isinstance(body, bytes):
            return await self.http.post("/rpc", content=body)
        return await self.http.post("/rpc", json=body)

    async def call(self, method: str, params: Any = None, *, rid: Any = 1) -> dict[str, Any]:
        """One JSON-RPC request; the whole response object."""
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            request["params"] = params
        response = await self.post(request)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        assert answer["jsonrpc"] == "2.0" and answer["id"] == rid
        return answer

    async def result(self, method: str, params: Any = None) -> Any:
        answer = await self.call(method, params)
        assert "error" not in answer, answer
        return answer["result"]

    async def error(self, method: str, params: Any, code: ErrorCode) -> dict[str, Any]:
        """Call, expect the error `code` (number and name); return the error object."""
        answer = await self.call(method, params)
        assert "result" not in answer, answer
        return expect_error(answer["error"], code)

    def snapshot(self) -> Snapshot:
        chain = self.node.chain
        balances = []
        for k in NET.accounts:
            account = chain.account_raw(address_raw(k.address))
            balances.append(0 if account is None else account.balance)
        admitted = self.node.metrics.registry.get_sample_value("ccoin_transactions_admitted_total")
        return Snapshot(
            tuple(balances),
            len(self.node.pool),
            self.node.pool.size_bytes,
            admitted or 0.0,
            chain.head.id(self.nid),
        )

    async def still_serves(self) -> None:
        """A following valid call works."""
        status = await self.result("ccoin_status")
        assert status["networkId"] == self.nid.hex()

    async def include(self, tx: Transaction, blocks: int = 5) -> int:
        """Submit `tx` over RPC and wait (at most `blocks` blocks) for a block to include
        it; its height."""
        tx_id = tx.id(self.nid)
        assert await self.result("ccoin_sendTransaction", [self.tx_json(tx)]) == {"id": tx_id}

        async def included() -> int:
            while (found := self.node.chain.transaction(tx_id)) is None:
                await self.node.wait_for_change()
            return found.height

        return await within_blocks(self.node, blocks, included)

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        value = self.node.metrics.registry.get_sample_value(name, labels or {})
        return 0.0 if value is None else value


def expect_error(error: dict[str, Any], code: ErrorCode) -> dict[str, Any]:
    assert error["code"] == code.number, error
    assert error["data"]["name"] == code.name, error
    assert error["data"]["retryable"] is code.retryable, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


def expect_error_body(body: dict[str, Any], code: ErrorCode) -> dict[str, Any]:
    """The flat error form (REST bodies, per-entry results, a transaction's `error`)."""
    assert body["code"] == code.number, body
    assert body["name"] == code.name, body
    assert body["retryable"] is code.retryable, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def node_config(
    tmp_path: Path,
    pool: PoolLimits,
    rpc: RpcConfig | None = None,
    bridge: BridgeNodeConfig | None = None,
) -> NodeConfig:
    return NodeConfig(
        "n0", tmp_path / "data", tmp_path / "g.json", None, None, pool, rpc=rpc, bridge=bridge
    )


@contextlib.asynccontextmanager
async def open_api(
    tmp_path: Path,
    *,
    rpc: RpcConfig | None = None,
    pool: PoolLimits | None = None,
    run: bool = True,
    start_height: int = 2,
    genesis: GenesisConfig | None = None,
    bridge: BridgeNodeConfig | None = None,
) -> AsyncIterator[ApiClient]:
    """A node (running or still) and an httpx client on its ASGI app."""
    assert isinstance(trio.lowlevel.current_clock(), trio.testing.MockClock), (
        "take `autojump_clock` as an argument of the test itself: pytest-trio only sees a "
        "clock among the test's own arguments, and real one-second slots make tests slow"
    )
    rpc = rpc or RpcConfig(listen=LOOPBACK)
    clock = ChainClock(unix_at_start=NET.genesis.genesis_time)
    node = Node(
        node_config(tmp_path, pool or PoolLimits(), bridge=bridge),
        genesis or NET.genesis,
        NET.delegates[0],
        clock=clock,
    )
    app = RpcApp(node, rpc)
    transport = httpx.ASGITransport(app=app.app, client=("10.0.0.1", 4000))
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
            trio.open_nursery() as nursery,
        ):
            if run:
                await nursery.start(node.run)
                await node.wait_for_height(start_height)
            yield ApiClient(node, app, http)
            nursery.cancel_scope.cancel()
    finally:
        node.close()


@pytest.fixture
async def api(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> AsyncIterator[ApiClient]:
    """A running node: blocks come and finalize as the mock clock jumps."""
    async with open_api(tmp_path) as client:
        yield client


@pytest.fixture
async def still(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> AsyncIterator[ApiClient]:
    """A node that is not running: no blocks, so state changes only through the API."""
    async with open_api(tmp_path, run=False) as client:
        yield client
