"""`ccoin bridge`: the sidechain side of the BSC bridge, through a node's RPC.

`withdraw` sends C to a BSC address (type 7); `claim` releases it on BSC once its block is
anchored; `prove` prints what `Bridge.withdraw` on BSC needs for it, given the anchored
range that holds it; `deposit` locks C in the BSC Bridge for a sidechain address. With
`--devnet DIR`, the BSC side is the devnet's anvil and its funded BSC user. `plan` and
`deploy` set the BSC contracts up for a real network's genesis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ccoin.bridge.deployment import deploy_bridge, plan_addresses
from ccoin.bridge.deposits import DEPOSITED
from ccoin.bridge.evm import Contract, EvmClient, EvmError, load_account
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
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.codec import json_evm_address
from ccoin.types.genesis import GenesisConfig

F = TypeVar("F", bound=Callable[..., Any])
CLAIM_POLL_SECONDS = 1.0


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


@dataclass(frozen=True)
class BscTarget:
    """Where a user's BSC side of the bridge is, and the key that pays there."""

    url: str
    bridge: str
    token: str
    payer: LocalAccount


def bsc_options(func: F) -> F:
    """`--devnet DIR`, or `--bsc`, `--bridge`, `--token`, `--payer-key` and its passphrase."""
    options = [
        click.option("--devnet", "devnet_dir", type=click.Path(path_type=Path, file_okay=False),
                     help="A devnet directory: its anvil, contracts and BSC user key "
                     "(keys/bsc-user.json), unless the options below say otherwise."),
        click.option("--bsc", "bsc_url", help="A BSC JSON-RPC URL."),
        click.option("--bridge", "bridge_address", help="The Bridge contract (0x...)."),
        click.option("--token", "token_address", help="The CarbonCoin token (0x...)."),
        click.option("--payer-key", type=click.Path(path_type=Path, dir_okay=False),
                     help="An Ethereum v3 keystore paying BSC gas (and holding C to deposit)."),
        click.option("--payer-passphrase-file", type=click.Path(path_type=Path, dir_okay=False)),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def bsc_target(
    devnet_dir: Path | None,
    bsc_url: str | None,
    bridge_address: str | None,
    token_address: str | None,
    payer_key: Path | None,
    payer_passphrase_file: Path | None,
) -> BscTarget:
    if devnet_dir is not None:
        devnet = Devnet.load(devnet_dir)
        if devnet.bsc is None:
            raise ConfigError(ErrorCode.CONFIG_INVALID, f"{devnet_dir}: made with --no-bridge")
        bsc_url = bsc_url or devnet.bsc.url
        bridge_address = bridge_address or devnet.bsc.bridge
        token_address = token_address or devnet.bsc.token
        payer_key = payer_key or devnet.root / "keys" / devbsc.USER_KEY
        payer_passphrase_file = payer_passphrase_file or devnet.root / "keys" / "passphrase"
    given = {
        "--bsc": bsc_url,
        "--bridge": bridge_address,
        "--token": token_address,
        "--payer-key": payer_key,
        "--payer-passphrase-file": payer_passphrase_file,
    }
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise click.UsageError(f"give --devnet DIR or {', '.join(missing)}")
    assert bsc_url and bridge_address and token_address and payer_key and payer_passphrase_file
    payer = load_account(payer_key, payer_passphrase_file, "payer key")
    return BscTarget(
        bsc_url,
        json_evm_address(bridge_address, "--bridge"),
        json_evm_address(token_address, "--token"),
        payer,
    )


def devnet_node(devnet_dir: Path | None, node_url: str) -> str:
    """node0 of the devnet unless --node (or $CCOIN_NODE) named a node."""
    source = click.get_current_context().get_parameter_source("node_url")
    if devnet_dir is None or source not in (None, ParameterSource.DEFAULT):
        return node_url
    return f"http://{Devnet.load(devnet_dir).nodes[0].rpc}"


@bridge_group.command("deposit")
@click.option("--to", "recipient", required=True, help="The sidechain address to credit.")
@click.option("--amount", required=True, type=click.IntRange(1, 2**64 - 1),
              help="Base units (1 C = 10000).")  # fmt: skip
@bsc_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
@reports_errors
def bridge_deposit(recipient: str, amount: int, as_json: bool, **bsc: Any) -> None:
    """Lock C in the BSC Bridge for a sidechain address (approve, then deposit); prints the
    deposit's nonce. The delegates credit it once it has the network's confirmations."""
    raw = address_raw(recipient)  # a clear BAD_ADDRESS before anything is sent
    target = bsc_target(**bsc)
    token = Contract(target.token, tuple(load_artifact("CarbonCoin")["abi"]))
    bridge = Contract(target.bridge, tuple(load_artifact("Bridge")["abi"]))
    with EvmClient(target.url) as client:
        try:
            token.send(client, target.payer, "approve", bridge.address, amount)
            receipt = bridge.send(client, target.payer, "deposit", raw, amount)
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


@bridge_group.command("claim")
@click.argument("withdrawal_id")
@bsc_options
@click.option("--timeout", default=120.0, show_default=True,
              help="Seconds to wait for finality and for the anchor on BSC.")  # fmt: skip
@node_options
@reports_client_errors
def bridge_claim(
    withdrawal_id: str, node_url: str, as_json: bool, timeout: float, **bsc: Any
) -> None:
    """Release withdrawal WITHDRAWAL_ID on BSC: wait until its block is finalized and
    anchored, take the proof from the node, check it against the anchored root and call
    Bridge.withdraw (the payer pays gas; the C goes to the withdrawal's BSC recipient)."""
    target = bsc_target(**bsc)
    url = devnet_node(bsc["devnet_dir"], node_url)
    deadline = time.monotonic() + timeout
    with connect(url) as client, EvmClient(target.url) as evm:
        found = client.wait_for(withdrawal_id, "finalized", timeout=timeout)
        height = int(found["height"])
        bridge = Contract(target.bridge, tuple(load_artifact("Bridge")["abi"]))
        anchor = Contract(bridge.read(evm, "anchor"), tuple(load_artifact("Anchor")["abi"]))
        try:
            index, start, end, root = anchored_range(evm, anchor, height, deadline)
            proof = client.get_withdrawal_proof(withdrawal_id, start, end)
            if bytes.fromhex(proof["rangeRoot"]) != root:
                raise ConfigError(
                    ErrorCode.BRIDGE_REFUSED,
                    f"the node's blocks {start}-{end} are not the ones anchored on BSC",
                )
            wid = bytes.fromhex(proof["withdrawalId"])
            if bridge.read(evm, "withdrawn", wid):
                raise ConfigError(
                    ErrorCode.BRIDGE_REFUSED, f"withdrawal {withdrawal_id} was released already"
                )
            receipt = bridge.send(evm, target.payer, "withdraw", *claim_arguments(proof, index))
        except EvmError as exc:
            raise ConfigError(ErrorCode.BRIDGE_REFUSED, f"BSC: {exc}") from None
    out = {
        "withdrawal": withdrawal_id,
        "bscTransaction": receipt["transactionHash"],
        "recipient": to_checksum_address("0x" + proof["bscRecipient"]),
        "amount": int(proof["amount"]),
        "range": [start, end],
    }
    if as_json:
        print_json(out)
    else:
        click.echo(f"released {out['amount']} to {out['recipient']} in {out['bscTransaction']}")


def anchored_range(
    evm: EvmClient, anchor: Contract, height: int, deadline: float
) -> tuple[int, int, int, bytes]:
    """(index, from, to, root) of the anchored range holding `height`, waiting for it."""
    shown = -1
    while True:
        anchored = int(anchor.read(evm, "nextHeight")) - 1
        if anchored >= height:
            break
        if time.monotonic() > deadline:
            raise ConfigError(
                ErrorCode.BRIDGE_NOT_FINAL,
                f"height {height} is not anchored on BSC yet (anchored to {anchored})",
            )
        if anchored != shown:
            click.echo(f"waiting for BSC to anchor height {height} (at {anchored})", err=True)
            shown = anchored
        time.sleep(CLAIM_POLL_SECONDS)
    low, high = 0, int(anchor.read(evm, "rangeCount")) - 1
    while low <= high:  # ranges are contiguous and in height order
        middle = (low + high) // 2
        start, end, root = anchor.read(evm, "range", middle)
        if height < start:
            high = middle - 1
        elif height > end:
            low = middle + 1
        else:
            return middle, int(start), int(end), bytes(root)
    raise ConfigError(ErrorCode.BRIDGE_REFUSED, f"no anchored range holds height {height}")


def claim_arguments(proof: dict[str, Any], index: int) -> tuple[Any, Any]:
    """`Bridge.withdraw`'s (BlockProof, Withdrawal) from a node's proof JSON."""
    block = (
        index,
        proof["height"],
        bytes.fromhex(proof["blockHash"]),
        bytes.fromhex(proof["withdrawalRoot"]),
        bytes.fromhex(proof["retirementRoot"]),
        [bytes.fromhex(p) for p in proof["blockPath"]],
    )
    withdrawal = (
        bytes.fromhex(proof["withdrawalId"]),
        to_checksum_address("0x" + proof["bscRecipient"]),
        int(proof["amount"]),
        proof["leafIndex"],
        proof["leafCount"],
        [bytes.fromhex(p) for p in proof["leafPath"]],
    )
    return block, withdrawal


# -- deploying the BSC contracts for a real network (docs/spec/bridge.md section 8) ------


def _evm_address(value: str, option: str) -> str:
    """A checksummed address, or a one-line BAD_FIELD error naming the option."""
    return to_checksum_address(json_evm_address(value.strip(), option))


@bridge_group.command("plan")
@click.option("--deployer", required=True, help="The BSC account (0x...) that will deploy.")
@click.option(
    "--nonce",
    type=click.IntRange(0),
    help="Its nonce at the first deployment (default: its current one at --bsc, else 0).",
)
@click.option("--bsc", "bsc_url", help="A BSC JSON-RPC URL to read the deployer's nonce from.")
@reports_errors
def bridge_plan(deployer: str, nonce: int | None, bsc_url: str | None) -> None:
    """Print where DEPLOYER's `ccoin bridge deploy` puts CarbonCoin, Anchor, Bridge and
    RetirementRegistry (at nonces N to N+3): the Bridge is what `ccoin genesis new
    --bridge-contract` takes."""
    address = _evm_address(deployer, "--deployer")
    if nonce is None and bsc_url is not None:
        with EvmClient(bsc_url) as client:
            try:
                nonce = int(client.rpc("eth_getTransactionCount", address, "latest"), 16)
            except EvmError as exc:
                raise ConfigError(ErrorCode.CONFIG_INVALID, f"BSC: {exc}") from None
    start = nonce if nonce is not None else 0
    token, anchor, bridge, registry = plan_addresses(address, start)
    print_json(
        {
            "token": token,
            "anchor": anchor,
            "bridge": bridge,
            "retirementRegistry": registry,
            "nonce": start,
        }
    )


@bridge_group.command("deploy")
@click.option("--bsc", "bsc_url", required=True, help="The BSC JSON-RPC URL.")
@click.option(
    "--genesis",
    "genesis_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The genesis file naming the Bridge (genesis new --bridge-contract).",
)
@click.option(
    "--deployer-key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The deployer's Ethereum v3 keystore (it pays gas and gets the supply).",
)
@click.option("--passphrase-file", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--token-supply",
    help="CarbonCoin's supply, minted to the deployer: base units or C (1000000C); it must "
    "be what the genesis escrow holds (the default).",
)
@click.option("--guardian", required=True, help="The BSC account (0x...) that may pause.")
@reports_errors
def bridge_deploy(
    bsc_url: str,
    genesis_path: Path,
    deployer_key: Path,
    passphrase_file: Path,
    token_supply: str | None,
    guardian: str,
) -> None:
    """Deploy CarbonCoin, Anchor (the genesis active set), Bridge and RetirementRegistry
    for a genesis; refuses before sending anything unless the Bridge lands where the genesis
    names it."""
    supply = None
    if token_supply is not None:
        try:
            supply = parse_amount(token_supply, "--token-supply")
        except click.BadParameter as exc:
            raise ConfigError(ErrorCode.CONFIG_INVALID, f"--token-supply: {exc.message}") from None
    guardian_address = _evm_address(guardian, "--guardian")
    genesis = GenesisConfig.load(genesis_path)
    deployer = load_account(deployer_key, passphrase_file, "deployer key")
    with EvmClient(bsc_url) as client:
        try:
            deployed = deploy_bridge(
                client, deployer, genesis, token_supply=supply, guardian=guardian_address
            )
        except EvmError as exc:
            raise ConfigError(ErrorCode.BRIDGE_REFUSED, f"BSC: {exc}") from None
    print_json({**deployed.to_json(), "deployer": deployer.address, "guardian": guardian_address})
