"""The relayer's Prometheus metrics (`ccoin_relay_*`), served by `ccoin relay` when its
config names `metricsListen`: what an operator alerts on is an anchor height that stops
moving, rounds that keep failing, and deposits that wait.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from ccoin.bridge.relayer import RoundReport
from ccoin.node.config import parse_address

_ROUND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class RelayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rounds = Counter(
            "ccoin_relay_rounds", "Relayer rounds, by outcome.", ["outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.round_seconds = Histogram(
            "ccoin_relay_round_seconds", "Duration of a relayer round.",
            buckets=_ROUND_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.anchored_height = Gauge(
            "ccoin_relay_anchored_height",
            "The last sidechain height this relayer anchored on BSC (0: none since it started).",
            registry=self.registry,
        )
        self.credited = Counter(
            "ccoin_relay_deposits_credited", "Deposits this relayer submitted as credits.",
            registry=self.registry,
        )  # fmt: skip
        self.handovers = Counter(
            "ccoin_relay_handovers", "Delegate-set hand-overs this relayer submitted.",
            registry=self.registry,
        )  # fmt: skip
        self.refusals = Gauge(
            "ccoin_relay_refusals", "Refusals by delegates in the last round.",
            registry=self.registry,
        )  # fmt: skip

    def observe(self, report: RoundReport, seconds: float) -> None:
        self.rounds.labels("failed" if report.errors else "ok").inc()
        self.round_seconds.observe(seconds)
        if report.anchored_to is not None:
            self.anchored_height.set(report.anchored_to)
        self.credited.inc(len(report.credited))
        if report.handed_over:
            self.handovers.inc()
        self.refusals.set(len(report.refusals))

    def serve(self, listen: str) -> None:
        """Serve /metrics on `listen` (host:port) from a daemon thread."""
        address = parse_address(listen, "metricsListen")
        start_http_server(address.port, address.host, registry=self.registry)
