"""`ccoin devnet status|down|up`: pid files, status files and the processes they name."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ccoin.devnet.layout import Devnet
from ccoin.devnet.pids import node_alive, read_pid
from ccoin.devnet.processes import read_status_file, stop_nodes
from tests.unit.devnet.helpers import FakeNodes, free_base_port, init, ok, run, wait_until


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def gone(pid: int) -> bool:
    """The process has exited (reaped first when it is a child of this test process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def write_status(root: Path, node: str, **fields: object) -> None:
    data = root / node / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "status.json").write_text(json.dumps(fields))


def test_status_json(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    base = free_base_port(4)  # nothing answers there: a node not running here is down
    init(root, "--base-port", str(base), nodes=4)
    write_status(
        root, "node0", name="node0", height=12, finalized=10, peers=3, head="ab", updated=1.5
    )
    write_status(
        root, "node1", name="node1", height=7, finalized=5, peers=2, head="cd", updated=2.0
    )
    (root / "node2" / "data").mkdir()
    (root / "node2" / "data" / "status.json").write_text("{not json")
    # node3 has no status file at all.
    live = fake_nodes.start((root / "node0" / "node.json").resolve())
    (root / "node0" / "node.pid").write_text(f"{live.pid}\n")
    (root / "node1" / "node.pid").write_text(f"{dead_pid()}\n")
    (root / "node2" / "node.pid").write_text(f"{os.getpid()}\n")  # alive, but not node2

    assert ok("devnet", "status", "--dir", str(root), "--json") == {
        "nodes": [
            {"name": "node0", "height": 12, "finalized": 10, "peers": 3, "running": True},
            {"name": "node1", "height": 7, "finalized": 5, "peers": 2, "running": False},
            {"name": "node2", "height": None, "finalized": None, "peers": None, "running": False},
            {"name": "node3", "height": None, "finalized": None, "peers": None, "running": False},
        ],
        "bridge": {
            "bsc": f"http://127.0.0.1:{base + 200}",
            "bscRunning": False,
            "anchoredHeight": None,
            "relayerRunning": False,
        },
    }
    table = run("devnet", "status", "--dir", str(root))
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["name", "height", "finalized", "peers", "state"]
    assert lines[1].split() == ["node0", "12", "10", "3", "up"]
    assert lines[3].split() == ["node2", "-", "-", "-", "down"]
    assert lines[5].split() == ["bsc", "anchored", "to", "-", "down"]
    assert lines[6].split() == ["relayer", "down"]


class FakeRpc(BaseHTTPRequestHandler):
    """Answers every JSON-RPC call with a node's status document."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = {
            "networkId": "ab" * 32,
            "chainName": "ccoin-devnet",
            "genesisTime": 1,
            "blockTimeMs": 1000,
            "name": "node1",
            "height": 9,
            "finalizedHeight": 8,
            "peers": 3,
        }
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": status}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_status_asks_a_node_run_elsewhere_over_rpc(tmp_path: Path) -> None:
    root = tmp_path / "net"
    base = free_base_port(2)
    init(root, "--base-port", str(base), "--no-bridge", nodes=2)
    server = ThreadingHTTPServer(("127.0.0.1", base + 101), FakeRpc)  # node1's RPC
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status = ok("devnet", "status", "--dir", str(root), "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert status["nodes"] == [
        {"name": "node0", "height": None, "finalized": None, "peers": None, "running": False},
        {"name": "node1", "height": 9, "finalized": 8, "peers": 3, "running": True},
    ]


def test_status_file_validation(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    assert read_status_file(path) is None
    bad = [
        b"[]",
        b'{"height": 1}',
        b'{"height": -1, "finalized": 0, "peers": 0}',
        b'{"height": "1", "finalized": 0, "peers": 0}',
        b"\xff",
    ]
    for data in bad:
        path.write_bytes(data)
        assert read_status_file(path) is None, data
    path.write_text('{"height": 3, "finalized": 1, "peers": 0, "head": "x", "updated": 0}')
    assert read_status_file(path) == {"height": 3, "finalized": 1, "peers": 0}


def test_status_without_devnet(tmp_path: Path) -> None:
    result = run("devnet", "status", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "devnet init" in result.output


def test_down_stops_what_the_pid_files_name(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    init(root, nodes=3)
    procs = [fake_nodes.start((root / n / "node.json").resolve()) for n in ("node0", "node1")]
    for name, proc in zip(("node0", "node1"), procs, strict=True):
        (root / name / "node.pid").write_text(f"{proc.pid}\n")
    stale = dead_pid()
    (root / "node2" / "node.pid").write_text(f"{stale}\n")

    report = ok("devnet", "down", "--dir", str(root))
    assert report == {
        "stopped": [
            {"name": "node0", "pid": procs[0].pid, "outcome": "terminated"},
            {"name": "node1", "pid": procs[1].pid, "outcome": "terminated"},
        ]
    }
    for proc in procs:
        wait_until(lambda p=proc: gone(p.pid), f"pid {proc.pid} to exit")
    assert not list(root.glob("node*/node.pid"))
    assert ok("devnet", "down", "--dir", str(root)) == {"stopped": []}


def test_down_kills_a_node_that_ignores_sigterm(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    init(root, nodes=1)
    proc = fake_nodes.start((root / "node0" / "node.json").resolve(), ignore_sigterm=True)
    (root / "node0" / "node.pid").write_text(f"{proc.pid}\n")
    [result] = stop_nodes(Devnet.load(root), timeout=0.3)
    assert (result.name, result.pid, result.outcome) == ("node0", proc.pid, "killed")
    wait_until(lambda: gone(proc.pid), "the killed process to vanish")
    assert not (root / "node0" / "node.pid").exists()


def test_up_refuses_a_running_devnet(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    init(root, nodes=2)
    proc = fake_nodes.start((root / "node1" / "node.json").resolve())
    (root / "node1" / "node.pid").write_text(f"{proc.pid}\n")
    result = run("devnet", "up", "--dir", str(root), "--detach")
    assert result.exit_code == 2
    assert "already running" in result.output and f"node1 (pid {proc.pid})" in result.output
    assert not (root / "node0" / "node.pid").exists()  # nothing was started
    assert read_pid(root / "node1" / "node.pid") == proc.pid


@pytest.mark.slow
def test_up_detach_then_down_with_real_nodes(tmp_path: Path) -> None:
    root = tmp_path / "net"
    base = free_base_port(2)
    init(root, "--base-port", str(base), "--no-bridge", nodes=2)
    devnet = Devnet.load(root)
    up = ok("devnet", "up", "--dir", str(root), "--detach", "--json")
    started = up["started"]
    pids = [s["pid"] for s in started]
    try:
        assert [s["name"] for s in started] == ["node0", "node1"]
        assert [n["rpc"] for n in up["nodes"]] == [f"http://{n.rpc}" for n in devnet.nodes]
        assert up["bsc"] is None and up["networkId"] == devnet.network_id
        for node, pid in zip(devnet.nodes, pids, strict=True):
            assert read_pid(devnet.pid_file(node)) == pid
            assert node_alive(pid, devnet.config_path(node))

        def producing() -> bool:
            status = ok("devnet", "status", "--dir", str(root), "--json")["nodes"]
            return all(n["running"] and (n["height"] or 0) >= 1 for n in status)

        wait_until(producing, "both nodes to report a block in status.json")
        assert run("devnet", "up", "--dir", str(root), "--detach").exit_code == 2

        report = ok("devnet", "down", "--dir", str(root))
        assert {s["pid"] for s in report["stopped"]} == set(pids)
        for pid in pids:
            wait_until(lambda p=pid: gone(p), f"node pid {pid} to exit")
        assert not list(root.glob("node*/node.pid"))
        assert all(s["outcome"] == "terminated" for s in report["stopped"])
        assert "node_stopped" in (root / "node0" / "node.log").read_text()
    finally:
        for pid in pids:
            if not gone(pid):
                os.kill(pid, 9)
                os.waitpid(pid, 0)


@pytest.mark.slow
def test_up_in_the_foreground_stops_its_nodes_on_sigterm(tmp_path: Path) -> None:
    """With --json: the banner's facts, status documents, then what was stopped."""
    root = tmp_path / "net"
    init(root, "--base-port", str(free_base_port(1)), "--no-bridge", nodes=1)
    devnet = Devnet.load(root)
    [node] = devnet.nodes
    up = subprocess.Popen(
        [sys.executable, "-m", "ccoin.cli.main", "devnet", "up", "--dir", str(root), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = None
    try:
        assert up.stdout is not None
        first = up.stdout.readline()  # once the node serves RPC (bounded by `up` itself)
        pid = read_pid(devnet.pid_file(node))
        assert pid is not None, first
        status = root / "node0" / "data" / "status.json"
        wait_until(lambda: (read_status_file(status) or {}).get("height", 0) >= 1, "a block")
        # the first status document: a SIGTERM before it would (rightly) stop with none
        second = up.stdout.readline()
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=30)
        assert up.returncode == 0, err
        lines = (first + second + out).splitlines()
        facts, *statuses, stopped = (json.loads(line) for line in lines)
        assert facts["networkId"] == devnet.network_id
        assert facts["started"] == [
            {"name": "node0", "pid": pid, "log": str(root / "node0" / "node.log")}
        ]
        assert statuses and all(s["status"]["nodes"][0]["name"] == "node0" for s in statuses)
        assert stopped == {"stopped": [{"name": "node0", "pid": pid, "outcome": "terminated"}]}
        assert not devnet.pid_file(node).exists()
        wait_until(lambda: gone(pid), "the node to exit")
    finally:
        up.kill()
        up.communicate()
        if pid is not None and not gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_down_stops_anvil_and_the_relayer_too(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    """Fake processes whose command lines carry anvil's state file and the relay config,
    as the real ones' do. Not the default ports: a devnet running there would answer."""
    root = tmp_path / "net"
    init(root, "--base-port", str(free_base_port(1)), nodes=1)
    anvil = fake_nodes.start((root / "bsc" / "state.json").resolve())
    relayer = fake_nodes.start((root / "relay" / "relay.json").resolve())
    node = fake_nodes.start((root / "node0" / "node.json").resolve())
    (root / "bsc" / "anvil.pid").write_text(f"{anvil.pid}\n")
    (root / "relay" / "relayer.pid").write_text(f"{relayer.pid}\n")
    (root / "node0" / "node.pid").write_text(f"{node.pid}\n")

    status = ok("devnet", "status", "--dir", str(root), "--json")["bridge"]
    assert status["bscRunning"] and status["relayerRunning"]
    assert status["anchoredHeight"] is None  # the fake anvil answers no JSON-RPC
    refused = run("devnet", "up", "--dir", str(root), "--detach")
    assert refused.exit_code == 2 and f"bsc (pid {anvil.pid})" in refused.output
    forced = run("devnet", "init", "--dir", str(root), "--force", "--test-accounts", "0")
    assert forced.exit_code == 2 and "relayer (pid" in forced.output

    report = ok("devnet", "down", "--dir", str(root))
    stopped = {s["name"]: s for s in report["stopped"]}
    assert set(stopped) == {"bsc", "node0", "relayer"}
    assert all(s["outcome"] == "terminated" for s in stopped.values())
    for proc in (anvil, relayer, node):
        wait_until(lambda p=proc: gone(p.pid), f"pid {proc.pid} to exit")
    assert not (root / "bsc" / "anvil.pid").exists()
    assert not (root / "relay" / "relayer.pid").exists()
