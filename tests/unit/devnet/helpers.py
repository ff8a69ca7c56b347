"""Helpers for the devnet tests: the CLI runner, free ports, fake node processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from ccoin.cli.main import cli
from ccoin.testing.ports import free_port_range

DEADLINE_SECONDS = 30.0


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str) -> Any:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def init(directory: Path, *extra: str, nodes: int = 3, test_accounts: int = 0) -> Any:
    return ok(
        "devnet",
        "init",
        "--nodes",
        str(nodes),
        "--dir",
        str(directory),
        "--test-accounts",
        str(test_accounts),
        *extra,
    )


def free_base_port(nodes: int) -> int:
    """A base port whose p2p ports base..base+nodes-1 are free right now."""
    return free_port_range(nodes)


def wait_until(predicate: Any, what: str, timeout: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class FakeNodes:
    """Processes whose command line names a node's config, as a real node's does."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, config: Path, *, ignore_sigterm: bool = False) -> subprocess.Popen[bytes]:
        code = "import signal, sys, time\n"
        if ignore_sigterm:
            code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        code += "sys.stdout.write('ready\\n'); sys.stdout.flush()\ntime.sleep(120)\n"
        proc = subprocess.Popen([sys.executable, "-c", code, str(config)], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"  # its signal disposition is set
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
