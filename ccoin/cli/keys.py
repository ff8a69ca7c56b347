"""`ccoin keys new|show`: Ed25519 keys in passphrase-encrypted keystores (argon2id)."""

from __future__ import annotations

from pathlib import Path

import click

from ccoin.cli.common import print_json, read_passphrase, reports_errors
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KDF_PRESETS as KDF_COSTS
from ccoin.crypto.keystore import decrypt_seed, encrypt_seed, load_keystore, save_keystore


@click.group("keys")
def keys_group() -> None:
    """Create and inspect keystores."""


@keys_group.command("new")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Keystore file to write (refuses to overwrite).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the passphrase from this file instead of prompting.",
)
@click.option(
    "--kdf",
    type=click.Choice(["fast", "interactive", "moderate"]),
    default="moderate",
    show_default=True,
    help="argon2id cost; fast is only for throwaway devnet keys.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def keys_new(out: Path, passphrase_file: Path | None, kdf: str, as_json: bool) -> None:
    """Generate a key and write it encrypted to OUT."""
    passphrase = read_passphrase(passphrase_file, confirm=True)
    key = KeyPair.generate()
    opslimit, memlimit = KDF_COSTS[kdf]
    save_keystore(encrypt_seed(key.seed, passphrase, opslimit=opslimit, memlimit=memlimit), out)
    show(key.address, key.public_key.hex(), str(out), as_json)


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
