"""Wall time of `ccoin --help` and `ccoin status` against a running one-node network, with
anvil's `--help` as the peer, in the same run (issue 13's CLI target: <= 0.2 s).

    .venv/bin/python bench/cli_startup.py [--runs 5]

Each command runs once to warm the file cache and byte-compile (as a pip-installed
package is compiled at install), then `--runs` times; the report gives each one's median
and spread. `--no-bytecode` runs them with PYTHONDONTWRITEBYTECODE=1 and no cached
bytecode instead: every run compiles what it imports. Prints one JSON report; the figures
go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ccoin.bench.anvil import find_anvil
from ccoin.client import Client, NodeUnreachable
from ccoin.devnet.ports import free_port_range

REPO = Path(__file__).resolve().parents[1]
# The entry point as users run it: the venv's `ccoin` script beside this Python.
_SCRIPT = Path(sys.executable).parent / "ccoin"
CCOIN = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "ccoin.cli.main"]
START_TIMEOUT = 60.0


def timed(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)  # warm
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
        walls.append(time.perf_counter() - start)
    return {
        "median_s": round(statistics.median(walls), 4),
        "min_s": round(min(walls), 4),
        "max_s": round(max(walls), 4),
    }


def wait_for_node(url: str, node: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with Client(url, timeout=2) as client:
        while True:
            if node.poll() is not None:
                raise SystemExit(f"the node exited with {node.returncode}")
            try:
                client.status()
                return
            except NodeUnreachable:
                if time.monotonic() > deadline:
                    raise SystemExit(f"no node at {url} after {START_TIMEOUT:g} s") from None
                time.sleep(0.1)  # a process start: nothing to wait on but its port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-bytecode", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for cache in (REPO / "ccoin").rglob("__pycache__"):
            shutil.rmtree(cache)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    rpc_port = free_port_range(1)
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "net"
        subprocess.run(
            [*CCOIN, "node", "init", "--dir", str(net), "--rpc", f"127.0.0.1:{rpc_port}"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        node = subprocess.Popen(
            [*CCOIN, "node", "start", "--config", str(net / "node.json")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{rpc_port}"
            wait_for_node(url, node)
            anvil = str(find_anvil(REPO))
            report = {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "runs": args.runs,
                "bytecode": not args.no_bytecode,
                "ccoin --help": timed([*CCOIN, "--help"], env, args.runs),
                "ccoin status": timed([*CCOIN, "status", "--node", url], env, args.runs),
                "anvil --help": timed([anvil, "--help"], env, args.runs),
            }
        finally:
            node.terminate()
            node.wait(timeout=30)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
