"""Two real nodes with a bridge in one process, over TLS on loopback: forged credits (no
fee, no or junk attestations) are refused at the door with the code block execution gives
and never gossiped; a copy of a genuine credit with junk attestations, reaching a node
first, does not stop the genuine one from being admitted there and landing in a block."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import trio

from ccoin.errors import ErrorCode
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.node.service import Node, SubmitResult
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.genesis import UNIT
from ccoin.types.transaction import CoSignature, Transaction
from tests.integration.test_nodes_inprocess import build_network as build_nodes

N = 2
STEP_TIMEOUT = 30  # seconds for any one thing the test waits for; slots are 1 s


def build_network(tmp: Path) -> tuple[LocalNet, list[Node]]:
    """Two delegate nodes whose genesis has a bridge (escrow: test account 6)."""
    nodes = build_nodes(tmp, N, accounts=8, bridge=_bridge)
    net: LocalNet = nodes[0].testnet  # type: ignore[attr-defined]
    return net, nodes


def _bridge(net: LocalNet) -> BridgeConfig:
    return BridgeConfig(net.accounts[6].address, 97, b"\xbb" * 20, 3)


async def until(node: Node, holds: Callable[[Node], bool]) -> None:
    """Wait, a new head or finalization at a time, until `holds(node)`."""
    with trio.fail_after(STEP_TIMEOUT):
        while not holds(node):
            await node.wait_for_change()


def rejected(node: Node, code: ErrorCode) -> float:
    value = node.metrics.registry.get_sample_value(
        "ccoin_transactions_rejected_total", {"code": code.name}
    )
    return 0.0 if value is None else value


def codes(results: list[SubmitResult]) -> list[ErrorCode | None]:
    return [r.error.code if r.error else None for r in results]


def junk(tx: Transaction, net: LocalNet) -> Transaction:
    """A copy of `tx` (the same id) whose attestations do not verify."""
    cosigs = tuple(sorted(CoSignature(d.public_key, b"\x07" * 64) for d in net.delegates))
    return dataclasses.replace(tx, signatures=cosigs)


async def test_forged_credits_stay_at_the_door_and_a_junk_copy_blocks_nothing(
    tmp_path: Path,
) -> None:
    net, nodes = build_network(tmp_path)
    nid = nodes[0].network_id
    relayer, to = net.accounts[1], f.key("fresh").address
    try:
        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                for node in nodes:
                    await nursery.start(node.run)
                for node in nodes:  # two delegates: finality needs both, so they talk
                    await node.wait_for_finalized(1)
                now = int(nodes[0].chain_time())
                genuine = f.deposit(relayer, to, 3 * UNIT, 1, nid, net.delegates, timestamp=now)
                forged = [
                    f.deposit(relayer, to, 9 * UNIT, 2, nid, [], timestamp=now),
                    f.deposit(relayer, to, 9 * UNIT, 3, nid, net.delegates[:1], timestamp=now),
                    junk(f.deposit(relayer, to, 9 * UNIT, 4, nid, [], timestamp=now), net),
                ]
                assert all(tx.body.fee == 0 for tx in forged)
                assert codes(await nodes[0].submit(forged)) == [
                    ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS,
                    ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS,
                    ErrorCode.TX_BAD_COSIGNATURE,
                ]
                # The junk copy reaches node1 first; the genuine credit comes through node0.
                copy = junk(genuine, net)
                assert copy.id(nid) == genuine.id(nid)
                assert codes(await nodes[1].submit([copy])) == [ErrorCode.TX_BAD_COSIGNATURE]
                assert codes(await nodes[0].submit([genuine])) == [None]
                for node in nodes:
                    await until(node, lambda n: n.chain.transaction(genuine.id(nid)) is not None)
                    account = node.chain.account(to)
                    assert account is not None and account.balance == 3 * UNIT
                # Gossip keeps order on a connection: node1 heard of the genuine credit after
                # anything node0 sent before it, and it never heard of the forged ones.
                receiver = nodes[1]
                assert receiver.link is not None
                for tx in forged:
                    assert receiver.link.seen.decoded(tx.encode()) is None
                    assert receiver.rejected.get(tx.hash(nid)[:14]) is None
                    assert tx.hash(nid) not in receiver.pool
                assert rejected(receiver, ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS) == 0
                assert rejected(receiver, ErrorCode.TX_BAD_COSIGNATURE) == 1  # the copy
                assert rejected(nodes[0], ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS) == 2
                nursery.cancel_scope.cancel()
    finally:
        for node in nodes:
            node.close()
