"""Issue 13's acceptance: 3,000 stalled connections neither stop a node nor grow its log past
its bound. A real node process on 127.0.0.1, started under the usual soft limit of 1,024 open
files, with a 3 s read timeout and a log of 64 KiB x (2 backups + the current file) at debug
level, so that every refusal and every disconnect is written. Each attacking connection
sends its headers with a Content-Length of 1,000 and 19 bytes of body, then one more byte
every second (a slow-loris), and never finishes.

- Default caps (512 in all, 128 from one address), 3,000 from 3 addresses: each address
  holds exactly 128, the 2,616 others are refused, the node keeps answering an ordinary
  client (127.0.0.1) and producing blocks. Then 3,000 from 6 addresses: together they would
  hold 768, so `maxConnections` binds at 512, and one more (the ordinary client's) is closed
  at once, without an answer, as documented.
- `maxConnections` 4,096: 3,000 from 24 addresses (125 each, under the per-client cap) are
  all held at once: the node raises its own limit of open files to fit them.

Then the attackers fall silent, and the server closes every held connection once the read
timeout has passed since its last byte; none stays open. Afterwards the log files together
are within maxBytes x (backups + 1), hold no traceback and no warning, and the connection
lines are debug lines.

Held and refused are told apart by the clock alone: the server's read timeout starts when it
receives a connection's last byte, after the test sent it, so a held connection is closed no
sooner than `readTimeoutSeconds` after its last byte; one closed sooner was refused. Every
wait is for an event (a count of open connections, a block, a close), within a deadline."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccoin.cli.main import cli
from tests.e2e.test_node_process import stop
from tests.e2e.test_rpc_slow_clients import STALLED_HEAD, eventually, logs, status

pytestmark = pytest.mark.slow

READ_TIMEOUT = 3  # seconds
TRICKLE_EVERY = 1.0  # seconds between two bytes of an attacker: well inside READ_TIMEOUT
MAX_CONNECTIONS, PER_CLIENT = 512, 128  # the documented defaults
MAX_LOG_BYTES, BACKUPS = 64 * 1024, 2
ATTEMPTS = 3000
NODE_FILES = 1024  # the usual soft limit of open files, which the defaults fit
FILES_BESIDE = 512  # what the node keeps beside its connections (docs/spec/rpc.md section 5)
TEST_FILES = ATTEMPTS + 1024  # this process holds every attacking socket at once
WAVE_SECONDS = 40.0  # one wave: every connection made, held, then closed by the server
CONNECTING = 64  # connects in flight at once
ROUNDS = 1_000_000  # selector rounds in one wave (the deadline ends it far sooner)
LOOK_EVERY = 0.25  # seconds between two looks at the node (a request, its files, its log)


@dataclass
class Attempt:
    """One attacking connection, as this process sees it (monotonic times)."""

    source: str
    sock: socket.socket
    last_byte_at: float | None = None  # the last byte sent
    closed_at: float | None = None  # EOF or reset seen
    reply: bytes = b""  # whatever the server sent before closing

    @property
    def held(self) -> bool:
        """Served, not refused: the server waited for the rest of the body."""
        assert self.last_byte_at is not None and self.closed_at is not None
        return self.closed_at - self.last_byte_at >= READ_TIMEOUT


@dataclass
class Wave:
    """`per_source` stalled connections from each of `sources`, on one selector."""

    port: int
    sources: list[str]
    per_source: int
    attempts: list[Attempt] = field(default_factory=list)
    selector: selectors.DefaultSelector = field(default_factory=selectors.DefaultSelector)
    connecting: int = 0
    trickling: bool = True

    def __post_init__(self) -> None:
        self.pending = iter([s for _ in range(self.per_source) for s in self.sources])
        self.started = time.monotonic()
        self.deadline = self.started + WAVE_SECONDS
        self.silent_at = 0.0
        self.trickle_at = self.started + TRICKLE_EVERY

    @property
    def total(self) -> int:
        return self.per_source * len(self.sources)

    def open(self) -> list[Attempt]:
        return [a for a in self.attempts if a.closed_at is None]

    def _connect_more(self) -> None:
        while self.connecting < CONNECTING:
            source = next(self.pending, None)
            if source is None:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.bind((source, 0))
            code = sock.connect_ex(("127.0.0.1", self.port))
            assert code in (0, errno.EINPROGRESS), errno.errorcode.get(code, code)
            attempt = Attempt(source, sock)
            self.attempts.append(attempt)
            self.selector.register(sock, selectors.EVENT_WRITE, attempt)
            self.connecting += 1

    def _closed(self, attempt: Attempt) -> None:
        attempt.closed_at = time.monotonic()
        self.selector.unregister(attempt.sock)
        attempt.sock.close()

    def _send(self, attempt: Attempt, data: bytes) -> None:
        try:
            assert attempt.sock.send(data) == len(data)
        except (BrokenPipeError, ConnectionResetError):  # refused before this byte
            self._closed(attempt)
            return
        attempt.last_byte_at = time.monotonic()

    def _connected(self, attempt: Attempt) -> None:
        self.connecting -= 1
        code = attempt.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        assert code == 0, f"connect from {attempt.source}: {errno.errorcode.get(code, code)}"
        self._send(attempt, STALLED_HEAD)
        if attempt.closed_at is None:
            self.selector.modify(attempt.sock, selectors.EVENT_READ, attempt)

    def _readable(self, attempt: Attempt) -> None:
        try:
            data = attempt.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if data:
            attempt.reply += data[:1024]
        else:
            self._closed(attempt)

    def _trickle(self) -> None:
        """Once every TRICKLE_EVERY seconds: one more byte of body to each open connection."""
        now = time.monotonic()
        if now < self.trickle_at:
            return
        self.trickle_at = now + TRICKLE_EVERY
        for attempt in self.open():
            if attempt.last_byte_at is not None:
                self._send(attempt, b" ")

    def drive(self, until: Callable[[], bool], what: str) -> None:
        """Connect, send and (while `trickling`) keep every open connection alive, until
        every attempt was made and `until()`; within the wave's deadline."""
        for _ in range(ROUNDS):
            self._connect_more()
            if self.trickling:
                self._trickle()
            if len(self.attempts) == self.total and self.connecting == 0 and until():
                return
            left = self.deadline - time.monotonic()
            assert left > 0, f"no {what} within {WAVE_SECONDS} s: {len(self.open())} open"
            due = self.trickle_at if self.trickling else left
            timeout = max(0.0, min(left, due - time.monotonic(), LOOK_EVERY))
            for key, mask in self.selector.select(timeout=timeout):
                attempt: Attempt = key.data
                if mask & selectors.EVENT_WRITE:
                    self._connected(attempt)
                else:
                    self._readable(attempt)
        raise AssertionError(f"no {what} within {ROUNDS} selector rounds")

    def fall_silent(self) -> None:
        """No more bytes: the server's read timeout runs on every held connection."""
        self.trickling = False
        self.silent_at = time.monotonic()
        self.drive(lambda: not self.open(), "close of every connection")

    def close(self) -> None:
        for attempt in self.attempts:
            attempt.sock.close()
        self.selector.close()

    def held(self) -> list[Attempt]:
        return [a for a in self.attempts if a.held]

    def refused(self) -> list[Attempt]:
        return [a for a in self.attempts if not a.held]

    def report(self, name: str) -> str:
        held, refused = self.held(), self.refused()
        waits = sorted(
            a.closed_at - a.last_byte_at for a in refused if a.closed_at and a.last_byte_at
        )
        cuts = sorted(a.closed_at - a.last_byte_at for a in held if a.closed_at and a.last_byte_at)
        last_close = max(a.closed_at for a in self.attempts if a.closed_at)
        refused_text = (
            f"refused {len(refused)} (closed {waits[len(waits) // 2]:.3f} s after their last "
            f"byte at the median, {waits[-1]:.3f} s at most)"
            if waits
            else "refused 0"
        )
        return (
            f"{name}: {len(self.attempts)} connections; {refused_text}; held {len(held)} "
            f"{dict(sorted(Counter(a.source for a in held).items()))}, closed {cuts[0]:.2f}-"
            f"{cuts[-1]:.2f} s after their last byte, the last {last_close - self.silent_at:.2f} s "
            f"after the attackers fell silent; the wave took {last_close - self.started:.1f} s"
        )


class Node:
    """A node process (`ccoin node start`) under the usual soft limit of open files, its
    log rotated by size into `net`."""

    def __init__(self, tmp_path: Path, **rpc: int) -> None:
        self.net = tmp_path / "net"
        result = CliRunner().invoke(
            cli,
            [
                "node",
                "init",
                "--dir",
                str(self.net),
                "--test-accounts",
                "1",
                "--rpc",
                "127.0.0.1:0",
            ],
        )
        assert result.exit_code == 0, result.output
        config_path = self.net / "node.json"
        config = json.loads(config_path.read_text())
        config["rpc"].update(readTimeoutSeconds=READ_TIMEOUT, **rpc)
        config["logLevel"] = "debug"
        config["log"] = {"file": "node.log", "maxBytes": MAX_LOG_BYTES, "backups": BACKUPS}
        config_path.write_text(json.dumps(config))
        self.early = tmp_path / "stderr.txt"  # anything before the log is set up
        with self.early.open("w") as early:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ccoin.cli.main",
                    "node",
                    "start",
                    "--config",
                    str(config_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=early,
                text=True,
                preexec_fn=usual_file_limit,
            )
        self.url = eventually(self._listening, "rpc_listening line")
        self.port = int(self.url.rsplit(":", 1)[1])
        self._looked = 0.0

    def _listening(self) -> str | None:
        assert self.proc.poll() is None, self.early.read_text()
        found = re.search(r"rpc_listening url=(\S+)", self.log_text())
        return found.group(1) if found else None

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in logs(self.net))

    def logged_height(self) -> int:
        """The highest block this node logged producing."""
        return max(map(int, re.findall(r"block_produced height=(\d+)", self.log_text())), default=0)

    def files(self) -> int:
        """The files this node has open now."""
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def file_limit(self) -> int:
        """Its soft limit of open files."""
        limits = Path(f"/proc/{self.proc.pid}/limits").read_text()
        found = re.search(r"^Max open files\s+(\d+)", limits, re.MULTILINE)
        assert found, limits
        return int(found.group(1))

    def every(self, look: Callable[[], bool]) -> Callable[[], bool]:
        """`look` at most every LOOK_EVERY seconds (False in between): a request or a read
        of /proc or of the log costs the node and this process more than a selector round."""

        def throttled() -> bool:
            now = time.monotonic()
            if now - self._looked < LOOK_EVERY:
                return False
            self._looked = now
            assert self.proc.poll() is None, "the node stopped"
            return look()

        return throttled

    def stop_and_check_log(self) -> None:
        """SIGTERM, a clean exit; then its log: within the bound, no traceback, no warning,
        connection lines at debug level."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=WAVE_SECONDS) == 0
        files = logs(self.net)
        sizes = [p.stat().st_size for p in files]
        print(f"log: {len(files)} files, {sizes} bytes, {sum(sizes)} in all")
        assert 1 <= len(files) <= BACKUPS + 1
        assert sum(sizes) <= MAX_LOG_BYTES * (BACKUPS + 1)
        assert self.early.read_text() == ""
        text = self.log_text()
        assert "Traceback" not in text and "EMFILE" not in text
        assert "debug rpc_client_disconnected" in text  # the lines checked below are written
        lines = text.splitlines()
        loud = [line for line in lines if line.split(" ")[1] not in ("debug", "info")]
        assert not loud, loud[:5]
        for line in lines:
            if "rpc_client_disconnected" in line or "rpc_connection_refused" in line:
                assert line.split(" ")[1] == "debug", line


def usual_file_limit() -> None:
    """In the node's process before it starts: the usual soft limit of open files."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (NODE_FILES, hard))


def refused_outright(port: int) -> bool:
    """Whether an ordinary request from 127.0.0.1 is closed without an answer."""
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ccoin_status"}'
    request = (
        b"POST /rpc HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as sock:
        try:
            sock.sendall(request)
            return sock.recv(65536) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True


@pytest.fixture
def many_files() -> Iterator[None]:
    """This process's soft limit of open files raised for the attacking sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < TEST_FILES:
        pytest.skip(f"the hard limit of open files ({hard}) is below {TEST_FILES}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, TEST_FILES), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def check_closed(wave: Wave) -> None:
    """Every connection closed by the server: the refused ones before a read timeout could
    have passed, the held ones after it, and nothing written to either."""
    assert not wave.open()
    assert all(a.last_byte_at is not None for a in wave.attempts)
    assert not [a.reply for a in wave.attempts if a.reply][:3]


def test_3000_stalled_connections_against_the_default_caps(
    tmp_path: Path, many_files: None
) -> None:
    node = Node(tmp_path)
    waves: list[Wave] = []
    try:
        assert node.file_limit() == NODE_FILES  # the defaults fit it: nothing raised

        # 3 addresses: the per-client cap binds; an ordinary client is still answered.
        sources = [f"127.0.0.{i}" for i in (2, 3, 4)]
        before = status(node.url)
        wave = Wave(node.port, sources, ATTEMPTS // len(sources))
        waves.append(wave)
        held = len(sources) * PER_CLIENT
        wave.drive(lambda: len(wave.open()) <= held, f"{held} held connections")
        assert Counter(a.source for a in wave.open()) == dict.fromkeys(sources, PER_CLIENT)
        wave.drive(node.every(lambda: status(node.url) > before), "answer with a new block")
        assert len(wave.open()) == held  # all still held while the node answered
        wave.fall_silent()
        print(wave.report("3 addresses"))
        check_closed(wave)
        assert len(wave.held()) == held
        assert len(wave.refused()) == ATTEMPTS - held

        # 6 addresses: maxConnections binds; one more connection is refused at once.
        sources = [f"127.0.0.{i}" for i in range(5, 11)]
        before = status(node.url)
        wave = Wave(node.port, sources, ATTEMPTS // len(sources))
        waves.append(wave)
        wave.drive(lambda: len(wave.open()) <= MAX_CONNECTIONS, "a full node")
        assert len(wave.open()) == MAX_CONNECTIONS
        assert max(Counter(a.source for a in wave.open()).values()) <= PER_CLIENT
        assert refused_outright(node.port)
        wave.drive(node.every(lambda: node.logged_height() > before), "block while full")
        assert len(wave.open()) == MAX_CONNECTIONS
        wave.fall_silent()
        print(wave.report("6 addresses"))
        check_closed(wave)
        assert len(wave.held()) == MAX_CONNECTIONS
        assert len(wave.refused()) == ATTEMPTS - MAX_CONNECTIONS
        after = status(node.url)  # answered again
        eventually(lambda: True if status(node.url) > after else None, "block after the waves")
        node.stop_and_check_log()
    finally:
        for wave in waves:
            wave.close()
        stop(node.proc)


def test_3000_stalled_connections_held_at_once(tmp_path: Path, many_files: None) -> None:
    caps = 4096
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < caps + FILES_BESIDE:
        pytest.skip(f"the hard limit of open files ({hard}) is below {caps + FILES_BESIDE}")
    node = Node(tmp_path, maxConnections=caps)
    wave: Wave | None = None
    try:
        assert node.file_limit() == caps + FILES_BESIDE  # raised by the node itself
        quiet = node.files()
        sources = [f"127.0.0.{i}" for i in range(2, 26)]
        before = status(node.url)
        wave = Wave(node.port, sources, ATTEMPTS // len(sources))
        assert wave.per_source < PER_CLIENT
        wave.drive(node.every(lambda: node.files() >= quiet + ATTEMPTS), "3,000 held at once")
        wave.drive(node.every(lambda: status(node.url) > before), "answer with a new block")
        assert len(wave.open()) == ATTEMPTS
        wave.fall_silent()
        print(wave.report("24 addresses"))
        check_closed(wave)
        assert len(wave.held()) == ATTEMPTS
        after = status(node.url)
        eventually(lambda: True if status(node.url) > after else None, "block after the wave")
        assert node.files() < quiet + 16  # every connection's file closed
        node.stop_and_check_log()
    finally:
        if wave is not None:
            wave.close()
        stop(node.proc)
