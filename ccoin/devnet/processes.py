"""`ccoin devnet up|down|status`: devnet nodes as local processes.

Each node runs as `python -m ccoin.cli.main node start --config DIR/nodeI/node.json` in its
own session (a Ctrl-C in the terminal reaches only `up`, which then stops the nodes in
order), with stdout and stderr appended to `nodeI/node.log` and its pid in `nodeI/node.pid`.
A node reports its progress in `dataDir/status.json`, which `status` reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.devnet.layout import Devnet, DevnetNode
from ccoin.devnet.pids import LOG_FILE, node_alive, read_pid, write_pid
from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.config import STATUS_FILE

STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
KILL_TIMEOUT = 5.0  # seconds to wait for a SIGKILLed process to vanish
POLL_INTERVAL = 0.05
_MAX_STATUS_FILE = 64 * 1024


class DevnetRunning(ConfigError):
    """`up` found nodes of this devnet already running."""

    def __init__(self, running: list[tuple[DevnetNode, int]]) -> None:
        names = ", ".join(f"{node.name} (pid {pid})" for node, pid in running)
        super().__init__(
            ErrorCode.CONFIG_INVALID,
            f"this devnet is already running: {names}; stop it with `ccoin devnet down`",
        )
        self.running = running


# -- status ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeStatus:
    name: str
    height: int | None
    finalized: int | None
    peers: int | None
    running: bool
    pid: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "height": self.height,
            "finalized": self.finalized,
            "peers": self.peers,
            "running": self.running,
        }


def read_status_file(path: Path) -> dict[str, int] | None:
    """height, finalized and peers from a node's status.json; None when missing or invalid."""
    try:
        if path.stat().st_size > _MAX_STATUS_FILE:
            return None
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if type(obj) is not dict:
        return None
    out = {}
    for field in ("height", "finalized", "peers"):
        value = obj.get(field)
        if type(value) is not int or value < 0:
            return None
        out[field] = value
    return out


def status_file(devnet: Devnet, node: DevnetNode) -> Path:
    return devnet.data_dir(node) / STATUS_FILE


def live_pid(devnet: Devnet, node: DevnetNode) -> int | None:
    """The pid of the node's running process, or None."""
    pid = read_pid(devnet.pid_file(node))
    if pid is None or not node_alive(pid, devnet.config_path(node)):
        return None
    return pid


def node_statuses(devnet: Devnet) -> list[NodeStatus]:
    out = []
    for node in devnet.nodes:
        status = read_status_file(status_file(devnet, node)) or {}
        pid = live_pid(devnet, node)
        out.append(
            NodeStatus(
                name=node.name,
                height=status.get("height"),
                finalized=status.get("finalized"),
                peers=status.get("peers"),
                running=pid is not None,
                pid=pid,
            )
        )
    return out


def render_table(statuses: list[NodeStatus]) -> list[str]:
    """A fixed-width table, one line per node after the header."""

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    width = max([4, *(len(s.name) for s in statuses)])
    lines = [f"{'name':<{width}}  {'height':>8}  {'finalized':>9}  {'peers':>5}  state"]
    for s in statuses:
        lines.append(
            f"{s.name:<{width}}  {cell(s.height):>8}  {cell(s.finalized):>9}  "
            f"{cell(s.peers):>5}  {'up' if s.running else 'down'}"
        )
    return lines


# -- starting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartedNode:
    node: DevnetNode
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def node_command(devnet: Devnet, node: DevnetNode) -> list[str]:
    config = str(devnet.config_path(node))
    return [sys.executable, "-m", "ccoin.cli.main", "node", "start", "--config", config]


def running_nodes(devnet: Devnet) -> list[tuple[DevnetNode, int]]:
    out = []
    for node in devnet.nodes:
        pid = live_pid(devnet, node)
        if pid is not None:
            out.append((node, pid))
    return out


def start_nodes(devnet: Devnet) -> list[StartedNode]:
    """Start every node; raises `DevnetRunning` if any of them already runs.

    If starting one fails, the ones already started are stopped before the error goes up."""
    running = running_nodes(devnet)
    if running:
        raise DevnetRunning(running)
    started: list[StartedNode] = []
    try:
        for node in devnet.nodes:
            pid_file = devnet.pid_file(node)
            pid_file.unlink(missing_ok=True)  # stale: its process is gone
            log = devnet.node_dir(node) / LOG_FILE
            with log.open("ab") as out:
                process = subprocess.Popen(
                    node_command(devnet, node),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(StartedNode(node, process, log))
            write_pid(pid_file, process.pid)
    except BaseException:
        stop_started(devnet, started)
        raise
    return started


# -- stopping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopResult:
    name: str
    pid: int
    outcome: str  # "terminated" (SIGTERM), "killed" (SIGKILL), "exited" or "still running"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "outcome": self.outcome}


def _signal(pid: int, signum: signal.Signals) -> None:
    try:
        if signum == signal.SIGKILL and os.getpgid(pid) == pid:
            os.killpg(pid, signum)  # the node leads its own session: take its group along
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def stop_pids(
    targets: Mapping[int, Callable[[], bool]], timeout: float = STOP_TIMEOUT
) -> dict[int, str]:
    """SIGTERM every pid, SIGKILL those still alive after `timeout`; pid -> outcome.

    `targets` maps each pid to a function telling whether it still runs."""
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    outcome: dict[int, str] = {}

    def settle(label: str) -> bool:
        for pid, alive in targets.items():
            if pid not in outcome and not alive():
                outcome[pid] = label
        return len(outcome) == len(targets)

    if not _wait_until(lambda: settle("terminated"), timeout):
        for pid in targets:
            if pid not in outcome:
                _signal(pid, signal.SIGKILL)
        _wait_until(lambda: settle("killed"), KILL_TIMEOUT)
    for pid in targets:
        outcome.setdefault(pid, "still running")
    return outcome


def _remove_pid_files(devnet: Devnet, results: list[StopResult]) -> None:
    by_name = {node.name: node for node in devnet.nodes}
    for result in results:
        if result.outcome != "still running":
            devnet.pid_file(by_name[result.name]).unlink(missing_ok=True)


def _child_alive(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: process.poll() is None


def _node_alive(pid: int, config: Path) -> Callable[[], bool]:
    return lambda: node_alive(pid, config)


def stop_started(
    devnet: Devnet, started: list[StartedNode], timeout: float = STOP_TIMEOUT
) -> list[StopResult]:
    """Stop nodes this process started (it waits on them as their parent). A node that
    already exited is reported as "exited" and not signalled (its pid may be reused)."""
    outcome = {s.pid: "exited" for s in started if s.process.poll() is not None}
    targets = {s.pid: _child_alive(s.process) for s in started if s.pid not in outcome}
    outcome.update(stop_pids(targets, timeout))
    results = [StopResult(s.node.name, s.pid, outcome[s.pid]) for s in started]
    _remove_pid_files(devnet, results)
    return results


def stop_nodes(devnet: Devnet, timeout: float = STOP_TIMEOUT) -> list[StopResult]:
    """Stop every node named by a live pid file; stale pid files are removed."""
    running = running_nodes(devnet)
    for node in devnet.nodes:
        if all(node is not r for r, _ in running):
            devnet.pid_file(node).unlink(missing_ok=True)
    targets = {pid: _node_alive(pid, devnet.config_path(node)) for node, pid in running}
    outcome = stop_pids(targets, timeout)
    results = [StopResult(node.name, pid, outcome[pid]) for node, pid in running]
    _remove_pid_files(devnet, results)
    return results
