"""The carbon module's Prometheus metrics (`ccoin_carbon_*`, docs/spec/rpc.md section 6),
in the node's registry on networks with the carbon section.

The counters count each block as it joins the head chain (the node calls `observe`, as it
times the block's apply): a block re-applied after a fork switch counts again, as its
work was done again. Quantities come from the transactions alone (an issue's serial block,
a move's quantity or ranges), so counting reads no state. The gauges are read from state
when scraped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ccoin.modules.carbon.events import KINDS
from ccoin.modules.carbon.queries import ChainView
from ccoin.modules.carbon.records import ClassRecord, ProjectRecord
from ccoin.modules.carbon.wire import IssueAsset, MoveAsset
from ccoin.storage import schema
from ccoin.types.transaction import Transaction

CREDIT_KINDS = ("issue", "transfer", "retire", "cancel")


class _StateGauges(Collector):
    def __init__(self, chain: ChainView) -> None:
        self._chain = chain

    def collect(self) -> Iterator[Metric]:
        store = self._chain.store
        projects = [ProjectRecord.decode(v) for _k, v in store.iterate(schema.CARBON_PROJECT)]
        classes = [ClassRecord.decode(v) for _k, v in store.iterate(schema.CARBON_CLASS)]
        active = sum(1 for c in classes if c.removed_height is None)
        for name, doc, value in (
            ("ccoin_carbon_batches", "Carbon batches issued (at the head).", _batches(projects)),
            ("ccoin_carbon_projects", "Carbon projects registered (at the head).", len(projects)),
            ("ccoin_carbon_classes", "Credit classes admitted and not removed.", active),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


def _batches(projects: list[ProjectRecord]) -> int:
    return sum(p.batches for p in projects)


class CarbonMetrics:
    def __init__(self, registry: CollectorRegistry, chain: ChainView) -> None:
        registry.register(_StateGauges(chain))
        self.transactions = Counter(
            "ccoin_carbon_transactions",
            "Carbon transactions in blocks joining the head chain, by kind.",
            ["kind"],
            registry=registry,
        )
        self.credits = Counter(
            "ccoin_carbon_credits",
            "Credits issued, transferred, retired and cancelled in blocks joining the head "
            "chain, by kind.",
            ["kind"],
            registry=registry,
        )
        for kind in KINDS.values():
            self.transactions.labels(kind)  # exposed at 0 before the first one
        for kind in CREDIT_KINDS:
            self.credits.labels(kind)

    def observe(self, transactions: Iterable[Transaction]) -> None:
        for tx in transactions:
            kind = KINDS.get(tx.body.type)
            if kind is None:
                continue
            self.transactions.labels(kind).inc()
            asset = tx.body.asset
            if isinstance(asset, IssueAsset):
                self.credits.labels(kind).inc(asset.quantity)
            elif isinstance(asset, MoveAsset):
                self.credits.labels(kind).inc(asset.selected)
