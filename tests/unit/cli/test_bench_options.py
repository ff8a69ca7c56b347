"""`ccoin bench`'s workload options: what they pick and what they refuse before any devnet
starts."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest
from click.testing import CliRunner

from ccoin.cli import bench as bench_cli
from ccoin.cli.main import cli


def test_the_workload_options_pick_one() -> None:
    choose = bench_cli.choose_workload
    assert choose(None, False, [None], False) == "transfers"
    assert choose("transfers", False, [100.0, 200.0], True) == "transfers"
    assert choose(None, True, [None], True) == "contract"  # --contract, as before
    assert choose("contract", True, [None], False) == "contract"  # both say the same
    assert choose("contract", False, [500.0], False) == "contract"
    assert choose("carbon", False, [None], False) == "carbon"
    assert choose("carbon", False, [500.0, 1000.0], False) == "carbon"  # a sweep: one setup
    assert set(bench_cli.WORKLOADS) == {"transfers", "contract", "carbon"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workload", "carbon", "--contract"], "--contract is --workload contract"),
        (["--workload", "transfers", "--contract"], "--contract is --workload contract"),
        (["--contract", "--rate", "100,200"], "drop --contract"),
        (["--workload", "contract", "--rate", "100,200"], "drop --contract"),
        (["--workload", "carbon", "--anvil"], "--anvil compares plain transfers"),
        (["--workload", "nfts"], "'nfts' is not one of 'transfers', 'contract', 'carbon'"),
    ],
)
def test_contradictions_are_refused_before_a_devnet_starts(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_devnet(*_args: object) -> NoReturn:
        raise AssertionError("a devnet was started")

    monkeypatch.setattr(bench_cli, "_devnet", no_devnet)
    result = CliRunner().invoke(cli, ["bench", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_the_carbon_workload_reaches_its_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--workload carbon` runs the carbon setup and load once for a whole sweep, and
    reports its setup, mix and refusals beside the usual figures."""
    calls = []

    def fake_devnet(*_args: object) -> object:
        return type("Devnet", (), {"nodes": ("node0",)})()

    def fake_run(fn: object, *args: object) -> object:
        calls.append(fn)
        assert fn is bench_cli._carbon_runs
        rates = args[4]
        assert rates == [100.0, 200.0]
        row = {"submitted_tps": 1.0, "finalized_tps": 1.0, "rejected": {}, "dropped": {}}
        row |= {f"latency_{q}_s": 0.5 for q in ("p50", "p95", "p99")}
        return {"batch": "BENCH-X-001"}, [{"offered_tps": r, **row} for r in rates]

    monkeypatch.setattr(bench_cli, "_devnet", fake_devnet)
    monkeypatch.setattr(bench_cli.trio, "run", fake_run)
    out = tmp_path / "report.json"
    args = ["bench", "--workload", "carbon", "--rate", "100,200", "--out", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert calls == [bench_cli._carbon_runs]
    assert "carbon transfers and retirements" in result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert [row[1] for row in rows if row and row[0] == "ccoin"] == ["100", "200"]
    assert '"carbon": {' in out.read_text()
