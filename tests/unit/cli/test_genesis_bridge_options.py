"""`ccoin genesis new`'s bridge options: a genesis with the bridge and its relayer keystore,
and every bad combination refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ccoin.cli.main import cli
from ccoin.crypto.address import escrow_address
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.ledger.presets import TOTAL_ISSUANCE, TRILLION
from ccoin.types.genesis import UNIT, GenesisConfig

BRIDGE = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"


def new(tmp_path: Path, *extra: str) -> Result:
    passfile = tmp_path / "pass"
    passfile.write_text("pw\n")
    args = [
        "genesis", "new", "--out", str(tmp_path / "g.json"), "--keys-dir",
        str(tmp_path / "keys"), "--kdf", "fast", "--passphrase-file", str(passfile),
        "--chain-name", "net", *extra,
    ]  # fmt: skip
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_the_bridge_options_make_a_bridge_and_a_relayer(tmp_path: Path) -> None:
    result = new(tmp_path, "--bridge-contract", BRIDGE, "--escrow-balance", "12345")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    genesis = GenesisConfig.load(tmp_path / "g.json")
    assert genesis.bridge is not None and genesis.total_supply == TOTAL_ISSUANCE
    assert genesis.bridge.bsc_chain_id == 56 and genesis.bridge.confirmations == 15
    assert "0x" + genesis.bridge.contract.hex() == BRIDGE.lower() == shown["bridge"]["contract"]
    accounts = {a.address: a for a in genesis.accounts}
    escrow = accounts[escrow_address("net")]
    assert escrow.balance == 12345 and escrow.locked
    liquidity = next(a for a in genesis.accounts if a.label == "liquidity")
    assert liquidity.balance == 295 * TRILLION * UNIT - 12345
    relayer = KeyPair(decrypt_seed(load_keystore(tmp_path / "keys" / "relayer.json"), "pw"))
    assert accounts[relayer.address].label == "relayer"
    assert shown["bridge"]["relayer"] == relayer.address


def test_no_bridge_options_no_bridge(tmp_path: Path) -> None:
    assert new(tmp_path).exit_code == 0
    assert GenesisConfig.load(tmp_path / "g.json").bridge is None
    assert not (tmp_path / "keys" / "relayer.json").exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--confirmations", "3"], "--confirmations need(s) --bridge-contract"),
        (["--bsc-chain-id", "97", "--escrow-balance", "1C"], "--bsc-chain-id, --escrow-balance"),
        (["--bridge-contract", BRIDGE], "needs --escrow-balance"),
        (["--bridge-contract", "0x1234", "--escrow-balance", "1"], "20-byte address"),
        (["--bridge-contract", BRIDGE[2:] + "00", "--escrow-balance", "1"], "20-byte address"),
        (["--bridge-contract", "0x" + "zz" * 20, "--escrow-balance", "1"], "20-byte address"),
        (["--bridge-contract", "0x" + "00" * 20, "--escrow-balance", "1"], "zero address"),
        (["--bridge-contract", BRIDGE, "--escrow-balance", "lots"], "base units"),
        (["--bridge-contract", BRIDGE, "--escrow-balance", "0"], "between 1 base unit"),
        (["--bridge-contract", BRIDGE, "--escrow-balance", "296000000000000C"], "liquidity"),
        (["--bridge-contract", BRIDGE, "--escrow-balance", "1", "--confirmations", "-1"], "-1"),
        (["--bridge-contract", BRIDGE, "--escrow-balance", "1", "--bsc-chain-id", "0"], "0"),
    ],
)
def test_bad_bridge_options_are_refused(tmp_path: Path, extra: list[str], says: str) -> None:
    result = new(tmp_path, *extra)
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert not (tmp_path / "g.json").exists() and not (tmp_path / "keys").exists()
