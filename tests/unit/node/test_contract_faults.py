"""A node whose contract sandbox faults keeps running (ADR 0017): the transaction is
dropped from the pool with TX_SANDBOX_FAULT, which its submitter sees through the API, the
sender is suspended, the fault is counted and logged as one line, and blocks go on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from ccoin.client.async_client import AsyncClient
from ccoin.client.errors import NodeError, TransactionRejected
from ccoin.errors import ErrorCode
from ccoin.modules.contracts.rules import deploy_address
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig, RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.node.tx_status import Status
from ccoin.p2p.peer import PeerAddress
from ccoin.rpc.app import RpcApp
from ccoin.testing import factories as f
from ccoin.testing.faults import DEFAULT_REASON, FaultingEngine
from ccoin.testing.waits import within_blocks

NET = f.make_testnet(accounts=4, delegates=1, genesis_time=1_800_000_000)
ALICE, BOB = NET.accounts[1], NET.accounts[2]
# No `init`, and only `boom` is ever called: the faulting engine never starts a sandbox.
UNBOUNDED = 10.0**9  # mock seconds
CODE = "@export\ndef boom():\n    return 1\n\n\n@export\ndef fine():\n    return 2\n"


def make_node(tmp_path: Path) -> Node:
    # Mock time races ahead while blocks are built on worker threads: a suspension of a
    # day outlasts the test (its expiry is the pool tests' business).
    pool = PoolLimits(fault_suspension_seconds=86_400)
    config = NodeConfig("n0", tmp_path / "data", tmp_path / "g.json", None, None, pool)
    clock = ChainClock(unix_at_start=NET.genesis.genesis_time)
    node = Node(config, NET.genesis, NET.delegates[0], clock=clock)
    node.chain.contracts = FaultingEngine({"boom"})
    return node


async def included(client: AsyncClient, tx_id: str) -> dict[str, Any]:
    # Mock time is no bound (it jumps while a block is built on a worker thread): the
    # caller bounds the wait in blocks.
    return await client.wait_for(tx_id, "included", timeout=UNBOUNDED)


async def rejected(client: AsyncClient, tx_id: str) -> TransactionRejected:
    try:
        found = await included(client, tx_id)
    except TransactionRejected as exc:
        return exc
    raise AssertionError(f"included, not rejected: {found}")


def faults(node: Node, phase: str) -> float:
    value = node.metrics.registry.get_sample_value("ccoin_contract_faults_total", {"phase": phase})
    assert value is not None, "every phase is exposed from the start"
    return value


async def test_a_fault_while_building_drops_the_transaction_and_blocks_go_on(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ccoin")
    node = make_node(tmp_path)
    nid = node.network_id
    app = RpcApp(node, RpcConfig(listen=PeerAddress("127.0.0.1", 0)))
    transport = httpx.ASGITransport(app=app.app, client=("10.0.0.1", 4000))
    try:
        async with (
            AsyncClient("http://ccoin.test", transport=transport) as client,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(node.run)
            await node.wait_for_height(1)
            now = int(node.chain_time())
            deploy = f.deploy(BOB, "app", CODE, nid, timestamp=now)
            await client.send_transaction(deploy)
            await within_blocks(node, 10, lambda: included(client, deploy.id(nid)))
            contract = deploy_address(deploy, nid)
            assert [faults(node, phase) for phase in ("build", "apply", "view")] == [0, 0, 0]

            boom = f.call_contract(ALICE, contract, "boom", (), nid, timestamp=now)
            tx_id = await client.send_transaction(boom)
            refusal = await within_blocks(node, 10, lambda: rejected(client, tx_id))
            code = ErrorCode.TX_SANDBOX_FAULT
            assert (refusal.name, refusal.number) == (code.name, code.number)
            assert f"faulted on boom of {contract}: {DEFAULT_REASON}" in refusal.message
            found = await client.get_transaction(tx_id)
            assert found["status"] == "rejected" and found["error"]["name"] == code.name
            assert boom.hash(nid) not in node.pool and node.chain.transaction(tx_id) is None
            assert faults(node, "build") == 1 and faults(node, "apply") == 0

            # The one log line of the fault: no traceback, and no sign of a stopping node.
            lines = [r for r in caplog.records if r.getMessage() == "contract_fault"]
            assert len(lines) == 1 and lines[0].exc_info is None
            fields = lines[0].fields  # type: ignore[attr-defined]
            assert (fields["phase"], fields["tx"]) == ("build", tx_id)
            assert fields["height"] >= 2 and DEFAULT_REASON in fields["reason"]
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

            # The sender is suspended for contract transactions, not for the rest.
            fine = f.call_contract(ALICE, contract, "fine", (), nid, timestamp=now)
            with pytest.raises(NodeError) as refused:
                await client.send_transaction(fine)
            assert refused.value.name == ErrorCode.POOL_SENDER_SUSPENDED.name
            pay = f.transfer(ALICE, BOB.address, 5, nid, timestamp=now)
            await client.send_transaction(pay)
            paid = await within_blocks(node, 10, lambda: included(client, pay.id(nid)))

            # Blocks go on, and finalize, past the one that dropped the call.
            await within_blocks(node, 10, lambda: node.wait_for_finalized(paid["height"]))
            status = node.transaction_status(tx_id)
            assert status is not None and status.status is Status.REJECTED
            nursery.cancel_scope.cancel()
    finally:
        node.close()
