"""The README's carbon walkthrough on a real 4-node devnet (issue 15's end-to-end
acceptance), with the same commands: the committee admits a class and an issuer, the issuer
registers a project and issues a 1,000,000-credit batch, 250 credits are transferred, 40 are
retired for "Acme Ltd", the certificate and a serial's history are shown, and the
retirement is proven and recorded on BSC (anvil) by `ccoin carbon prove --record`; a second
record is refused. All four nodes agree on the batch, the holdings and the certificate.

Every wait is for an observed condition with a deadline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ccoin.bridge.evm import Contract, EvmClient
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.main import cli
from ccoin.client import Client
from ccoin.devnet.layout import Devnet
from ccoin.testing.ports import free_port_range
from ccoin.testing.waits import poll_until

N = 4
pytestmark = pytest.mark.slow


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2, result.output
    return result.output


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Devnet]:
    root = tmp_path / "net"
    base = free_port_range(N)
    result = CliRunner().invoke(
        cli,
        ["devnet", "init", "--nodes", str(N), "--dir", str(root), "--base-port", str(base),
         "--test-accounts", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    try:
        up = CliRunner().invoke(cli, ["devnet", "up", "--dir", str(root), "--detach", "--json"])
        assert up.exit_code == 0, up.output
        yield Devnet.load(root)
    finally:
        down = CliRunner().invoke(cli, ["devnet", "down", "--dir", str(root)])
        assert down.exit_code == 0, down.output


def test_the_readme_carbon_walkthrough(devnet: Devnet, tmp_path: Path) -> None:
    root = devnet.root
    node = f"http://{devnet.nodes[0].rpc}"
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("walkthrough\n")
    keys = {}
    for i, name in enumerate(("issuer", "buyer")):
        keys[name] = tmp_path / f"{name}.json"
        run("keys", "import", "--devnet", str(root), "--test-account", str(i),
            "--out", str(keys[name]), "--kdf", "fast",
            "--passphrase-file", str(passphrase))  # fmt: skip
    issuer = run("keys", "show", str(keys["issuer"]))["address"]
    buyer = run("keys", "show", str(keys["buyer"]))["address"]
    committee = ["--keystore", str(root / "keys" / "carbon-committee.json"),
                 "--passphrase-file", str(root / "keys" / "passphrase")]  # fmt: skip

    def as_(who: str) -> list[str]:
        return ["--keystore", str(keys[who]), "--passphrase-file", str(passphrase)]

    final = ["--wait", "finalized", "--node", node]
    # 1. the committee admits a credit class and an issuer for it
    run("carbon", "admit-class", "VCS", "--name", "Verified Carbon Units", *committee, *final)
    run("carbon", "admit-issuer", issuer, "--classes", "VCS", *committee, *final)
    # 2. the issuer registers a project and issues a batch of 1,000,000 credits
    document = tmp_path / "pdd.txt"
    document.write_text("Kasigau Corridor REDD+ project design document\n")
    run("carbon", "project", "VCS-1234", "--class", "VCS", "--name", "Kasigau Corridor REDD+",
        "--jurisdiction", "KE", "--methodology", "VM0009", "--metadata-file", str(document),
        *as_("issuer"), *final)  # fmt: skip
    issued = run("carbon", "issue", "VCS-1234", "--first", "1", "--last", "1000000",
                 "--origin", "VCS-1234-2024-000001-1000000", "--vintage", "20240101-20241231",
                 "--to", issuer, "--metadata-file", str(document),
                 *as_("issuer"), *final)  # fmt: skip
    batch = issued["batchId"]
    assert batch == "VCS-1234-001"
    # the same origin again is refused, with its code and nothing changed
    again = refused("carbon", "issue", "VCS-1234", "--first", "2000001", "--last", "2000002",
                    "--origin", "VCS-1234-2024-000001-1000000", "--vintage", "20240101-20241231",
                    "--to", issuer, "--metadata-file", str(document), *as_("issuer"),
                    "--node", node)  # fmt: skip
    assert "TX_CARBON_ORIGIN_USED" in again
    # 3. 250 credits to a buyer
    run("carbon", "transfer", batch, "--to", buyer, "--quantity", "250", *as_("issuer"), *final)
    # 4. the buyer retires 40 for Acme Ltd
    retired = run("carbon", "retire", batch, "--quantity", "40", "--beneficiary", "Acme Ltd",
                  "--jurisdiction", "GB", "--reason", "2025 operational emissions",
                  *as_("buyer"), *final)  # fmt: skip
    retirement = retired["id"]
    # 5. the certificate and a serial's history
    certificate = run("carbon", "certificate", retirement, "--node", node)
    assert certificate["retirement"]["beneficiary"] == "Acme Ltd"
    assert certificate["retirement"]["ranges"] == [["1", "40"]]
    assert certificate["finality"]["finalized"] is True
    history = run("carbon", "history", batch, "17", "--node", node)
    assert [e["kind"] for e in history["events"]] == ["issue", "transfer", "retire"]
    assert history["status"] == "retired" and history["retirementId"] == retirement

    # All four nodes agree.
    answers = []
    height = int(certificate["block"]["height"])
    for spec in devnet.nodes:
        with Client(f"http://{spec.rpc}") as client:

            def final_there(c: Client = client) -> bool:
                return int(c.status()["finalizedHeight"]) >= height

            poll_until("every node to finalize the retirement's block", final_there, 30.0, 0.1)
            answers.append(
                (
                    client.carbon.batch(batch),
                    client.carbon.holdings(buyer),
                    client.carbon.certificate(retirement)["retirement"],
                )
            )
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0]["retired"] == "40" and answers[0][0]["tradable"] == "999960"

    # 6. proven on BSC: recorded once in the RetirementRegistry, a second record refused
    proof = run("carbon", "prove", retirement, "--devnet", str(root), "--record", "--node", node,
                "--timeout", "120")  # fmt: skip
    assert devnet.bsc is not None
    registry = Contract(
        devnet.bsc.retirement_registry, tuple(load_artifact("RetirementRegistry")["abi"])
    )
    with EvmClient(devnet.bsc.url) as evm:
        record_hash, quantity, height = registry.read(
            evm, "retirement", bytes.fromhex(certificate["retirement"]["retirementHash"])
        )
    assert (record_hash.hex(), quantity) == (certificate["retirement"]["recordHash"], 40)
    assert height == certificate["block"]["height"]
    assert proof["recorded"]["quantity"] == "40"
    assert proof["recorded"]["bscTransaction"].startswith("0x")
    twice = refused("carbon", "prove", retirement, "--devnet", str(root), "--record",
                    "--node", node)  # fmt: skip
    assert "recorded" in twice
