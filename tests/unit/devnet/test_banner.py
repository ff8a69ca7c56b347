"""The banner of `ccoin devnet up`: rendered from plain facts, and gathered from a devnet
directory (whose import lines really import the accounts they name)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from ccoin.devnet.banner import (
    SHOWN_ACCOUNTS,
    BscFacts,
    DevnetFacts,
    FundedAccount,
    NodeEndpoints,
    devnet_facts,
    render_banner,
    shown_path,
)
from ccoin.devnet.layout import Devnet
from ccoin.types.genesis import UNIT
from tests.unit.devnet.helpers import init, ok

ANCHOR = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
BRIDGE = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
REGISTRY = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
USER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
MILLION_C = 10**6 * UNIT


def node(i: int) -> NodeEndpoints:
    rpc = f"127.0.0.1:{26700 + i}"
    return NodeEndpoints(
        name=f"node{i}",
        p2p=f"127.0.0.1:{26600 + i}",
        rpc=f"http://{rpc}",
        websocket=f"ws://{rpc}/ws",
        metrics=f"http://{rpc}/metrics",
        log=f"/srv/net/node{i}/node.log",
    )


def facts(*, bsc: bool = True, accounts: int = 3, total: int = 1000) -> DevnetFacts:
    return DevnetFacts(
        directory=".devnet",
        root="/srv/net",
        chain_name="ccoin-devnet",
        network_id="ab" * 32,
        block_time_ms=1000,
        nodes=(node(0), node(1)),
        bsc=BscFacts(
            url="http://127.0.0.1:26800",
            chain_id=97,
            anchor=ANCHOR,
            bridge=BRIDGE,
            token=TOKEN,
            retirement_registry=REGISTRY,
            user=USER,
            relayer_metrics="http://127.0.0.1:26801/metrics",
        )
        if bsc
        else None,
        accounts=tuple(FundedAccount(i, f"Caddress{i}", MILLION_C) for i in range(accounts)),
        account_count=total if accounts else 0,
    )


def test_the_banner_says_where_everything_is() -> None:
    text = "\n".join(render_banner(facts()))
    assert "ccoin-devnet is up: 2 node(s), a block every 1 s, in .devnet" in text
    assert "ab" * 32 in text
    for i in range(2):
        line = next(x for x in text.splitlines() if x.startswith(f"node{i} "))
        assert line.split() == [
            f"node{i}",
            f"http://127.0.0.1:{26700 + i}",
            f"ws://127.0.0.1:{26700 + i}/ws",
            f"http://127.0.0.1:{26700 + i}/metrics",
        ]
    assert "BSC (anvil)  http://127.0.0.1:26800  chain id 97" in text
    shown = (("Anchor", ANCHOR), ("Bridge", BRIDGE), ("token (C)", TOKEN), ("Registry", REGISTRY))
    for label, address in shown:
        assert f"  {label:<9}  {address}" in text
    assert USER in text and "relayer    metrics http://127.0.0.1:26801/metrics" in text
    assert "\x1b" not in text  # the banner is plain text, on a terminal too


def test_the_banner_lists_accounts_with_their_import_line_and_a_warning() -> None:
    lines = render_banner(facts(accounts=3))
    start = lines.index("Test accounts, funded at genesis (3 of 1,000)")
    for i in range(3):
        assert lines[start + 1 + 2 * i] == f"({i}) Caddress{i}  1,000,000.0000 C"
        assert lines[start + 2 + 2 * i] == (
            f"    ccoin keys import --devnet .devnet --test-account {i} "
            f"--out test-account-{i}.json --kdf fast"
        )
    warning = " ".join(lines[-2:])
    assert warning.startswith("WARNING: these are PUBLIC test keys")
    assert ".devnet/keys/test-accounts.json" in warning and "never for anything of value" in warning


def test_the_banner_without_bridge_or_accounts() -> None:
    lines = render_banner(facts(bsc=False, accounts=0))
    assert "BSC: none (started without the bridge)" in lines
    assert lines[-1] == "Test accounts: none (this devnet was made with --test-accounts 0)"
    assert not any("WARNING" in line or "Anchor" in line for line in lines)


def test_the_json_form_holds_the_same_facts() -> None:
    doc = facts().to_json()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["devnet"] == "/srv/net" and doc["chainName"] == "ccoin-devnet"
    assert doc["networkId"] == "ab" * 32 and doc["blockTimeMs"] == 1000
    assert doc["nodes"][1] == {
        "name": "node1",
        "p2p": "127.0.0.1:26601",
        "rpc": "http://127.0.0.1:26701",
        "websocket": "ws://127.0.0.1:26701/ws",
        "metrics": "http://127.0.0.1:26701/metrics",
        "log": "/srv/net/node1/node.log",
    }
    assert doc["bsc"] == {
        "url": "http://127.0.0.1:26800",
        "chainId": 97,
        "anchor": ANCHOR,
        "bridge": BRIDGE,
        "token": TOKEN,
        "retirementRegistry": REGISTRY,
        "user": USER,
        "relayerMetrics": "http://127.0.0.1:26801/metrics",
    }
    accounts = doc["testAccounts"]
    assert accounts["count"] == 1000 and accounts["file"] == "/srv/net/keys/test-accounts.json"
    assert "public test keys" in accounts["warning"]
    assert accounts["first"][2] == {
        "index": 2,
        "address": "Caddress2",
        "balance": "10000000000",  # base units as a decimal string, as over RPC
        "import": "ccoin keys import --devnet /srv/net --test-account 2 "
        "--out test-account-2.json --kdf fast",
    }
    assert facts(bsc=False).to_json()["bsc"] is None


def test_an_import_line_quotes_its_directory() -> None:
    command = FundedAccount(4, "Cx", 1).import_command("my devnet")
    assert shlex.split(command)[3:7] == ["--devnet", "my devnet", "--test-account", "4"]


def test_paths_are_shown_as_typed_here(tmp_path: Path) -> None:
    assert shown_path(tmp_path / ".devnet", tmp_path) == ".devnet"
    assert shown_path(tmp_path / "a" / "b", tmp_path) == "a/b"
    assert shown_path(tmp_path, tmp_path) == str(tmp_path)
    assert shown_path(tmp_path, tmp_path / "elsewhere") == str(tmp_path)


def test_facts_of_a_real_devnet_and_its_import_lines_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    init(Path(".devnet"), nodes=2, test_accounts=SHOWN_ACCOUNTS + 2)
    devnet = Devnet.load(Path(".devnet"))
    found = devnet_facts(devnet)
    assert found.directory == ".devnet" and found.root == str(tmp_path / ".devnet")
    assert found.network_id == devnet.network_id and found.block_time_ms == 1000
    assert [n.rpc for n in found.nodes] == [f"http://{n.rpc}" for n in devnet.nodes]
    assert found.account_count == SHOWN_ACCOUNTS + 2
    keys = devnet.test_accounts()
    assert [a.address for a in found.accounts] == [k.address for k in keys[:SHOWN_ACCOUNTS]]
    assert all(a.balance > 0 for a in found.accounts)
    assert found.bsc is not None and found.bsc.url == devnet.bsc.url  # type: ignore[union-attr]
    assert found.bsc.relayer_metrics is not None
    assert devnet_facts(devnet, bridge=False).bsc is None

    (tmp_path / "pass").write_text("devnet\n")
    account = found.accounts[7]
    [command, *args] = shlex.split(account.import_command(found.directory))
    assert command == "ccoin"
    imported = ok(*args, "--passphrase-file", "pass", "--json")
    assert imported["address"] == account.address
    assert Path(f"test-account-{account.index}.json").is_file()
