"""`ccoin keys new|import|show`: Ed25519 keys in passphrase-encrypted keystores (argon2id)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ccoin.cli.common import print_json, read_passphrase, reports_errors
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KDF_PRESETS as KDF_COSTS
from ccoin.crypto.keystore import decrypt_seed, encrypt_seed, load_keystore, save_keystore
from ccoin.devnet.layout import Devnet
from ccoin.types.codec import json_hex


@click.group("keys")
def keys_group() -> None:
    """Create and inspect keystores."""


F = TypeVar("F", bound=Callable[..., Any])


def writes_keystore(fn: F) -> F:
    """The options of every command that writes a new keystore."""
    for option in reversed(
        [
            click.option(
                "--out",
                required=True,
                type=click.Path(path_type=Path, dir_okay=False),
                help="Keystore file to write (refuses to overwrite).",
            ),
            click.option(
                "--passphrase-file",
                type=click.Path(path_type=Path, dir_okay=False),
                help="Read the passphrase from this file instead of prompting.",
            ),
            click.option(
                "--kdf",
                type=click.Choice(["fast", "interactive", "moderate"]),
                default="moderate",
                show_default=True,
                help="argon2id cost; fast is only for throwaway devnet keys.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        ]
    ):
        fn = option(fn)
    return fn


def save(key: KeyPair, out: Path, passphrase_file: Path | None, kdf: str, as_json: bool) -> None:
    passphrase = read_passphrase(passphrase_file, confirm=True)
    opslimit, memlimit = KDF_COSTS[kdf]
    save_keystore(encrypt_seed(key.seed, passphrase, opslimit=opslimit, memlimit=memlimit), out)
    show(key.address, key.public_key.hex(), str(out), as_json)


@keys_group.command("new")
@writes_keystore
@reports_errors
def keys_new(out: Path, passphrase_file: Path | None, kdf: str, as_json: bool) -> None:
    """Generate a key and write it encrypted to OUT."""
    save(KeyPair.generate(), out, passphrase_file, kdf, as_json)


@keys_group.command("import")
@writes_keystore
@click.option(
    "--seed-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file holding the 32-byte Ed25519 seed as hex.",
)
@click.option(
    "--devnet",
    "devnet_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Take a funded test account of this devnet (with --test-account).",
)
@click.option("--test-account", type=click.IntRange(0), help="Index of the devnet test account.")
@reports_errors
def keys_import(
    out: Path,
    seed_file: Path | None,
    devnet_dir: Path | None,
    test_account: int | None,
    passphrase_file: Path | None,
    kdf: str,
    as_json: bool,
) -> None:
    """Write an existing key (a seed, or a devnet test account) encrypted to OUT."""
    if (seed_file is None) == (devnet_dir is None):
        raise click.UsageError("give exactly one of --seed-file or --devnet")
    if devnet_dir is not None:
        if test_account is None:
            raise click.UsageError("--devnet needs --test-account N")
        accounts = Devnet.load(devnet_dir).test_accounts()
        if test_account >= len(accounts):
            raise click.UsageError(f"the devnet has test accounts 0..{len(accounts) - 1}")
        key = accounts[test_account]
    else:
        assert seed_file is not None
        try:
            key = KeyPair(json_hex(seed_file.read_text().strip(), "seed", size=32))
        except OSError as exc:
            raise click.UsageError(f"{seed_file}: {exc.strerror}") from None
    save(key, out, passphrase_file, kdf, as_json)


@keys_group.command("show")
@click.argument("keystore", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", is_flag=True, help="Decrypt to prove the passphrase opens it.")
@click.option("--passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def keys_show(keystore: Path, check: bool, passphrase_file: Path | None, as_json: bool) -> None:
    """Print a keystore's address and public key."""
    ks = load_keystore(keystore)
    if check:
        KeyPair(decrypt_seed(ks, read_passphrase(passphrase_file)))
    show(ks.address, ks.public_key.hex(), str(keystore), as_json)


def show(address: str, public_key: str, path: str, as_json: bool) -> None:
    if as_json:
        print_json({"address": address, "publicKey": public_key, "keystore": path})
    else:
        click.echo(f"address    {address}\npublicKey  {public_key}\nkeystore   {path}")
