"""Token-contract load: `ccoin bench --contract`.

Setup (not timed): the example fungible token (`token` of `ccoin.contracts`) is deployed from
the first test account, then every test account mints itself a balance. The measured
load is `count` pre-signed type-8 `transfer` calls, sender i % n to account (i + 1) % n,
sent and followed to finality exactly like the plain transfers (`ccoin_load.run_load`).
Afterwards a sample of receipts is read back: a call that failed inside the contract is
still finalized, so the report says how many of the sampled calls succeeded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import httpx

from ccoin.bench.ccoin_load import rpc
from ccoin.contracts import example_source
from ccoin.crypto.address import address_from_raw, contract_address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.assets import ContractCallAsset, ContractDeployAsset
from ccoin.types.transaction import Transaction, TxBody
from ccoin.vm.gas import gas_fee

CALL_GAS = 10_000  # a token transfer uses about 2,500
MINTED = 10**12
RECEIPT_SAMPLE = 200


def deploy(owner: KeyPair, network_id: bytes, timestamp: int, fee: int) -> tuple[Transaction, str]:
    """The token's deploy transaction and the address it will have."""
    asset = ContractDeployAsset("token", example_source("token"))
    body = TxBody(5, timestamp, owner.public_key, None, 0, fee, asset)
    tx = body.sign(owner, network_id)
    return tx, address_from_raw(contract_address_raw(tx.digest(network_id)[1]))


def calls(
    senders: Sequence[KeyPair],
    token: str,
    method: str,
    args_of: Any,
    count: int,
    network_id: bytes,
    timestamp: int,
    min_fee: int,
) -> list[Transaction]:
    """`count` calls of `method`, sender i % n, with `args_of(i)` as arguments."""
    if len(senders) < 2:
        raise ConfigError(ErrorCode.CONFIG_INVALID, "the benchmark needs two test accounts")
    fee = min_fee + gas_fee(CALL_GAS)
    out = []
    for i in range(count):
        sender = senders[i % len(senders)]
        asset = ContractCallAsset(token, method, tuple(args_of(i)), CALL_GAS)
        out.append(
            TxBody(8, timestamp, sender.public_key, None, 0, fee, asset).sign(sender, network_id)
        )
    return out


def mints(
    accounts: Sequence[KeyPair], token: str, network_id: bytes, timestamp: int, min_fee: int
) -> list[Transaction]:
    return calls(
        accounts,
        token,
        "mint",
        lambda i: (accounts[i].address, MINTED),
        len(accounts),
        network_id,
        timestamp,
        min_fee,
    )


def transfers(
    accounts: Sequence[KeyPair],
    token: str,
    count: int,
    network_id: bytes,
    timestamp: int,
    min_fee: int,
) -> list[Transaction]:
    n = len(accounts)
    return calls(
        accounts,
        token,
        "transfer",
        lambda i: (accounts[(i + 1) % n].address, 1 + i // n),  # distinct transactions
        count,
        network_id,
        timestamp,
        min_fee,
    )


async def check_receipts(url: str, ids: Sequence[str], network_id: bytes) -> dict[str, Any]:
    """Read back a random sample of receipts: how many calls succeeded, and their gas."""
    sample = random.sample(list(ids), min(RECEIPT_SAMPLE, len(ids)))
    ok = 0
    gas: list[int] = []
    errors: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=10.0) as client:
        for tx_id in sample:
            status = await rpc(client, url, "ccoin_getTransaction", [tx_id])
            receipt = status.get("receipt")
            if receipt is None:
                errors["NO_RECEIPT"] = errors.get("NO_RECEIPT", 0) + 1
                continue
            gas.append(receipt["gasUsed"])
            if receipt["ok"]:
                ok += 1
            else:
                name = receipt["errorName"] or "?"
                errors[name] = errors.get(name, 0) + 1
    return {
        "receipts_sampled": len(sample),
        "receipts_ok": ok,
        "receipt_errors": errors,
        "gas_per_call": round(sum(gas) / len(gas)) if gas else None,
    }
