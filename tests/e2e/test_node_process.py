"""The README's node, as a real process: it produces blocks (visible in its log), stops
cleanly on SIGTERM and resumes its chain after a restart."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.testing.ports import RPC_OFFSET, free_port_range

WAIT_SECONDS = 30


class LogReader:
    """Collects a process's stderr lines on a thread so the test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stderr is not None
        stream = proc.stderr

        def pump() -> None:
            for line in stream:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, pattern: str) -> re.Match[str]:
        regex = re.compile(pattern)
        while True:
            line = self.lines.get(timeout=WAIT_SECONDS)
            assert line is not None, f"process ended before logging {pattern!r}"
            match = regex.search(line)
            if match:
                return match


def start(config: Path) -> tuple[subprocess.Popen[str], LogReader]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccoin.cli.main", "node", "start", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, LogReader(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if the node has not stopped within `WAIT_SECONDS`."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_node_produces_stops_on_sigterm_and_resumes(tmp_path: Path) -> None:
    rpc = f"127.0.0.1:{free_port_range(1) + RPC_OFFSET}"  # never the default port
    result = CliRunner().invoke(
        cli,
        ["node", "init", "--dir", str(tmp_path / "net"), "--test-accounts", "2", "--rpc", rpc],
    )
    assert result.exit_code == 0, result.output
    config = tmp_path / "net" / "node.json"

    proc, log = start(config)
    try:
        log.wait_for(r"node_started .*height=0 ")
        produced = int(log.wait_for(r"block_produced height=(\d+)").group(1))
        while produced < 3:
            produced = int(log.wait_for(r"block_produced height=(\d+)").group(1))
        proc.send_signal(signal.SIGTERM)
        stopped = int(log.wait_for(r"node_stopped .*height=(\d+)").group(1))
        assert proc.wait(timeout=WAIT_SECONDS) == 0
    finally:
        proc.kill()
        proc.wait()
    assert stopped >= 3

    proc, log = start(config)
    try:
        resumed = int(log.wait_for(r"node_started .*height=(\d+)").group(1))
        assert resumed == stopped
        after = int(log.wait_for(r"block_produced height=(\d+)").group(1))
        assert after == resumed + 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT_SECONDS) == 0
    finally:
        proc.kill()
        proc.wait()


def test_a_taken_port_is_one_clear_error(tmp_path: Path) -> None:
    port = free_port_range(1) + RPC_OFFSET
    net = str(tmp_path / "net")
    result = CliRunner().invoke(
        cli, ["node", "init", "--dir", net, "--test-accounts", "2", "--rpc", f"127.0.0.1:{port}"]
    )
    assert result.exit_code == 0, result.output
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        proc, log = start(tmp_path / "net" / "node.json")
        try:
            log.wait_for(rf"error: LISTEN_FAILED \(5006\): rpc: cannot listen on 127.0.0.1:{port}")
            assert proc.wait(timeout=WAIT_SECONDS) == 2
        finally:
            proc.kill()
            proc.wait()
