"""Pre-signed transfer load against an EVM JSON-RPC node (anvil), measured end to end.

Transfers are signed before the clock starts, so what is timed is the node: taking them in
through `eth_sendRawTransaction` (sent as JSON-RPC batches, a few requests in flight) and
putting them in blocks. Inclusion is seen by polling `eth_getBlockByNumber` for each new
block and matching transaction hashes computed locally (keccak of the raw bytes); anvil has
instant finality, so included means final. Inclusion times are when the poller saw the
block, so latencies are late by at most one poll interval plus one round trip.

Signing uses eth-account, which signs with coincurve (libsecp256k1) when it is installed
and otherwise with a pure-Python backend about ten times slower.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio
from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_keys.backends import get_backend
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ccoin.bench.anvil import DEFAULT_MNEMONIC
from ccoin.bench.stats import percentile

TRANSFER_GAS = 21_000
DEFAULT_GAS_PRICE = 1_000_000_000  # 1 gwei, BSC's usual floor
DEFAULT_SENDERS = 64
ERROR_SAMPLES = 5

Progress = Callable[[int, int], None]


class EvmLoadError(RuntimeError):
    """The load could not be run or did not complete (an RPC failure or a timeout)."""


@dataclass(frozen=True)
class DevAccount:
    """A funded dev account: anvil funds the first `--accounts` keys of its mnemonic."""

    address: str
    key: bytes


def dev_accounts(
    count: int = DEFAULT_SENDERS, mnemonic: str = DEFAULT_MNEMONIC
) -> list[DevAccount]:
    """The first `count` accounts of `mnemonic` on anvil's derivation path m/44'/60'/0'/0/i.

    The seed (2048 PBKDF2 rounds) is computed once rather than per key.
    """
    seed = seed_from_mnemonic(mnemonic, "")
    accounts = []
    for i in range(count):
        key = key_from_seed(seed, f"m/44'/60'/0'/0/{i}")
        accounts.append(DevAccount(address=Account.from_key(key).address, key=key))
    return accounts


def recipient_addresses(count: int = 16) -> list[str]:
    """Fixed addresses nobody holds keys for: transfers to them only move balances."""
    return [
        to_checksum_address(keccak(b"ccoin-bench-recipient-%d" % i)[-20:]) for i in range(count)
    ]


def signing_backend() -> str:
    """The secp256k1 backend eth-account signs with, e.g. `CoinCurveECCBackend` (fast)."""
    return type(get_backend()).__name__


def tx_hash(raw: bytes) -> bytes:
    """The transaction hash the node will report: keccak of the signed raw bytes."""
    return keccak(raw)


def pre_sign_transfers(
    n: int,
    *,
    chain_id: int,
    senders: Sequence[DevAccount],
    recipients: Sequence[str] | None = None,
    gas_price: int = DEFAULT_GAS_PRICE,
    value: int = 1,
    start_nonces: Mapping[str, int] | None = None,
) -> list[bytes]:
    """Sign `n` plain value transfers (legacy, EIP-155), round-robin over `senders`.

    Nonces are counted per sender from `start_nonces` (0 for a fresh chain); transfer i
    goes to `recipients[i % len(recipients)]` and carries `value` wei. `chain_id` must be
    the node's: anvil answers a transaction signed for another chain with its hash but
    never mines it, so such a load ends in a timeout.
    """
    if not senders:
        raise ValueError("pre_sign_transfers needs at least one sender")
    to = list(recipient_addresses()) if recipients is None else list(recipients)
    nonces = {s.address: (start_nonces or {}).get(s.address, 0) for s in senders}
    raw_txs = []
    for i in range(n):
        sender = senders[i % len(senders)]
        tx: dict[str, Any] = {
            "to": to[i % len(to)],
            "value": value,
            "gas": TRANSFER_GAS,
            "gasPrice": gas_price,
            "nonce": nonces[sender.address],
            "chainId": chain_id,
        }
        nonces[sender.address] += 1
        raw_txs.append(bytes(Account.sign_transaction(tx, sender.key).raw_transaction))
    return raw_txs


@dataclass(frozen=True)
class EvmLoadResult:
    """What one load run measured. Times are seconds; TPS are transactions per second.

    `submitted_tps` is txs over the span from the first request sent to the last answer;
    `included_tps` is txs in blocks over the span from the first request sent to the
    last inclusion seen, so it is only meaningful for a load spanning several blocks (a
    load that fits in one block measures where the block boundary fell). Latencies run
    from a transaction's request being sent to its block being seen. `block_gas_limit`
    and `max_block_gas_used` are read from the blocks, to show whether gas bounded them.
    """

    txs: int
    included: int
    errors: int
    error_samples: tuple[str, ...]
    submit_seconds: float
    submitted_tps: float
    included_tps: float
    latency_p50: float
    latency_p95: float
    latency_p99: float
    blocks: int
    max_block_txs: int
    block_gas_limit: int
    max_block_gas_used: int
    duration: float
    batch_size: int
    concurrency: int


@dataclass
class _BlockSeen:
    number: int
    txs: int  # ours in this block
    gas_used: int
    gas_limit: int


@dataclass
class _LoadState:
    """Mutable bookkeeping shared by the submitters and the block follower."""

    wanted: set[bytes]
    progress: Progress | None
    submitted_at: dict[bytes, float] = field(default_factory=dict)
    included_at: dict[bytes, float] = field(default_factory=dict)
    outstanding: set[bytes] = field(default_factory=set)
    submitted: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    blocks: list[_BlockSeen] = field(default_factory=list)
    first_sent: float = math.inf
    last_answered: float = 0.0
    submit_done: bool = False
    done: trio.Event = field(default_factory=trio.Event)

    def error(self, count: int, message: str) -> None:
        self.errors += count
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(message)

    def check_done(self) -> None:
        if self.submit_done and not self.outstanding:
            self.done.set()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.submitted, len(self.included_at))


async def _rpc(client: httpx.AsyncClient, url: str, method: str, params: list[Any]) -> Any:
    """One JSON-RPC call; raises EvmLoadError on a transport or JSON-RPC error."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    try:
        response = await client.post(url, json=body)
        response.raise_for_status()
        reply = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise EvmLoadError(f"{method} on {url} failed: {exc!r}") from exc
    if "error" in reply:
        raise EvmLoadError(f"{method} on {url} returned an error: {reply['error']}")
    return reply.get("result")


async def _submit_batch(
    client: httpx.AsyncClient, url: str, batch: Sequence[tuple[bytes, bytes]], state: _LoadState
) -> None:
    """Send one JSON-RPC batch of eth_sendRawTransaction and account for every answer."""
    body = json.dumps(
        [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_sendRawTransaction",
                "params": ["0x" + raw.hex()],
            }
            for i, (raw, _) in enumerate(batch)
        ]
    )
    sent = time.monotonic()
    state.first_sent = min(state.first_sent, sent)
    for _, h in batch:
        state.submitted_at[h] = sent
    try:
        response = await client.post(
            url, content=body, headers={"content-type": "application/json"}
        )
        response.raise_for_status()
        replies = response.json()
        if not isinstance(replies, list):
            raise ValueError(f"batch answered with a {type(replies).__name__}: {replies!r:.200}")
    except (httpx.HTTPError, ValueError) as exc:
        state.error(len(batch), f"batch of {len(batch)} failed: {exc!r}")
    else:
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        for i, (_, h) in enumerate(batch):
            _account_reply(by_id.get(i), h, state)
    state.last_answered = max(state.last_answered, time.monotonic())
    state.submitted += len(batch)
    state.report()


def _account_reply(reply: dict[str, Any] | None, h: bytes, state: _LoadState) -> None:
    """Mark one transaction accepted (now awaited in a block) or count its error."""
    if reply is None:
        state.error(1, f"no answer for tx 0x{h.hex()}")
    elif "error" in reply:
        state.error(1, f"tx 0x{h.hex()}: {reply['error']}")
    elif reply.get("result") != "0x" + h.hex():
        state.error(1, f"tx 0x{h.hex()} answered with hash {reply.get('result')}")
    elif h not in state.included_at:
        state.outstanding.add(h)


async def _submit_all(
    client: httpx.AsyncClient,
    url: str,
    pairs: Sequence[tuple[bytes, bytes]],
    batch_size: int,
    concurrency: int,
    state: _LoadState,
) -> None:
    """Submit every batch in order with at most `concurrency` requests in flight."""
    send, receive = trio.open_memory_channel[Sequence[tuple[bytes, bytes]]](0)

    async def worker(receive: trio.MemoryReceiveChannel[Sequence[tuple[bytes, bytes]]]) -> None:
        async with receive:
            async for batch in receive:
                await _submit_batch(client, url, batch, state)

    async with trio.open_nursery() as nursery:
        async with receive:
            for _ in range(concurrency):
                nursery.start_soon(worker, receive.clone())
        async with send:
            for start in range(0, len(pairs), batch_size):
                await send.send(pairs[start : start + batch_size])
    state.submit_done = True
    state.check_done()


async def _follow_blocks(
    client: httpx.AsyncClient, url: str, after: int, state: _LoadState, poll_interval: float
) -> None:
    """Fetch each block after `after` as soon as it exists and record our transactions in it."""
    number = after + 1
    while True:
        block = await _rpc(client, url, "eth_getBlockByNumber", [hex(number), False])
        if block is None:
            await trio.sleep(poll_interval)
            continue
        seen = time.monotonic()
        ours = 0
        for tx in block["transactions"]:
            h = bytes.fromhex(tx[2:])
            if h in state.wanted and h not in state.included_at:
                state.included_at[h] = seen
                state.outstanding.discard(h)
                ours += 1
        if ours:
            gas = (int(block["gasUsed"], 16), int(block["gasLimit"], 16))
            state.blocks.append(_BlockSeen(number, ours, *gas))
            state.report()
        state.check_done()
        number += 1


async def run_evm_load(
    url: str,
    raw_txs: Sequence[bytes],
    *,
    batch_size: int = 500,
    concurrency: int = 4,
    timeout: float = 120.0,
    request_timeout: float = 30.0,
    poll_interval: float = 0.02,
    progress: Progress | None = None,
) -> EvmLoadResult:
    """Submit `raw_txs` to the node at `url` and follow each to inclusion in a block.

    Raises EvmLoadError if the node fails to answer or if not every accepted transaction
    is in a block within `timeout` seconds. Rejected transactions are counted as errors
    (with the first few messages) rather than raised, so a report can show them.
    """
    pairs = [(raw, tx_hash(raw)) for raw in raw_txs]
    state = _LoadState(wanted={h for _, h in pairs}, progress=progress)
    limits = httpx.Limits(
        max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1
    )
    async with httpx.AsyncClient(timeout=request_timeout, limits=limits) as client:
        start_block = int(await _rpc(client, url, "eth_blockNumber", []), 16)
        started = time.monotonic()
        with trio.move_on_after(timeout) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_follow_blocks, client, url, start_block, state, poll_interval)
                await _submit_all(client, url, pairs, batch_size, concurrency, state)
                await state.done.wait()
                nursery.cancel_scope.cancel()
    if scope.cancelled_caught:
        raise EvmLoadError(_timeout_message(state, len(pairs), timeout))
    return _summarize(state, len(pairs), time.monotonic() - started, batch_size, concurrency)


def _timeout_message(state: _LoadState, txs: int, timeout: float) -> str:
    """Say how far the load got, with a few of the transactions still awaited."""
    waiting = ", ".join("0x" + h.hex() for h in list(state.outstanding)[:3])
    message = (
        f"load did not finish within {timeout:g}s: {state.submitted}/{txs} submitted, "
        f"{len(state.included_at)} included, {len(state.outstanding)} accepted but not yet "
        f"in a block (e.g. {waiting or '-'}), {state.errors} rejected"
    )
    if state.error_samples:
        message += ": " + "; ".join(state.error_samples)
    return message


def _summarize(
    state: _LoadState, txs: int, duration: float, batch_size: int, concurrency: int
) -> EvmLoadResult:
    """Turn the bookkeeping of a finished run into its figures."""
    latencies = [t - state.submitted_at[h] for h, t in state.included_at.items()]
    submit_seconds = max(state.last_answered - state.first_sent, 0.0)
    included_span = max(state.included_at.values(), default=state.first_sent) - state.first_sent
    included = len(state.included_at)
    return EvmLoadResult(
        txs=txs,
        included=included,
        errors=state.errors,
        error_samples=tuple(state.error_samples),
        submit_seconds=submit_seconds,
        submitted_tps=txs / submit_seconds if submit_seconds > 0 else 0.0,
        included_tps=included / included_span if included_span > 0 else 0.0,
        latency_p50=percentile(latencies, 50, empty=0.0),
        latency_p95=percentile(latencies, 95, empty=0.0),
        latency_p99=percentile(latencies, 99, empty=0.0),
        blocks=len(state.blocks),
        max_block_txs=max((b.txs for b in state.blocks), default=0),
        block_gas_limit=max((b.gas_limit for b in state.blocks), default=0),
        max_block_gas_used=max((b.gas_used for b in state.blocks), default=0),
        duration=duration,
        batch_size=batch_size,
        concurrency=concurrency,
    )
