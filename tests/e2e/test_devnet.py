"""The 4-node devnet as real processes on loopback (issue 3's end-to-end acceptance).

Nodes dial each other through a test-controlled TCP proxy, so the test can split the
network. The test itself joins as a (non-delegate) peer with a certificate from the devnet
CA: it submits a transfer to one node and reads blocks and statuses back from every node.
Every wait is for an observed condition with a deadline; nothing sleeps a guessed time
except the bounded polling between observations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.crypto.keys import KeyPair
from ccoin.devnet.layout import Devnet
from ccoin.devnet.processes import node_command, read_status_file, status_file
from ccoin.p2p.certs import NetworkCA, load_ca
from ccoin.p2p.messages import Blocks, GetBlocks, Transactions
from ccoin.p2p.network import Network
from ccoin.p2p.peer import PeerAddress
from ccoin.testing.factories import transfer
from ccoin.testing.ports import free_port_range
from ccoin.testing.proxy import PartitionProxy
from ccoin.types.block import Block
from ccoin.types.genesis import GenesisConfig

N = 4
DEADLINE = 60.0
POLL = 0.1

pytestmark = pytest.mark.slow


class RunningDevnet:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.proxy = PartitionProxy()
        base = free_port_range(N)
        result = CliRunner().invoke(
            cli,
            [
                "devnet",
                "init",
                "--nodes",
                str(N),
                "--dir",
                str(root),
                "--base-port",
                str(base),
                "--test-accounts",
                "4",
            ],
        )
        assert result.exit_code == 0, result.output
        self.layout = Devnet.load(root)
        self.info = self.layout.to_json()
        self.ports = [int(n["p2p"].rsplit(":", 1)[1]) for n in self.info["nodes"]]
        for i in range(N):  # route every node's dials through the proxy
            path = root / f"node{i}" / "node.json"
            config = json.loads(path.read_text())
            config["p2p"]["peers"] = [
                f"127.0.0.1:{self.proxy.add_link(i, j, self.ports[j])}" for j in range(N) if j != i
            ]
            path.write_text(json.dumps(config))
        self.genesis = GenesisConfig.load(root / "genesis.json")
        accounts = json.loads((root / "keys" / "test-accounts.json").read_text())["accounts"]
        self.accounts = [KeyPair(bytes.fromhex(a["seed"])) for a in accounts]

    def start(self, i: int) -> None:
        log = open(self.root / f"node{i}" / "node.log", "ab")  # noqa: SIM115 - owned by the process
        self.procs[i] = subprocess.Popen(
            node_command(self.layout, self.layout.nodes[i]), stdout=log, stderr=subprocess.STDOUT
        )

    def kill9(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(timeout=10)

    def status(self, i: int) -> dict[str, Any]:
        found = read_status_file(status_file(self.layout, self.layout.nodes[i]))
        return dict(found) if found is not None else {"height": -1, "finalized": -1, "peers": 0}

    def wait(self, what: str, condition: Callable[[], bool], deadline: float = DEADLINE) -> None:
        end = time.monotonic() + deadline
        while not condition():
            for i, proc in self.procs.items():
                if proc.poll() is not None and proc.returncode != -9:
                    pytest.fail(f"node{i} exited with {proc.returncode}:\n{self.log_tail(i)}")
            if time.monotonic() > end:
                statuses = [self.status(i) for i in range(N)]
                pytest.fail(f"timed out waiting for {what}; statuses {statuses}")
            time.sleep(POLL)

    def log_tail(self, i: int, lines: int = 40) -> str:
        log = self.root / f"node{i}" / "node.log"
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.proxy.close()


def peer_identity(root: Path, name: str, *, foreign: bool = False):  # type: ignore[no-untyped-def]
    ca = (
        NetworkCA.create("other")
        if foreign
        else load_ca(root / "ca" / "ca.crt", root / "ca" / "ca.key")
    )
    return ca.issue_node_cert(name)


def as_peer(
    net: RunningDevnet,
    body: Callable[[Network], Any],
    *,
    foreign: bool = False,
    targets: list[int] | None = None,
) -> Any:
    """Run `body` with a test peer connected to the given nodes."""
    from ccoin.p2p.messages import Status

    root = net.root
    identity = peer_identity(root, "tester", foreign=foreign)
    nid = bytes.fromhex(net.info["networkId"])
    status = Status(1, nid, "tester", 0, bytes(32), 0, bytes(32))
    targets = targets if targets is not None else list(range(N))
    network = Network(
        identity,
        net.genesis.network_ca.encode(),
        network_id=nid,
        listen=None,
        peers=[PeerAddress("127.0.0.1", net.ports[i]) for i in targets],
        status=lambda: status,
    )
    result: list[Any] = []

    async def main() -> None:
        with trio.fail_after(DEADLINE):
            async with trio.open_nursery() as nursery:
                await nursery.start(network.run)
                result.append(await body(network))
                nursery.cancel_scope.cancel()

    trio.run(main)
    return result[0]


async def ask_blocks(network: Network, peer: bytes, start: int, count: int) -> list[Block]:
    """Request a block range from one node; other gossip in the inbox is skipped."""
    await network.send(peer, GetBlocks(start, count))
    while True:
        sender, reply = await network.inbox.receive()
        if sender == peer and isinstance(reply, Blocks):
            return [Block.decode(raw) for raw in reply.items]


def test_devnet_end_to_end(tmp_path: Path) -> None:
    net = RunningDevnet(tmp_path / "devnet")
    nid = bytes.fromhex(net.info["networkId"])
    try:
        for i in range(N):
            net.start(i)
        net.wait(
            "all four finalizing", lambda: all(net.status(i)["finalized"] >= 3 for i in range(N))
        )

        # -- a transfer submitted to node0 becomes final on all four ------------------
        sender, recipient = net.accounts[0], net.accounts[1]
        now = int(time.time()) - net.genesis.genesis_time
        tx = transfer(sender, recipient.address, 777, nid, timestamp=now)

        async def submit_and_find(network: Network) -> dict[int, int]:
            await network.wait_connected(N)
            peers = {p.name: p.fingerprint for p in network.peers()}
            await network.send(peers["node0"], Transactions((tx.encode(),)))
            found: dict[int, int] = {}
            while len(found) < N:
                for i in range(N):
                    if i in found:
                        continue
                    final = net.status(i)["finalized"]
                    for block in await ask_blocks(network, peers[f"node{i}"], 1, 200):
                        if tx in block.transactions and block.header.height <= final:
                            found[i] = block.header.height
                await trio.sleep(POLL)
            return found

        found = as_peer(net, submit_and_find)
        assert len(set(found.values())) == 1, found  # the same block on all four

        # -- kill -9 one node: the other three keep finalizing ------------------------
        before = min(net.status(i)["finalized"] for i in range(3))
        net.kill9(3)
        net.wait(
            "three nodes finalize without node3",
            lambda: all(net.status(i)["finalized"] >= before + 4 for i in range(3)),
        )

        # -- restart it: it catches up to the same finalized head -------------------------
        net.start(3)
        target = min(net.status(i)["finalized"] for i in range(3))
        net.wait("node3 catches up", lambda: net.status(3)["finalized"] >= target)

        async def finalized_hashes(network: Network) -> dict[str, tuple[int, str]]:
            await network.wait_connected(N)
            await network.wait_until(
                lambda: all(p.status.finalized_height >= target for p in network.peers())
            )
            return {
                p.name: (p.status.finalized_height, p.status.finalized_hash.hex())
                for p in network.peers()
            }

        seen = as_peer(net, finalized_hashes)
        assert len(seen) == N

        # -- a 2|2 split stalls finality without conflict, and it resumes after the heal --
        net.proxy.cut([{0, 1}, {2, 3}])
        heads = [net.status(i)["height"] for i in range(N)]
        net.wait(
            "both halves keep producing",
            lambda: all(net.status(i)["height"] >= heads[i] + 3 for i in range(N)),
        )
        stalled = [net.status(i)["finalized"] for i in range(N)]
        heads = [net.status(i)["height"] for i in range(N)]
        net.wait(
            "both halves produce more",
            lambda: all(net.status(i)["height"] >= heads[i] + 3 for i in range(N)),
        )
        assert [net.status(i)["finalized"] for i in range(N)] == stalled
        net.proxy.restore()
        net.wait(
            "finality resumes after the heal",
            lambda: all(net.status(i)["finalized"] >= max(stalled) + 3 for i in range(N)),
        )

        async def agree(network: Network) -> set[str]:
            await network.wait_connected(N)
            height = min(net.status(i)["finalized"] for i in range(N))
            peers = {p.name: p.fingerprint for p in network.peers()}
            hashes = set()
            for i in range(N):
                [block] = await ask_blocks(network, peers[f"node{i}"], height, 1)
                hashes.add(block.header.hash(nid).hex())
            return hashes

        assert len(as_peer(net, agree)) == 1  # one finalized chain, no conflict

        # -- a node whose certificate comes from another CA is refused --------------------
        async def refused(network: Network) -> int:
            await network.wait_stat("handshake_failures", 1)
            assert network.peers() == []
            return network.stats["handshake_failures"]

        assert as_peer(net, refused, foreign=True, targets=[0]) >= 1
    finally:
        net.stop_all()
        for i in range(N):
            log = net.root / f"node{i}" / "node.log"
            if log.exists() and os.environ.get("CCOIN_E2E_LOGS"):
                print(log.read_text()[-3000:])
