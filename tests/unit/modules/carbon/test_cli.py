"""`ccoin carbon` (ccoin.modules.carbon.cli) against an in-process node: the CLI runs in a
worker thread, its client's requests cross into the node's trio thread (as the sync
client's tests do). A credit's whole life through the commands, the reads in both forms,
and every bad input one clear line with exit status 2."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import trio
import trio.testing
from click.testing import CliRunner, Result

from ccoin.cli import remote
from ccoin.cli.main import COMMANDS, cli
from ccoin.client import Client
from ccoin.crypto.keystore import KDF_PRESETS, encrypt_seed, save_keystore
from ccoin.modules.catalog import MODULES
from ccoin.node.service import Node
from tests.unit.cli.test_main import NOT_FOR_READS, loaded_by
from tests.unit.client.conftest import URL, asgi_app
from tests.unit.client.test_carbon_client import carbon_node
from tests.unit.client.test_sync_client import IntoTrio
from tests.unit.modules.carbon.api_scenario import (
    BATCH,
    COMMITTEE,
    HOLDER,
    ISSUER,
    OTHER,
    PROJECT,
)

PASSPHRASE = "carbon cli"


@dataclass(frozen=True)
class Keys:
    passphrase: Path
    files: dict[str, Path]

    def signing(self, who: str) -> list[str]:
        return ["--keystore", str(self.files[who]), "--passphrase-file", str(self.passphrase)]


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    files = {}
    ops, mem = KDF_PRESETS["fast"]
    for who, key in (("committee", COMMITTEE), ("issuer", ISSUER), ("holder", HOLDER)):
        files[who] = tmp_path / f"{who}.json"
        save_keystore(encrypt_seed(key.seed, PASSPHRASE, opslimit=ops, memlimit=mem), files[who])
    return Keys(passphrase, files)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["carbon", *args], catch_exceptions=False)


def ok(*args: str) -> Any:
    """Run a command that must succeed; its JSON with --json, else its text."""
    result = run(*args)
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout) if "--json" in args else result.stdout


def refused(*args: str) -> str:
    """Run a command that must fail: one line on stderr, exit status 2; that line."""
    result = run(*args)
    assert result.exit_code == 2, (args, result.output)
    lines = result.stderr.strip().splitlines()
    assert result.stdout == "" and lines, (args, result.output)
    return lines[-1]


@pytest.fixture
def through(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Node], None]]:
    """Point the CLI's client at a node of this process."""

    def use(node: Node) -> None:
        def client(url: str) -> Client:
            clock = lambda: trio.from_thread.run_sync(node.clock.now)  # noqa: E731
            return Client(URL, transport=IntoTrio(asgi_app(node)), clock=clock)

        monkeypatch.setattr(remote, "Client", client)

    yield use


def lifecycle(keys: Keys, document: Path) -> dict[str, Any]:
    """Every carbon transaction and read through the CLI, in a worker thread."""
    out: dict[str, Any] = {}
    wait = ["--json", "--wait", "included"]
    ok("admit-class", "VCS", "--name", "Verified Carbon Unit", *wait, *keys.signing("committee"))
    ok("admit-class", "GS", "--name", "Gold Standard", *wait, *keys.signing("committee"))
    ok("remove-class", "GS", *wait, *keys.signing("committee"))
    ok("admit-issuer", ISSUER.address, "--classes", "VCS", *wait, *keys.signing("committee"))
    ok("project", PROJECT, "--class", "VCS", "--name", "Kasigau", "--jurisdiction", "KE",
       "--methodology", "VM0009", "--metadata-file", str(document), *wait,
       *keys.signing("issuer"))  # fmt: skip
    out["issue"] = ok(
        "issue", PROJECT, "--first", "1", "--last", "1000", "--origin", "O-1",
        "--vintage", "20240101-20241231", "--to", HOLDER.address,
        "--metadata-hash", "cd" * 32, *wait, *keys.signing("issuer"),
    )  # fmt: skip
    ok("transfer", BATCH, "--to", OTHER.address, "--ranges", "200-250,1-100", *wait,
       *keys.signing("holder"))  # fmt: skip
    out["retire"] = ok(
        "retire", BATCH, "--quantity", "5", "--beneficiary", "Acme Ltd", "--jurisdiction", "GB",
        "--reason", "2025 emissions", "--json", "--wait", "finalized", *keys.signing("holder"),
    )  # fmt: skip
    out["cancel"] = ok("cancel", BATCH, "--ranges", "990-999", "--reason", "moved",
                       *keys.signing("holder"))  # fmt: skip
    out["over"] = refused("transfer", BATCH, "--to", OTHER.address, "--quantity", "100000",
                          *keys.signing("holder"))  # fmt: skip
    out["remove"] = ok("remove-issuer", ISSUER.address, "--wait", "none",
                       *keys.signing("committee"))  # fmt: skip
    ok("remove-class", "VCS", *wait, *keys.signing("committee"))  # after remove-issuer
    out["classes"] = ok("classes")
    out["classes_json"] = ok("classes", "--json")
    out["issuers"] = ok("issuers", "--json")
    out["projects"] = ok("projects", "--class", "VCS")
    out["batches"] = ok("batches", "--project", PROJECT)
    out["batch"] = ok("batch", BATCH, "--json")
    out["batch_text"] = ok("batch", BATCH)
    out["holdings"] = ok("holdings", OTHER.address)
    out["history"] = ok("history", BATCH, "42")
    out["history_json"] = ok("history", BATCH, "42", "--limit", "1", "--json")
    out["retirements"] = ok("retirements", "--beneficiary", "Acme Ltd", "--json")
    out["retirements_text"] = ok("retirements", "--project", PROJECT, "--from", "1")
    retirement = out["retire"]["id"]
    out["certificate"] = ok("certificate", retirement, "--json")
    out["certificate_text"] = ok("certificate", retirement)
    height = out["retire"]["height"]
    out["proof"] = ok("prove", retirement, "--from", str(height), "--to", str(height), "--json")
    out["missing"] = refused("batch", "VCS-1234-009")
    out["bad_id"] = refused("history", "nope", "1")
    return out


async def test_a_credit_through_the_cli(
    tmp_path: Path,
    keys: Keys,
    through: Callable[[Node], None],
    autojump_clock: trio.testing.MockClock,
) -> None:
    node = carbon_node(tmp_path)
    through(node)
    document = tmp_path / "pdd.pdf"
    document.write_bytes(b"project design document")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            out = await trio.to_thread.run_sync(lifecycle, keys, document)
            nursery.cancel_scope.cancel()
    finally:
        node.close()
    assert out["issue"]["status"] in ("included", "finalized")
    assert out["issue"]["batchId"] == BATCH  # found once the issue was included
    assert out["retire"]["status"] == "finalized"
    assert out["cancel"].split()[0] in ("included", "finalized")  # the default --wait; text
    assert " in block " in out["cancel"]
    assert "TX_CARBON_INSUFFICIENT" in out["over"]
    assert out["remove"].startswith("submitted ")  # --wait none

    assert out["classes"].splitlines() == [
        f"GS  Gold Standard  admitted at {out['classes_json'][0]['admittedHeight']}, removed "
        f"at {out['classes_json'][0]['removedHeight']}",
        f"VCS  Verified Carbon Unit  admitted at {out['classes_json'][1]['admittedHeight']}, "
        f"removed at {out['classes_json'][1]['removedHeight']}",
    ]
    assert out["issuers"] == []  # removed (the class removal after it was included)
    assert out["projects"].startswith(f"{PROJECT}  VCS  Kasigau  KE  VM0009  issuer ")
    assert f"{BATCH}  serials 1-1000  vintage 20240101-20241231" in out["batches"]
    batch = out["batch"]
    assert (batch["issued"], batch["retired"], batch["cancelled"]) == ("1000", "5", "10")
    assert batch["metadataHash"] == "cd" * 32
    assert f"batchId: {BATCH}" in out["batch_text"].splitlines()
    assert out["holdings"].strip() == f"{BATCH}  151  serials 1-100,200-250"
    history = out["history"].splitlines()
    assert history[0] == f"{BATCH} serial 42: tradable, held by {OTHER.address}"
    assert [line.split()[1] for line in history[1:]] == ["issue", "transfer"]
    assert out["history_json"]["complete"] is False and len(out["history_json"]["events"]) == 1
    [acme] = out["retirements"]
    assert acme["retirementId"] == out["retire"]["id"] and acme["ranges"] == [["101", "105"]]
    assert "for Acme Ltd (GB)  serials 101-105" in out["retirements_text"]
    certificate = out["certificate"]
    assert certificate["retirement"] == acme and certificate["finality"]["finalized"] is True
    assert "  beneficiary: Acme Ltd" in out["certificate_text"].splitlines()
    assert out["proof"]["quantity"] == "5" and out["proof"]["leafCount"] == 1
    assert out["missing"].startswith("error: NOT_FOUND (6000): no carbon batch")
    assert out["bad_id"].startswith("error: BAD_ID (1008): batchId")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["transfer", BATCH, "--to", OTHER.address], "--quantity N"),
        (["transfer", BATCH, "--to", OTHER.address, "--quantity", "5", "--ranges", "1-5"],
         "--quantity N"),
        (["transfer", BATCH, "--to", OTHER.address, "--ranges", "5-1"], "1 <= first <= last"),
        (["transfer", BATCH, "--to", OTHER.address, "--ranges", "1-5,a-b"], "'a-b'"),
        (["transfer", BATCH, "--to", OTHER.address, "--ranges", "1-10,5-20"], "TX_BAD_ASSET"),
        (["transfer", BATCH, "--to", "nope", "--quantity", "1"], "BAD_ADDRESS"),
        (["transfer", BATCH, "--to", OTHER.address, "--quantity", "0"], "--quantity"),
        (["issue", PROJECT, "--first", "1", "--last", "9", "--origin", "O", "--vintage", "2024",
          "--to", HOLDER.address, "--metadata-hash", "00" * 32], "START-END"),
        (["issue", PROJECT, "--first", "1", "--last", "9", "--origin", "O",
          "--vintage", "20240101-20241231", "--to", HOLDER.address], "--metadata-file FILE"),
        (["issue", PROJECT, "--first", "9", "--last", "1", "--origin", "O",
          "--vintage", "20240101-20241231", "--to", HOLDER.address, "--metadata-hash",
          "00" * 32], "asset.last: below first"),
        (["project", PROJECT, "--class", "VCS", "--name", "n", "--jurisdiction", "KE",
          "--methodology", "m", "--metadata-hash", "xyz"], "BAD_JSON"),
        (["admit-class", "vcs", "--name", "n"], "TX_BAD_ASSET"),
        (["admit-issuer", ISSUER.address, "--classes", ","], "--classes"),
        (["retire", BATCH, "--quantity", "1", "--beneficiary", "A", "--jurisdiction", "XX-"],
         "TX_BAD_JURISDICTION"),
        (["cancel", BATCH, "--quantity", "1", "--reason", ""], "asset.reason"),
        (["history", BATCH, "0"], "SERIAL"),
        (["prove", "abc", "--from", "1"], "both --from and --to"),
        (["prove", "abc", "--from", "1", "--to", "2", "--record"], "drop --from/--to"),
        (["prove", "abc"], "--devnet DIR"),
        (["prove", "abc", "--bsc", "http://127.0.0.1:1", "--registry", "0x12"], "--registry"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(keys: Keys, args: list[str], says: str) -> None:
    """Refused before anything reaches a node (there is none: the default URL is closed)."""
    signing = keys.signing("holder") if args[0] not in ("history", "prove") else []
    line = refused(*args, *signing, "--node", "http://127.0.0.1:9")
    assert says in line, line
    assert "NODE_UNREACHABLE" not in line


def test_the_group_is_mounted_from_the_catalog() -> None:
    with_cli = [m for m in MODULES if m.cli is not None]
    assert [m.name for m in with_cli] == ["carbon"]  # core, contracts, bridge: ccoin/cli's own
    for module in with_cli:
        assert COMMANDS[module.name].target == module.cli
    group = COMMANDS["carbon"].load()
    assert isinstance(group, click.Group)
    assert {"admit-class", "issue", "retire", "prove", "certificate"} <= set(group.commands)


def test_an_unreachable_node_is_one_line(keys: Keys) -> None:
    line = refused("admit-class", "VCS", "--name", "n", *keys.signing("holder"), "--node",
                   "http://127.0.0.1:9")  # fmt: skip
    assert line.startswith("error: NODE_UNREACHABLE: could not reach http://127.0.0.1:9")


def test_the_group_loads_no_node_and_no_bsc_libraries() -> None:
    """`ccoin carbon` reads are as light as `ccoin status`; BSC's libraries load only for
    `prove` on BSC."""
    assert loaded_by("import ccoin.modules.carbon.cli", NOT_FOR_READS) == []
