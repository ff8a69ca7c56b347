"""Every hostile contract of `ccoin.testing.hostile` on a real 4-node devnet without the bridge.

    .venv/bin/python bench/hostile_devnet.py [--dir DIR] [--timeout 300] [--late-node 3]
        [--restart-node 1] [--cases NAME,NAME...]

Starts a fresh devnet in a temporary directory (or uses the one in `--dir`, made there when
missing and started unless its nodes already run), deploys every case from a funded test
account and calls every deployed one (gas limit the case's, fee `required_fee`, the corpus's
`BALANCE` attached to the few that move coins), and waits for finality. Node `--late-node`
is down during all of that and started afterwards, so it applies the hostile blocks in a
fresh process; node `--restart-node` is stopped and started once more at the end (`none`
skips either). Then prints each case against its expectation (refused with its lint rule,
or a failed receipt whose error starts with the expected text) and the checks of
`ccoin.testing.hostile_run`: fees paid, one block and stateRoot on all four nodes at one
finalized height, the same receipts everywhere, the restarted node the same, every node
still serving. Exit status 1 on any mismatch or when `--timeout` seconds pass first. Stops
what it started, always.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ccoin.testing.hostile import ALL, Case
from ccoin.testing.hostile_run import HostileReport, RunFailed, devnet_nodes, run_hostile


def node_index(text: str) -> int | None:
    return None if text == "none" else int(text)


def pick(names: str | None) -> tuple[Case, ...]:
    if names is None:
        return ALL
    wanted = names.split(",")
    unknown = set(wanted) - {case.name for case in ALL}
    if unknown:
        raise SystemExit(f"no such cases: {', '.join(sorted(unknown))}")
    return tuple(case for case in ALL if case.name in wanted)


def show(report: HostileReport) -> None:
    width = max(len(o.case.name) for o in report.outcomes)
    for o in report.outcomes:
        mark = "held " if o.held else "FAIL "
        print(f"{mark} {o.case.name:<{width}}  {o.got}")
        if not o.held:
            print(f"      {'':<{width}}  expected {o.expected}")
    print()
    for note in report.notes:
        print(f"ok    {note}")
    for problem in report.problems:
        print(f"FAIL  {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, help="a devnet directory (default: a fresh one)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for it all")
    parser.add_argument("--late-node", type=node_index, default=3, help="index or none")
    parser.add_argument("--restart-node", type=node_index, default=1, help="index or none")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    cases = pick(args.cases)
    began = time.monotonic()
    with devnet_nodes(args.dir, timeout=args.timeout) as nodes:
        print(f"devnet {nodes.devnet.root}: {nodes.size} nodes, {len(cases)} cases")
        try:
            report = run_hostile(nodes, cases, late=args.late_node, restart=args.restart_node)
        except RunFailed as exc:
            print(f"FAIL  {exc}")
            for i, node in enumerate(nodes.devnet.nodes):
                print(f"--- {node.name}'s log, last lines ---\n{nodes.log_tail(i)}")
            return 1
        show(report)
    print(f"\n{report.summary()}; {time.monotonic() - began:.1f} s in all")
    print("PASS" if report.ok else "MISMATCH")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
