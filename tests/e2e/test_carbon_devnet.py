"""The README's carbon walkthrough on a real 4-node devnet (issue 15's end-to-end
acceptance), its commands read from README.md, so the test follows the docs (a keystore's
passphrase comes from a file instead of the prompt, and each command asks for --json): the
committee admits a class and an issuer, the issuer registers a project and issues a
1,000,000-credit batch, 250 credits are transferred, 40 are retired for "Acme Ltd", the
certificate and a serial's history are shown, and the retirement is proven and recorded on
BSC (anvil) by `ccoin carbon prove --record`; a second record is refused. All four nodes
agree on the batch, the holdings and the certificate.

Every wait is for an observed condition with a deadline.
"""

from __future__ import annotations

import json
import shlex
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


README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### Carbon credits on the devnet"


def readme_walkthrough() -> tuple[dict[str, str], list[str]]:
    """The section's first `sh` block: its variable line, and its commands (continuations
    joined, comments dropped), as written."""
    text = README.read_text().split(SECTION, 1)[1]
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ").splitlines()
    assignments = {}
    for part in joined[0].split(";"):
        name, value = part.strip().split("=", 1)
        assignments[name] = shlex.split(value)[0]
    commands = []
    for line in joined[1:]:
        words = shlex.split(line, comments=True)
        if words:
            commands.append(line.split(" #", 1)[0].strip())
    return assignments, commands


def test_the_readme_carbon_walkthrough(devnet: Devnet, tmp_path: Path) -> None:
    root = devnet.root
    node = f"http://{devnet.nodes[0].rpc}"
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("walkthrough\n")
    document = tmp_path / "pdd.pdf"
    document.write_text("Kasigau Corridor REDD+ project design document\n")
    variables, commands = readme_walkthrough()
    assert variables["D"] == ".devnet"
    values: dict[str, str] = {}
    outputs: dict[str, Any] = {}

    def expand(command: str) -> list[str]:
        for name in ("C", "D"):  # $C names $D
            command = command.replace(f"${name}", variables[name])
        for placeholder, value in values.items():
            command = command.replace(placeholder, value)
        args = []
        for word in shlex.split(command):
            if word.startswith(".devnet"):
                word = str(root) + word[len(".devnet") :]
            elif word in ("issuer.json", "buyer.json", "pdd.pdf"):
                word = str(tmp_path / word)
            args.append(word)
            if word.endswith(("issuer.json", "buyer.json")):
                args += ["--passphrase-file", str(passphrase)]  # instead of the prompt
        assert args[0] == "ccoin"
        if args[1] == "carbon":
            args += ["--node", node]
        return args[1:]

    for command in commands:
        args = expand(command)
        outputs[" ".join(args[:2])] = answer = run(*args)
        if args[:2] == ["keys", "import"]:
            role = (
                "ISSUER_ADDRESS" if "issuer" in args[args.index("--out") + 1] else "BUYER_ADDRESS"
            )
            values[role] = answer["address"]
        if args[:2] == ["carbon", "retire"]:
            values["RETIREMENT_ID"] = answer["id"]
    assert [" ".join(expand(c)[:2]) for c in commands] == [
        "keys import", "keys import", "carbon admit-class", "carbon admit-issuer",
        "carbon project", "carbon issue", "carbon transfer", "carbon retire",
        "carbon certificate", "carbon history", "carbon prove",
    ]  # fmt: skip

    batch = outputs["carbon issue"]["batchId"]
    assert batch == "VCS-1234-001"
    retirement = values["RETIREMENT_ID"]
    certificate = outputs["carbon certificate"]
    assert certificate["retirement"]["beneficiary"] == "Acme Ltd"
    assert certificate["retirement"]["ranges"] == [["1", "40"]]
    assert certificate["finality"]["finalized"] is True
    history = outputs["carbon history"]
    assert [e["kind"] for e in history["events"]] == ["issue", "transfer", "retire"]
    assert history["status"] == "retired" and history["retirementId"] == retirement

    # the same origin again is refused, with its code
    again = refused(*expand(commands[5].replace("--first 1 --last 1000000",
                                                "--first 2000001 --last 2000002")))  # fmt: skip
    assert "TX_CARBON_ORIGIN_USED" in again

    # All four nodes agree.
    buyer = values["BUYER_ADDRESS"]
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
    assert answers[0][1]["holdings"][0]["ranges"] == [["41", "250"]]

    # proven on BSC: recorded once in the RetirementRegistry, a second record refused
    proof = outputs["carbon prove"]
    assert proof["recorded"]["quantity"] == "40"
    assert proof["recorded"]["bscTransaction"].startswith("0x")
    assert devnet.bsc is not None
    registry = Contract(
        devnet.bsc.retirement_registry, tuple(load_artifact("RetirementRegistry")["abi"])
    )
    with EvmClient(devnet.bsc.url) as evm:
        record_hash, quantity, recorded_at = registry.read(
            evm, "retirement", bytes.fromhex(certificate["retirement"]["retirementHash"])
        )
    assert (record_hash.hex(), quantity) == (certificate["retirement"]["recordHash"], 40)
    assert recorded_at == height
    twice = refused(*expand(commands[-1]))
    assert "recorded on BSC already" in twice
