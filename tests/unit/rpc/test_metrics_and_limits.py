"""`/metrics` values follow what the node does; a client over its rate gets 429."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio.testing
from prometheus_client.parser import text_string_to_metric_families

from ccoin.consensus import machine as m
from ccoin.errors import ErrorCode
from ccoin.node.config import RpcConfig
from tests.unit.rpc.conftest import (
    ALICE,
    BASE_URL,
    BOB,
    LOOPBACK,
    ApiClient,
    expect_error,
    expect_error_body,
    open_api,
)

REQUIRED = (
    "ccoin_height",
    "ccoin_finalized_height",
    "ccoin_finality_lag_blocks",
    "ccoin_mempool_transactions",
    "ccoin_peers",
    "ccoin_transactions_verified_total",
    "ccoin_transactions_rejected_total",
    "ccoin_block_apply_seconds",
)


async def scrape(api: ApiClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


async def test_metrics_move_with_the_node(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    text = (await still.http.get("/metrics")).text
    for name in REQUIRED:
        assert f"# TYPE {name} " in text, name
    before = await scrape(still)
    assert before["ccoin_height", ()] == 0 and before["ccoin_peers", ()] == 0
    assert before["ccoin_mempool_transactions", ()] == 0

    good = [still.transfer(k, amount=5) for k in (ALICE, BOB)]
    forged = {**still.tx_json(still.transfer(amount=6)), "signature": "22" * 64}
    del forged["id"]
    entries = [still.tx_json(t) for t in good] + [forged]
    await still.result("ccoin_sendTransactions", [entries])
    after = await scrape(still)
    verified = "ccoin_transactions_verified_total", ()
    assert after[verified] == before.get(verified, 0) + 3  # exactly the number submitted
    bad_sig = "ccoin_transactions_rejected_total", (("code", "TX_BAD_SIGNATURE"),)
    assert after[bad_sig] == before.get(bad_sig, 0) + 1
    assert after["ccoin_mempool_transactions", ()] == 2
    assert after["ccoin_mempool_bytes", ()] == still.node.pool.size_bytes > 0
    ok = "ccoin_rpc_requests_total", (("method", "ccoin_sendTransactions"), ("outcome", "ok"))
    assert after[ok] == before.get(ok, 0) + 1

    for slot in range(1, 5):  # the test plays the clock: four blocks
        await still.node.handle(m.Tick(slot))
    later = await scrape(still)
    height = later["ccoin_height", ()]
    finalized = later["ccoin_finalized_height", ()]
    assert height == 4 and 1 <= finalized < height
    assert later["ccoin_finality_lag_blocks", ()] == height - finalized
    assert later["ccoin_mempool_transactions", ()] == 0
    assert later["ccoin_block_apply_seconds_count", (("origin", "produced"),)] == 4
    # (its _sum is mock time here, so not asserted)
    assert later[verified] == after[verified]  # producing verifies nothing again


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[ApiClient]:
    rpc = RpcConfig(LOOPBACK, rate_per_second=1, rate_burst=2)
    async with open_api(tmp_path, rpc=rpc, run=False) as client:
        yield client


async def test_the_third_quick_request_is_rate_limited(
    limited: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    # Under the mock clock no time passes between these requests: deterministic.
    body = {"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}
    assert (await limited.post(body)).status_code == 200
    assert (await limited.http.get("/v1/status")).status_code == 200  # one bucket for both
    refused = await limited.post(body)
    assert refused.status_code == 429
    answer = refused.json()
    assert answer["id"] is None
    error = expect_error(answer["error"], ErrorCode.RPC_RATE_LIMITED)
    assert error["data"]["retryable"] is True
    rest = await limited.http.get("/v1/status")
    assert rest.status_code == 429
    expect_error_body(rest.json()["error"], ErrorCode.RPC_RATE_LIMITED)
    counted = limited.metric(
        "ccoin_rpc_requests_total", {"method": "http", "outcome": "RPC_RATE_LIMITED"}
    )
    assert counted == 1

    # another client has its own bucket
    other = httpx.ASGITransport(app=limited.app.app, client=("10.0.0.9", 4000))
    async with httpx.AsyncClient(transport=other, base_url=BASE_URL) as second:
        assert (await second.post("/rpc", json=body)).status_code == 200

    # a second of (mock) time refills one token: one more request, then refused again
    autojump_clock.jump(1.0)
    assert (await limited.post(body)).status_code == 200
    assert (await limited.post(body)).status_code == 429
