"""`ccoin_carbon_*`: carbon transactions and credits counted as blocks join the head chain,
batches, projects and classes read from state when scraped; none of it on a network
without the carbon section."""

from __future__ import annotations

from pathlib import Path

import trio.testing
from prometheus_client import CollectorRegistry

from ccoin.ledger.chain import Chain
from ccoin.modules.carbon.metrics import CarbonMetrics
from ccoin.node.metrics import NodeGauges, NodeMetrics
from ccoin.testing import carbon as c
from ccoin.testing.factories import LocalNet
from tests.unit.ledger.chain_helpers import block_with
from tests.unit.modules.carbon.api_scenario import (
    BATCH,
    CARBON,
    COMMITTEE,
    HOLDER,
    ISSUER,
    OTHER,
    PROJECT,
)
from tests.unit.modules.carbon.conftest import BATCH as CONFTEST_BATCH
from tests.unit.rpc.conftest import open_api


def sample(registry: CollectorRegistry, name: str, kind: str | None = None) -> float | None:
    return registry.get_sample_value(name, {} if kind is None else {"kind": kind})


def test_blocks_are_counted_by_kind_and_quantity(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    prometheus = CollectorRegistry()
    metrics = CarbonMetrics(prometheus, chain)
    assert sample(prometheus, "ccoin_carbon_transactions_total", "retire") == 0
    for height in (1, 2):  # the fixture's: 3 committee decisions, a project, an issue
        block = chain.block_at(height)
        assert block is not None
        metrics.observe(block.transactions)
    back = c.transfer(b, a.address, CONFTEST_BATCH, nid, ranges=((1, 5),))
    txs = [
        c.transfer(a, b.address, CONFTEST_BATCH, nid, quantity=250),
        c.retire(a, CONFTEST_BATCH, nid, ranges=((300, 309), (400, 401)), beneficiary="X"),
        c.cancel(a, CONFTEST_BATCH, nid, quantity=7),
        back,
    ]
    execution = block_with(chain, net, *txs)
    assert execution.rejected == [] and back in execution.included
    block = chain.block_at(chain.height)
    assert block is not None
    metrics.observe(block.transactions)
    counted = {
        kind: sample(prometheus, "ccoin_carbon_transactions_total", kind)
        for kind in ("committee", "project", "issue", "transfer", "retire", "cancel")
    }
    assert counted == {
        "committee": 3,
        "project": 1,
        "issue": 1,
        "transfer": 2,
        "retire": 1,
        "cancel": 1,
    }
    credits = {
        kind: sample(prometheus, "ccoin_carbon_credits_total", kind)
        for kind in ("issue", "transfer", "retire", "cancel")
    }
    assert credits == {"issue": 1_000_000, "transfer": 255, "retire": 12, "cancel": 7}
    assert sample(prometheus, "ccoin_carbon_batches") == 1
    assert sample(prometheus, "ccoin_carbon_projects") == 1
    assert sample(prometheus, "ccoin_carbon_classes") == 2


def test_no_carbon_metrics_without_the_module() -> None:
    metrics = NodeMetrics(lambda: NodeGauges(0, 0, 0, 0, 0))
    assert metrics.carbon is None
    assert b"ccoin_carbon" not in metrics.exposition()


async def test_the_node_counts_the_blocks_it_builds(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, genesis=CARBON) as api:
        nid, now = api.nid, api.now()
        for tx in (
            c.admit_class(COMMITTEE, "VCS", nid, timestamp=now),
            c.admit_issuer(COMMITTEE, ISSUER.address, ("VCS",), nid, timestamp=now),
            c.register_project(ISSUER, PROJECT, "VCS", nid, timestamp=now),
            c.issue(ISSUER, PROJECT, 1, 1000, "O-1", HOLDER.address, nid, timestamp=now),
            c.retire(HOLDER, BATCH, nid, quantity=40, timestamp=now),
            c.transfer(HOLDER, OTHER.address, BATCH, nid, ranges=((500, 599),), timestamp=now),
        ):
            await api.include(tx)
        assert api.metric("ccoin_carbon_transactions_total", {"kind": "committee"}) == 2
        assert api.metric("ccoin_carbon_credits_total", {"kind": "issue"}) == 1000
        assert api.metric("ccoin_carbon_credits_total", {"kind": "retire"}) == 40
        assert api.metric("ccoin_carbon_credits_total", {"kind": "transfer"}) == 100
        assert api.metric("ccoin_carbon_credits_total", {"kind": "cancel"}) == 0
        assert api.metric("ccoin_carbon_batches") == 1
        scraped = (await api.http.get("/metrics")).text
        assert 'ccoin_carbon_credits_total{kind="retire"} 40.0' in scraped
        assert "ccoin_carbon_batches 1.0" in scraped
