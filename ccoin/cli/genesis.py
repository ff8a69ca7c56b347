"""`ccoin genesis new`: write a genesis file with the whitepaper's allocation and the keys
that control it."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ccoin.cli.common import print_json, read_passphrase, reports_errors
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KDF_PRESETS as KDF_COSTS
from ccoin.crypto.keystore import encrypt_seed, save_keystore
from ccoin.ledger.genesis import network_id_of
from ccoin.ledger.presets import WHITEPAPER_FUNDS, BridgeSpec, DelegateSpec, whitepaper_genesis
from ccoin.testing.factories import delegate_asset
from ccoin.types.genesis import UNIT, GenesisConfig

TEST_ACCOUNTS_FILE = "test-accounts.json"


@dataclass(frozen=True)
class GenesisOutput:
    genesis: GenesisConfig
    genesis_path: Path
    delegate_keystores: list[Path]
    bridge_keystores: list[Path] = dataclasses.field(default_factory=list)


# PBKDF2 rounds for the bridge keys' Ethereum v3 keystores, by the same preset names.
BRIDGE_KDF_ITERATIONS = {"fast": 2, "interactive": 100_000, "moderate": 600_000}


def write_bridge_key(path: Path, passphrase: str, kdf: str) -> LocalAccount:
    """A fresh secp256k1 bridge key (DESIGN section 9), as an Ethereum v3 keystore (so any
    Ethereum tool, wallet or HSM import can hold it) under the same passphrase."""
    account: LocalAccount = Account.create()
    keystore = Account.encrypt(
        account.key, passphrase, kdf="pbkdf2", iterations=BRIDGE_KDF_ITERATIONS[kdf]
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(keystore) + "\n")
    return account


def write_genesis(
    *,
    out: Path,
    keys_dir: Path,
    passphrase: str,
    delegates: int,
    test_accounts: int,
    chain_name: str,
    genesis_time: int,
    block_time: int,
    kdf: str,
    test_balance: int = 1_000_000 * UNIT,
    cert_fingerprints: Sequence[bytes] | None = None,
    network_ca: str = "",
    bridge: BridgeSpec | None = None,
) -> GenesisOutput:
    """Generate keys, write their keystores into `keys_dir` and the genesis file to `out`.

    Test accounts are a devnet convenience for benchmarks: their seeds are written in
    plain text to `keys_dir/test-accounts.json`, which says so in its first field.

    `cert_fingerprints[i]`, when given, is delegate i's node certificate fingerprint (else a
    placeholder); `network_ca` is the network CA certificate PEM pinned in the genesis;
    `bridge` enables the bridge to BSC (its relayer key's keystore is the caller's to keep)."""
    if cert_fingerprints is not None and len(cert_fingerprints) != delegates:
        raise ValueError(f"{len(cert_fingerprints)} certificate fingerprints for {delegates}")
    if out.exists():
        raise click.UsageError(f"{out} exists; refusing to overwrite a genesis file")
    keys_dir.mkdir(parents=True, exist_ok=True)
    opslimit, memlimit = KDF_COSTS[kdf]

    def keystore(name: str) -> KeyPair:
        key = KeyPair.generate()
        save_keystore(
            encrypt_seed(key.seed, passphrase, opslimit=opslimit, memlimit=memlimit),
            keys_dir / f"{name}.json",
        )
        return key

    funds = {fund.name: keystore(f"fund-{fund.name}") for fund in WHITEPAPER_FUNDS}
    governance = keystore("governance")
    delegate_paths = [keys_dir / f"delegate-{i}.json" for i in range(delegates)]
    bridge_paths = [keys_dir / f"bridge-{i}.json" for i in range(delegates)]
    specs = []
    for i in range(delegates):
        key = keystore(f"delegate-{i}")
        bridge_key = write_bridge_key(bridge_paths[i], passphrase, kdf)
        asset = dataclasses.replace(
            delegate_asset(key, f"delegate_{i}"),
            bridge_address=bytes.fromhex(bridge_key.address[2:]),
        )
        if cert_fingerprints is not None:
            asset = dataclasses.replace(asset, cert_fingerprint=cert_fingerprints[i])
        specs.append(DelegateSpec(key, asset))
    tests = generate_keys(test_accounts)
    if tests:
        (keys_dir / TEST_ACCOUNTS_FILE).write_text(
            json.dumps(
                {
                    "warning": "devnet test accounts: these seeds are NOT secret; never fund them "
                    "on a real network",
                    "accounts": [{"address": k.address, "seed": k.seed.hex()} for k in tests],
                },
                indent=2,
            )
            + "\n"
        )
    config = whitepaper_genesis(
        chain_name=chain_name,
        genesis_time=genesis_time,
        funds=funds,
        delegates=specs,
        test_accounts=tests,
        test_balance=test_balance,
        block_time=block_time,
        governance=governance,
        bridge=bridge,
    )
    config = dataclasses.replace(config, network_ca=network_ca)
    config = GenesisConfig.from_json(config.to_json())  # the same checks a loaded file gets
    out.parent.mkdir(parents=True, exist_ok=True)
    config.save(out)
    return GenesisOutput(config, out, delegate_paths, bridge_paths)


@click.group("genesis")
def genesis_group() -> None:
    """Create genesis files."""


@genesis_group.command("new")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--keys-dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the funds' and delegates' keystores are written.",
)
@click.option("--delegates", default=1, show_default=True, type=click.IntRange(1, 101))
@click.option(
    "--test-accounts",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Funded devnet accounts (1,000,000 C each, out of the liquidity fund).",
)
@click.option("--chain-name", default="ccoin-devnet", show_default=True)
@click.option("--genesis-time", type=int, help="Unix seconds (default: now).")
@click.option("--block-time", default=1, show_default=True, type=click.IntRange(1, 60))
@click.option(
    "--kdf",
    type=click.Choice(sorted(KDF_COSTS)),
    default="moderate",
    show_default=True,
    help="Keystore KDF cost (fast is for throwaway devnets).",
)
@click.option("--passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@reports_errors
def genesis_new(
    out: Path,
    keys_dir: Path,
    delegates: int,
    test_accounts: int,
    chain_name: str,
    genesis_time: int | None,
    block_time: int,
    kdf: str,
    passphrase_file: Path | None,
) -> None:
    """Write a genesis file with the whitepaper's 500 trillion C allocation."""
    passphrase = read_passphrase(passphrase_file, confirm=True)
    result = write_genesis(
        out=out,
        keys_dir=keys_dir,
        passphrase=passphrase,
        delegates=delegates,
        test_accounts=test_accounts,
        chain_name=chain_name,
        genesis_time=genesis_time if genesis_time is not None else int(time.time()),
        block_time=block_time,
        kdf=kdf,
    )
    print_json(
        {
            "genesis": str(out),
            "networkId": network_id_of(result.genesis).hex(),
            "totalSupply": str(result.genesis.total_supply),
            "accounts": len(result.genesis.accounts),
            "delegates": len(result.genesis.delegates),
        }
    )


def generate_keys(count: int) -> list[KeyPair]:
    """`count` fresh keys, with a progress bar on stderr when it takes a while."""
    if count < 2_000:
        return [KeyPair.generate() for _ in range(count)]
    with click.progressbar(range(count), label="generating test accounts", file=sys.stderr) as bar:
        return [KeyPair.generate() for _ in bar]


def random_passphrase() -> str:
    return secrets.token_urlsafe(24)
