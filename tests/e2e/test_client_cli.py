"""The RPC commands of the real `ccoin` CLI against real node processes: one node from
`ccoin node init` + `ccoin node start`, and a 4-node devnet from `ccoin devnet up --detach`.

A transfer is submitted with `--wait finalized`; every node must then report the new
balance and the block, and a transfer above the balance exits 2 with its code. On the
single node, a vote and a second-signature registration go through the CLI as well.
Waits are for events (the node's log line, the client's `wait_for`) or bounded polling of
status with a deadline; processes are stopped even when a test fails.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ccoin.bridge.remote import RemoteSidechain, RemoteSigner
from ccoin.bridge.signer import BridgeRefusal
from ccoin.client import Client, NodeUnreachable
from ccoin.crypto.address import id_from_hash
from ccoin.crypto.keystore import load_keystore
from ccoin.devnet.layout import Devnet
from ccoin.errors import ErrorCode
from ccoin.testing.ports import free_port_range
from ccoin.testing.vm import EXAMPLES
from tests.e2e.test_devnet import POLL, N
from tests.e2e.test_node_process import start, stop

pytestmark = pytest.mark.slow

COMMAND_TIMEOUT = 60.0
READY_DEADLINE = 45.0
AMOUNT = 25_000  # base units
PASSPHRASE = "client e2e passphrase"
TOKEN_FILE = EXAMPLES / "token.py"


def ccoin(*parts: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI; text parts are split at spaces, paths are kept whole."""
    args = [a for p in parts for a in ([str(p)] if isinstance(p, Path) else p.split())]
    env = {k: v for k, v in os.environ.items() if k not in ("CCOIN_NODE", "CCOIN_PASSPHRASE")}
    return subprocess.run(
        [sys.executable, "-m", "ccoin.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=env,
        check=False,
    )


def ccoin_json(*parts: str | Path) -> Any:
    result = ccoin(*parts)
    assert result.returncode == 0, f"ccoin {result.args[3:]}: {result.stderr}"
    return json.loads(result.stdout)


def wait_ready(
    url: str, ready: Callable[[dict[str, Any]], bool], alive: Callable[[], bool]
) -> None:
    """Bounded polling of a node's status until `ready(status)`."""
    deadline = time.monotonic() + READY_DEADLINE
    last: object = None
    with Client(url, timeout=2) as client:
        while True:
            assert alive(), f"the node behind {url} exited"
            try:
                last = status = client.status()
                if ready(status):
                    return
            except NodeUnreachable as exc:
                last = exc
            if time.monotonic() > deadline:
                pytest.fail(f"{url} not ready after {READY_DEADLINE} s: {last}")
            time.sleep(POLL)


@dataclass(frozen=True)
class Network:
    urls: list[str]
    keys: Path  # holds fund-liquidity.json and its passphrase


def exercise(net: Network, tmp_path: Path, submit_to: int) -> None:
    """Transfer from a funded account to a fresh one and check it on every node; then a
    transfer above the fresh account's balance is refused with its code."""
    passfile = tmp_path / "pass"
    passfile.write_text(PASSPHRASE + "\n")
    fresh = tmp_path / "fresh.json"
    address = ccoin_json("keys new --kdf fast --json --out", fresh, "--passphrase-file", passfile)[
        "address"
    ]
    fund = net.keys / "fund-liquidity.json"
    sent = ccoin_json(
        f"tx transfer --to {address} --amount {AMOUNT} --wait finalized --json",
        f"--node {net.urls[submit_to]} --keystore",
        fund,
        "--passphrase-file",
        net.keys / "passphrase",
    )
    assert sent["status"] == "finalized" and sent["height"] >= 1
    check_every_node(net, sent, address)

    refused = ccoin(
        f"tx transfer --to {address} --amount {AMOUNT * 10} --node {net.urls[0]} --keystore",
        fresh,
        "--passphrase-file",
        passfile,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith("error: TX_INSUFFICIENT_BALANCE (3001):"), refused.stderr
    assert refused.stdout == ""


def check_every_node(net: Network, sent: dict[str, Any], address: str) -> None:
    for url in net.urls:
        with Client(url) as client:  # the others finalize it a moment later
            assert client.wait_for(sent["id"], "finalized", timeout=30)["height"] == sent["height"]
        account = ccoin_json(f"account {address} --json --node {url}")
        assert account["balance"] == str(AMOUNT) and account["exists"]
    last = net.urls[-1]
    block = ccoin_json(f"block {sent['height']} --json --node {last}")
    assert block["id"] == sent["blockId"] and sent["id"] in block["transactionIds"]
    status = ccoin_json(f"status --json --node {last}")
    assert status["finalizedHeight"] >= sent["height"]
    shown = ccoin(f"block {sent['blockId']} --transactions --node {net.urls[0]}")
    assert shown.returncode == 0 and sent["id"] in shown.stdout
    human = ccoin(f"account {address} --node {net.urls[0]}")
    assert "2.5000 C (25000 units)" in human.stdout


@pytest.fixture
def one_node(tmp_path: Path) -> Iterator[Network]:
    listen = f"127.0.0.1:{free_port_range(1)}"
    url = f"http://{listen}"
    root = tmp_path / "net"
    init = ccoin_json(f"node init --test-accounts 0 --rpc {listen} --dir", root)
    assert init["rpc"] == url
    proc, log = start(root / "node.json")
    try:
        assert log.wait_for(r"rpc_listening url=(\S+)").group(1) == url
        wait_ready(url, lambda s: s["finalizedHeight"] >= 1, lambda: proc.poll() is None)
        yield Network([url], root / "keys")
    finally:
        stop(proc)


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Network]:
    root = tmp_path / "devnet"
    base = free_port_range(N)
    init = f"devnet init --nodes {N} --base-port {base} --test-accounts 0 --no-bridge --dir"
    ccoin_json(init, root)
    layout = Devnet.load(root)
    urls = [f"http://{node.rpc}" for node in layout.nodes]
    pids: list[int] = []
    try:
        started = ccoin_json("devnet up --detach --json --dir", root)
        pids += [entry["pid"] for entry in started["started"]]
        assert len(pids) == N
        for url, pid in zip(urls, pids, strict=True):
            wait_ready(url, lambda s: s["finalizedHeight"] >= 2, functools.partial(alive, pid))
        yield Network(urls, root / "keys")
    finally:
        ccoin("devnet down --dir", root)
        for pid in pids:  # only if `down` could not stop them
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_cli_against_one_node(one_node: Network, tmp_path: Path) -> None:
    exercise(one_node, tmp_path, submit_to=0)
    contracts(one_node)
    not_a_withdrawal = id_from_hash(b"\x01" * 32)  # a well-formed id of no transaction
    proved = ccoin(f"bridge prove {not_a_withdrawal} --from 1 --to 1 --node {one_node.urls[0]}")
    assert proved.returncode == 2 and "error: NOT_FOUND (6000)" in proved.stderr, proved.stderr
    relayer_ports(one_node.urls[0])
    signed_offline_and_sent(one_node, tmp_path)
    vote_and_second_signature(one_node, tmp_path)


def signed_offline_and_sent(net: Network, tmp_path: Path) -> None:
    """build -> sign -> encode offline, then `tx send` the bytes (the raw path) and the
    JSON form (the JSON path): the bytes finalize under the id the JSON form names; sending
    either again is refused with its code; altered bytes are refused."""
    url, keys = net.urls[0], net.keys
    fund, passphrase = keys / "fund-liquidity.json", keys / "passphrase"
    status = ccoin_json(f"status --json --node {url}")
    network = f"--network-id {status['networkId']}"
    timestamp = max(0, int(time.time()) - status["genesisTime"])
    recipient = load_keystore(keys / "delegate-0.json").address
    unsigned = tmp_path / "unsigned.json"
    built = ccoin_json(
        f"tx build --type transfer --recipient {recipient} --amount 7 --fee 100000",
        f"--timestamp {timestamp} --keystore",
        fund,
    )
    unsigned.write_text(json.dumps(built))
    signed_file, raw_file = tmp_path / "signed.json", tmp_path / "signed.hex"
    signed = ccoin_json(
        "tx sign", unsigned, "--keystore", fund, "--passphrase-file", passphrase, network
    )
    signed_file.write_text(json.dumps(signed))
    encoded = ccoin("tx encode", signed_file, network)
    assert encoded.returncode == 0, encoded.stderr
    raw_file.write_text(encoded.stdout)
    sent = ccoin_json("tx send", raw_file, f"--wait finalized --json --node {url}")
    assert sent["id"] == signed["id"] and sent["status"] == "finalized", sent
    again = ccoin("tx send", signed_file, f"--node {url}")
    assert again.returncode == 2
    assert again.stderr.startswith("error: TX_ALREADY_INCLUDED (3000)"), again.stderr
    replayed = ccoin("tx send", raw_file, f"--node {url}")
    assert replayed.stderr.startswith("error: TX_ALREADY_INCLUDED (3000)"), replayed.stderr
    text = encoded.stdout.strip()
    altered = tmp_path / "altered.hex"
    assert text.endswith("c090")  # ...signature, no signSignature (nil), no co-signatures
    last = int(text[-6:-4], 16) ^ 1  # the signature's last byte
    altered.write_text(f"{text[:-6]}{last:02x}{text[-4:]}")
    refused = ccoin("tx send", altered, f"--node {url}")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: TX_BAD_SIGNATURE (2001)"), refused.stderr
    (tmp_path / "junk.txt").write_text("neither JSON nor hex\n")
    junk = ccoin("tx send", tmp_path / "junk.txt", f"--node {url}")
    assert junk.returncode != 0 and "not JSON" in junk.stderr, junk.stderr


def relayer_ports(url: str) -> None:
    """The relayer's RPC ports against a node without bridge duties: plumbing and codes."""
    sidechain = RemoteSidechain([url])
    signer = RemoteSigner(url)
    try:
        assert sidechain.finalized_height() >= 1 and sidechain.chain_time() > 0
        assert sidechain.deposit_credited(97, b"\xbb" * 20, 1) is False
        with pytest.raises(BridgeRefusal) as refused:
            signer.sign_anchor(97, "0x" + "ab" * 20, 0, 1, 1)
        assert refused.value.code is ErrorCode.BRIDGE_REFUSED
    finally:
        sidechain.close()
        signer.close()
    unreachable = RemoteSigner("http://127.0.0.1:9")
    with pytest.raises(BridgeRefusal) as down:
        unreachable.sign_set(97, "0x" + "ab" * 20, 0)
    assert down.value.code is ErrorCode.BRIDGE_NOT_FINAL  # retryable: ask again later
    unreachable.close()


def contracts(net: Network) -> None:
    """Deploy the example token, call it through different nodes (one call fails and only
    pays its fee), read it with views; every node ends with the same stateRoot at the
    height of the last call, and answers views the same."""
    keys = net.keys
    fund = ["--keystore", keys / "fund-liquidity.json", "--passphrase-file", keys / "passphrase"]
    owner = load_keystore(keys / "fund-liquidity.json").address
    holder = load_keystore(keys / "delegate-0.json").address
    node = [f"--node {url}" for url in net.urls]
    deployed = ccoin_json("contract deploy", TOKEN_FILE, f"--name token --json {node[0]}", *fund)
    token = deployed["receipt"]["contract"]
    assert deployed["receipt"]["ok"] and deployed["status"] in ("included", "finalized")
    shown = ccoin_json(f"contract show {token} --json {node[-1]}")
    assert shown["owner"] == owner and shown["version"] == 1

    call = f"contract call {token}"
    minted = ccoin_json(f"{call} mint --args", f'["{owner}",1000]', f"--json {node[0]}", *fund)
    assert minted["receipt"]["events"][0]["fields"] == {"to": owner, "amount": 1000}
    moved = ccoin_json(f"{call} transfer --args", f'["{holder}",300]', f"--json {node[-1]}", *fund)
    assert moved["receipt"]["value"] == 300
    failed = ccoin(f"{call} fail_after_write --args", f'["{holder}"]', node[len(node) // 2], *fund)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert "CONTRACT_FAILED (7000): ContractError: no" in failed.stderr
    assert "fee paid" in failed.stderr

    last = max(minted["height"], moved["height"])
    roots = set()
    for url in net.urls:
        with Client(url) as client:
            for tx in (minted, moved):
                client.wait_for(tx["id"], "finalized", timeout=30)
            roots.add(client.get_block(last)["stateRoot"])
        total = ccoin(f"contract view {token} total --node {url}")
        assert total.returncode == 0 and total.stdout.strip() == "1000", total.stderr
        held = ccoin_json(
            f"contract view {token} transfer --args",
            f'["{owner}",1]',
            f"--sender {holder}",
            f"--json --node {url}",
        )
        assert held["ok"] and held["value"] == 701  # a view: nothing applied
    assert len(roots) == 1, roots
    refused = ccoin(f"contract view {token} transfer --args", f'["{owner}",999]', node[0])
    assert refused.returncode == 2 and "insufficient balance" in refused.stderr


def vote_and_second_signature(net: Network, tmp_path: Path) -> None:
    """The other submitting commands, from the funded account: a vote, then a second key
    that every later transfer needs."""
    url, keys, passfile = net.urls[0], net.keys, tmp_path / "pass"
    fund = ["--keystore", keys / "fund-liquidity.json", "--passphrase-file", keys / "passphrase"]
    delegate = load_keystore(keys / "delegate-0.json").public_key.hex()
    voted = ccoin_json(f"tx vote --add {delegate} --json --node {url}", *fund)
    assert voted["status"] in ("included", "finalized")
    address = load_keystore(keys / "fund-liquidity.json").address

    second = tmp_path / "second.json"
    second_key = ccoin_json(
        "keys new --kdf fast --json --out", second, "--passphrase-file", passfile
    )
    ccoin_json(f"tx second-signature --json --node {url} --second-keystore", second, *fund)
    account = ccoin_json(f"account {address} --json --node {url}")
    assert account["secondPublicKey"] == second_key["publicKey"]
    assert account["votes"] == [delegate]
    transfer = f"tx transfer --to {address} --amount 1C --wait none --node {url}"
    missing = ccoin(transfer, *fund)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: TX_MISSING_SECOND_SIGNATURE (2005)"), missing.stderr
    signed = ccoin(
        transfer, *fund, "--second-keystore", second, "--second-passphrase-file", passfile
    )
    assert signed.returncode == 0 and signed.stdout.startswith("submitted "), signed.stderr


def test_cli_against_a_four_node_devnet(devnet: Network, tmp_path: Path) -> None:
    exercise(devnet, tmp_path, submit_to=2)  # submitted to node2, checked on all four
    contracts(devnet)
