"""`ccoin tx build|sign|decode|encode`: offline transactions in the whitepaper's JSON form."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from ccoin.cli.common import (
    load_key,
    network_id,
    print_json,
    read_json_input,
    reports_errors,
    with_network,
)
from ccoin.crypto.keystore import load_keystore
from ccoin.errors import DecodeError, ErrorCode
from ccoin.types.assets import TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody, body_from_json, unsigned_to_json

TYPE_NAMES = {t.name.lower().replace("_", "-"): int(t) for t in TxType}


def parse_type(value: str) -> int:
    if value.isdigit() and int(value) in TxType._value2member_map_:
        return int(value)
    if value in TYPE_NAMES:
        return TYPE_NAMES[value]
    raise click.BadParameter(f"one of 0-9 or {', '.join(TYPE_NAMES)}")


@click.group("tx")
def tx_group() -> None:
    """Build, sign and inspect transactions offline."""


@tx_group.command("build")
@click.option("--type", "tx_type", required=True, help="0-9 or a name such as transfer, vote.")
@click.option("--sender-public-key", help="Sender's public key (hex).")
@click.option(
    "--keystore",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Take the sender's public key from this keystore (no passphrase needed).",
)
@click.option("--recipient", help="recipientId (transfer and in-transfer).")
@click.option("--amount", default="0", help="Amount in base units (1 C = 10000).")
@click.option("--fee", help="Fee in base units (default: the genesis minimum for the type).")
@click.option("--timestamp", type=int, help="Seconds since genesis (default: now).")
@click.option("--asset", "asset_json", default="{}", help="The asset as JSON.")
@click.option(
    "--genesis",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Genesis file: gives the default fee and timestamp.",
)
@reports_errors
def tx_build(
    tx_type: str,
    sender_public_key: str | None,
    keystore: Path | None,
    recipient: str | None,
    amount: str,
    fee: str | None,
    timestamp: int | None,
    asset_json: str,
    genesis: Path | None,
) -> None:
    """Print an unsigned transaction as JSON."""
    kind = parse_type(tx_type)
    if (sender_public_key is None) == (keystore is None):
        raise click.UsageError("give exactly one of --sender-public-key or --keystore")
    if keystore is not None:
        sender_public_key = load_keystore(keystore).public_key.hex()
    config = GenesisConfig.load(genesis) if genesis is not None else None
    if fee is None:
        if config is None:
            raise click.UsageError("--fee is required without --genesis")
        fee = str(config.min_fee(kind))
    if timestamp is None:
        if config is None:
            raise click.UsageError("--timestamp is required without --genesis")
        timestamp = max(0, int(time.time()) - config.genesis_time)
    try:
        asset = json.loads(asset_json)
    except json.JSONDecodeError as exc:
        raise DecodeError(ErrorCode.BAD_JSON, f"--asset: not JSON ({exc})") from None
    body = body_from_json(
        {
            "type": kind,
            "timestamp": timestamp,
            "senderPublicKey": sender_public_key,
            "recipientId": recipient,
            "amount": amount,
            "fee": fee,
            "asset": asset,
        }
    )
    print_json(unsigned_to_json(body))


@tx_group.command("sign")
@click.argument("source", default="-")
@click.option("--keystore", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--second-keystore",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also add the second signature (accounts with a registered second key).",
)
@click.option("--second-passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--cosign",
    is_flag=True,
    help="Add a multisignature co-signature to an already signed transaction.",
)
@with_network
@reports_errors
def tx_sign(
    source: str,
    keystore: Path,
    passphrase_file: Path | None,
    second_keystore: Path | None,
    second_passphrase_file: Path | None,
    cosign: bool,
    genesis: Path | None,
    network_id_hex: str | None,
) -> None:
    """Sign the transaction JSON in SOURCE (a file, or - for stdin)."""
    nid = network_id(genesis, network_id_hex)
    obj: Any = read_json_input(source)
    key = load_key(keystore, passphrase_file)
    if cosign:
        tx = Transaction.from_json(obj, nid).cosign(key, nid)
    else:
        body: TxBody = body_from_json(obj)
        second = (
            load_key(second_keystore, second_passphrase_file)
            if second_keystore is not None
            else None
        )
        if key.public_key != body.sender_public_key:
            raise click.UsageError("the keystore's key is not the transaction's senderPublicKey")
        tx = body.sign(key, nid, second_key=second)
    print_json(tx.to_json(nid))


@tx_group.command("decode")
@click.argument("hex_bytes", default="-")
@with_network
@reports_errors
def tx_decode(hex_bytes: str, genesis: Path | None, network_id_hex: str | None) -> None:
    """Print the transaction whose canonical bytes are HEX_BYTES (- reads stdin) as JSON."""
    nid = network_id(genesis, network_id_hex)
    text = sys.stdin.read().strip() if hex_bytes == "-" else hex_bytes.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise DecodeError(ErrorCode.DECODE_ERROR, "input is not hex") from None
    print_json(Transaction.decode(raw).to_json(nid))


@tx_group.command("encode")
@click.argument("source", default="-")
@with_network
@reports_errors
def tx_encode(source: str, genesis: Path | None, network_id_hex: str | None) -> None:
    """Print the canonical bytes (hex) of the signed transaction JSON in SOURCE."""
    nid = network_id(genesis, network_id_hex)
    click.echo(Transaction.from_json(read_json_input(source), nid).encode().hex())
