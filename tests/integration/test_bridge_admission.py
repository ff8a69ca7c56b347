"""Two real nodes with a bridge in one process, over TLS on loopback: forged credits (no
fee, no or junk attestations) are refused at the door with the code block execution gives
and never gossiped; a copy of a genuine credit with junk attestations, reaching a node
first, does not stop the genuine one from being admitted there and landing in a block."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import trio

from ccoin.errors import ErrorCode
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig, P2PConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node, SubmitResult
from ccoin.p2p.certs import NetworkCA, fingerprint
from ccoin.p2p.peer import PeerAddress
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.testing.ports import free_port_range
from ccoin.types.assets import DelegateAsset
from ccoin.types.genesis import UNIT, BridgeConfig, GenesisDelegate
from ccoin.types.transaction import CoSignature, Transaction

N = 2
STEP_TIMEOUT = 30  # seconds for any one thing the test waits for; slots are 1 s


def build_network(tmp: Path) -> tuple[LocalNet, list[Node]]:
    ca = NetworkCA.create("test-net")
    identities = [ca.issue_node_cert(f"node{i}") for i in range(N)]
    net = f.make_testnet(accounts=8, delegates=N, genesis_time=int(time.time()))
    delegates = tuple(
        GenesisDelegate(
            d.public_key,
            dataclasses.replace(d.asset, cert_fingerprint=fingerprint(identities[i].cert_der)),
        )
        for i, d in enumerate(net.genesis.delegates)
    )
    assert all(isinstance(d.asset, DelegateAsset) for d in delegates)
    bridge = BridgeConfig(net.accounts[6].address, 97, b"\xbb" * 20, 3)
    genesis = dataclasses.replace(
        net.genesis, delegates=delegates, network_ca=ca.cert_pem.decode(), bridge=bridge
    )
    base = free_port_range(N)
    ports = [base + i for i in range(N)]
    nodes = []
    for i in range(N):
        home = tmp / f"node{i}"
        home.mkdir()
        identities[i].save(home / "node.crt", home / "node.key")
        p2p = P2PConfig(
            PeerAddress("127.0.0.1", ports[i]),
            tuple(PeerAddress("127.0.0.1", p) for j, p in enumerate(ports) if j != i),
            home / "node.crt",
            home / "node.key",
        )
        config = NodeConfig(
            f"node{i}", home / "data", tmp / "genesis.json", None, None, PoolLimits(), p2p=p2p
        )
        nodes.append(Node(config, genesis, net.delegates[i], clock=ChainClock()))
    return dataclasses.replace(net, genesis=genesis), nodes


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
