"""Four real nodes in one process, over real TLS on loopback: blocks are produced in turn,
finalized by votes, and a transfer gossiped to one node is final on all four."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import trio

from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig, P2PConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.p2p.certs import NetworkCA, fingerprint
from ccoin.p2p.peer import PeerAddress
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.testing.ports import free_port_range
from ccoin.types.assets import DelegateAsset
from ccoin.types.genesis import GenesisDelegate

N = 4


def build_network(
    tmp: Path,
    count: int = N,
    *,
    accounts: int = 4,
    bridge: Callable[[LocalNet], BridgeConfig] | None = None,
    block_time_ms: int = 1000,
) -> list[Node]:
    """`count` delegate nodes over TLS on loopback; `nodes[0].testnet` is the network (its
    genesis the one the nodes run), `nodes[0].identities` their certificates. `bridge`
    makes the genesis's bridge section from the test network."""
    ca = NetworkCA.create("test-net")
    identities = [ca.issue_node_cert(f"node{i}") for i in range(count)]
    net = f.make_testnet(accounts=accounts, delegates=count, genesis_time=int(time.time()))
    delegates = tuple(
        GenesisDelegate(
            d.public_key,
            DelegateAsset(
                d.asset.username, d.asset.bridge_address, fingerprint(identities[i].cert_der)
            ),
        )
        for i, d in enumerate(net.genesis.delegates)
    )
    genesis = replace(
        net.genesis,
        delegates=delegates,
        network_ca=ca.cert_pem.decode(),
        bridge=net.genesis.bridge if bridge is None else bridge(net),
        block_time_ms=block_time_ms,
    )
    net = replace(net, genesis=genesis)
    base = free_port_range(count)
    ports = [base + i for i in range(count)]
    nodes = []
    for i in range(count):
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
    nodes[0].testnet = net  # type: ignore[attr-defined]
    nodes[0].identities = identities  # type: ignore[attr-defined]
    return nodes


@asynccontextmanager
async def running(nodes: list[Node], seconds: float = 60) -> AsyncIterator[None]:
    """Every node started in one nursery, stopped and closed when the block ends."""
    try:
        with trio.fail_after(seconds):
            async with trio.open_nursery() as nursery:
                for node in nodes:
                    await nursery.start(node.run)
                yield
                nursery.cancel_scope.cancel()
    finally:
        for node in nodes:
            node.close()


def assert_same_final_block(nodes: list[Node]) -> None:
    nid = nodes[0].network_id
    target = min(n.chain.finalized_height for n in nodes)
    hashes = {n.chain.header_at(target).hash(nid) for n in nodes}  # type: ignore[union-attr]
    assert len(hashes) == 1


async def test_four_nodes_finalize_and_agree(tmp_path: Path) -> None:
    nodes = build_network(tmp_path)
    net = nodes[0].testnet  # type: ignore[attr-defined]
    nid = nodes[0].network_id
    async with running(nodes):
        for node in nodes:
            await node.wait_for_finalized(2)
        tx = f.transfer(
            net.accounts[1],
            net.accounts[2].address,
            12345,
            nid,
            timestamp=int(nodes[0].chain_time()),
        )
        [result] = await nodes[0].submit([tx])
        assert result.error is None
        for node in nodes:
            while True:
                located = node.chain.transaction(tx.id(nid))
                if located is not None and located.height <= node.chain.finalized_height:
                    break
                await node.wait_for_height(node.chain.height + 1)
        assert_same_final_block(nodes)
        producers = {
            nodes[0].chain.header_at(h).generator_public_key  # type: ignore[union-attr]
            for h in range(1, nodes[0].chain.height + 1)
        }
        assert len(producers) >= 3  # delegates take turns


async def test_half_second_slots_finalize_two_blocks_a_second(tmp_path: Path) -> None:
    """At 0.5 s blocks (ADR 0023) the four nodes take turns and finalize, and some second
    of chain time holds two blocks: slots shorter than the header's old whole seconds."""
    nodes = build_network(tmp_path, block_time_ms=500)
    async with running(nodes):
        for node in nodes:
            await node.wait_for_finalized(8)
        chain = nodes[0].chain
        headers = [chain.header_at(h) for h in range(1, chain.finalized_height + 1)]
        assert all(h is not None and h.timestamp_ms % 500 == 0 for h in headers)
        seconds = [h.timestamp_seconds for h in headers if h is not None]
        assert len(seconds) > len(set(seconds))  # two blocks in one second
        assert_same_final_block(nodes)


async def test_revoked_node_certificate_is_refused_by_every_peer(tmp_path: Path) -> None:
    nodes = build_network(tmp_path)
    net = nodes[0].testnet  # type: ignore[attr-defined]
    identities = nodes[0].identities  # type: ignore[attr-defined]
    nid = nodes[0].network_id
    revoked = fingerprint(identities[3].cert_der)
    async with running(nodes):
        for node in nodes[:3]:
            assert node.link is not None
            await node.link.network.wait_connected(3)
        tx = f.govern(
            net.accounts[-1],
            "revoke",
            "node",
            revoked.hex(),
            nid,
            timestamp=int(nodes[0].chain_time()),
        )
        [result] = await nodes[0].submit([tx])
        assert result.error is None
        for node in nodes[:3]:
            assert node.link is not None
            network = node.link.network
            await network.wait_until(
                lambda n=network: all(p.fingerprint != revoked for p in n.peers())
            )
            await network.wait_stat("refused_revoked", 1)  # it tried to come back
        # The three others still finalize on their own (3 of 4 is a supermajority).
        final = nodes[0].chain.finalized_height
        await nodes[0].wait_for_finalized(final + 2)
