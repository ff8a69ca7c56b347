"""Pre-signed transfer load against Carbon Coin nodes over RPC, followed to finality.

Transfers from the devnet's funded test accounts are signed and serialized before the
clock starts. They go out as `ccoin_sendRawTransactions` calls (canonical bytes as hex; or
`ccoin_sendTransactions` with the JSON forms, `submit="json"`) of `batch` transactions,
spread round-robin over every node's RPC, `concurrency` calls in flight. A follower holds a
WebSocket subscription to one node's finalized blocks with their transaction ids and
stamps each of our transactions with the moment the notification arrived: what a user's
application sees, late only by the push itself. Blocks it may have missed (before it
subscribed, across a dropped socket) are read with `ccoin_getBlock`, so none is lost.
Retryable refusals (a full pool, a busy node) are sent again after a pause, a bounded
number of times; other refusals count as rejected. A transaction the pools took that a block
builder then dropped as invalid never finalizes: once everything is submitted and no node's
pool holds anything, the nodes are asked about ours that are not final, and those they
rejected count as dropped (so the run ends instead of waiting out its timeout).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import trio
from httpx_ws import (
    AsyncWebSocketSession,
    HTTPXWSException,
    aconnect_ws,
)

from ccoin.bench.stats import percentile
from ccoin.client.errors import NodeError
from ccoin.client.protocol import parse_answer
from ccoin.crypto.keys import KeyPair
from ccoin.devnet.layout import Devnet
from ccoin.errors import ConfigError, ErrorCode, RpcError
from ccoin.types.assets import TransferAsset
from ccoin.types.transaction import Transaction, TxBody

MAX_ATTEMPTS = 50
RETRY_PAUSE = 0.2
DROP_CHECK_PAUSE = 1.0
MAX_STATUS_READS = 1_000  # per drop check: a run that drops more is broken anyway
REQUEST_TIMEOUT = 60.0

Progress = Callable[[int, int], None]  # (accepted so far, finalized so far)


def pre_sign(
    accounts: Sequence[KeyPair],
    count: int,
    network_id: bytes,
    timestamp: int,
    fee: int,
    *,
    first: int = 0,
) -> list[Transaction]:
    """`count` transfers, sender i % n to account (i + 1) % n, at `fee`, for i from
    `first` (so the runs of a sweep never repeat a transaction)."""
    if len(accounts) < 2:
        raise ConfigError(ErrorCode.CONFIG_INVALID, "the benchmark needs two test accounts")
    n = len(accounts)
    txs = []
    for i in range(first, first + count):
        sender = accounts[i % n]
        body = TxBody(
            0,
            timestamp,
            sender.public_key,
            accounts[(i + 1) % n].address,
            1 + i // n,  # distinct amounts keep every transaction distinct
            fee,
            TransferAsset(b""),
        )
        txs.append(body.sign(sender, network_id))
    return txs


SUBMIT_METHODS = {"raw": "ccoin_sendRawTransactions", "json": "ccoin_sendTransactions"}


@dataclass
class Batch:
    ids: list[str]
    entries: list[Any]  # the transactions' canonical bytes as hex, or their JSON forms
    attempts: int = 0
    body: bytes = b""  # the request, serialized before the clock starts
    method: str = SUBMIT_METHODS["raw"]

    def request(self) -> bytes:
        if not self.body:
            self.body = request_body(self.method, [self.entries])
        return self.body


def request_body(method: str, params: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})


def make_batches(
    txs: Sequence[Transaction], network_id: bytes, size: int, submit: str = "raw"
) -> list[Batch]:
    """The requests, serialized now: `submit` is "raw" (bytes as hex) or "json"."""
    method = SUBMIT_METHODS[submit]
    out = []
    for start in range(0, len(txs), size):
        part = txs[start : start + size]
        if submit == "raw":
            entries: list[Any] = [t.encode().hex() for t in part]
        else:
            entries = [t.to_json(network_id) for t in part]
        batch = Batch([t.id(network_id) for t in part], entries, method=method)
        batch.request()
        out.append(batch)
    return out


@dataclass
class LoadResult:
    txs: int
    accepted: int
    finalized: int
    rejected: dict[str, int]  # refused on submission, by error
    dropped: dict[str, int]  # accepted, then found invalid by a block builder, by error
    submitted_tps: float
    finalized_tps: float  # finalized / (last finality seen - first submission)
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    duration_s: float
    retries: int
    timed_out: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "clean": self.clean}

    @property
    def clean(self) -> bool:
        """Every transaction finalized: none refused, dropped or left behind."""
        return self.finalized == self.txs and not (self.rejected or self.dropped)


@dataclass
class _Run:
    urls: Sequence[str]
    follow_url: str
    total: int
    progress: Progress | None
    sent_at: dict[str, float] = field(default_factory=dict)  # id -> time its batch went out
    final_at: dict[str, float] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    dropped: dict[str, str] = field(default_factory=dict)  # id -> the builder's error
    accepted: int = 0
    retries: int = 0
    first_sent: float = math.inf
    last_accepted: float = 0.0
    submitted: trio.Event = field(default_factory=trio.Event)
    settled: trio.Event = field(default_factory=trio.Event)
    finished: trio.Event = field(default_factory=trio.Event)  # set once `done()`
    rate: float | None = None  # offered transactions a second; None: as fast as taken
    next_send: float = 0.0
    follow_errors: list[str] = field(default_factory=list)

    async def pace(self, count: int) -> None:
        """Open-loop pacing: the batch goes out at its scheduled time, whatever the answers
        to earlier ones (a closed loop would slow down exactly when the node does)."""
        if self.rate is None:
            return
        now = trio.current_time()
        if self.next_send == 0.0:
            self.next_send = now
        at = self.next_send
        self.next_send = max(at, now - 1.0) + count / self.rate
        await trio.sleep_until(at)

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.accepted, len(self.final_at) + len(self.dropped))
        if self.done():
            self.finished.set()

    def stamp(self, tx_ids: Sequence[str], now: float) -> None:
        sent, final = self.sent_at, self.final_at
        for tx_id in tx_ids:
            if tx_id in sent and tx_id not in final:
                final[tx_id] = now
                self.dropped.pop(tx_id, None)  # one node dropped it, another included it

    def done(self) -> bool:
        return self.submitted.is_set() and len(self.final_at) + len(self.dropped) >= len(
            self.sent_at
        )

    def unsettled(self) -> list[str]:
        """Ours accepted, neither final nor known dropped."""
        final, dropped = self.final_at, self.dropped
        return [i for i in self.sent_at if i not in final and i not in dropped]


async def rpc(
    client: httpx.AsyncClient, url: str, method: str, params: Any, body: bytes = b""
) -> Any:
    body = body or request_body(method, params)
    response = await client.post(
        f"{url}/rpc", content=body, headers={"content-type": "application/json"}
    )
    try:
        return parse_answer(url, 1, response.status_code, response.content)
    except NodeError as exc:  # the CLI reports typed ccoin errors
        code = exc.code or ErrorCode.RPC_INTERNAL
        raise RpcError(code, f"{method} at {url}: {exc.message}") from None


async def _submit_worker(
    run: _Run,
    client: httpx.AsyncClient,
    queue: trio.MemoryReceiveChannel[Batch],
    requeue: trio.MemorySendChannel[Batch],
    worker: int,
) -> None:
    turn = worker
    async for batch in queue:
        url = run.urls[turn % len(run.urls)]
        turn += 1
        await run.pace(len(batch.ids))
        started = time.monotonic()
        run.first_sent = min(run.first_sent, started)
        results = await rpc(client, url, batch.method, None, batch.request())
        retry = Batch([], [], batch.attempts + 1, method=batch.method)
        for tx_id, entry, result in zip(batch.ids, batch.entries, results, strict=True):
            error = result.get("error")
            if error is None or error["name"] == ErrorCode.POOL_DUPLICATE.name:
                run.sent_at.setdefault(tx_id, started)
                run.accepted += 1
            elif error.get("retryable") and retry.attempts < MAX_ATTEMPTS:
                retry.ids.append(tx_id)
                retry.entries.append(entry)
            else:
                run.rejected[error["name"]] += 1
        run.last_accepted = time.monotonic()
        run.report()
        if run.accepted + sum(run.rejected.values()) >= run.total:
            run.settled.set()
        if retry.ids:
            run.retries += len(retry.ids)
            await trio.sleep(RETRY_PAUSE)  # back-pressure: the node asked us to wait
            await requeue.send(retry)


async def _follow(run: _Run, client: httpx.AsyncClient, subscribed: trio.Event) -> None:
    """Stamp our transactions as the follow node finalizes their blocks: pushed over a
    WebSocket; what a push skipped (the first subscription, a reconnection) is read."""
    seen = (await rpc(client, run.follow_url, "ccoin_status", []))["finalizedHeight"]
    ws_url = "ws" + run.follow_url.removeprefix("http") + "/ws"
    ws: AsyncWebSocketSession
    while not run.done():
        try:
            async with aconnect_ws(ws_url, client) as ws:
                await ws.send_json(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "ccoin_subscribe",
                        "params": ["finalizedBlocks", {"transactionIds": True}],
                    }
                )
                answer = await ws.receive_json()
                if "result" not in answer:
                    raise RpcError(ErrorCode.RPC_INTERNAL, f"subscribe refused: {answer}")
                subscribed.set()
                seen = await _catch_up(run, client, seen, None)
                while not run.done():
                    note = await ws.receive_json()
                    header = note.get("params", {}).get("result", {})
                    height = header.get("height")
                    if type(height) is not int or height <= seen:
                        continue
                    seen = await _catch_up(run, client, seen, height - 1)
                    run.stamp(header.get("transactionIds", []), time.monotonic())
                    seen = height
                    run.report()
        except (HTTPXWSException, httpx.HTTPError) as exc:
            run.follow_errors.append(repr(exc)[:120])
            if len(run.follow_errors) > MAX_ATTEMPTS:
                raise
            subscribed.set()  # the load goes on; without a socket, blocks are read
            await trio.sleep(RETRY_PAUSE)
            with contextlib.suppress(httpx.HTTPError):
                seen = await _catch_up(run, client, seen, None)
                run.report()


async def _catch_up(run: _Run, client: httpx.AsyncClient, seen: int, upto: int | None) -> int:
    """Read the finalized blocks above `seen` (to `upto`, or to the node's finalized
    height) and stamp ours; the new `seen`."""
    if upto is None:
        upto = (await rpc(client, run.follow_url, "ccoin_status", []))["finalizedHeight"]
    for height in range(seen + 1, upto + 1):
        block = await rpc(client, run.follow_url, "ccoin_getBlock", [height, False])
        run.stamp(block["transactionIds"], time.monotonic())
        seen = height
    return seen


async def _watch_dropped(run: _Run, client: httpx.AsyncClient) -> None:
    """Once everything is submitted, whenever no node's pool holds a transaction: ours
    that are not final were included in a block not yet final, or dropped by a builder.
    A transaction no node reports included or pending and one reports rejected is dropped."""
    await run.submitted.wait()
    while not run.done():
        await trio.sleep(DROP_CHECK_PAUSE)
        if run.done():
            return
        pools = [(await rpc(client, url, "ccoin_status", []))["mempoolSize"] for url in run.urls]
        if any(pools):
            continue
        for tx_id in run.unsettled()[:MAX_STATUS_READS]:
            error = await _rejection(client, run.urls, tx_id)
            if error is not None and tx_id not in run.final_at:
                run.dropped[tx_id] = error
        run.report()


async def _rejection(client: httpx.AsyncClient, urls: Sequence[str], tx_id: str) -> str | None:
    """The error a node rejected `tx_id` with, if none holds or includes it."""
    error = None
    for url in urls:
        try:
            found = await rpc(client, url, "ccoin_getTransaction", [tx_id])
        except RpcError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                continue
            raise
        if found["status"] != "rejected":
            return None  # pending, included or finalized somewhere
        error = (found.get("error") or {}).get("name", "?")
    return error


async def run_load(
    urls: Sequence[str],
    batches: list[Batch],
    *,
    concurrency: int = 4,
    timeout: float = 600.0,
    progress: Progress | None = None,
    rate: float | None = None,
) -> LoadResult:
    """Submit every batch (at `rate` transactions a second, or as fast as the nodes take
    them) and follow each accepted transaction to finality (or `timeout`)."""
    total = sum(len(b.ids) for b in batches)
    run = _Run(urls, urls[0], total, progress, rate=rate)
    limits = httpx.Limits(max_connections=concurrency + 2)
    started = time.monotonic()
    timed_out = False
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
        with trio.move_on_after(timeout) as scope:
            async with trio.open_nursery() as nursery:
                subscribed = trio.Event()
                nursery.start_soon(_follow, run, client, subscribed)
                nursery.start_soon(_watch_dropped, run, client)
                await subscribed.wait()  # nothing of ours can finalize unseen
                await _submit_all(run, client, batches, concurrency)
                run.submitted.set()
                run.report()
                await run.finished.wait()
                nursery.cancel_scope.cancel()  # the follower may wait on a quiet socket
        timed_out = scope.cancelled_caught
    return _result(run, started, timed_out)


async def _submit_all(
    run: _Run, client: httpx.AsyncClient, batches: list[Batch], concurrency: int
) -> None:
    """Workers share one queue and put retries back on it; done when every transaction
    was accepted or rejected."""
    send, receive = trio.open_memory_channel[Batch](math.inf)
    for batch in batches:
        send.send_nowait(batch)
    async with trio.open_nursery() as nursery:
        for worker in range(concurrency):
            nursery.start_soon(_submit_worker, run, client, receive, send, worker)
        await run.settled.wait()
        nursery.cancel_scope.cancel()


def _result(run: _Run, started: float, timed_out: bool) -> LoadResult:
    latencies = [run.final_at[i] - run.sent_at[i] for i in run.final_at]
    first = run.first_sent if run.first_sent < math.inf else started
    last_final = max(run.final_at.values(), default=first)
    submit_span = max(run.last_accepted - first, 1e-9)
    final_span = max(last_final - first, 1e-9)
    return LoadResult(
        txs=run.total,
        accepted=run.accepted,
        finalized=len(run.final_at),
        rejected=dict(run.rejected),
        dropped=dict(Counter(run.dropped.values())),
        submitted_tps=round(run.accepted / submit_span, 1),
        finalized_tps=round(len(run.final_at) / final_span, 1),
        latency_p50_s=round(percentile(latencies, 50), 3),
        latency_p95_s=round(percentile(latencies, 95), 3),
        latency_p99_s=round(percentile(latencies, 99), 3),
        duration_s=round(time.monotonic() - started, 3),
        retries=run.retries,
        timed_out=timed_out,
    )


def devnet_urls(devnet: Devnet) -> list[str]:
    return [f"http://{node.rpc}" for node in devnet.nodes]
