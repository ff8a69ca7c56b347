"""`bench/vm_calls.py` (run by hand for docs/benchmarks.md) still runs and reports: a few
calls, no faults, the gas of a token transfer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "vm_calls.py"


def test_the_runner_benchmark_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["calls"] == 20 and report["faults"] == 0 and report["calls_per_s"] > 0
    assert all(2500 < gas < 4000 for gas in report["gas_per_transfer"])  # schedule 2: ~3,300
