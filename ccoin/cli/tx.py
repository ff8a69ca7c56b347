"""`ccoin tx`: transactions in the whitepaper's JSON form.

Offline: `build|sign|decode|encode`. Through a node's RPC (`ccoin.client`): `transfer`,
`vote`, `register-delegate`, `second-signature`, `multisig` (build, sign, submit, wait),
`send` (submit signed JSON) and `status`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import click

from ccoin.cli.common import (
    load_key,
    network_id,
    parse_json_input,
    print_json,
    read_json_input,
    read_text_input,
    reports_errors,
    with_network,
)
from ccoin.cli.remote import (
    WAIT_CHOICES,
    Submit,
    connect,
    node_options,
    parse_amount,
    reports_client_errors,
    submit_options,
    unlock,
)
from ccoin.crypto.keystore import load_keystore
from ccoin.errors import DecodeError, ErrorCode
from ccoin.types.assets import TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody, body_from_json, unsigned_to_json

TYPE_NAMES = {t.name.lower().replace("_", "-"): int(t) for t in TxType}

_RAW_HEX = re.compile(r"\A(?:0x)?(?:[0-9a-f]{2})+\Z")  # `tx send` input that is bytes


def parse_type(value: str) -> int:
    if value.isdigit() and int(value) in TxType._value2member_map_:
        return int(value)
    if value in TYPE_NAMES:
        return TYPE_NAMES[value]
    raise click.BadParameter(f"one of 0-9 or {', '.join(TYPE_NAMES)}")


@click.group("tx")
def tx_group() -> None:
    """Build, sign and inspect transactions; submit them to a node."""


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


# -- online: build, sign and submit through a node's RPC ----------------------------------


@tx_group.command("transfer")
@click.option("--to", "recipient", required=True, help="Recipient address.")
@click.option("--amount", required=True, help="Base units (1 C = 10000), or C as in 1.5C.")
@click.option("--data", default="", help="Memo as hex (at most 64 bytes).")
@submit_options()
def tx_transfer(submit: Submit, recipient: str, amount: str, data: str) -> None:
    """Send AMOUNT to an address; prints the transaction id."""
    units = parse_amount(amount, "--amount")
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.transfer(
            key,
            recipient,
            units,
            fee=submit.fee_units(),
            data=data,
            second_key=second,
        )
        submit.finish(client, tx_id)


@tx_group.command("vote")
@click.option("--add", multiple=True, metavar="PUBKEY", help="Vote for this delegate.")
@click.option("--remove", multiple=True, metavar="PUBKEY", help="Withdraw a vote.")
@submit_options()
def tx_vote(submit: Submit, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Vote for (--add) or unvote (--remove) delegates by public key."""
    if not add and not remove:
        raise click.UsageError("give at least one --add or --remove")
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.vote(key, add, remove, fee=submit.fee_units(), second_key=second)
        submit.finish(client, tx_id)


@tx_group.command("register-delegate")
@click.option("--username", required=True, help="1-20 characters of a-z 0-9 ! @ $ & _ .")
@click.option("--bridge-address", required=True, help="secp256k1 bridge address (20 bytes hex).")
@click.option("--cert-fingerprint", required=True, help="Node certificate SHA-256 (hex).")
@submit_options()
def tx_register_delegate(
    submit: Submit, username: str, bridge_address: str, cert_fingerprint: str
) -> None:
    """Register the sender as a delegate."""
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.register_delegate(
            key,
            username,
            bridge_address,
            cert_fingerprint,
            fee=submit.fee_units(),
            second_key=second,
        )
        submit.finish(client, tx_id)


@tx_group.command("second-signature")
@click.option(
    "--second-keystore",
    "new_second_keystore",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Keystore of the second key to register (only its public key is read).",
)
@submit_options(second=False)
def tx_second_signature(submit: Submit, new_second_keystore: Path) -> None:
    """Register a second key: every later transaction needs its signature too."""
    second_public_key = load_keystore(new_second_keystore).public_key
    key = submit.key()
    with connect(submit.node_url) as client:
        tx_id = client.register_second_signature(key, second_public_key, fee=submit.fee_units())
        submit.finish(client, tx_id)


@tx_group.command("multisig")
@click.option("--min", "min_signatures", required=True, type=click.IntRange(1, 16))
@click.option("--lifetime", required=True, type=click.IntRange(1, 72), help="Hours.")
@click.option("--member", multiple=True, required=True, metavar="PUBKEY", help="Keysgroup key.")
@click.option(
    "--cosigner-keystore",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A member's keystore; every member must co-sign the registration.",
)
@click.option(
    "--cosigner-passphrase-file",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="One for all co-signers, or one per --cosigner-keystore in order.",
)
@submit_options()
def tx_multisig(
    submit: Submit,
    min_signatures: int,
    lifetime: int,
    member: tuple[str, ...],
    cosigner_keystore: tuple[Path, ...],
    cosigner_passphrase_file: tuple[Path, ...],
) -> None:
    """Turn the sender into a multisignature account of the --member keys."""
    files: list[Path | None] = list(cosigner_passphrase_file)
    if len(files) == 1:
        files *= len(cosigner_keystore)
    elif not files:
        files = [None] * len(cosigner_keystore)
    elif len(files) != len(cosigner_keystore):
        raise click.UsageError("--cosigner-passphrase-file: once, or once per co-signer")
    key, second = submit.key(), submit.second_key()
    cosigners = [unlock(k, f) for k, f in zip(cosigner_keystore, files, strict=True)]
    with connect(submit.node_url) as client:
        tx_id = client.register_multisignature(
            key,
            min_signatures,
            lifetime,
            member,
            cosigners,
            fee=submit.fee_units(),
            second_key=second,
        )
        submit.finish(client, tx_id)


@tx_group.command("send")
@click.argument("source", default="-")
@submit_options(keystore=False, second=False)
def tx_send(submit: Submit, source: str) -> None:
    """Submit the signed transaction in SOURCE (a file, or - for stdin): its JSON form, or
    its canonical bytes as hex (what `ccoin tx encode` prints), sent as they are."""
    text = read_text_input(source).strip()
    tx: Transaction | dict[str, Any]
    if _RAW_HEX.match(text):  # decoded keeps its bytes: they go to the node as they came
        tx = Transaction.decode(bytes.fromhex(text.removeprefix("0x")))
    else:
        tx = parse_json_input(text, source)
        if type(tx) is not dict:
            raise DecodeError(ErrorCode.BAD_JSON, f"{source}: expected a transaction object")
    with connect(submit.node_url) as client:
        submit.finish(client, client.send_transaction(tx))


@tx_group.command("status")
@click.argument("tx_id", metavar="ID")
@click.option("--wait", type=click.Choice(WAIT_CHOICES), default="none", show_default=True)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait.")
@node_options
@reports_client_errors
def tx_status(tx_id: str, wait: str, timeout: float, node_url: str, as_json: bool) -> None:
    """Where a transaction stands: pending, included, finalized or rejected."""
    with connect(node_url) as client:
        if wait == "none":
            found = client.get_transaction(tx_id)
        else:
            found = client.wait_for(tx_id, wait, timeout=timeout)
    if as_json:
        print_json(found)
        return
    line = f"{found['status']} {tx_id}"
    if found.get("height") is not None:
        line += f" in block {found['blockId']} at {found['height']}"
    if found.get("error"):
        error = found["error"]
        line += f": {error['name']} ({error['code']}): {error['message']}"
    click.echo(line)
