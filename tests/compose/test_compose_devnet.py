"""The docker-compose devnet, checked from the host (run by scripts/compose-test, ADR 0024).

`docker compose up --wait` has returned before this runs. Everything goes through what a
user has on the host: the ports published on 127.0.0.1, the `ccoin` CLI, and the devnet's
public files (devnet.json, genesis.json, keys/) copied out of the volume with
`docker compose cp`. The tests run in file order, each leaving the devnet as the next one
expects (node2 restarted, then node1 killed for good).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ccoin.client import Client
from ccoin.client.errors import ClientError
from ccoin.crypto.keys import KeyPair
from ccoin.testing.waits import poll_until

REPO = Path(__file__).resolve().parents[2]
PROJECT = os.environ.get("CCOIN_COMPOSE_PROJECT", "ccoin-devnet")
RPC = [f"http://127.0.0.1:{26700 + i}" for i in range(4)]
TIMEOUT = 90.0  # seconds for one awaited event on a loaded 2-core machine
POLL = 0.5


def log(message: str) -> None:
    print(f"[compose-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


def compose(*args: str) -> str:
    command = ["docker", "compose", "-p", PROJECT, "-f", str(REPO / "docker-compose.yml")]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"docker compose {' '.join(args)}: {done.stderr}"
    return done.stdout


def ccoin(*args: str | Path) -> Any:
    """The CLI as a user runs it, with --json; its parsed output."""
    command = [sys.executable, "-m", "ccoin.cli.main", *map(str, args), "--json"]
    env = {k: v for k, v in os.environ.items() if k not in ("CCOIN_NODE", "CCOIN_PASSPHRASE")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, f"ccoin {' '.join(map(str, args))}: {done.stderr}"
    return json.loads(done.stdout)


def wait(what: str, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    log(f"{what}: after {poll_until(what, condition, timeout, POLL):.1f} s")


def status(url: str) -> dict[str, Any] | None:
    try:
        with Client(url, timeout=3.0) as node:
            return node.status()
    except (ClientError, OSError):
        return None


def finalized(url: str) -> int:
    s = status(url)
    return -1 if s is None else int(s["finalizedHeight"])


def advanced(urls: list[str], by: int) -> Callable[[], bool]:
    start = {url: finalized(url) for url in urls}
    return lambda: all(finalized(url) >= start[url] + by for url in urls)


def balance(url: str, address: str) -> int:
    with Client(url) as node:
        account = node.get_account(address)
    return int(account["balance"]) if account["exists"] else 0


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The devnet's public files, copied from the volume as the README says."""
    root = tmp_path_factory.mktemp("compose-devnet")
    for entry in ("devnet.json", "genesis.json", "keys"):
        compose("cp", f"init:/devnet/{entry}", str(root))
    log(f"copied devnet.json, genesis.json and keys/ out of the volume into {root}")
    yield root


def test_all_four_nodes_finalize() -> None:
    config = json.loads(compose("config", "--format", "json"))
    assert all(svc.get("network_mode") != "host" for svc in config["services"].values())
    wait("every node to serve with 3 peers", lambda: all(
        (s := status(url)) is not None and s["peers"] == 3 for url in RPC
    ))  # fmt: skip
    wait("every node to finalize 3 more blocks", advanced(RPC, 3))
    heights = [finalized(url) for url in RPC]
    log(f"finalized heights {heights}")
    low = min(heights)
    with Client(RPC[0]) as node0:
        expected = node0.get_block(low)["id"]
    for url in RPC[1:]:
        with Client(url) as node:
            assert node.get_block(low)["id"] == expected  # one chain


def test_devnet_status_asks_the_containers(devnet: Path) -> None:
    status = ccoin("devnet", "status", "--dir", devnet)
    log(f"ccoin devnet status: {status}")
    assert [n["running"] for n in status["nodes"]] == [True] * 4
    assert all(n["finalized"] >= 1 and n["peers"] == 3 for n in status["nodes"])
    bridge = status["bridge"]
    assert bridge["bscRunning"] and bridge["relayerRunning"]


def test_a_cli_transfer_finalizes_on_all_four(devnet: Path) -> None:
    keystore, passphrase = devnet / "t0.json", devnet / "keys" / "passphrase"
    ccoin("keys", "import", "--devnet", devnet, "--test-account", "0", "--out", keystore,
          "--passphrase-file", passphrase, "--kdf", "fast")  # fmt: skip
    recipient = KeyPair.generate().address
    sent = ccoin("tx", "transfer", "--node", RPC[0], "--keystore", keystore,
                 "--passphrase-file", passphrase, "--to", recipient, "--amount", "2.5C",
                 "--wait", "finalized")  # fmt: skip
    log(f"transfer {sent['id']} finalized on node0")

    def on_all() -> bool:
        return all(balance(url, recipient) == 25_000 for url in RPC)

    wait("the transfer to show on all four nodes", on_all)


def test_a_bsc_deposit_is_credited(devnet: Path) -> None:
    recipient = KeyPair.generate().address
    out = ccoin("bridge", "deposit", "--devnet", devnet, "--to", recipient, "--amount", "50000")
    log(f"deposit nonce {out['nonce']} sent on BSC in {out['bscTransaction']}")
    wait(
        "the deposit to be credited (confirmations, attestations, the relayer's credit)",
        lambda: balance(RPC[0], recipient) == 50_000,
        timeout=120.0,
    )


def test_a_restarted_node_catches_up() -> None:
    before = finalized(RPC[0])
    compose("restart", "node2")
    wait("node2 to serve again", lambda: status(RPC[2]) is not None)
    target = finalized(RPC[0])
    log(f"node2 restarted; node0 finalized {before} before, {target} now")
    wait(f"node2 to finalize {target}", lambda: finalized(RPC[2]) >= target)
    with Client(RPC[0]) as node0, Client(RPC[2]) as node2:
        for height in (before, target):
            assert node2.get_block(height)["id"] == node0.get_block(height)["id"]


def test_three_nodes_keep_finalizing_after_one_is_killed() -> None:
    compose("kill", "-s", "SIGKILL", "node1")
    wait("node1 to be gone", lambda: status(RPC[1]) is None, timeout=30.0)
    state = compose("ps", "-a", "--format", "{{.Service}} {{.State}}")
    assert "node1 exited" in state, state
    others = [RPC[0], RPC[2], RPC[3]]
    wait("node0, node2 and node3 to finalize 3 more blocks without node1", advanced(others, 3))
    assert status(RPC[1]) is None  # still down: the three did it alone
