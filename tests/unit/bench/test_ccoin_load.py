"""The pieces of the Carbon Coin load that need no running node."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from typing import Any

import click
import orjson
import pytest
import trio
import trio.testing
from httpx_ws import WebSocketDisconnect, WebSocketNetworkError

from ccoin.bench import ccoin_load
from ccoin.bench.ccoin_load import _Run, make_batches, pre_sign
from ccoin.bench.stats import percentile
from ccoin.cli.bench import latency_table, parse_rates
from ccoin.errors import ErrorCode, RpcError
from ccoin.testing import factories as f
from ccoin.types.transaction import Transaction

NID = b"n" * 32


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([3.0], 50) == 3.0 and math.isnan(percentile([], 50))


def test_pre_signed_batches_are_distinct_and_serialized_before_the_run() -> None:
    accounts = [f.key(f"bench{i}") for i in range(3)]
    txs = pre_sign(accounts, 7, NID, 100, 1_000)
    assert len({tx.hash(NID) for tx in txs}) == 7  # amounts keep repeats of a pair distinct
    assert [tx.body.recipient_id for tx in txs[:3]] == [
        a.address for a in accounts[1:] + accounts[:1]
    ]
    batches = make_batches(txs, NID, 3)  # the raw path by default: canonical bytes as hex
    assert [len(b.ids) for b in batches] == [3, 3, 1]
    request = orjson.loads(batches[0].body)
    assert request["method"] == "ccoin_sendRawTransactions"
    sent = [Transaction.decode(bytes.fromhex(h)) for h in request["params"][0]]
    assert sent == txs[:3] and [t.id(NID) for t in sent] == batches[0].ids
    as_json = make_batches(txs, NID, 3, submit="json")
    request = orjson.loads(as_json[0].body)
    assert request["method"] == "ccoin_sendTransactions"
    assert [t["id"] for t in request["params"][0]] == as_json[0].ids == batches[0].ids


async def test_open_loop_pacing_keeps_the_schedule(autojump_clock: trio.testing.MockClock) -> None:
    run = _Run(["u"], "u", 1000, None, rate=100.0)
    start = trio.current_time()
    sent = []
    for _ in range(4):
        await run.pace(50)  # 50 transactions at 100/s: one batch every 0.5 s
        sent.append(trio.current_time() - start)
    assert sent == [0.0, 0.5, 1.0, 1.5]


def test_rate_sweeps_are_parsed_and_bad_rates_refused() -> None:
    assert parse_rates(None) == [None]
    assert parse_rates("500") == [500.0]
    assert parse_rates("500,1000,2000.5") == [500.0, 1000.0, 2000.5]
    for bad in ("", "fast", "500,,1000", "0", "nan", "1e9", "-5"):
        with pytest.raises(click.BadParameter):
            parse_rates(bad)


def test_the_latency_table_has_a_row_per_rate_and_anvil() -> None:
    run = {
        "submitted_tps": 990.5,
        "finalized_tps": 980.0,
        "latency_p50_s": 1.2,
        "latency_p95_s": 1.9,
        "latency_p99_s": 2.5,
        "rejected": {"POOL_FULL": 2, "TX_EXPIRED": 1},
    }
    sweep = [{"offered_tps": 1000.0, **run}, {"offered_tps": None, **run}]
    anvil = {
        "anvil_submitted_tps": 9000.0,
        "anvil_tps": 8000.0,
        "anvil_latency_p50_s": 0.7,
        "anvil_latency_p95_s": 1.0,
        "anvil_latency_p99_s": 1.1,
        "anvil_errors": 0,
    }
    lines = latency_table(sweep, anvil).splitlines()
    header = "system offered submitted finalized p50 s p95 s p99 s rejected"
    assert lines[0].split() == header.split()
    assert lines[1].split() == ["ccoin", "1000", "990.5", "980", "1.200", "1.900", "2.500", "3"]
    assert lines[2].split()[:2] == ["ccoin", "max"]
    assert lines[3].split() == ["anvil", "max", "9000", "8000", "0.700", "1.000", "1.100", "0"]
    assert len({len(line) for line in lines}) == 1  # columns aligned
    assert len(latency_table(sweep, None).splitlines()) == 3


class _FakeNode:
    """A follow node for `_follow`: finalized blocks of known ids, pushed over scripted
    sockets (each a list of heights, then a drop) and read over `ccoin_getBlock`."""

    def __init__(self, blocks: dict[int, list[str]], sockets: list[list[int]]) -> None:
        self.blocks = blocks
        self.sockets = sockets
        self.finalized = 1  # what ccoin_status says; a socket's pushes move it
        self.reads: list[int] = []
        self.subscribed: list[Any] = []
        self.drops = 0

    async def rpc(self, client: Any, url: str, method: str, params: Any, body: bytes = b"") -> Any:
        if method == "ccoin_status":
            return {"finalizedHeight": self.finalized}
        assert method == "ccoin_getBlock" and params[1] is False
        self.reads.append(params[0])
        return {"height": params[0], "transactionIds": self.blocks[params[0]]}

    @contextlib.asynccontextmanager
    async def connect(self, url: str, client: Any) -> AsyncIterator[Any]:
        assert url == "ws://node:1/ws"
        if not self.sockets:
            raise WebSocketNetworkError("refused")
        script = self.sockets.pop(0)
        node = self

        class Socket:
            answered = False

            async def send_json(self, message: Any) -> None:
                node.subscribed.append(message["params"])

            async def receive_json(self) -> Any:
                if not self.answered:  # the subscription's answer comes first
                    self.answered = True
                    return {"jsonrpc": "2.0", "id": 1, "result": "s1"}
                await trio.lowlevel.checkpoint()
                if not script:
                    node.drops += 1
                    raise WebSocketDisconnect(1006, "dropped")
                height = script.pop(0)
                node.finalized = max(node.finalized, height)
                header = {"height": height, "transactionIds": node.blocks[height]}
                return {"method": "ccoin_subscription", "params": {"result": header}}

        yield Socket()


async def test_the_follower_stamps_pushes_and_reads_what_a_drop_missed(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    blocks = {h: [f"t{h}a", f"t{h}b"] for h in range(1, 9)}
    # First socket: 2, 3, then 5 (4 skipped by the push), then a drop; the node finalizes
    # 6 and 7 while no socket is open; the second socket pushes 8.
    node = _FakeNode(blocks, [[2, 3, 5], [8]])
    monkeypatch.setattr(ccoin_load, "rpc", node.rpc)
    monkeypatch.setattr(ccoin_load, "aconnect_ws", node.connect)
    run = _Run(["http://node:1"], "http://node:1", 14, None)
    ours = [i for h in range(2, 9) for i in blocks[h]]
    run.sent_at = dict.fromkeys(ours, 0.0)
    run.submitted.set()
    real_catch_up = ccoin_load._catch_up

    async def catch_up(*args: Any) -> int:
        if node.drops == 1:  # the first socket has dropped: 6 and 7 finalize now
            node.finalized = 7
        return await real_catch_up(*args)

    monkeypatch.setattr(ccoin_load, "_catch_up", catch_up)
    subscribed = trio.Event()
    with trio.fail_after(30):
        await ccoin_load._follow(run, None, subscribed)  # type: ignore[arg-type]
    assert subscribed.is_set()
    assert node.subscribed == [["finalizedBlocks", {"transactionIds": True}]] * 2
    assert set(run.final_at) == set(ours)  # no finalized block lost
    assert 4 in node.reads and 6 in node.reads and 7 in node.reads
    assert not {2, 3, 5, 8} & set(node.reads)  # pushed blocks are not read again
    assert len(run.follow_errors) == 1


async def test_the_follower_reads_blocks_while_no_socket_opens(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    blocks = {h: [f"t{h}"] for h in range(1, 4)}
    node = _FakeNode(blocks, [])  # every connection is refused
    monkeypatch.setattr(ccoin_load, "rpc", node.rpc)
    monkeypatch.setattr(ccoin_load, "aconnect_ws", node.connect)
    run = _Run(["http://node:1"], "http://node:1", 2, None)
    run.sent_at = {"t2": 0.0, "t3": 0.0}
    run.submitted.set()
    subscribed = trio.Event()

    async def finalize_later() -> None:  # the follower starts at 1, then 2 and 3 finalize
        await subscribed.wait()
        node.finalized = 3

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(finalize_later)
            await ccoin_load._follow(run, None, subscribed)  # type: ignore[arg-type]
    assert set(run.final_at) == {"t2", "t3"} and node.reads == [2, 3]


async def test_transactions_a_builder_dropped_end_the_run(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    """Once no pool holds anything, ours that no node holds or includes and one rejected
    are dropped: counted by error, and the run ends without waiting for its timeout."""
    statuses = {
        ("http://a", "t-drop"): {"status": "rejected", "error": {"name": "TX_CARBON_INSUFFICIENT"}},
        ("http://b", "t-drop"): None,  # never reached this node
        ("http://a", "t-late"): {"status": "rejected", "error": {"name": "TX_CARBON_NOT_HELD"}},
        ("http://b", "t-late"): {"status": "included", "error": None},  # the chain wins
    }
    pools = iter([3, 0, 0, 0])  # the first check finds a pool still holding one; no third
    asked: list[tuple[str, str]] = []

    async def rpc(client: Any, url: str, method: str, params: Any, body: bytes = b"") -> Any:
        if method == "ccoin_status":
            return {"mempoolSize": next(pools)}
        assert method == "ccoin_getTransaction"
        asked.append((url, params[0]))
        found = statuses[(url, params[0])]
        if found is None:
            raise RpcError(ErrorCode.NOT_FOUND, "no such transaction")
        return found

    monkeypatch.setattr(ccoin_load, "rpc", rpc)
    checked = trio.Event()
    run = _Run(["http://a", "http://b"], "http://a", 3, lambda _s, _d: checked.set())
    run.sent_at = dict.fromkeys(["t-done", "t-drop", "t-late"], 0.0)
    run.stamp(["t-done"], 1.0)
    run.submitted.set()
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ccoin_load._watch_dropped, run, None)
            await checked.wait()
            assert run.dropped == {"t-drop": "TX_CARBON_INSUFFICIENT"} and not run.done()
            assert asked == [
                (url, i) for i in ("t-drop", "t-late") for url in ("http://a", "http://b")
            ]
            run.stamp(["t-late"], 2.0)  # its block finalizes
            run.report()
    assert run.finished.is_set()
    result = ccoin_load._result(run, 0.0, False)
    assert (result.finalized, result.dropped, result.rejected) == (
        2,
        {"TX_CARBON_INSUFFICIENT": 1},
        {},
    )
    assert not result.clean and result.to_json()["clean"] is False


def test_a_dropped_transaction_that_finalizes_after_all_counts_as_final() -> None:
    run = _Run(["u"], "u", 1, None)
    run.sent_at = {"t": 0.0}
    run.submitted.set()
    run.dropped["t"] = "TX_CARBON_INSUFFICIENT"
    assert run.done() and run.unsettled() == []
    run.stamp(["t"], 1.0)
    assert run.dropped == {} and run.done()
    assert ccoin_load._result(run, 0.0, False).clean
