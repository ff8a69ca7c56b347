"""Time from a block's production to its finality on a local multi-node devnet, no load.

    .venv/bin/python bench/finality_latency.py [--nodes 4] [--seconds 60] [--block-time 0.5]

Creates a devnet in a temporary directory (`ccoin devnet init`), runs every node as its own
process on loopback, then reads the nodes' logs: a block's production time is its producer's
`block_produced` line, its finality time is the first `block_finalized` line on each node
whose height reaches it. Prints p50/p95/max over all (block, node) pairs as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.devnet.layout import Devnet
from ccoin.devnet.processes import node_command

LINE = re.compile(r"^(\S+Z) info (block_produced|block_finalized) height=(\d+)")


def stamp(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--base-port", type=int, default=27600)
    parser.add_argument("--block-time", default="1", help="seconds per slot, e.g. 0.5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "devnet"
        result = CliRunner().invoke(
            cli,
            [
                "devnet",
                "init",
                "--nodes",
                str(args.nodes),
                "--dir",
                str(root),
                "--base-port",
                str(args.base_port),
                "--test-accounts",
                "0",
                "--block-time",
                args.block_time,
            ],
        )
        assert result.exit_code == 0, result.output
        devnet = Devnet.load(root)
        procs = []
        for node in devnet.nodes:
            log = open(devnet.node_dir(node) / "node.log", "wb")  # noqa: SIM115
            procs.append(
                subprocess.Popen(node_command(devnet, node), stdout=log, stderr=subprocess.STDOUT)
            )
        time.sleep(args.seconds)  # a benchmark runs for a chosen duration, by design
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=20)
        produced: dict[int, float] = {}
        finalized: list[list[tuple[float, int]]] = []
        for i in range(args.nodes):
            events = []
            for line in (root / f"node{i}" / "node.log").read_text().splitlines():
                match = LINE.match(line)
                if not match:
                    continue
                at, kind, height = stamp(match[1]), match[2], int(match[3])
                if kind == "block_produced":
                    produced[height] = at
                else:
                    events.append((at, height))
            finalized.append(events)
    latencies = []
    for height, at in sorted(produced.items()):
        for events in finalized:
            done = next((t for t, h in events if h >= height), None)
            if done is not None:
                latencies.append(done - at)
    latencies.sort()
    print(
        json.dumps(
            {
                "nodes": args.nodes,
                "block_time_s": float(args.block_time),
                "seconds": args.seconds,
                "blocks": len(produced),
                "samples": len(latencies),
                "finality_p50_s": round(statistics.median(latencies), 3),
                "finality_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
                "finality_max_s": round(latencies[-1], 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
