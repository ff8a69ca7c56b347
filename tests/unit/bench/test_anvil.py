"""anvil as the EVM reference node: it starts, takes a pre-signed load and is measured.

These start a real anvil (from node_modules; run scripts/setup-npm first) with 1 s blocks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from ccoin.bench.anvil import (
    DEFAULT_GAS_LIMIT,
    AnvilNode,
    AnvilNotInstalled,
    find_anvil,
    start_anvil,
)
from ccoin.bench.evm_load import (
    DevAccount,
    EvmLoadError,
    dev_accounts,
    pre_sign_transfers,
    recipient_addresses,
    run_evm_load,
)

SENDERS = 4


@pytest.fixture
def anvil() -> Iterator[AnvilNode]:
    with start_anvil(accounts=SENDERS, block_time=1) as node:
        yield node


async def rpc(url: str, method: str, *params: Any) -> Any:
    async with httpx.AsyncClient(timeout=5) as client:
        reply = (
            await client.post(
                url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
            )
        ).json()
    return reply["result"]


async def balance(url: str, address: str) -> int:
    return int(await rpc(url, "eth_getBalance", address, "latest"), 16)


async def test_dev_accounts_are_anvils_funded_accounts(anvil: AnvilNode) -> None:
    ours = [a.address.lower() for a in dev_accounts(SENDERS)]
    assert [a.lower() for a in await rpc(anvil.url, "eth_accounts")] == ours
    assert int(await rpc(anvil.url, "eth_chainId"), 16) == 97


async def test_every_transfer_is_included_and_moves_balances(anvil: AnvilNode) -> None:
    recipients = recipient_addresses(3)
    value = 1_000
    raw = pre_sign_transfers(
        60, chain_id=97, senders=dev_accounts(SENDERS), recipients=recipients, value=value
    )
    before = {r: await balance(anvil.url, r) for r in recipients}
    seen: list[tuple[int, int]] = []

    result = await run_evm_load(
        anvil.url,
        raw,
        batch_size=16,
        concurrency=2,
        timeout=10,
        progress=lambda s, i: seen.append((s, i)),
    )

    assert (result.txs, result.included, result.errors) == (60, 60, 0)
    assert result.error_samples == ()
    expected = Counter(recipients[i % len(recipients)] for i in range(60))
    for r in recipients:
        assert await balance(anvil.url, r) - before[r] == expected[r] * value
    assert 0 < result.latency_p50 <= result.latency_p95 <= result.latency_p99 <= result.duration
    assert result.submitted_tps > 0 and result.included_tps > 0
    assert result.blocks >= 1 and result.max_block_txs <= 60
    assert result.block_gas_limit == DEFAULT_GAS_LIMIT
    assert seen[-1] == (60, 60)


async def test_rejected_transactions_are_counted_not_awaited(anvil: AnvilNode) -> None:
    good = pre_sign_transfers(2, chain_id=97, senders=dev_accounts(1))
    key = b"\x07" * 32
    unfunded = DevAccount(address=Account.from_key(key).address, key=key)
    broke = pre_sign_transfers(1, chain_id=97, senders=[unfunded])

    result = await run_evm_load(anvil.url, good + broke + [b"\x01\x02"], batch_size=8, timeout=10)

    assert (result.included, result.errors) == (2, 2)
    assert len(result.error_samples) == 2
    assert "insufficient funds" in result.error_samples[0].lower()


async def test_a_transaction_that_never_lands_times_out_clearly(anvil: AnvilNode) -> None:
    gap = pre_sign_transfers(
        1, chain_id=97, senders=dev_accounts(1), start_nonces={dev_accounts(1)[0].address: 5}
    )
    with pytest.raises(EvmLoadError, match=r"did not finish within 0.5s.*1 accepted but not yet"):
        await run_evm_load(anvil.url, gap, timeout=0.5)


def test_missing_binary_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nor one on PATH
    with pytest.raises(AnvilNotInstalled, match="scripts/setup-npm"):
        find_anvil(tmp_path)
    with pytest.raises(AnvilNotInstalled), start_anvil(root=tmp_path):
        pass


def test_anvil_is_stopped_on_exit() -> None:
    with start_anvil(accounts=1) as node:
        assert node.process.poll() is None
    assert node.process.poll() is not None
    with pytest.raises(httpx.TransportError):
        httpx.post(
            node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        )
