"""A bounded search for the contract patterns that run slowest per unit of gas, and for
metering holes (run by hand, never in timed tests).

    .venv/bin/python bench/vm_worst.py [--seconds 120] [--seed 1] [--only SUBSTRING ...]
        [--gas-limit 2000000] [--timeout 5] [--max-capped-seconds 2.0] [--json] [--list]

Each pattern is a contract whose export `run(n)` builds its inputs from the size `n`, then
does one thing in a loop until out of gas (or once, for the encoding paths): a builtin, a
method with adversarial arguments, an operator on big ints, Decimals or sequences, a
comparison or hash of nested or aliased values, an encoding, a storage access, a call to
another contract, a recursion. Every call runs in the real sandbox (`SandboxRunner`, one
call at a time, each child's exit checked before the next call), so a metering hole shows
up as a fault (MemoryError, a signal, the wall timeout) instead of hanging the bench.

Per call it measures the wall seconds (the sandbox's overhead, an empty call's time, is
included: nothing is subtracted), the gas used and the outcome, and from them ns/gas and
the seconds a call at `CALL_GAS_CAP` would take at that rate ("capped s"). The gas is the
gas used, except for a call that ran out of gas: it had its whole limit (a charge larger
than what was left ended it, and the refused charge is not in `gas_used`), and a call pays
for its limit and counts it in a block, so its rate is wall / limit. A call that ran out of
gas having used under a tenth of its limit is run again at a limit of what it used plus
`PROBE_MARGIN`: work done before a refused charge that does not shrink with the limit shows
up there. A run counts towards the verdict when its gas is at least a tenth of its limit or
it ran for 0.1 s; below that the fixed overhead dominates its rate.

The search runs the largest size of every pattern (where holes show; this pass always
runs, so every pattern is reported), then the smallest, then the sizes between, then random
sizes (seeded, half of them on the slowest patterns so far) until `--seconds` is spent; a
pattern that faulted or was refused at compile is not run again. A fault costs up to twice
`--timeout` (the runner retries once on a fresh worker).

Prints a table, one row per pattern (its worst run), slowest first, then the findings; with
`--json`, one JSON report with every run. Exits 1 when any pattern faulted or the worst
capped call would take longer than `--max-capped-seconds`: findings for the metering.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ccoin.testing.vm_patterns import (
    CALLEE,
    CALLEE_SOURCE,
    CONTEXT,
    CONTRACT,
    EMPTY_SOURCE,
    PATTERNS,
    STORED,
    Pattern,
)
from ccoin.vm.gas import CALL_GAS_CAP, SCHEDULE_VERSION
from ccoin.vm.runner import CallResult, ContractCall, SandboxRunner, WorkerFault

TIMEOUT = 5.0  # half the node's: a call that needs more is a finding either way
MEMORY_MIB = 512
MAX_CAPPED_SECONDS = 2.0
BUDGET_SECONDS = 120.0
JUDGED_GAS_FRACTION = 0.1
JUDGED_SECONDS = 0.1
OVERHEAD_CALLS = 20
TOP_FOR_RANDOM = 5
PROBE_MARGIN = 100_000
MAX_OUTCOME_TEXT = 400


class BenchHost:
    """The node's side of the calls (a `ContractHost`): `STORED` for the called contract,
    nothing for the callee, and the callee's code."""

    def read(self, contract: str, key: bytes) -> bytes | None:
        if contract != CONTRACT:
            return None
        for prefix, data in STORED.items():
            if key.startswith(prefix):
                return data
        return None

    def load(self, contract: str) -> tuple[str, int] | None:
        return (CALLEE_SOURCE, 0) if contract == CALLEE else None


@dataclass(frozen=True)
class Run:
    """One measured call. `kind`: ok, out-of-gas, error (any other result), refused (the
    compiler's rejection, gas 0) or fault (`WorkerFault`, or a fault the retry hid)."""

    pattern: str
    size: int
    gas_limit: int
    gas_used: int | None
    seconds: float
    kind: str
    outcome: str

    @property
    def gas(self) -> int | None:
        """The gas the call had the use of: its limit if it ran out, else what it used."""
        if self.kind in ("refused", "fault"):
            return None
        return self.gas_limit if self.kind == "out-of-gas" else self.gas_used

    @property
    def ns_per_gas(self) -> float | None:
        gas = self.gas
        return None if not gas else self.seconds * 1e9 / gas

    @property
    def capped_seconds(self) -> float | None:
        rate = self.ns_per_gas
        return None if rate is None else rate * CALL_GAS_CAP / 1e9

    @property
    def judged(self) -> bool:
        """Long enough that its rate is the pattern's, not the sandbox's fixed overhead."""
        gas = self.gas
        if not gas:
            return False
        return gas >= JUDGED_GAS_FRACTION * self.gas_limit or self.seconds >= JUDGED_SECONDS

    def report(self) -> dict[str, Any]:
        rate, capped = self.ns_per_gas, self.capped_seconds
        return {
            "pattern": self.pattern,
            "size": self.size,
            "gas_limit": self.gas_limit,
            "gas_used": self.gas_used,
            "seconds": round(self.seconds, 4),
            "ns_per_gas": None if rate is None else round(rate, 1),
            "capped_seconds": None if capped is None else round(capped, 3),
            "kind": self.kind,
            "outcome": self.outcome,
            "judged": self.judged,
        }


def _severity(run: Run) -> tuple[int, float]:
    """Sort key, worst first: faults, then judged runs by rate, then the rest by rate."""
    if run.kind == "fault":
        return (0, -run.seconds)
    rate = run.ns_per_gas
    if rate is None:
        return (3, 0.0)
    return (1 if run.judged else 2, -rate)


def _outcome(result: CallResult) -> tuple[str, str]:
    if result.ok:
        return "ok", "ok"
    error = (result.error or "")[:MAX_OUTCOME_TEXT]
    if error.startswith("OutOfGas"):
        return "out-of-gas", "out of gas"
    if result.gas_used == 0:  # rejected at compile: no child ran
        return "refused", error
    return "error", error


class Bench:
    """One sandbox runner, the calls measured through it, and the runs so far."""

    def __init__(self, runner: SandboxRunner, gas_limit: int, quiet: bool) -> None:
        self.runner = runner
        self.gas_limit = gas_limit
        self.quiet = quiet
        self.host = BenchHost()
        self.runs: list[Run] = []
        self.started = time.monotonic()
        self._warm = False

    def warm_up(self) -> None:
        """One untimed call, so that no measured call includes starting a worker."""
        call = ContractCall(EMPTY_SOURCE, "run", (0,), 1_000, CONTEXT)
        self.runner.call(call, self.host)
        self._warm = True

    def overhead_ms(self) -> float:
        """The median wall time of an empty call: the part of every figure that is the
        sandbox's, not the pattern's."""
        self.warm_up()
        times = []
        for _ in range(OVERHEAD_CALLS):
            before = time.perf_counter()
            self.runner.call(ContractCall(EMPTY_SOURCE, "run", (0,), 1_000, CONTEXT), self.host)
            times.append(time.perf_counter() - before)
        return sorted(times)[len(times) // 2] * 1e3

    def measure(self, pattern: Pattern, size: int) -> list[Run]:
        """The run at the bench's gas limit, and the probe when it ran out of gas early."""
        run = self._measure(pattern, size, self.gas_limit)
        used = run.gas_used or 0
        early = run.kind == "out-of-gas" and used < JUDGED_GAS_FRACTION * self.gas_limit
        if early and used + PROBE_MARGIN < self.gas_limit:
            return [run, self._measure(pattern, size, used + PROBE_MARGIN)]
        return [run]

    def _measure(self, pattern: Pattern, size: int, gas_limit: int) -> Run:
        if not self._warm:
            self.warm_up()
        call = ContractCall(pattern.source, "run", (size,), gas_limit, CONTEXT)
        faults = self.runner.faults
        before = time.perf_counter()
        try:
            result = self.runner.call(call, self.host)
        except WorkerFault as exc:
            run = self._run(pattern, size, gas_limit, None, before, "fault", exc.reason)
        else:
            kind, text = _outcome(result)
            if self.runner.faults != faults:
                kind, text = "fault", f"faulted once, then the retry gave: {text}"
            if gas_limit != self.gas_limit:
                text += f" (probe at a limit of {gas_limit:,})"
            run = self._run(pattern, size, gas_limit, result.gas_used, before, kind, text)
        self._warm = self.runner.faults == faults  # after a fault the next worker is new
        self.runs.append(run)
        self._progress(run)
        return run

    @staticmethod
    def _run(
        pattern: Pattern,
        size: int,
        gas_limit: int,
        gas_used: int | None,
        before: float,
        kind: str,
        text: str,
    ) -> Run:
        seconds = time.perf_counter() - before
        text = text[:MAX_OUTCOME_TEXT]
        return Run(pattern.name, size, gas_limit, gas_used, seconds, kind, text)

    def _progress(self, run: Run) -> None:
        if self.quiet:
            return
        rate = run.ns_per_gas
        shown = "" if rate is None else f" {rate:,.0f} ns/gas"
        elapsed = time.monotonic() - self.started
        print(
            f"{elapsed:7.1f}s {run.pattern} n={run.size}: {run.kind}{shown} "
            f"({run.seconds:.3f} s) {run.outcome[:80]}",
            file=sys.stderr,
            flush=True,
        )


@dataclass
class Search:
    """The grid, then seeded random sizes, within a time budget."""

    bench: Bench
    patterns: Sequence[Pattern]
    seconds: float
    rng: random.Random
    worst: dict[str, Run] = field(default_factory=dict)
    not_run: list[tuple[str, int]] = field(default_factory=list)
    random_runs: int = 0

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        for index, sizes in enumerate(self._grid_passes()):
            for pattern, size in sizes:
                if pattern.name in self.worst and self._settled(pattern):
                    continue
                if index > 0 and time.monotonic() >= deadline:
                    self.not_run.append((pattern.name, size))
                    continue
                self._measure(pattern, size)
        self._random(deadline)

    def _grid_passes(self) -> list[list[tuple[Pattern, int]]]:
        """Every pattern's largest size first (where holes show), then its smallest (so
        every pattern is in the report even on a budget of 0: the first pass always runs),
        then the sizes between."""
        largest = [(p, max(p.sizes)) for p in self.patterns]
        smallest = [(p, min(p.sizes)) for p in self.patterns if len(p.sizes) > 1]
        between = [(p, s) for p in self.patterns for s in sorted(p.sizes)[1:-1]]
        return [largest, smallest, between]

    def _settled(self, pattern: Pattern) -> bool:
        """A fault is the pattern's worst; a refusal does not depend on the size."""
        return self.worst[pattern.name].kind in ("fault", "refused")

    def _measure(self, pattern: Pattern, size: int) -> None:
        for run in self.bench.measure(pattern, size):
            best = self.worst.get(pattern.name)
            if best is None or _severity(run) < _severity(best):
                self.worst[pattern.name] = run

    def _random(self, deadline: float) -> None:
        seen = {(run.pattern, run.size) for run in self.bench.runs}
        misses = 0
        while time.monotonic() < deadline and misses < 100:
            candidates = [
                p for p in self.patterns if p.bounds[0] < p.bounds[1] and not self._settled(p)
            ]
            if not candidates:
                return
            pattern = self._pick(candidates)
            low, high = pattern.bounds
            size = round(math.exp(self.rng.uniform(math.log(low), math.log(high))))
            if (pattern.name, size) in seen:
                misses += 1
                continue
            seen.add((pattern.name, size))
            misses = 0
            self.random_runs += 1
            self._measure(pattern, size)

    def _pick(self, candidates: list[Pattern]) -> Pattern:
        """Half the time one of the slowest so far (to refine its worst), else any."""
        ranked = sorted(candidates, key=lambda p: _severity(self.worst[p.name]))
        if self.rng.random() < 0.5:
            return self.rng.choice(ranked[:TOP_FOR_RANDOM])
        return self.rng.choice(candidates)


def findings(worst: Sequence[Run], max_capped: float) -> list[str]:
    """What the metering must fix: every fault, and every pattern whose capped call would
    take longer than `max_capped` seconds."""
    found = [f"fault: {r.pattern} n={r.size}: {r.outcome}" for r in worst if r.kind == "fault"]
    for run in worst:
        capped = run.capped_seconds
        if run.judged and capped is not None and capped > max_capped:
            found.append(
                f"slow: {run.pattern} n={run.size}: a capped call would take {capped:.2f} s "
                f"(> {max_capped} s; {run.ns_per_gas:,.0f} ns/gas)"
            )
    return found


def build_report(
    search: Search, args: argparse.Namespace, overhead_ms: float, elapsed: float
) -> dict[str, Any]:
    worst = sorted(search.worst.values(), key=_severity)
    judged = [r.capped_seconds for r in worst if r.judged and r.capped_seconds is not None]
    found = findings(worst, args.max_capped_seconds)
    return {
        "patterns": [run.report() for run in worst],
        "findings": found,
        "faults": [run.report() for run in search.bench.runs if run.kind == "fault"],
        "refused": [r.pattern for r in worst if r.kind == "refused"],
        "worst_capped_seconds": round(max(judged), 3) if judged else None,
        "max_capped_seconds": args.max_capped_seconds,
        "ok": not found,
        "gas_limit": args.gas_limit,
        "call_gas_cap": CALL_GAS_CAP,
        "schedule_version": SCHEDULE_VERSION,
        "timeout": args.timeout,
        "memory_mib": args.memory_mib,
        "seed": args.seed,
        "budget_seconds": args.seconds,
        "seconds": round(elapsed, 1),
        "calls": len(search.bench.runs),
        "random_calls": search.random_runs,
        "not_run": [{"pattern": name, "size": size} for name, size in search.not_run],
        "overhead_ms": round(overhead_ms, 2),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "note": (
            "seconds are wall time including the sandbox's overhead per call (overhead_ms: "
            "an empty call), nothing subtracted; ns_per_gas = seconds / gas, the gas being "
            "gas_used, or gas_limit for a call that ran out of gas; capped_seconds = "
            "ns_per_gas x call_gas_cap"
        ),
        "runs": [run.report() for run in search.bench.runs],
        "python": platform.python_version(),
    }


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(report: dict[str, Any]) -> None:
    print(
        f"vm_worst: {len(report['patterns'])} patterns, {report['calls']} calls "
        f"({report['random_calls']} at random sizes) in {report['seconds']} s; seed "
        f"{report['seed']}, gas limit {report['gas_limit']:,}, timeout {report['timeout']} s, "
        f"schedule v{report['schedule_version']}, load average {report['load_average']}"
    )
    print(
        f"seconds include the sandbox's overhead (an empty call: {report['overhead_ms']} ms), "
        "nothing subtracted; ns/gas = seconds / gas used (/ the gas limit when out of gas); "
        f"capped s = ns/gas x CALL_GAS_CAP ({report['call_gas_cap']:,}); * = too short to "
        f"judge (under a tenth of its limit and {JUDGED_SECONDS} s)"
    )
    header = f"{'pattern':<34} {'size':>13} {'gas limit':>10} {'gas used':>10} {'seconds':>8} "
    print(header + f"{'ns/gas':>10} {'capped s':>9}  outcome")
    for row in report["patterns"]:
        mark = " " if row["judged"] or row["ns_per_gas"] is None else "*"
        print(
            f"{row['pattern']:<34} {row['size']:>13,} {row['gas_limit']:>10,} "
            f"{_cell(row['gas_used'], ',d'):>10} "
            f"{row['seconds']:>8.3f} {_cell(row['ns_per_gas'], ',.0f'):>10} "
            f"{_cell(row['capped_seconds'], '.3f'):>9}{mark} {row['kind']}: "
            f"{row['outcome'][:70]}"
        )
    if report["not_run"]:
        print(f"not run (out of budget): {len(report['not_run'])} grid sizes")
    print(f"worst capped call: {report['worst_capped_seconds']} s")
    for line in report["findings"]:
        print(line)
    print("OK" if report["ok"] else f"FINDINGS: {len(report['findings'])}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=BUDGET_SECONDS, help="time budget")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random sizes")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SUBSTRING",
        help="run the patterns whose name contains it (repeatable)",
    )
    parser.add_argument("--gas-limit", type=int, default=CALL_GAS_CAP, help="gas per call")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="runner wall timeout (s)")
    parser.add_argument("--memory-mib", type=int, default=MEMORY_MIB, help="runner memory limit")
    parser.add_argument(
        "--max-capped-seconds",
        type=float,
        default=MAX_CAPPED_SECONDS,
        help="fail when the worst capped call would take longer",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON report")
    parser.add_argument("--list", action="store_true", help="list the patterns and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    patterns = [p for p in PATTERNS if not args.only or any(s in p.name for s in args.only)]
    if args.list:
        for pattern in patterns:
            print(f"{pattern.name:<34} sizes {', '.join(map(str, pattern.sizes))}")
        return 0
    if not patterns:
        parser.error("no pattern matches --only")
    started = time.monotonic()
    runner = SandboxRunner(
        timeout=args.timeout, memory_limit=args.memory_mib * 1024 * 1024, unchecked_exits=0
    )
    with runner:
        bench = Bench(runner, args.gas_limit, args.quiet)
        overhead = bench.overhead_ms()
        search = Search(bench, patterns, args.seconds, random.Random(args.seed))
        search.run()
    report = build_report(search, args, overhead, time.monotonic() - started)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
