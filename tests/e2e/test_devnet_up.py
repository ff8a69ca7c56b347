"""`ccoin devnet up` as a person runs it (issue 13, item 3): the real command with anvil, two
nodes and the relayer, its stdout once a pseudo-terminal and once a pipe.

Both print the banner (endpoints, BSC and the bridge's contracts, ten funded test accounts
with their import lines, the public-key warning) once the nodes serve RPC. On the terminal
the status table is then redrawn in place with ANSI cursor movement; into the pipe goes
one plain line per change of the table, and no escape code at all. Ctrl-C stops it all.
Every wait reads the output until a pattern appears, with a deadline.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccoin.devnet.layout import Devnet
from ccoin.devnet.live import LEGEND
from ccoin.devnet.processes import render_table
from tests.unit.devnet.helpers import free_base_port, init, run

N = 2
ACCOUNTS = 12  # more than the banner shows
DEADLINE = 60.0
DIR = "net"  # relative to the command's working directory, as the banner shows it
# A status line of the pipe form; a node's fields are "-" until it has written its status.
STATUS_LINE = re.compile(
    rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (node0 .* \| node1 .* \| bsc .* \| relayer (?:up|down))$",
    re.MULTILINE,
)
HEIGHTS = re.compile(r"(node\d) up (\d+)/(\d+)")

pytestmark = pytest.mark.slow


class Output:
    """All a process writes to one descriptor (a pipe, or a pseudo-terminal's master side),
    gathered on a thread so the test can wait for a pattern."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""
        self.ended = False
        self.changed = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                chunk = b""
            with self.changed:
                if chunk:
                    self.data += chunk
                else:
                    self.ended = True
                self.changed.notify_all()
            if not chunk:
                return

    def text(self) -> bytes:
        """What was written, with the terminal's CR LF line ends back to LF."""
        with self.changed:
            return self.data.replace(b"\r\n", b"\n")

    def wait_for(self, pattern: bytes, what: str, count: int = 1) -> bytes:
        """Until `pattern` occurs `count` times; the text so far."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + DEADLINE
        with self.changed:
            while len(regex.findall(self.data.replace(b"\r\n", b"\n"))) < count:
                left = deadline - time.monotonic()
                assert not self.ended, f"output ended before {what}:\n{self.data.decode()}"
                assert left > 0, f"timed out waiting for {what}:\n{self.data.decode()}"
                self.changed.wait(left)
        return self.text()

    def wait_ended(self) -> bytes:
        deadline = time.monotonic() + DEADLINE
        with self.changed:
            while not self.ended:
                left = deadline - time.monotonic()
                assert left > 0, f"the output did not end:\n{self.data.decode()}"
                self.changed.wait(left)
        return self.text()


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Devnet]:
    init(tmp_path / DIR, "--base-port", str(free_base_port(N)), nodes=N, test_accounts=ACCOUNTS)
    try:
        yield Devnet.load(tmp_path / DIR)
    finally:  # whatever `up` left running, e.g. after a failed assertion
        run("devnet", "down", "--dir", str(tmp_path / DIR))


def up(devnet: Devnet, *, terminal: bool) -> tuple[subprocess.Popen[bytes], Output]:
    """`ccoin devnet up --dir net` from the devnet's parent, stdout a pty or a pipe."""
    if terminal:
        reader, writer = os.openpty()
    else:
        reader, writer = os.pipe()
    try:
        with stderr_file(devnet).open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ccoin.cli.main", "devnet", "up", "--dir", DIR],
                cwd=devnet.root.parent,
                stdin=subprocess.DEVNULL,
                stdout=writer,
                stderr=stderr,
            )
    finally:
        os.close(writer)  # the child holds the only writer: its exit ends the output
    return proc, Output(reader)


def stderr_file(devnet: Devnet) -> Path:
    return devnet.root.parent / "up.stderr"


def stop(devnet: Devnet, proc: subprocess.Popen[bytes], output: Output) -> bytes:
    """Ctrl-C, as a person stops it; the whole output once it has exited."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=DEADLINE) == 0, stderr_file(devnet).read_text()
    text = output.wait_ended()
    os.close(output.fd)
    stopped = re.search(rb"stopped: (.*)$", text, re.MULTILINE)  # on a terminal, after ESC[J
    assert stopped is not None, text.decode()
    outcomes = stopped.group(1).decode().split(", ")
    assert outcomes == [f"{name} terminated" for name in ("bsc", "node0", "node1", "relayer")]
    return text


def check_banner(banner: str, devnet: Devnet) -> None:
    assert devnet.bsc is not None
    assert banner.startswith(f"{devnet.chain_name} is up: {N} node(s), a block every 1 s")
    assert f"network id  {devnet.network_id}" in banner
    for node in devnet.nodes:
        [line] = [x for x in banner.splitlines() if x.startswith(f"{node.name} ")]
        rpc = node.rpc
        assert line.split()[1:] == [f"http://{rpc}", f"ws://{rpc}/ws", f"http://{rpc}/metrics"]
    assert f"BSC (anvil)  {devnet.bsc.url}  chain id 97" in banner
    for address in (devnet.bsc.anchor, devnet.bsc.bridge, devnet.bsc.token):
        assert address in banner
    accounts = json.loads((devnet.root / "keys" / "test-accounts.json").read_text())["accounts"]
    for i, account in enumerate(accounts[:10]):
        assert re.search(rf"^\({i}\) {account['address']} +1,000,000\.0000 C$", banner, re.M)
        command = f"ccoin keys import --devnet {DIR} --test-account {i} --out test-account-{i}"
        assert f"    {command}.json --kdf fast\n" in banner
    assert accounts[10]["address"] not in banner and "(10) " not in banner
    assert "WARNING: these are PUBLIC test keys" in banner
    assert f"{DIR}/keys/test-accounts.json" in banner


def test_on_a_terminal(devnet: Devnet) -> None:
    proc, output = up(devnet, terminal=True)
    try:
        rows = len(render_table([], None)) + N + 2  # header, the nodes, bsc and relayer
        text = output.wait_for(rb"\x1b\[%dF" % rows, "the table redrawn in place", count=2)
        banner, live = text.decode().split("Ctrl-C stops the devnet\n", 1)
        check_banner(banner, devnet)
        assert "\x1b" not in banner
        *complete, _partial = live.split(f"\x1b[{rows}F")  # the last may be mid-write
        assert len(complete) >= 2  # the first drawing and at least one redraw
        for table in complete:
            lines = table.removesuffix("\x1b[J").strip("\n").split("\n")
            assert len(lines) == rows  # each redraw rewrites exactly the lines it went up
            assert all(line.startswith("\x1b[2K") for line in lines)
            assert lines[0].removeprefix("\x1b[2K").split() == render_table([], None)[0].split()
        assert LEGEND not in live  # the one-line form is for pipes
    finally:
        if proc.poll() is None:
            stop(devnet, proc, output)


def test_into_a_pipe(devnet: Devnet) -> None:
    proc, output = up(devnet, terminal=False)
    try:
        output.wait_for(STATUS_LINE.pattern, "four status lines", count=4)
    finally:
        text = stop(devnet, proc, output)
    assert b"\x1b" not in text
    banner, live = text.decode().split("Ctrl-C stops the devnet\n", 1)
    check_banner(banner, devnet)
    assert live.lstrip("\n").startswith(LEGEND + "\n")
    contents = [c.decode() for c in STATUS_LINE.findall(live.encode())]
    assert len(contents) >= 4
    assert len(contents) == len([x for x in live.splitlines() if re.match(r"\d{4}-", x)])
    assert all(a != b for a, b in itertools.pairwise(contents))  # a line per change only
    for name in ("node0", "node1"):  # what each line says only moves forward
        seen = [(int(h), int(f)) for c in contents for n, h, f in HEIGHTS.findall(c) if n == name]
        assert seen, contents
        assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(seen))
