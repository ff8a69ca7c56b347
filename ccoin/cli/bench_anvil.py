"""The anvil half of `ccoin bench --anvil`: the same number of value transfers, signed
beforehand, submitted in the same batch sizes and concurrency, followed to inclusion
(anvil's blocks are final at once)."""

from __future__ import annotations

import time
from typing import Any

import click
import trio

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts, pre_sign_transfers, run_evm_load, signing_backend
from ccoin.cli.bench import progress_bar

# What the anvil run measures, for the report: the way most favourable to anvil we know.
ANVIL_MEASURED = (
    "anvil as a local node at its fastest: automine off, 1 s blocks, the block gas limit "
    "out of the way, no finality to wait for (included = final); pre-signed transfers "
    "sent as JSON-RPC batches of eth_sendRawTransaction, inclusion seen by polling blocks; "
    "never paced by --rate"
)


def run_anvil(
    txs: int, batch: int, concurrency: int, rate: float | None, timeout: float
) -> dict[str, Any]:
    """Start anvil (`--chain-id 97`, 1 s blocks), load it, stop it; the report's anvil
    fields."""
    if rate is not None:
        click.echo("note: --rate paces the Carbon Coin run only; anvil is sent all", err=True)
    started = time.monotonic()
    senders = dev_accounts()
    with start_anvil(accounts=len(senders)) as anvil:
        raw = pre_sign_transfers(txs, chain_id=anvil.config.chain_id, senders=senders)
        click.echo(
            f"anvil: signed {txs} transfers from {len(senders)} accounts in "
            f"{time.monotonic() - started:.1f} s ({signing_backend()})",
            err=True,
        )
        with progress_bar(txs, "anvil included") as progress:
            result = trio.run(
                lambda: run_evm_load(
                    anvil.url,
                    raw,
                    batch_size=batch,
                    concurrency=concurrency,
                    timeout=timeout,
                    progress=progress,
                )
            )
        config = anvil.config
    return {
        "anvil_tps": round(result.included_tps, 1),
        "anvil_submitted_tps": round(result.submitted_tps, 1),
        "anvil_included": result.included,
        "anvil_errors": result.errors,
        "anvil_latency_p50_s": round(result.latency_p50, 3),
        "anvil_latency_p95_s": round(result.latency_p95, 3),
        "anvil_latency_p99_s": round(result.latency_p99, 3),
        "anvil_blocks": result.blocks,
        "anvil_max_block_txs": result.max_block_txs,
        "anvil_block_gas_limit": result.block_gas_limit,
        "anvil_chain_id": config.chain_id,
        "anvil_block_time_s": config.block_time,
    }
