"""The pieces of the Carbon Coin load that need no running node."""

from __future__ import annotations

import math

import orjson
import trio
import trio.testing

from ccoin.bench.ccoin_load import _Run, make_batches, pre_sign
from ccoin.bench.stats import percentile
from ccoin.testing import factories as f

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
    batches = make_batches(txs, NID, 3)
    assert [len(b.ids) for b in batches] == [3, 3, 1]
    request = orjson.loads(batches[0].body)
    assert request["method"] == "ccoin_sendTransactions"
    assert [t["id"] for t in request["params"][0]] == batches[0].ids


async def test_open_loop_pacing_keeps_the_schedule(autojump_clock: trio.testing.MockClock) -> None:
    run = _Run(["u"], "u", 1000, None, rate=100.0)
    start = trio.current_time()
    sent = []
    for _ in range(4):
        await run.pace(50)  # 50 transactions at 100/s: one batch every 0.5 s
        sent.append(trio.current_time() - start)
    assert sent == [0.0, 0.5, 1.0, 1.5]
