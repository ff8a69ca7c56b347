"""The bridge on a real devnet (issue 6's end-to-end acceptance): `ccoin devnet up` starts
anvil (chain id 97), deploys the contracts, starts four nodes and the relayer, all as
real processes on loopback.

- Anchors land on BSC, contiguous from height 1, and follow the finalized head.
- Deposits made with `ccoin bridge deposit` are credited exactly once although the relayer
  is killed with SIGKILL at three points of their way (before the confirmations, when they
  are reached, and as the credit lands) and started again.
- A withdrawal is released on BSC once by `ccoin bridge claim`; the same proof again
  reverts.
- C in the sidechain escrow plus C locked in Bridge stays what it was at genesis.
- With node0 (the relayer's sidechain node) killed, the relayer moves on to another node and
  the three other delegates keep anchoring and crediting.

Every wait is for an observed condition with a deadline.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ccoin.bridge.evm import Contract, EvmClient, EvmReverted
from ccoin.bridge.relay_config import RelayConfig
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.bridge import anchored_range, claim_arguments
from ccoin.cli.main import cli
from ccoin.client import Client
from ccoin.crypto.keys import KeyPair
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet
from ccoin.devnet.pids import process_alive, read_pid
from ccoin.devnet.processes import bridge_processes, start_processes
from ccoin.testing.ports import free_port_range
from ccoin.types.genesis import GenesisConfig

N = 4
DEADLINE = 90.0
POLL = 0.1

pytestmark = pytest.mark.slow


def ok(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class BridgedDevnet:
    def __init__(self, root: Path) -> None:
        base = free_port_range(N)
        ok("devnet", "init", "--nodes", str(N), "--dir", str(root), "--base-port", str(base),
           "--test-accounts", "2")  # fmt: skip
        self.root = root
        self.devnet = Devnet.load(root)
        assert self.devnet.bsc is not None
        self.bsc = self.devnet.bsc
        self.genesis = GenesisConfig.load(root / "genesis.json")
        self.node = Client(f"http://{self.devnet.nodes[0].rpc}")
        self.evm = EvmClient(self.bsc.url)
        self.anchor = Contract(self.bsc.anchor, tuple(load_artifact("Anchor")["abi"]))
        self.bridge = Contract(self.bsc.bridge, tuple(load_artifact("Bridge")["abi"]))
        self.token = Contract(self.bsc.token, tuple(load_artifact("CarbonCoin")["abi"]))
        procs = bridge_processes(self.devnet)
        assert procs is not None
        self.relayer_proc = procs[1]

    def close(self) -> None:
        self.node.close()
        self.evm.close()

    # -- observing --------------------------------------------------------------------------

    def anchored(self) -> int:
        return int(self.anchor.read(self.evm, "nextHeight")) - 1

    def finalized(self) -> int:
        return int(self.node.status()["finalizedHeight"])

    def balance(self, address: str) -> int:
        account = self.node.get_account(address)
        return int(account["balance"]) if account["exists"] else 0

    def credited(self, nonce: int) -> bool:
        answer = self.node.request(
            "ccoin_getDeposit", bscChainId=97, bridge=self.bsc.bridge, nonce=nonce
        )
        return bool(answer["credited"])

    def relayer_pid(self) -> int:
        pid = read_pid(self.relayer_proc.pid_file)
        assert pid is not None
        return pid

    def logs(self) -> str:
        parts = []
        for path in (self.root / "relay" / "relayer.log", self.root / "node0" / "node.log"):
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            parts.append(f"--- {path.name}\n" + "\n".join(text.splitlines()[-30:]))
        return "\n".join(parts)

    def wait(self, what: str, condition: Callable[[], bool], deadline: float = DEADLINE) -> None:
        end = time.monotonic() + deadline
        while not condition():
            if time.monotonic() > end:
                pytest.fail(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(POLL)

    # -- acting -----------------------------------------------------------------------------

    def kill_relayer(self) -> None:
        pid = self.relayer_pid()
        os.kill(pid, signal.SIGKILL)
        self.wait("the killed relayer to vanish", lambda: not process_alive(pid), 10.0)

    def start_relayer(self) -> None:
        start_processes([self.relayer_proc])

    def deposit(self, recipient: str, amount: int) -> tuple[int, int]:
        """(nonce, BSC block) of a deposit made with the CLI by the devnet's BSC user."""
        out = ok("bridge", "deposit", "--devnet", str(self.root), "--to", recipient,
                 "--amount", str(amount), "--json")  # fmt: skip
        receipt = self.evm.rpc("eth_getTransactionReceipt", out["bscTransaction"])
        return int(out["nonce"]), int(receipt["blockNumber"], 16)


@pytest.fixture
def net(tmp_path: Path) -> Iterator[BridgedDevnet]:
    bridged = BridgedDevnet(tmp_path / "net")
    try:
        started = ok("devnet", "up", "--dir", str(bridged.root), "--detach", "--json")["started"]
        assert [s["name"] for s in started] == ["bsc", "node0", "node1", "node2", "node3",
                                                "relayer"]  # fmt: skip
        yield bridged
    finally:
        down = CliRunner().invoke(cli, ["devnet", "down", "--dir", str(bridged.root)])
        bridged.close()
        assert down.exit_code == 0, down.output


def test_the_bridge_on_a_devnet(net: BridgedDevnet) -> None:
    # Anchors land, contiguous from height 1, never past the finalized head, and follow it.
    net.wait("a few anchors", lambda: net.anchored() >= 4)
    assert net.anchored() <= net.finalized()
    target = net.finalized()
    net.wait(f"the anchors to reach height {target}", lambda: net.anchored() >= target)
    count = int(net.anchor.read(net.evm, "rangeCount"))
    ranges = [net.anchor.read(net.evm, "range", i) for i in range(count)]
    assert ranges[0][0] == 1
    for before, after in itertools.pairwise(ranges):
        assert after[0] == before[1] + 1  # contiguous: no gap, no overlap
    assert all(r[2] != bytes(32) for r in ranges)

    escrow = net.genesis.bridge.escrow if net.genesis.bridge is not None else ""
    assert net.balance(escrow) == devbsc.TOKEN_SUPPLY

    def total() -> int:
        locked = int(net.token.read(net.evm, "balanceOf", net.bsc.bridge))
        return net.balance(escrow) + locked

    # Deposits, with the relayer killed and restarted at three points of their way.
    recipients = [KeyPair.generate().address for _ in range(3)]
    amounts = [50_000, 7, 123_456]

    nonce, _ = net.deposit(recipients[0], amounts[0])  # killed before the confirmations
    assert not net.credited(nonce)
    net.kill_relayer()
    net.start_relayer()
    net.wait(f"deposit {nonce} credited", lambda: net.credited(nonce))

    nonce, block = net.deposit(recipients[1], amounts[1])  # killed as they are reached
    net.wait("the confirmations", lambda: net.evm.block_number() >= block + devbsc.CONFIRMATIONS)
    net.kill_relayer()
    net.start_relayer()
    net.wait(f"deposit {nonce} credited", lambda: net.credited(nonce))

    nonce, _ = net.deposit(recipients[2], amounts[2])  # killed as the credit lands
    net.wait(f"deposit {nonce} credited", lambda: net.credited(nonce))
    net.kill_relayer()
    net.start_relayer()

    # Two more anchors after the last restart: the restarted relayer has run full rounds.
    after = net.finalized()
    net.wait("the restarted relayer's rounds", lambda: net.anchored() >= after + 2)
    for recipient, amount in zip(recipients, amounts, strict=True):
        assert net.balance(recipient) == amount  # credited once, not twice
    assert int(net.bridge.read(net.evm, "depositCount")) == 3
    assert total() == devbsc.TOKEN_SUPPLY

    # A withdrawal, released once on BSC by the CLI.
    keystore, passphrase = net.root / "t0.json", net.root / "keys" / "passphrase"
    ok("keys", "import", "--devnet", str(net.root), "--test-account", "0", "--out", str(keystore),
       "--passphrase-file", str(passphrase), "--kdf", "fast", "--json")  # fmt: skip
    payee = "0x000000000000000000000000000000000000bEEF"
    node_url = f"http://{net.devnet.nodes[1].rpc}"
    sent = ok("bridge", "withdraw", "--node", node_url, "--to", payee, "--amount", "9999",
              "--keystore", str(keystore), "--passphrase-file", str(passphrase),
              "--json")  # fmt: skip
    claimed = ok("bridge", "claim", sent["id"], "--devnet", str(net.root), "--json")
    assert claimed["amount"] == 9999 and claimed["recipient"] == payee
    assert int(net.token.read(net.evm, "balanceOf", payee)) == 9999
    found = net.node.wait_for(sent["id"], "finalized")
    index, start, end, _ = anchored_range(net.evm, net.anchor, found["height"], time.monotonic())
    proof = net.node.get_withdrawal_proof(sent["id"], start, end)
    user = devbsc.dev_keys()[devbsc.USER]
    with pytest.raises(EvmReverted, match="already withdrawn"):
        net.bridge.send(net.evm, user, "withdraw", *claim_arguments(proof, index))
    again = CliRunner().invoke(cli, ["bridge", "claim", sent["id"], "--devnet", str(net.root)])
    assert again.exit_code == 2 and "released already" in again.output
    assert total() == devbsc.TOKEN_SUPPLY

    status = ok("devnet", "status", "--dir", str(net.root), "--json")["bridge"]
    assert status["bscRunning"] and status["relayerRunning"]
    assert status["anchoredHeight"] >= end

    # The restarted relayer's metrics: what it anchored since its start.
    metrics_at = RelayConfig.load(net.root / "relay" / "relay.json").metrics_listen
    scraped = httpx.get(f"http://{metrics_at}/metrics", timeout=5.0).text
    samples = {
        line.split()[0]: float(line.split()[1])
        for line in scraped.splitlines()
        if line.startswith("ccoin_relay_") and " " in line
    }
    assert 0 < samples["ccoin_relay_anchored_height"] <= net.anchored()
    assert samples['ccoin_relay_rounds_total{outcome="ok"}'] >= 2

    # node0, the relayer's sidechain node, is killed: the relayer moves on to the next
    # node, and three of the four delegates still finalize, anchor and attest.
    node0 = read_pid(net.devnet.pid_file(net.devnet.nodes[0]))
    assert node0 is not None
    os.kill(node0, signal.SIGKILL)
    net.wait("node0 to vanish", lambda: not process_alive(node0), 10.0)
    net.node.close()
    net.node = Client(f"http://{net.devnet.nodes[1].rpc}")
    before = net.finalized()
    net.wait("anchors past node0's end", lambda: net.anchored() > before)
    recipient = KeyPair.generate().address
    nonce, _ = net.deposit(recipient, 4242)
    net.wait(f"deposit {nonce} credited without node0", lambda: net.credited(nonce))
    assert net.balance(recipient) == 4242
    assert total() == devbsc.TOKEN_SUPPLY
