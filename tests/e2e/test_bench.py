"""`ccoin bench --anvil --json` end to end, small: a one-node devnet it starts itself, and a
real anvil; every transfer must be finalized (ours) or included (anvil's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TXS = 300


def ccoin_bench(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`ccoin bench ARGS` as a user runs it; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "ccoin.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_bench_reports_both_chains(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ["bench", "--nodes", "1", "--txs", str(TXS), "--batch", "100", "--anvil"]
    args += ["--json", "--out", str(out), "--timeout", "120"]
    done = ccoin_bench(args)
    report = json.loads(done.stdout)
    assert report == json.loads(out.read_text())
    assert report["txs"] == report["accepted"] == report["finalized"] == TXS
    assert report["rejected"] == {} and report["timed_out"] is False
    assert 0 < report["latency_p50_s"] <= report["latency_p95_s"] <= report["latency_p99_s"]
    assert report["finalized_tps"] > 0 and report["submitted_tps"] > 0
    assert report["anvil_included"] == TXS and report["anvil_errors"] == 0
    assert report["anvil_chain_id"] == 97 and report["anvil_tps"] > 0
    assert report["ratio"] == round(report["finalized_tps"] / report["anvil_tps"], 2)
    assert "finalized" in done.stderr  # the progress bar went to stderr, not into the JSON


def test_contract_bench_finalizes_successful_calls(tmp_path: Path) -> None:
    calls = 200
    args = ["bench", "--nodes", "1", "--txs", str(calls), "--batch", "100", "--contract"]
    done = ccoin_bench([*args, "--json", "--timeout", "120"])
    report = json.loads(done.stdout)
    assert report["workload"] == "token-contract transfers"
    assert report["txs"] == report["accepted"] == report["finalized"] == calls
    # Finalized is not enough for a call: the sampled receipts must all be successes.
    assert report["receipts_sampled"] == report["receipts_ok"] == calls
    assert report["receipt_errors"] == {} and 0 < report["gas_per_call"] < 10_000


def test_carbon_bench_finalizes_every_move() -> None:
    """Issue 15: the carbon setup (class, issuer, project, one batch, every account's
    credits) then transfers and retirements, every one final."""
    moves = 300
    args = ["bench", "--nodes", "1", "--workload", "carbon", "--txs", str(moves)]
    done = ccoin_bench([*args, "--batch", "100", "--json", "--timeout", "120"])
    report = json.loads(done.stdout)
    assert report["workload"] == "carbon transfers and retirements"
    assert report["txs"] == report["accepted"] == report["finalized"] == moves
    assert report["clean"] is True and report["rejected"] == report["dropped"] == {}
    assert report["mix"]["transfers"] + report["mix"]["retirements"] == moves
    assert report["mix"]["retired_share"] == 0.2  # 1,000 test accounts: whole chains of 5
    assert report["carbon"]["issued"] == 10_000_000 and report["carbon"]["setup_txs"] > 4
    assert "setup: issue" in done.stderr


def test_a_rate_sweep_runs_each_rate_and_prints_the_table() -> None:
    txs, rates = 150, ("200", "400")
    args = ["bench", "--nodes", "1", "--txs", str(txs), "--batch", "50"]
    args += ["--rate", ",".join(rates), "--timeout", "120"]
    done = ccoin_bench(args)
    rows = [line.split() for line in done.stdout.splitlines() if line.lstrip().startswith("ccoin")]
    assert [row[1] for row in rows] == list(rates), done.stdout
    for row in rows:
        assert float(row[3]) > 0 and row[-1] == "0"  # finalized, none rejected
        assert 0 < float(row[4]) <= float(row[5]) <= float(row[6])
    assert "submit: raw" in done.stdout
