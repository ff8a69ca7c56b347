"""A real node process under a slow-loris attack on 127.0.0.1: stalled requests (headers
sent, body never finished) are cut off after `readTimeoutSeconds`, at most `maxConnections`
are held at once, the node keeps answering, and its log file stays small (rotated by size),
with no traceback and no error line."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from click.testing import CliRunner

from ccoin.cli.main import cli

WAIT_SECONDS = 30
CAP, ATTACKERS = 20, 50
MAX_LOG_BYTES, BACKUPS = 16 * 1024, 1
STALLED_HEAD = (
    b"POST /rpc HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
    b'Content-Length: 1000\r\n\r\n{"jsonrpc": "2.0", '
)
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """Poll `probe` (a look at a file or a socket) until it answers, at most WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {WAIT_SECONDS} s")


def logs(directory: Path) -> list[Path]:
    return sorted(directory.glob("node.log*"))


def status(url: str) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}
    answer = httpx.post(f"{url}/rpc", json=body, timeout=WAIT_SECONDS).json()
    height: int = answer["result"]["height"]
    return height


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock`, read to its end (a bounded read)."""
    sock.settimeout(WAIT_SECONDS)
    try:
        for _ in range(1000):
            if sock.recv(65536) == b"":
                return True
    except ConnectionResetError:
        return True
    return False


def start_node(tmp_path: Path, **rpc: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    """A one-node network in `tmp_path/net` with `rpc` settings and a small rotated log,
    started as a process: the process, its RPC URL (from its log) and its directory."""
    net = tmp_path / "net"
    result = CliRunner().invoke(
        cli, ["node", "init", "--dir", str(net), "--test-accounts", "1", "--rpc", "127.0.0.1:0"]
    )
    assert result.exit_code == 0, result.output
    config_path = net / "node.json"
    config = json.loads(config_path.read_text())
    config["rpc"].update(rpc)
    config["log"] = {"file": "node.log", "maxBytes": MAX_LOG_BYTES, "backups": BACKUPS}
    config_path.write_text(json.dumps(config))
    with (tmp_path / "stderr.txt").open("w") as early:  # anything before the log is set up
        proc = subprocess.Popen(
            [sys.executable, "-m", "ccoin.cli.main", "node", "start", "--config", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=early,
        )

    def listening() -> str | None:
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
        text = "".join(p.read_text(errors="replace") for p in logs(net))
        found = re.search(r"rpc_listening url=(\S+)", text)
        return found.group(1) if found else None

    try:
        return proc, eventually(listening, "rpc_listening line"), net
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def test_a_node_under_slow_loris_keeps_serving_and_its_log_small(tmp_path: Path) -> None:
    proc, url, net = start_node(tmp_path, readTimeoutSeconds=1, maxConnections=CAP)
    stalled: list[socket.socket] = []
    try:
        port = int(url.rsplit(":", 1)[1])
        before = status(url)
        for _ in range(ATTACKERS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS)
            sock.sendall(STALLED_HEAD)
            stalled.append(sock)
        started = time.monotonic()
        closed = [closed_by_server(sock) for sock in stalled]  # the excess first, then the rest
        assert all(closed)
        assert time.monotonic() - started < WAIT_SECONDS
        # still serving, and still producing blocks
        eventually(lambda: True if status(url) > before else None, "new block")
        assert proc.poll() is None

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT_SECONDS) == 0
    finally:
        for sock in stalled:
            sock.close()
        proc.kill()
        proc.wait()
    files = logs(net)
    assert 1 <= len(files) <= BACKUPS + 1
    for path in files:
        assert path.stat().st_size <= MAX_LOG_BYTES
        text = path.read_text(errors="replace")
        assert "Traceback" not in text
        assert not [line for line in text.splitlines() if " error " in line], text


def test_a_silent_websocket_subscriber_is_not_cut_off_by_the_read_timeout(
    tmp_path: Path,
) -> None:
    """The read and idle timeouts are for HTTP requests; a WebSocket subscriber only listens
    after subscribing, and keeps its subscription however long it stays silent."""
    from httpx_ws import connect_ws

    proc, http_url, _net = start_node(tmp_path, readTimeoutSeconds=1, idleTimeoutSeconds=2)
    try:
        url = http_url.replace("http://", "ws://") + "/ws"
        with (
            httpx.Client() as client,
            connect_ws(url, client, keepalive_ping_interval_seconds=None) as ws,
        ):
            ws.send_json(
                {"jsonrpc": "2.0", "id": 1, "method": "ccoin_subscribe", "params": ["newBlocks"]}
            )
            assert ws.receive_json(timeout=WAIT_SECONDS)["result"] == "s1"
            started = time.monotonic()
            heights = []
            while len(heights) < 5:  # a block a second: five times the read timeout, silent
                note = ws.receive_json(timeout=WAIT_SECONDS)
                heights.append(note["params"]["result"]["height"])
            assert time.monotonic() - started > 3
            assert heights == list(range(heights[0], heights[0] + 5))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT_SECONDS) == 0
    finally:
        proc.kill()
        proc.wait()
