"""Prometheus metrics of one node (`ccoin_*`), in a registry of its own.

Counters and histograms are updated where the work happens (submission, block apply); the
gauges (height, finality lag, pool, peers) are read from the node when scraped, so they are
never stale and cost nothing between scrapes. A registry per node lets several nodes share
one process in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ccoin.modules.carbon.metrics import CarbonMetrics
from ccoin.modules.carbon.queries import ChainView
from ccoin.types.block import Block

# `*_created` samples double the exposition for a timestamp nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Block apply and build times on this machine run from about 1 ms (empty) to about 1 s
# (tens of thousands of transactions).
_APPLY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Where a contract sandbox fault can happen: building a block (the transaction is dropped),
# applying a peer's block (the block is refused), a read-only view (the call answers an error).
CONTRACT_FAULT_PHASES = ("build", "apply", "view")


@dataclass(frozen=True)
class NodeGauges:
    height: int
    finalized_height: int
    mempool_size: int
    mempool_bytes: int
    peers: int


class _GaugeCollector(Collector):
    def __init__(self, read: Callable[[], NodeGauges]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        g = self._read()
        for name, doc, value in (
            ("ccoin_height", "Height of the node's head block.", g.height),
            ("ccoin_finalized_height", "Height of the last finalized block.", g.finalized_height),
            (
                "ccoin_finality_lag_blocks",
                "Head height minus finalized height.",
                g.height - g.finalized_height,
            ),
            ("ccoin_mempool_transactions", "Transactions waiting in the pool.", g.mempool_size),
            ("ccoin_mempool_bytes", "Bytes of transactions waiting in the pool.", g.mempool_bytes),
            ("ccoin_peers", "Connected P2P peers.", g.peers),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


class NodeMetrics:
    def __init__(
        self, read_gauges: Callable[[], NodeGauges], *, carbon: ChainView | None = None
    ) -> None:
        """`carbon`: the chain, on a network with the carbon module (its `ccoin_carbon_*`
        gauges read it)."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_GaugeCollector(read_gauges))
        self.carbon = None if carbon is None else CarbonMetrics(self.registry, carbon)
        self.tx_verified = Counter(
            "ccoin_transactions_verified",
            "Transactions whose signature was checked on submission (RPC or gossip).",
            registry=self.registry,
        )
        self.tx_rejected = Counter(
            "ccoin_transactions_rejected",
            "Transactions refused on submission, by error code.",
            ["code"],
            registry=self.registry,
        )
        self.tx_admitted = Counter(
            "ccoin_transactions_admitted",
            "Transactions admitted to the pool.",
            registry=self.registry,
        )
        self.block_apply_seconds = Histogram(
            "ccoin_block_apply_seconds",
            "Time to execute and commit one block (built here or received).",
            ["origin"],
            buckets=_APPLY_BUCKETS,
            registry=self.registry,
        )
        self.blocks_finalized = Counter(
            "ccoin_blocks_finalized", "Finalization events.", registry=self.registry
        )
        self.contract_faults = Counter(
            "ccoin_contract_faults",
            "Contract sandbox faults (a node fault, never a result), by phase: build, apply, view.",
            ["phase"],
            registry=self.registry,
        )
        for phase in CONTRACT_FAULT_PHASES:
            self.contract_faults.labels(phase)  # exposed at 0 before the first fault
        self.rpc_requests = Counter(
            "ccoin_rpc_requests",
            "RPC calls by method (JSON-RPC method or REST route) and outcome.",
            ["method", "outcome"],
            registry=self.registry,
        )

    def observe_block(self, block: Block) -> None:
        """A block joined the head chain (built here, or applied from a peer)."""
        if self.carbon is not None:
            self.carbon.observe(block.transactions)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
