"""A carbon retirement's proof against the RetirementRegistry on BSC (`ccoin carbon prove`
without --from/--to): the range the Anchor holds the retirement's block in, found as
`ccoin bridge claim` finds a withdrawal's; the node's proof for it, checked against the
anchored root; and with `--record`, `RetirementRegistry.record`, refused before anything is
sent when the retirement is recorded already."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ccoin.bridge.evm import Contract, EvmClient, EvmError, load_account
from ccoin.bridge.solidity import load_artifact
from ccoin.cli.bridge import anchored_range, devnet_node
from ccoin.cli.remote import connect
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.codec import json_evm_address


def prove_on_bsc(
    retirement_id: str,
    record: bool,
    timeout: float,
    node_url: str,
    *,
    devnet_dir: Path | None,
    bsc_url: str | None,
    registry_address: str | None,
    payer_key: Path | None,
    payer_passphrase_file: Path | None,
) -> dict[str, Any]:
    """The proof (plus `rangeIndex` and `registry`, and with `record` what BSC then
    holds, as `recorded`), once the retirement is final on the node and anchored on BSC."""
    if devnet_dir is not None:
        devnet = Devnet.load(devnet_dir)
        if devnet.bsc is None:
            raise ConfigError(ErrorCode.CONFIG_INVALID, f"{devnet_dir}: made with --no-bridge")
        bsc_url = bsc_url or devnet.bsc.url
        registry_address = registry_address or devnet.bsc.retirement_registry
        payer_key = payer_key or devnet.root / "keys" / devbsc.USER_KEY
        payer_passphrase_file = payer_passphrase_file or devnet.root / "keys" / "passphrase"
    if bsc_url is None or registry_address is None:
        raise click.UsageError("give --from and --to, or --devnet DIR, or --bsc and --registry")
    registry_at = json_evm_address(registry_address, "--registry")
    payer = None
    if record:
        if payer_key is None or payer_passphrase_file is None:
            raise click.UsageError("--record needs --payer-key and --payer-passphrase-file")
        payer = load_account(payer_key, payer_passphrase_file, "payer key")
    url = devnet_node(devnet_dir, node_url)
    deadline = time.monotonic() + timeout
    with connect(url) as client, EvmClient(bsc_url) as evm:
        found = client.carbon.certificate(retirement_id)
        tx_id = found["transaction"]["id"]
        height = int(found["retirement"]["height"])
        client.wait_for(tx_id, "finalized", timeout=timeout)
        try:
            registry = Contract(registry_at, tuple(load_artifact("RetirementRegistry")["abi"]))
            anchor = Contract(registry.read(evm, "anchor"), tuple(load_artifact("Anchor")["abi"]))
            index, start, end, root = anchored_range(evm, anchor, height, deadline)
            proof = client.carbon.retirement_proof(tx_id, start, end)
            if bytes.fromhex(proof["rangeRoot"]) != root:
                raise ConfigError(
                    ErrorCode.BRIDGE_REFUSED,
                    f"the node's blocks {start}-{end} are not the ones anchored on BSC",
                )
            out: dict[str, Any] = {**proof, "rangeIndex": index, "registry": registry_at}
            if payer is not None:
                out["recorded"] = record_on_bsc(evm, registry, payer, proof, index, tx_id)
        except EvmError as exc:
            raise ConfigError(ErrorCode.BRIDGE_REFUSED, f"BSC: {exc}") from None
    return out


def record_on_bsc(
    evm: Any, registry: Any, payer: Any, proof: dict[str, Any], index: int, tx_id: str
) -> dict[str, Any]:
    """`RetirementRegistry.record` with the proof; refused before sending anything if the
    retirement is recorded already. What the registry then holds."""
    retirement = bytes.fromhex(proof["retirementId"])
    if registry.read(evm, "isRecorded", retirement):
        raise ConfigError(
            ErrorCode.BRIDGE_REFUSED, f"retirement {tx_id} is recorded on BSC already"
        )
    receipt = registry.send(evm, payer, "record", *record_arguments(proof, index))
    record_hash, quantity, height = registry.read(evm, "retirement", retirement)
    return {
        "bscTransaction": receipt["transactionHash"],
        "recordHash": bytes(record_hash).hex(),
        "quantity": str(quantity),
        "height": int(height),
    }


def record_arguments(proof: dict[str, Any], index: int) -> tuple[Any, Any]:
    """`RetirementRegistry.record`'s (BlockProof, Retirement) from a node's proof JSON."""
    block = (
        index,
        proof["height"],
        bytes.fromhex(proof["blockHash"]),
        bytes.fromhex(proof["withdrawalRoot"]),
        bytes.fromhex(proof["retirementRoot"]),
        [bytes.fromhex(p) for p in proof["blockPath"]],
    )
    retirement = (
        bytes.fromhex(proof["retirementId"]),
        bytes.fromhex(proof["recordHash"]),
        int(proof["quantity"]),
        proof["leafIndex"],
        proof["leafCount"],
        [bytes.fromhex(p) for p in proof["leafPath"]],
    )
    return block, retirement
