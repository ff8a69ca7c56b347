"""`ccoin bridge`: the sidechain side of the BSC bridge, through a node's RPC.

`withdraw` sends C to a BSC address (type 7); `prove` prints what `Bridge.withdraw` on BSC
needs for it, given the anchored range that holds it (`Anchor.range(i)` on BSC tells the
ranges); `deposit` locks C in the BSC Bridge for a sidechain address.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from eth_account import Account

from ccoin.bridge.deposits import DEPOSITED
from ccoin.bridge.evm import Contract, EvmClient, EvmError
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.common import print_json, reports_errors
from ccoin.cli.remote import (
    Submit,
    connect,
    node_options,
    parse_amount,
    reports_client_errors,
    submit_options,
)
from ccoin.crypto.address import address_raw
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.codec import json_evm_address


@click.group("bridge")
def bridge_group() -> None:
    """The bridge to BNB Smart Chain (docs/spec/bridge.md)."""


@bridge_group.command("prove")
@click.argument("withdrawal_id")
@click.option("--from", "from_height", type=click.IntRange(1), required=True,
              help="First height of the anchored range holding the withdrawal.")  # fmt: skip
@click.option("--to", "to_height", type=click.IntRange(1), required=True,
              help="Last height of that range (finalized on the node).")  # fmt: skip
@node_options
@reports_client_errors
def bridge_prove(
    node_url: str, as_json: bool, withdrawal_id: str, from_height: int, to_height: int
) -> None:
    """Print the proof of WITHDRAWAL_ID: the withdrawal under its block's withdrawalRoot,
    and the block under the anchored range's root."""
    with connect(node_url) as client:
        proof = client.get_withdrawal_proof(withdrawal_id, from_height, to_height)
    if as_json:
        print_json(proof)
        return
    for name, value in proof.items():
        shown = ",".join(value) if isinstance(value, list) else value
        click.echo(f"{name}: {shown}")


@bridge_group.command("withdraw")
@click.option("--to", "bsc_recipient", required=True, help="The BSC address (0x...) to pay.")
@click.option("--amount", required=True, help="Base units (1 C = 10000), or C as in 1.5C.")
@submit_options()
def bridge_withdraw(submit: Submit, bsc_recipient: str, amount: str) -> None:
    """Withdraw C to BSC (type 7): it goes to the bridge escrow here, and once its block is
    anchored `ccoin bridge prove` gives what Bridge.withdraw on BSC needs."""
    units = parse_amount(amount, "--amount")
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.withdraw(
            key, bsc_recipient, units, fee=submit.fee_units(), second_key=second
        )
        submit.finish(client, tx_id)


@bridge_group.command("deposit")
@click.option("--bsc", "bsc_url", required=True, help="A BSC JSON-RPC URL.")
@click.option("--bridge", "bridge_address", required=True, help="The Bridge contract (0x...).")
@click.option("--token", "token_address", required=True, help="The CarbonCoin token (0x...).")
@click.option("--to", "recipient", required=True, help="The sidechain address to credit.")
@click.option("--amount", required=True, type=click.IntRange(1, 2**64 - 1),
              help="Base units (1 C = 10000).")  # fmt: skip
@click.option("--payer-key", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="An Ethereum v3 keystore holding the C on BSC (and gas).")  # fmt: skip
@click.option("--payer-passphrase-file", required=True,
              type=click.Path(path_type=Path, dir_okay=False))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
@reports_errors
def bridge_deposit(
    bsc_url: str,
    bridge_address: str,
    token_address: str,
    recipient: str,
    amount: int,
    payer_key: Path,
    payer_passphrase_file: Path,
    as_json: bool,
) -> None:
    """Lock C in the BSC Bridge for a sidechain address (approve, then deposit); prints the
    deposit's nonce. The delegates credit it once it has the network's confirmations."""
    raw = address_raw(recipient)  # a clear BAD_ADDRESS before anything is sent
    bridge_at = json_evm_address(bridge_address, "--bridge")
    token_at = json_evm_address(token_address, "--token")
    try:
        keystore = json.loads(payer_key.read_text())
        passphrase = payer_passphrase_file.read_text().rstrip("\n")
        payer = Account.from_key(Account.decrypt(keystore, passphrase))
    except OSError as exc:
        raise ConfigError(ErrorCode.CONFIG_INVALID, f"payer key: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(ErrorCode.KEYSTORE_INVALID, f"payer key: {exc}") from None
    token = Contract(token_at, tuple(load_artifact("CarbonCoin")["abi"]))
    bridge = Contract(bridge_at, tuple(load_artifact("Bridge")["abi"]))
    with EvmClient(bsc_url) as bsc:
        try:
            token.send(bsc, payer, "approve", bridge.address, amount)
            receipt = bridge.send(bsc, payer, "deposit", raw, amount)
        except EvmError as exc:
            raise ConfigError(ErrorCode.BRIDGE_REFUSED, f"BSC: {exc}") from None
    deposited = next(log for log in receipt["logs"] if log["topics"][0] == DEPOSITED)
    out = {
        "nonce": int(deposited["topics"][1], 16),
        "bscTransaction": receipt["transactionHash"],
        "recipient": recipient,
        "amount": amount,
    }
    if as_json:
        print_json(out)
    else:
        click.echo(f"deposit {out['nonce']} in {out['bscTransaction']}")
