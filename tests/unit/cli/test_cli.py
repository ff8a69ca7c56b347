"""The `ccoin` command, driven in-process with click's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ccoin.cli.main import cli
from ccoin.crypto.keys import KeyPair
from ccoin.devnet.layout import Devnet
from ccoin.ledger.genesis import network_id_of
from ccoin.ledger.presets import TOTAL_ISSUANCE
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def ok(*args: str, input: str | None = None) -> Any:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return (
        json.loads(result.stdout)
        if result.stdout.lstrip().startswith(("{", "["))
        else (result.stdout)
    )


@pytest.fixture
def passfile(tmp_path: Path) -> Path:
    p = tmp_path / "pass"
    p.write_text("correct horse\n")
    return p


@pytest.fixture
def genesis(tmp_path: Path, passfile: Path) -> Path:
    out = tmp_path / "genesis.json"
    info = ok(
        "genesis",
        "new",
        "--out",
        str(out),
        "--keys-dir",
        str(tmp_path / "keys"),
        "--delegates",
        "2",
        "--test-accounts",
        "3",
        "--kdf",
        "fast",
        "--passphrase-file",
        str(passfile),
        "--genesis-time",
        "1700000000",
    )
    assert info["totalSupply"] == str(TOTAL_ISSUANCE)
    return out


def test_keys_new_and_show(tmp_path: Path, passfile: Path) -> None:
    ks = tmp_path / "me.json"
    made = ok(
        "keys",
        "new",
        "--out",
        str(ks),
        "--passphrase-file",
        str(passfile),
        "--kdf",
        "fast",
        "--json",
    )
    shown = ok("keys", "show", str(ks), "--json", "--check", "--passphrase-file", str(passfile))
    assert shown["address"] == made["address"] and shown["address"].startswith("C")
    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    result = run("keys", "show", str(ks), "--check", "--passphrase-file", str(wrong))
    assert result.exit_code == 2 and "KEYSTORE_INVALID (5004)" in result.stderr
    again = run("keys", "new", "--out", str(ks), "--passphrase-file", str(passfile))
    assert again.exit_code == 2  # never overwrites a keystore


def test_keys_import_a_seed_or_a_devnet_test_account(tmp_path: Path, passfile: Path) -> None:
    key = KeyPair(bytes(range(32)))
    seed = tmp_path / "seed"
    seed.write_text(key.seed.hex() + "\n")
    common = ["--passphrase-file", str(passfile), "--kdf", "fast", "--json"]
    made = ok(
        "keys", "import", "--out", str(tmp_path / "a.json"), "--seed-file", str(seed), *common
    )
    assert made["address"] == key.address

    devnet = tmp_path / "net"
    ok("devnet", "init", "--dir", str(devnet), "--nodes", "1", "--test-accounts", "2")
    second = Devnet.load(devnet).test_accounts()[1]
    out = tmp_path / "b.json"
    made = ok(
        "keys", "import", "--out", str(out), "--devnet", str(devnet), "--test-account", "1", *common
    )
    assert made["address"] == second.address
    shown = ok("keys", "show", str(out), "--json", "--check", "--passphrase-file", str(passfile))
    assert shown["publicKey"] == second.public_key.hex()

    past = run("keys", "import", "--out", str(tmp_path / "c.json"), "--devnet", str(devnet),
               "--test-account", "2", *common)  # fmt: skip
    assert past.exit_code == 2 and "test accounts 0..1" in past.output
    seed.write_text("zz")
    bad = run(
        "keys", "import", "--out", str(tmp_path / "d.json"), "--seed-file", str(seed), *common
    )
    assert bad.exit_code == 2 and "seed" in bad.stderr
    assert not (tmp_path / "c.json").exists() and not (tmp_path / "d.json").exists()


def test_genesis_new_has_the_whitepaper_allocation(genesis: Path) -> None:
    config = GenesisConfig.load(genesis)
    assert config.total_supply == 500 * 10**12 * 10**4
    labels = {a.label: a for a in config.accounts}
    assert labels["ecological fund"].locked and labels["community fund"].locked
    assert not labels["liquidity"].locked
    assert labels["NFT mining reserve"].balance == 100 * 10**12 * 10**4
    assert len(config.delegates) == 2
    assert run("genesis", "new", "--out", str(genesis), "--keys-dir", "x").exit_code != 0


def test_tx_build_sign_encode_decode(tmp_path: Path, genesis: Path, passfile: Path) -> None:
    ks = tmp_path / "keys" / "fund-liquidity.json"
    recipient = ok("keys", "show", str(tmp_path / "keys" / "delegate-0.json"), "--json")
    unsigned = ok(
        "tx",
        "build",
        "--type",
        "transfer",
        "--keystore",
        str(ks),
        "--recipient",
        recipient["address"],
        "--amount",
        "25000",
        "--genesis",
        str(genesis),
        "--asset",
        '{"data": "cafe"}',
    )
    assert unsigned["amount"] == "25000" and unsigned["fee"] == "1000"
    assert "signature" not in unsigned
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    signed = ok(
        "tx",
        "sign",
        str(tmp_path / "unsigned.json"),
        "--keystore",
        str(ks),
        "--passphrase-file",
        str(passfile),
        "--genesis",
        str(genesis),
    )
    nid = network_id_of(GenesisConfig.load(genesis))
    tx = Transaction.from_json(signed, nid)
    assert signed["id"] == tx.id(nid) and signed["senderId"] == unsigned["senderId"]
    hexed = ok("tx", "encode", "-", "--genesis", str(genesis), input=json.dumps(signed)).strip()
    assert bytes.fromhex(hexed) == tx.encode()
    decoded = ok("tx", "decode", hexed, "--network-id", nid.hex())
    assert decoded == signed


def test_tx_cosign_and_second_signature(tmp_path: Path, genesis: Path, passfile: Path) -> None:
    keys = tmp_path / "keys"
    sender = keys / "fund-liquidity.json"
    unsigned = ok(
        "tx",
        "build",
        "--type",
        "0",
        "--keystore",
        str(sender),
        "--recipient",
        ok("keys", "show", str(keys / "delegate-1.json"), "--json")["address"],
        "--amount",
        "1",
        "--genesis",
        str(genesis),
    )
    (tmp_path / "u.json").write_text(json.dumps(unsigned))
    signed = ok(
        "tx",
        "sign",
        str(tmp_path / "u.json"),
        "--keystore",
        str(sender),
        "--passphrase-file",
        str(passfile),
        "--genesis",
        str(genesis),
        "--second-keystore",
        str(keys / "delegate-0.json"),
        "--second-passphrase-file",
        str(passfile),
    )
    assert signed["signSignature"]
    (tmp_path / "s.json").write_text(json.dumps(signed))
    cosigned = ok(
        "tx",
        "sign",
        str(tmp_path / "s.json"),
        "--cosign",
        "--keystore",
        str(keys / "delegate-1.json"),
        "--passphrase-file",
        str(passfile),
        "--genesis",
        str(genesis),
    )
    assert cosigned["id"] == signed["id"] and len(cosigned["signatures"]) == 192


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--type", "transfer", "--recipient", "Cnotanaddress"], "BAD_ADDRESS"),
        (["--type", "transfer"], "TX_RECIPIENT_REQUIRED"),
        (["--type", "vote", "--asset", '{"votes": "+zz"}'], "TX_BAD_ASSET"),
        (
            ["--type", "transfer", "--recipient", "CLHXzeu6gCcLKVmrW3Bz", "--amount", "-5"],
            "BAD_JSON",
        ),
        (
            ["--type", "transfer", "--recipient", "CLHXzeu6gCcLKVmrW3Bz", "--amount", str(2**63)],
            "OUT_OF_RANGE",
        ),
        (["--type", "second-signature", "--asset", "{not json"], "BAD_JSON"),
        (
            [
                "--type",
                "delegate",
                "--asset",
                '{"username": "UPPER", "bridgeAddress": "'
                + "11" * 20
                + '", "certFingerprint": "'
                + "22" * 32
                + '"}',
            ],
            "TX_BAD_ASSET",
        ),
    ],
)
def test_tx_build_errors_are_one_clear_line(
    tmp_path: Path, genesis: Path, args: list[str], code: str
) -> None:
    ks = tmp_path / "keys" / "fund-liquidity.json"
    result = run("tx", "build", "--keystore", str(ks), "--genesis", str(genesis), *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {code} (")
    assert "Traceback" not in result.output


def test_tx_decode_rejects_garbage(genesis: Path) -> None:
    for junk in ("zz", "c0", "9a" + "00" * 9, ""):
        result = run("tx", "decode", junk, "--genesis", str(genesis))
        assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_node_init_writes_a_working_config(tmp_path: Path) -> None:
    info = ok("node", "init", "--dir", str(tmp_path / "net"), "--test-accounts", "2")
    config = json.loads(Path(info["config"]).read_text())
    assert config["keystore"] == "keys/delegate-0.json"
    assert (tmp_path / "net" / "keys" / "test-accounts.json").exists()
    assert run("node", "init", "--dir", str(tmp_path / "net")).exit_code != 0


def test_node_start_reports_a_locked_database(tmp_path: Path) -> None:
    from ccoin.storage.leveldb import LevelDBStore

    info = ok("node", "init", "--dir", str(tmp_path / "net"), "--test-accounts", "0")
    config = json.loads(Path(info["config"]).read_text())
    holder = LevelDBStore(str(tmp_path / "net" / config["dataDir"]))  # as a running node would
    try:
        result = run("node", "start", "--config", info["config"])
    finally:
        holder.close()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: STORAGE_FAILURE (5005): ")
    assert "another node" in result.stderr
