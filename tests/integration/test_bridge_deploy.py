"""The BSC contracts for a real network, without the devnet, against a real anvil:
`ccoin bridge plan --bsc` -> `ccoin genesis new --bridge-contract` -> `ccoin bridge deploy`.
The contracts land where planned with the genesis active set and network id; a genesis
whose Bridge is not at the deployer's nonce + 2, or a chain with another id, is refused
before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from eth_account import Account

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge.deployment import genesis_members, plan_addresses
from ccoin.bridge.digests import sorted_members
from ccoin.bridge.evm import Contract, EvmClient, create_address, new_account
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.main import cli
from ccoin.crypto.address import escrow_address
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.ledger.genesis import network_id_of
from ccoin.types.genesis import UNIT, GenesisConfig

PASSPHRASE = "correct horse"
SUPPLY = 10**9 * UNIT
CHAIN = "ccoin-bridge-test"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one clear line, no traceback
    return lines[0]


def genesis_new(tmp: Path, name: str, contract: str, *extra: str) -> Path:
    out = tmp / name / "genesis.json"
    ok(
        "genesis", "new", "--out", str(out), "--keys-dir", str(tmp / name / "keys"),
        "--delegates", "3", "--chain-name", CHAIN, "--kdf", "fast",
        "--passphrase-file", str(tmp / "pass"), "--genesis-time", "1700000000",
        "--bridge-contract", contract, "--escrow-balance", "1000000000C", *extra,
    )  # fmt: skip
    return out


def nonce_of(client: EvmClient, address: str) -> int:
    return int(client.rpc("eth_getTransactionCount", address, "latest"), 16)


def test_plan_genesis_deploy_and_refusals(tmp_path: Path) -> None:
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    deployer_dev, _, other = dev_accounts(3)
    deployer = new_account(deployer_dev.key)
    key_file = tmp_path / "deployer.json"
    key_file.write_text(json.dumps(Account.encrypt(deployer.key, PASSPHRASE, iterations=2)))
    guardian = other.address

    with start_anvil(chain_id=97, block_time=0, accounts=3) as node, EvmClient(node.url) as bsc:
        bsc.transact(deployer, other.address, b"", value=1)  # the deployer is at nonce 1
        plan = ok("bridge", "plan", "--deployer", deployer.address, "--bsc", node.url)
        assert plan["nonce"] == 1
        planned = (plan["token"], plan["anchor"], plan["bridge"], plan["retirementRegistry"])
        assert planned == plan_addresses(deployer.address, 1)
        offline = ok("bridge", "plan", "--deployer", deployer.address.lower(), "--nonce", "1")
        assert offline == plan

        genesis_path = genesis_new(
            tmp_path, "net", plan["bridge"], "--bsc-chain-id", "97", "--confirmations", "1"
        )
        genesis = GenesisConfig.load(genesis_path)
        assert genesis.bridge is not None
        assert genesis.bridge.contract.hex() == plan["bridge"][2:].lower()
        assert genesis.bridge.bsc_chain_id == 97 and genesis.bridge.confirmations == 1
        escrow = next(a for a in genesis.accounts if a.address == genesis.bridge.escrow)
        assert escrow.address == escrow_address(CHAIN)
        assert escrow.balance == SUPPLY and escrow.locked and escrow.public_key is None
        relayer = KeyPair(
            decrypt_seed(load_keystore(tmp_path / "net" / "keys" / "relayer.json"), PASSPHRASE)
        )
        account = next(a for a in genesis.accounts if a.label == "relayer")
        assert (account.address, account.public_key, account.balance) == (
            relayer.address,
            relayer.public_key,
            0,
        )

        deploy = (
            "bridge", "deploy", "--bsc", node.url, "--deployer-key", str(key_file),
            "--passphrase-file", str(tmp_path / "pass"), "--token-supply", str(SUPPLY),
            "--guardian", guardian,
        )  # fmt: skip

        # a genesis planned from nonce 0: the deployer is past it; nothing is sent
        stale = genesis_new(
            tmp_path, "stale", create_address(deployer.address, 2), "--bsc-chain-id", "97"
        )
        message = refused(*deploy, "--genesis", str(stale))
        assert "nonce 0" in message and "at nonce 1 already" in message
        # a genesis planned from nonce 4: the deployer would have to send 3 more first
        ahead = genesis_new(
            tmp_path, "ahead", create_address(deployer.address, 6), "--bsc-chain-id", "97"
        )
        message = refused(*deploy, "--genesis", str(ahead))
        assert "start at nonce 4" in message and "is at nonce 1" in message
        # the right contract, on another chain (the default bscChainId is 56)
        other_chain = genesis_new(tmp_path, "mainnet", plan["bridge"])
        message = refused(*deploy, "--genesis", str(other_chain))
        assert "chain id 97" in message and "chain id 56" in message
        assert nonce_of(bsc, deployer.address) == 1  # nothing was sent
        assert "--guardian" in refused(*deploy[:-1], "0x12", "--genesis", str(genesis_path))
        bad_supply = (*deploy[:-3], str(SUPPLY + 1), *deploy[-2:], "--genesis", str(genesis_path))
        assert f"must be the genesis escrow's {SUPPLY}" in refused(*bad_supply)
        assert "--token-supply" in refused(*deploy[:-3], "x", *deploy[-2:], "--genesis", "g")

        deployed = ok(*deploy, "--genesis", str(genesis_path))
        assert {k: deployed[k] for k in plan if k != "nonce"} == {
            k: v for k, v in plan.items() if k != "nonce"
        }
        assert nonce_of(bsc, deployer.address) == 5
        token = Contract(plan["token"], tuple(load_artifact("CarbonCoin")["abi"]))
        anchor = Contract(plan["anchor"], tuple(load_artifact("Anchor")["abi"]))
        bridge = Contract(plan["bridge"], tuple(load_artifact("Bridge")["abi"]))
        registered = ["0x" + d.asset.bridge_address.hex() for d in genesis.delegates]
        expected = [m.lower() for m in sorted_members(registered)]  # all 3 are active
        assert [m.lower() for m in anchor.read(bsc, "members")] == expected
        assert [m.lower() for m in genesis_members(genesis)] == expected
        assert anchor.read(bsc, "networkId") == network_id_of(genesis)
        assert anchor.read(bsc, "nextHeight") == 1
        assert token.read(bsc, "totalSupply") == SUPPLY
        assert token.read(bsc, "balanceOf", deployer.address) == SUPPLY
        assert bridge.read(bsc, "token").lower() == plan["token"].lower()
        assert bridge.read(bsc, "anchor").lower() == plan["anchor"].lower()
        assert bridge.read(bsc, "guardian").lower() == guardian.lower()
        registry_abi = tuple(load_artifact("RetirementRegistry")["abi"])
        registry = Contract(plan["retirementRegistry"], registry_abi)
        assert registry.read(bsc, "anchor").lower() == plan["anchor"].lower()

        # deployed already: the deployer is now past the genesis's nonce
        message = refused(*deploy, "--genesis", str(genesis_path))
        assert "at nonce 5 already" in message
        assert nonce_of(bsc, deployer.address) == 5
