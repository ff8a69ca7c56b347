"""Sequential token-contract calls through one sandbox runner (the VM's latency benchmark).

    .venv/bin/python bench/vm_calls.py [--calls 2000] [--warmup 20]

Mints once, then runs N `transfer` calls of `ccoin.testing.vm.TOKEN` one after another
through one `SandboxRunner`, against an in-memory dict storage that applies each successful
call's write set (calls in a block are sequential: each call reads what the last one wrote).
Prints one JSON report: calls, seconds, calls_per_s and per-call latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

from ccoin.testing.vm import TOKEN, apply_writes, make_context
from ccoin.vm.api import decode_value, encode_value
from ccoin.vm.runner import CallResult, ContractCall, RootStorage, SandboxRunner

GAS_LIMIT = 200_000


class Ledger:
    """Dict storage; a successful call's write set is applied before the next call."""

    def __init__(self) -> None:
        self.storage: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.storage.get(key)

    def call(self, runner: SandboxRunner, function: str, *args: Any) -> CallResult:
        call = ContractCall(TOKEN, function, args, GAS_LIMIT, make_context(sender="alice"))
        result = runner.call(call, RootStorage(self.get))
        if result.ok:
            apply_writes(self.storage, result.writes_of(call.context.contract))
        return result

    def balance(self, holder: str) -> Any:
        data = self.storage.get(b"m/balances/" + encode_value(holder))
        return 0 if data is None else decode_value(data)


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed transfer calls")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--timeout", type=float, default=2.0, help="runner wall timeout (s)")
    args = parser.parse_args()

    ledger = Ledger()
    with SandboxRunner(timeout=args.timeout) as runner:
        started = time.perf_counter()
        minted = ledger.call(runner, "mint", "alice", args.calls + args.warmup)
        first_call = time.perf_counter() - started  # zygote start-up included
        assert minted.ok, minted.error
        for _ in range(args.warmup):
            assert ledger.call(runner, "transfer", "bob", 1).ok
        latencies: list[float] = []
        gas: set[int] = set()
        started = time.perf_counter()
        for _ in range(args.calls):
            before = time.perf_counter()
            result = ledger.call(runner, "transfer", "bob", 1)
            latencies.append(time.perf_counter() - before)
            assert result.ok, result.error
            gas.add(result.gas_used)
        seconds = time.perf_counter() - started
        faults = runner.faults
    assert ledger.balance("bob") == args.calls + args.warmup
    assert ledger.balance("alice") == 0
    latencies.sort()
    ms = 1000.0
    report = {
        "calls": args.calls,
        "seconds": round(seconds, 4),
        "calls_per_s": round(args.calls / seconds, 1),
        "latency_ms": {
            "mean": round(seconds / args.calls * ms, 3),
            "p50": round(_percentile(latencies, 0.50) * ms, 3),
            "p90": round(_percentile(latencies, 0.90) * ms, 3),
            "p99": round(_percentile(latencies, 0.99) * ms, 3),
            "max": round(latencies[-1] * ms, 3),
        },
        "first_call_ms": round(first_call * ms, 1),
        "gas_per_transfer": sorted(gas),
        "faults": faults,
        "python": platform.python_version(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
