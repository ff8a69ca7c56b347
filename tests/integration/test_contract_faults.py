"""Four real nodes in one process; one of them has a contract sandbox that faults on calls
of `boom` (a test double, no crash, no timeout). As producer it drops such a call and goes
on producing and finalizing; as the receiver of a peer's block holding one, it refuses the
block, lowers the producer's score and keeps running, and once the fault is gone it applies
that block and agrees with the others again (ADR 0017)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

from ccoin.errors import ErrorCode
from ccoin.modules.contracts.rules import deploy_address
from ccoin.node.service import Node
from ccoin.node.tx_status import Status
from ccoin.p2p.certs import fingerprint
from ccoin.testing import factories as f
from ccoin.testing.faults import FaultingEngine
from tests.integration.test_nodes_inprocess import build_network

CODE = "@export\ndef boom():\n    return 1\n\n\n@export\ndef fine():\n    return 2\n"
FAULTY = 3
STEP_TIMEOUT = 30  # seconds for any one thing the test waits for; slots are 1 s


async def until(node: Node, holds: Callable[[Node], bool]) -> None:
    """Wait, a new head or finalization at a time, until `holds(node)`."""
    with trio.fail_after(STEP_TIMEOUT):
        while not holds(node):
            await node.wait_for_change()


def faults(node: Node, phase: str) -> float:
    value = node.metrics.registry.get_sample_value("ccoin_contract_faults_total", {"phase": phase})
    return 0.0 if value is None else value


def produced_and_final_above(node: Node, height: int) -> bool:
    """A block above `height` that `node` produced itself is final on it."""
    assert node.key is not None
    chain = node.chain
    for h in range(height + 1, chain.finalized_height + 1):
        header = chain.header_at(h)
        if header is not None and header.generator_public_key == node.key.public_key:
            return True
    return False


async def test_a_node_whose_sandbox_faults_drops_refuses_and_keeps_running(tmp_path: Path) -> None:
    nodes = build_network(tmp_path)
    net = nodes[0].testnet  # type: ignore[attr-defined]
    identities = nodes[0].identities  # type: ignore[attr-defined]
    nid = nodes[0].network_id
    faulty = nodes[FAULTY]
    engine = FaultingEngine({"boom"})
    faulty.chain.contracts = engine
    honest = [n for n in nodes if n is not faulty]
    try:
        async with trio.open_nursery() as nursery:
            for node in nodes:
                await nursery.start(node.run)
            now = int(nodes[0].chain_time())
            deploy = f.deploy(net.accounts[0], "app", CODE, nid, timestamp=now)
            [result] = await nodes[0].submit([deploy])
            assert result.error is None
            contract = deploy_address(deploy, nid)
            for node in nodes:
                await until(node, lambda n: n.chain.contract(contract) is not None)

            # 1. As producer: only the faulty node's pool holds the call.
            boom = f.call_contract(net.accounts[1], contract, "boom", (), nid, timestamp=now)
            [result] = await faulty.submit([boom], gossip=False)
            assert result.error is None

            def dropped(node: Node) -> bool:
                status = node.transaction_status(boom.id(nid))
                return status is not None and status.status is Status.REJECTED

            await until(faulty, dropped)
            status = faulty.transaction_status(boom.id(nid))
            assert status is not None and status.error is not None
            assert status.error.code is ErrorCode.TX_SANDBOX_FAULT
            assert faults(faulty, "build") == 1 and boom.hash(nid) not in faulty.pool
            dropped_at = faulty.chain.height
            await until(faulty, lambda n: produced_and_final_above(n, dropped_at))
            fine = f.call_contract(net.accounts[1], contract, "fine", (), nid, timestamp=now)
            [result] = await faulty.submit([fine], gossip=False)
            assert result.error is not None
            assert result.error.code is ErrorCode.POOL_SENDER_SUSPENDED
            assert all(n.chain.transaction(boom.id(nid)) is None for n in nodes)

            # 2. As receiver: only node0's pool holds the call; node0 includes it.
            boom2 = f.call_contract(net.accounts[2], contract, "boom", (), nid, timestamp=now)
            [result] = await nodes[0].submit([boom2], gossip=False)
            assert result.error is None
            for node in honest:
                await until(node, lambda n: n.chain.transaction(boom2.id(nid)) is not None)
            assert faulty.link is not None
            network = faulty.link.network
            producer = fingerprint(identities[0].cert_der)
            with trio.fail_after(STEP_TIMEOUT):
                await network.wait_until(lambda: network.score(producer) < 0)
            assert faults(faulty, "apply") >= 1
            assert faulty.chain.transaction(boom2.id(nid)) is None
            located = nodes[0].chain.transaction(boom2.id(nid))
            assert located is not None
            # The others finalize without it (three of four are a supermajority).
            for node in honest:
                await until(node, lambda n: n.chain.finalized_height >= located.height)

            # The fault passes: the faulty node applies that block and agrees again.
            engine.heal()
            await until(faulty, lambda n: n.chain.finalized_height >= located.height)
            hashes = {n.chain.header_at(located.height).hash(nid) for n in nodes}  # type: ignore[union-attr]
            assert len(hashes) == 1
            receipts = [n.chain.receipt(boom2.id(nid)) for n in nodes]
            assert receipts[0] is not None and receipts[0].ok
            assert all(r == receipts[0] for r in receipts)
            assert faults(faulty, "build") == 1  # nothing else faulted
            nursery.cancel_scope.cancel()
    finally:
        for node in nodes:
            node.close()
