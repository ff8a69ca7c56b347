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

from ccoin.cli.common import BLOCK_TIME, print_json, read_passphrase, reports_errors
from ccoin.cli.remote import parse_amount
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KDF_PRESETS as KDF_COSTS
from ccoin.crypto.keystore import encrypt_seed, save_keystore
from ccoin.errors import CcoinError
from ccoin.ledger.genesis import network_id_of
from ccoin.ledger.presets import (
    TRILLION,
    WHITEPAPER_FUNDS,
    BridgeSpec,
    DelegateSpec,
    delegate_asset,
    whitepaper_genesis,
)
from ccoin.types.codec import UNIT, json_evm_address
from ccoin.types.genesis import GenesisConfig

TEST_ACCOUNTS_FILE = "test-accounts.json"
RELAYER_KEY_FILE = "relayer.json"
DEFAULT_BSC_CHAIN_ID = 56  # BNB Smart Chain mainnet
DEFAULT_CONFIRMATIONS = 15
MAX_CONFIRMATIONS = 10_000  # as the genesis file allows
DEFAULT_TEST_BALANCE = 1_000_000 * UNIT


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
    block_time_ms: int,
    kdf: str,
    test_balance: int = DEFAULT_TEST_BALANCE,
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
    carbon_committee = keystore("carbon-committee")
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
        block_time_ms=block_time_ms,
        governance=governance,
        bridge=bridge,
        carbon_committee=carbon_committee,
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
@click.option(
    "--block-time",
    "block_time_ms",
    default="1",
    show_default=True,
    type=BLOCK_TIME,
    help="Seconds per slot, to the millisecond (e.g. 0.5).",
)
@click.option(
    "--kdf",
    type=click.Choice(sorted(KDF_COSTS)),
    default="moderate",
    show_default=True,
    help="Keystore KDF cost (fast is for throwaway devnets).",
)
@click.option("--passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--bridge-contract",
    help="Enable the bridge to BSC: the Bridge contract's address (0x...), as "
    "`ccoin bridge plan` gives it. The options below require it.",
)
@click.option(
    "--bsc-chain-id",
    type=click.IntRange(1, 2**63 - 1),
    help=f"The BSC chain id the Bridge is on.  [default: {DEFAULT_BSC_CHAIN_ID}]",
)
@click.option(
    "--confirmations",
    type=click.IntRange(0, MAX_CONFIRMATIONS),
    help=f"BSC blocks a deposit is buried under before it is credited.  "
    f"[default: {DEFAULT_CONFIRMATIONS}]",
)
@click.option(
    "--escrow-balance",
    help="The bridge escrow's C (base units, or C as in 1000000C), out of the liquidity "
    "fund: as much as the BSC token's supply. Required with --bridge-contract.",
)
@reports_errors
def genesis_new(
    out: Path,
    keys_dir: Path,
    delegates: int,
    test_accounts: int,
    chain_name: str,
    genesis_time: int | None,
    block_time_ms: int,
    kdf: str,
    passphrase_file: Path | None,
    bridge_contract: str | None,
    bsc_chain_id: int | None,
    confirmations: int | None,
    escrow_balance: str | None,
) -> None:
    """Write a genesis file with the whitepaper's 500 trillion C allocation; with
    --bridge-contract, the bridge to BSC too (its relayer's keystore: KEYS_DIR/relayer.json)."""
    bridge = bridge_options(
        bridge_contract, bsc_chain_id, confirmations, escrow_balance, test_accounts
    )
    if out.exists():  # before any key is written
        raise click.UsageError(f"{out} exists; refusing to overwrite a genesis file")
    relayer_path = keys_dir / RELAYER_KEY_FILE
    if bridge is not None and relayer_path.exists():
        raise click.UsageError(f"{relayer_path} exists; refusing to overwrite a keystore")
    passphrase = read_passphrase(passphrase_file, confirm=True)
    spec = None
    if bridge is not None:
        keys_dir.mkdir(parents=True, exist_ok=True)
        opslimit, memlimit = KDF_COSTS[kdf]
        relayer = KeyPair.generate()
        save_keystore(
            encrypt_seed(relayer.seed, passphrase, opslimit=opslimit, memlimit=memlimit),
            relayer_path,
        )
        spec = BridgeSpec(*bridge, relayer=relayer)
    result = write_genesis(
        out=out,
        keys_dir=keys_dir,
        passphrase=passphrase,
        delegates=delegates,
        test_accounts=test_accounts,
        chain_name=chain_name,
        genesis_time=genesis_time if genesis_time is not None else int(time.time()),
        block_time_ms=block_time_ms,
        kdf=kdf,
        bridge=spec,
    )
    print_json(
        {
            "genesis": str(out),
            "networkId": network_id_of(result.genesis).hex(),
            "totalSupply": str(result.genesis.total_supply),
            "accounts": len(result.genesis.accounts),
            "delegates": len(result.genesis.delegates),
            **(bridge_summary(result.genesis, spec, relayer_path) if spec is not None else {}),
        }
    )


def bridge_options(
    contract: str | None,
    bsc_chain_id: int | None,
    confirmations: int | None,
    escrow_balance: str | None,
    test_accounts: int,
) -> tuple[int, bytes, int, int] | None:
    """`genesis new`'s bridge options, checked: (bscChainId, contract, confirmations,
    escrow balance), or None without --bridge-contract."""
    if contract is None:
        given = {
            "--bsc-chain-id": bsc_chain_id,
            "--confirmations": confirmations,
            "--escrow-balance": escrow_balance,
        }
        stray = [name for name, value in given.items() if value is not None]
        if stray:
            raise click.UsageError(f"{', '.join(stray)} need(s) --bridge-contract")
        return None
    try:
        raw = bytes.fromhex(json_evm_address(contract.strip(), "--bridge-contract")[2:])
    except CcoinError as exc:
        raise click.BadParameter(f"{contract!r}: {exc.message}") from None
    if raw == bytes(20):
        raise click.BadParameter("the zero address", param_hint="--bridge-contract")
    if escrow_balance is None:
        raise click.UsageError("--bridge-contract needs --escrow-balance")
    escrow = parse_amount(escrow_balance, "--escrow-balance")
    liquidity = next(f for f in WHITEPAPER_FUNDS if f.name == "liquidity")
    available = liquidity.trillions_of_c * TRILLION * UNIT - test_accounts * DEFAULT_TEST_BALANCE
    if not 1 <= escrow <= available:
        raise click.BadParameter(
            f"{escrow_balance!r}: between 1 base unit and the liquidity fund's {available} "
            "(after the test accounts)",
            param_hint="--escrow-balance",
        )
    return (
        bsc_chain_id if bsc_chain_id is not None else DEFAULT_BSC_CHAIN_ID,
        raw,
        confirmations if confirmations is not None else DEFAULT_CONFIRMATIONS,
        escrow,
    )


def bridge_summary(
    genesis: GenesisConfig, spec: BridgeSpec, relayer_path: Path
) -> dict[str, object]:
    assert genesis.bridge is not None
    return {
        "bridge": {
            **genesis.bridge.to_json(),
            "contract": "0x" + genesis.bridge.contract.hex(),
            "relayer": spec.relayer.address,
            "relayerKeystore": str(relayer_path),
        }
    }


def generate_keys(count: int) -> list[KeyPair]:
    """`count` fresh keys, with a progress bar on stderr when it takes a while."""
    if count < 2_000:
        return [KeyPair.generate() for _ in range(count)]
    with click.progressbar(range(count), label="generating test accounts", file=sys.stderr) as bar:
        return [KeyPair.generate() for _ in bar]


def random_passphrase() -> str:
    return secrets.token_urlsafe(24)
