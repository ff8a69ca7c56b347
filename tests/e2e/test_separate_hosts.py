"""Four nodes on four "hosts": network namespaces joined by veth pairs and bridges
(`ccoin.testing.netns`), configured by `ccoin devnet init --hosts` (ADR 0024).

Needs root (CI runs as root); without it the test fails and says why, it does not skip.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ccoin.client import Client
from ccoin.client.errors import ClientError
from ccoin.crypto.keys import KeyPair
from ccoin.devnet.layout import Devnet
from ccoin.node.config import NodeConfig
from ccoin.p2p.certs import NetworkCA
from ccoin.testing.netns import Host, HostsLab, LabError, require_root
from ccoin.testing.waits import poll_until
from tests.unit.devnet.helpers import ok

pytestmark = pytest.mark.slow

NODES = 4
BASE_PORT = 26600
TIMEOUT = 60.0
POLL = 0.25


def wait(what: str, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    poll_until(what, condition, timeout, POLL)


@dataclass
class Net:
    lab: HostsLab
    devnet: Devnet
    root: Path

    def url(self, i: int) -> str:
        return f"http://{self.lab.hosts[i].management}:{BASE_PORT + 100 + i}"

    def status(self, i: int) -> dict[str, Any] | None:
        try:
            with Client(self.url(i), timeout=2.0) as node:
                return node.status()
        except (ClientError, OSError):
            return None

    def field(self, i: int, name: str) -> int:
        s = self.status(i)
        return -1 if s is None else int(s[name])

    def finalized(self, i: int) -> int:
        return self.field(i, "finalizedHeight")

    def block_id(self, i: int, height: int) -> str:
        with Client(self.url(i)) as node:
            return str(node.get_block(height)["id"])

    def log(self, i: int) -> str:
        return (self.root / f"node{i}" / "node.log").read_text(errors="replace")


def start_node(lab: HostsLab, host: Host, config: Path) -> None:
    argv = [sys.executable, "-m", "ccoin.cli.main", "node", "start", "--config", str(config)]
    lab.run(host, argv, config.parent / "stdout.log")


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    try:
        require_root()
    except LabError as exc:
        pytest.fail(f"this test builds network namespaces: {exc}")
    with HostsLab(NODES) as lab:
        root = tmp_path / "net"
        hosts = ",".join(h.address for h in lab.hosts)
        ok("devnet", "init", "--dir", str(root), "--nodes", str(NODES), "--hosts", hosts,
           "--no-bridge", "--test-accounts", "2", "--base-port", str(BASE_PORT))  # fmt: skip
        devnet = Devnet.load(root)
        for i, host in enumerate(lab.hosts):
            start_node(lab, host, devnet.config_path(devnet.nodes[i]))
        yield Net(lab, devnet, root)


def test_four_nodes_on_four_hosts(net: Net, tmp_path: Path) -> None:
    everyone = range(NODES)
    # The configs name the hosts' addresses, not loopback.
    for i, node in enumerate(net.devnet.nodes):
        assert node.p2p == f"{net.lab.hosts[i].address}:{BASE_PORT + i}"
        config = NodeConfig.load(net.devnet.config_path(node))
        assert {p.host for p in config.p2p.peers} == {
            h.address for j, h in enumerate(net.lab.hosts) if j != i
        }

    # Finality across real interfaces.
    wait("every node to peer with the three others", lambda: all(
        (s := net.status(i)) is not None and s["peers"] == NODES - 1 for i in everyone
    ))  # fmt: skip
    start = [net.finalized(i) for i in everyone]
    wait("every node to finalize 3 more blocks", lambda: all(
        net.finalized(i) >= start[i] + 3 for i in everyone
    ))  # fmt: skip

    # A transfer, finalized and seen on all four.
    sender = net.devnet.test_accounts()[0]
    recipient = KeyPair.generate().address
    with Client(net.url(0)) as node0:
        tx = node0.transfer(sender, recipient, 12_345)
        node0.wait_for(tx, "finalized", timeout=TIMEOUT)

    def balance(i: int) -> int:
        with Client(net.url(i)) as node:
            account = node.get_account(recipient)
        return int(account["balance"]) if account["exists"] else 0

    wait("the transfer on all four nodes", lambda: all(balance(i) == 12_345 for i in everyone))

    # A 2|2 split (the trunk between the two bridges down): finality stops on both sides
    # while the slots go on, and nothing conflicting is finalized.
    net.lab.split()
    at_split = max(net.finalized(i) for i in everyone)
    slots = [net.field(i, "slot") for i in everyone]
    wait("six more slots on every node during the split", lambda: all(
        net.field(i, "slot") >= slots[i] + 6 for i in everyone
    ))  # fmt: skip
    during = [net.finalized(i) for i in everyone]
    assert max(during) <= at_split + 1, (at_split, during)  # at most the votes in flight
    stalled = max(during)

    # Healed: everyone finalizes again, on one chain.
    net.lab.heal()
    wait("finality to resume on every node after the heal", lambda: all(
        net.finalized(i) >= stalled + 3 for i in everyone
    ), timeout=2 * TIMEOUT)  # fmt: skip
    common = min(net.finalized(i) for i in everyone)
    for height in range(1, common + 1):
        ids = {net.block_id(i, height) for i in everyone}
        assert len(ids) == 1, f"height {height}: finalized blocks differ: {ids}"

    # A node whose certificate another CA issued is refused by every node it dials.
    intruder = net.lab.add_host()
    rogue = tmp_path / "rogue"
    shutil.copytree(net.root / "node3", rogue, ignore=shutil.ignore_patterns("data", "*.log"))
    shutil.copy(net.root / "genesis.json", tmp_path / "genesis.json")
    NetworkCA.create("another CA").issue_node_cert("node3").save(
        rogue / "tls" / "node.crt", rogue / "tls" / "node.key"
    )
    config = json.loads((rogue / "node.json").read_text())
    del config["keystore"], config["passphraseFile"]  # no delegate key: it could not produce
    (rogue / "node.json").write_text(json.dumps(config))
    start_node(net.lab, intruder, rogue / "node.json")
    prefix = f"address={intruder.address}:"

    def refused(i: int) -> bool:
        lines = [line for line in net.log(i).splitlines() if prefix in line]
        assert not any("peer_connected" in line for line in lines), lines
        return any("peer_handshake_failed" in line for line in lines)

    dialled = range(NODES - 1)  # node3's config: it dials the three others
    wait("every node it dials to refuse its handshake", lambda: all(map(refused, dialled)))
    assert all(p is not None and p["peers"] == NODES - 1 for p in map(net.status, everyone))
    assert "peer_connected" not in (rogue / "node.log").read_text(errors="replace")
