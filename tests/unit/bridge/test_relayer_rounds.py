"""The relayer's rounds without chains: duties fail on their own, failed rounds back off,
anchors are spaced out by `anchor_every` unless a full range waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccoin.bridge.evm import EvmError
from ccoin.bridge.relay_metrics import RelayMetrics
from ccoin.bridge.relayer import MAX_BACKOFF, Relayer, RoundReport, backoff_delay, run_forever
from ccoin.bridge.signer import BridgeRefusal, SignedAnchor
from ccoin.errors import ErrorCode
from ccoin.modules.bridge.rules import attestation_quorum

MEMBER = "0x" + "11" * 20


@dataclass
class FakeAnchor:
    """`Anchor` as the relayer reads and writes it."""

    address: str = "0x" + "aa" * 20
    next_height: int = 1
    sent: list[tuple[int, int]] = field(default_factory=list)

    def read(self, client: Any, name: str, *args: Any) -> Any:
        values = {"nextHeight": self.next_height, "setId": 0, "members": [MEMBER], "quorum": 1}
        return values[name]

    def send(self, client: Any, payer: Any, name: str, *args: Any) -> dict[str, Any]:
        assert name == "submitAnchor"
        start, end = args[0], args[1]
        self.sent.append((start, end))
        self.next_height = end + 1
        return {}


class FakeSigner:
    def sign_anchor(self, chain_id: int, anchor: str, set_id: int, start: int, end: int) -> Any:
        return SignedAnchor(b"\x01" * 32, MEMBER, b"\x02" * 65)


@dataclass
class FakeSidechain:
    finalized: int = 0

    def finalized_height(self) -> int:
        return self.finalized


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def relayer(anchor: FakeAnchor, sidechain: FakeSidechain, **kw: Any) -> Relayer:
    return Relayer(
        bsc=None, payer=None, anchor=anchor, bridge=None, sidechain=sidechain,  # type: ignore[arg-type]
        signers=[FakeSigner()], key=None, bsc_chain_id=97, **kw,  # type: ignore[arg-type, list-item]
    )  # fmt: skip


def test_anchors_are_spaced_out_unless_a_full_range_waits() -> None:
    anchor, sidechain, clock = FakeAnchor(), FakeSidechain(finalized=3), Clock()
    r = relayer(anchor, sidechain, anchor_every=10.0, clock=clock, max_range=5)
    report = RoundReport()
    r.anchor_next(report)  # the first anchor of a (re)started relayer: at once
    assert report.anchored_to == 3 and anchor.sent == [(1, 3)]
    sidechain.finalized = 6
    clock.now = 9.9
    report = RoundReport()
    r.anchor_next(report)  # 3 heights wait, 9.9 s since the last anchor: not due
    assert report.anchored_to is None and anchor.sent == [(1, 3)]
    clock.now = 10.0
    r.anchor_next(RoundReport())
    assert anchor.sent == [(1, 3), (4, 6)]
    sidechain.finalized = 11
    clock.now = 10.5
    r.anchor_next(RoundReport())  # a full range (5) waits: anchored although not due
    assert anchor.sent[-1] == (7, 11)
    r.anchor_next(RoundReport())  # nothing finalized beyond: nothing to send
    assert len(anchor.sent) == 3


def test_every_round_anchors_by_default() -> None:
    anchor, sidechain = FakeAnchor(), FakeSidechain(finalized=1)
    r = relayer(anchor, sidechain)
    r.anchor_next(RoundReport())
    sidechain.finalized = 2
    r.anchor_next(RoundReport())
    assert anchor.sent == [(1, 1), (2, 2)]


def test_a_failing_duty_does_not_stop_the_others() -> None:
    calls: list[str] = []
    r = relayer(FakeAnchor(), FakeSidechain())

    def failing(name: str, exc: Exception) -> Any:
        def duty(report: RoundReport) -> None:
            calls.append(name)
            raise exc

        return duty

    r.hand_over = failing("hand_over", EvmError("BSC down"))  # type: ignore[method-assign]
    r.anchor_next = failing("anchor_next", BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, "x"))  # type: ignore[method-assign]
    r.credit_deposits = lambda report: calls.append("credit_deposits")  # type: ignore[method-assign]
    report = r.run_round()
    assert calls == ["hand_over", "anchor_next", "credit_deposits"]
    assert len(report.errors) == 2 and "BSC down" in report.errors[0]


def test_failed_rounds_back_off_and_a_good_one_resets() -> None:
    assert [backoff_delay(2.0, k) for k in range(6)] == [2.0, 4.0, 8.0, 16.0, 32.0, MAX_BACKOFF]
    assert backoff_delay(2.0, 50) == MAX_BACKOFF  # no overflow, capped
    assert backoff_delay(120.0, 3) == 120.0  # never below the interval itself
    outcomes = iter([True, True, True, False, True])
    r = relayer(FakeAnchor(), FakeSidechain())

    def round_() -> RoundReport:
        return RoundReport(errors=["boom"] if next(outcomes) else [])

    r.run_round = round_  # type: ignore[method-assign]
    slept: list[float] = []
    run_forever(r, 1.0, rounds=5, sleep=slept.append)
    assert slept == [2.0, 4.0, 8.0, 1.0, 2.0]


def test_attestation_quorum_matches_the_anchor_rule() -> None:
    assert [attestation_quorum(n) for n in (1, 3, 4, 21)] == [1, 3, 3, 15]


def test_quiet_and_repeated_rounds_are_not_logged(caplog: Any) -> None:
    reports = iter(
        [
            RoundReport(anchored_to=3),  # acted: logged
            RoundReport(refusals=["deposit 1: 0 of 2 confirmations"] * 4),  # new: logged
            RoundReport(refusals=["deposit 1: 0 of 2 confirmations"] * 4),  # the same: quiet
            RoundReport(),  # nothing at all, but the refusals changed: logged
            RoundReport(),  # quiet
            RoundReport(errors=["anchor_next: BSC down"]),  # failed: logged as a warning
        ]
    )
    r = relayer(FakeAnchor(), FakeSidechain())
    r.run_round = lambda: next(reports)  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="ccoin.bridge.relayer"):
        run_forever(r, 1.0, rounds=6, sleep=lambda _: None)
    logged = [(rec.levelname, rec.getMessage()) for rec in caplog.records]
    assert logged == [
        ("INFO", "relay_round"),
        ("INFO", "relay_round"),
        ("INFO", "relay_round"),
        ("WARNING", "relay_round_failed"),
    ]
    assert caplog.records[1].fields["refusals"] == {"deposit 1: 0 of 2 confirmations": 4}


def test_metrics_follow_the_rounds() -> None:
    metrics = RelayMetrics()
    reports = iter(
        [
            RoundReport(anchored_to=7, credited=[1, 2]),
            RoundReport(handed_over=True, refusals=["a", "b"]),
            RoundReport(errors=["credit_deposits: node down"]),
        ]
    )
    r = relayer(FakeAnchor(), FakeSidechain())
    r.run_round = lambda: next(reports)  # type: ignore[method-assign]
    run_forever(r, 1.0, rounds=3, sleep=lambda _: None, observe=metrics.observe)

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert sample("ccoin_relay_anchored_height") == 7  # kept through rounds without anchors
    assert sample("ccoin_relay_deposits_credited_total") == 2
    assert sample("ccoin_relay_handovers_total") == 1
    assert sample("ccoin_relay_rounds_total", outcome="ok") == 2
    assert sample("ccoin_relay_rounds_total", outcome="failed") == 1
    assert sample("ccoin_relay_refusals") == 0  # the last round's
    assert sample("ccoin_relay_round_seconds_count") == 3
