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
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.bench.anvil import AnvilNotInstalled
from ccoin.bridge.evm import EvmClient
from ccoin.devnet import bsc as devbsc
from ccoin.devnet import probe
from ccoin.devnet.layout import GENESIS_FILE, Devnet, DevnetNode
from ccoin.devnet.pids import LOG_FILE, node_alive, read_pid, write_pid
from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.config import STATUS_FILE
from ccoin.types.genesis import GenesisConfig

STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
KILL_TIMEOUT = 5.0  # seconds to wait for a SIGKILLed process to vanish
POLL_INTERVAL = 0.05
SERVING_TIMEOUT = 60.0  # seconds for every node to accept RPC connections after its start
SERVED_TIMEOUT = 1.0  # seconds for a node run elsewhere to answer `devnet status`
_LOG_TAIL = 2000
_MAX_STATUS_FILE = 64 * 1024


class DevnetRunning(ConfigError):
    """`up` found nodes of this devnet already running."""

    def __init__(self, running: list[tuple[str, int]]) -> None:
        names = ", ".join(f"{name} (pid {pid})" for name, pid in running)
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


def node_statuses(devnet: Devnet) -> list[NodeStatus]:
    out = []
    for node in devnet.nodes:
        status = read_status_file(status_file(devnet, node)) or {}
        pid = node_process(devnet, node).live_pid()
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


def served_status(node: DevnetNode, timeout: float = SERVED_TIMEOUT) -> NodeStatus | None:
    """A node as its RPC (devnet.json's address) reports it, when it answers: for nodes
    this machine does not run (the compose devnet, a devnet on separate hosts)."""
    from ccoin.client import Client, ClientError  # only `devnet status` needs the client

    try:
        with Client(f"http://{node.rpc}", timeout=timeout) as client:
            status = client.status()
        height, finalized, peers = (int(status[k]) for k in ("height", "finalizedHeight", "peers"))
    except (ClientError, OSError, KeyError, TypeError, ValueError):
        return None
    return NodeStatus(node.name, height, finalized, peers, running=True, pid=None)


def statuses_here_or_served(devnet: Devnet) -> list[NodeStatus]:
    """`node_statuses`, with every node no local process runs asked over its RPC."""
    out = []
    for node, local in zip(devnet.nodes, node_statuses(devnet), strict=True):
        served = served_status(node) if not local.running else None
        out.append(served or local)
    return out


@dataclass(frozen=True)
class BridgeStatus:
    bsc_url: str
    bsc_running: bool
    anchored: int | None  # the last anchored sidechain height; None: anvil does not answer
    relayer_running: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "bsc": self.bsc_url,
            "bscRunning": self.bsc_running,
            "anchoredHeight": self.anchored,
            "relayerRunning": self.relayer_running,
        }


def bridge_status(devnet: Devnet) -> BridgeStatus | None:
    procs = bridge_processes(devnet)
    if procs is None or devnet.bsc is None:
        return None
    anvil, relayer = procs
    bsc_running = anvil.live_pid() is not None
    anchored = devbsc.anchored_height(devnet.bsc) if bsc_running else None
    return BridgeStatus(devnet.bsc.url, bsc_running, anchored, relayer.live_pid() is not None)


def bridge_status_here_or_served(devnet: Devnet) -> BridgeStatus | None:
    """`bridge_status`, with anvil and the relayer asked over the network (anvil's
    JSON-RPC, the relayer's metrics) when no local process runs them."""
    local = bridge_status(devnet)
    if local is None or devnet.bsc is None:
        return local
    bsc, anchored, relayer = local.bsc_running, local.anchored, local.relayer_running
    if not bsc:
        anchored = devbsc.anchored_height(devnet.bsc, timeout=SERVED_TIMEOUT)
        bsc = anchored is not None
    if not relayer:
        port = devnet.bsc.port - devbsc.BSC_PORT_OFFSET + devbsc.RELAY_METRICS_OFFSET
        metrics = f"http://{devnet.bsc.host}:{port}/metrics"
        relayer = _answers(metrics)
    return BridgeStatus(local.bsc_url, bsc, anchored, relayer)


def _answers(url: str) -> bool:
    """The compose healthcheck's own probe: any 2xx answer."""
    try:
        probe.http(url, timeout=SERVED_TIMEOUT)
    except probe.NotReady:
        return False
    return True


def render_table(statuses: list[NodeStatus], bridge: BridgeStatus | None = None) -> list[str]:
    """A fixed-width table, one line per node after the header, then the bridge's lines."""

    def cell(value: int | None) -> str:
        return "-" if value is None else str(value)

    def state(up: bool) -> str:
        return "up" if up else "down"

    width = max([7, *(len(s.name) for s in statuses)])
    lines = [f"{'name':<{width}}  {'height':>8}  {'finalized':>9}  {'peers':>5}  state"]
    for s in statuses:
        lines.append(
            f"{s.name:<{width}}  {cell(s.height):>8}  {cell(s.finalized):>9}  "
            f"{cell(s.peers):>5}  {state(s.running)}"
        )
    if bridge is not None:
        anchored = f"anchored to {cell(bridge.anchored)}"
        lines.append(f"{'bsc':<{width}}  {anchored:>26}  {state(bridge.bsc_running)}")
        lines.append(f"{'relayer':<{width}}  {'':>26}  {state(bridge.relayer_running)}")
    return lines


# -- starting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DevnetProcess:
    """One long-running process of the devnet: a node, anvil ("bsc") or the relayer."""

    name: str
    pid_file: Path
    log: Path
    marker: Path  # a path its command line carries: how a live pid is known to be it
    command: Callable[[], list[str]]  # built when started (finding anvil may fail)

    def live_pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        if pid is None or not node_alive(pid, self.marker):
            return None
        return pid


@dataclass(frozen=True)
class Started:
    proc: DevnetProcess
    process: subprocess.Popen[bytes]

    @property
    def name(self) -> str:
        return self.proc.name

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> Path:
        return self.proc.log


def node_command(devnet: Devnet, node: DevnetNode) -> list[str]:
    config = str(devnet.config_path(node))
    return [sys.executable, "-m", "ccoin.cli.main", "node", "start", "--config", config]


def node_process(devnet: Devnet, node: DevnetNode) -> DevnetProcess:
    return DevnetProcess(
        node.name,
        devnet.pid_file(node),
        devnet.node_dir(node) / LOG_FILE,
        devnet.config_path(node),
        lambda: node_command(devnet, node),
    )


def node_processes(devnet: Devnet) -> list[DevnetProcess]:
    return [node_process(devnet, node) for node in devnet.nodes]


def running(procs: list[DevnetProcess]) -> list[tuple[DevnetProcess, int]]:
    out = []
    for proc in procs:
        pid = proc.live_pid()
        if pid is not None:
            out.append((proc, pid))
    return out


def running_nodes(devnet: Devnet) -> list[tuple[DevnetProcess, int]]:
    return running(node_processes(devnet))


def start_processes(procs: list[DevnetProcess]) -> list[Started]:
    """Start every process; raises `DevnetRunning` if any of them already runs.

    If starting one fails, the ones already started are stopped before the error goes up."""
    already = running(procs)
    if already:
        raise DevnetRunning([(proc.name, pid) for proc, pid in already])
    started: list[Started] = []
    try:
        for proc in procs:
            proc.pid_file.unlink(missing_ok=True)  # stale: its process is gone
            command = proc.command()
            with proc.log.open("ab") as out:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(Started(proc, process))
            write_pid(proc.pid_file, process.pid)
    except BaseException:
        stop_started(started)
        raise
    return started


def start_nodes(devnet: Devnet) -> list[Started]:
    return start_processes(node_processes(devnet))


# -- the bridge's processes -----------------------------------------------------------------

BSC = "bsc"
RELAYER = "relayer"


def _anvil_command(devnet: Devnet) -> list[str]:
    assert devnet.bsc is not None
    try:
        return devbsc.anvil_command(devnet.root, devnet.bsc)
    except AnvilNotInstalled as exc:
        raise ConfigError(
            ErrorCode.CONFIG_INVALID, f"{exc}; or start without the bridge: --no-bridge"
        ) from None


def bridge_processes(devnet: Devnet) -> tuple[DevnetProcess, DevnetProcess] | None:
    """anvil and the relayer of a devnet with a bridge; None without one."""
    if devnet.bsc is None:
        return None
    bsc_dir = devnet.root / devbsc.BSC_DIR
    relay_dir = devnet.root / devbsc.RELAY_DIR
    anvil = DevnetProcess(
        BSC,
        bsc_dir / devbsc.ANVIL_PID,
        bsc_dir / devbsc.ANVIL_LOG,
        bsc_dir / devbsc.STATE_FILE,
        lambda: _anvil_command(devnet),
    )
    relayer = DevnetProcess(
        RELAYER,
        relay_dir / devbsc.RELAYER_PID,
        relay_dir / devbsc.RELAYER_LOG,
        relay_dir / devbsc.RELAY_CONFIG,
        lambda: devbsc.relay_command(devnet.root),
    )
    return anvil, relayer


def all_processes(devnet: Devnet) -> list[DevnetProcess]:
    bridge = bridge_processes(devnet)
    nodes = node_processes(devnet)
    return nodes if bridge is None else [bridge[0], *nodes, bridge[1]]


def start_devnet(devnet: Devnet, *, bridge: bool = True) -> list[Started]:
    """anvil (deploying the contracts on a fresh state), the nodes, then the relayer; only
    the nodes without `bridge` or on a devnet made with --no-bridge. All or nothing."""
    already = running(all_processes(devnet))
    if already:
        raise DevnetRunning([(proc.name, pid) for proc, pid in already])
    procs = bridge_processes(devnet) if bridge else None
    started: list[Started] = []
    try:
        if procs is not None and devnet.bsc is not None:
            started += start_processes([procs[0]])
            with EvmClient(devnet.bsc.url) as client:
                devbsc.wait_ready(client, started[0].process, procs[0].log)
            genesis = GenesisConfig.load(devnet.root / GENESIS_FILE)
            devbsc.deploy_contracts(devnet.root, devnet.bsc, genesis)
        started += start_nodes(devnet)
        if procs is not None:
            started += start_processes([procs[1]])
    except BaseException:
        stop_started(started)
        raise
    return started


def _accepts(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=POLL_INTERVAL * 4):
            return True
    except OSError:
        return False


def wait_serving(
    devnet: Devnet,
    started: list[Started],
    timeout: float = SERVING_TIMEOUT,
    give_up: Callable[[], bool] = lambda: False,
) -> bool:
    """Until every node accepts connections on its RPC address, so the URLs `up` then
    prints answer; False if `give_up()` turned true first (Ctrl-C while starting). A started
    process that exits first is an error, with its log's tail."""
    waiting = list(devnet.nodes)
    deadline = time.monotonic() + timeout
    while True:
        for s in started:
            if s.process.poll() is not None:
                tail = s.log.read_text(errors="replace")[-_LOG_TAIL:] if s.log.exists() else ""
                raise ConfigError(
                    ErrorCode.CONFIG_INVALID,
                    f"{s.name} exited with status {s.process.returncode}; {s.log}:\n{tail}",
                )
        waiting = [node for node in waiting if not _accepts(node.rpc)]
        if not waiting:
            return True
        if give_up():
            return False
        if time.monotonic() > deadline:
            names = ", ".join(f"{n.name} ({n.rpc})" for n in waiting)
            raise ConfigError(
                ErrorCode.CONFIG_INVALID,
                f"no RPC answer within {timeout:g} s from {names}; see their node.log",
            )
        time.sleep(POLL_INTERVAL)


def stop_devnet(devnet: Devnet, timeout: float = STOP_TIMEOUT) -> list[StopResult]:
    return stop_processes(all_processes(devnet), timeout)


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


def _remove_pid_files(procs: list[DevnetProcess], results: list[StopResult]) -> None:
    by_name = {proc.name: proc for proc in procs}
    for result in results:
        if result.outcome != "still running":
            by_name[result.name].pid_file.unlink(missing_ok=True)


def _child_alive(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: process.poll() is None


def _proc_alive(pid: int, proc: DevnetProcess) -> Callable[[], bool]:
    return lambda: node_alive(pid, proc.marker)


def _stop_anvil_last(
    targets: list[tuple[str, int, Callable[[], bool]]], timeout: float
) -> dict[int, str]:
    """`stop_pids` on (name, pid, alive) targets: every one but anvil, then anvil, so its
    state file holds the last anchors and deposits."""
    outcome: dict[int, str] = {}
    for last in (False, True):
        group = {pid: alive for name, pid, alive in targets if (name == BSC) == last}
        outcome.update(stop_pids(group, timeout))
    return outcome


def stop_started(started: list[Started], timeout: float = STOP_TIMEOUT) -> list[StopResult]:
    """Stop processes this process started (it waits on them as their parent). One that
    already exited is reported as "exited" and not signalled (its pid may be reused)."""
    outcome = {s.pid: "exited" for s in started if s.process.poll() is not None}
    targets = [(s.name, s.pid, _child_alive(s.process)) for s in started if s.pid not in outcome]
    outcome.update(_stop_anvil_last(targets, timeout))
    results = [StopResult(s.name, s.pid, outcome[s.pid]) for s in started]
    _remove_pid_files([s.proc for s in started], results)
    return results


def stop_processes(procs: list[DevnetProcess], timeout: float = STOP_TIMEOUT) -> list[StopResult]:
    """Stop every process named by a live pid file; stale pid files are removed."""
    live = running(procs)
    for proc in procs:
        if all(proc is not r for r, _ in live):
            proc.pid_file.unlink(missing_ok=True)
    targets = [(proc.name, pid, _proc_alive(pid, proc)) for proc, pid in live]
    outcome = _stop_anvil_last(targets, timeout)
    results = [StopResult(proc.name, pid, outcome[pid]) for proc, pid in live]
    _remove_pid_files(procs, results)
    return results


def stop_nodes(devnet: Devnet, timeout: float = STOP_TIMEOUT) -> list[StopResult]:
    return stop_processes(node_processes(devnet), timeout)
