"""`ccoin devnet init|up|status|down|deploy-bsc|compose`: a local multi-node dev network,
with anvil standing in for BSC and the bridge relayer unless made with --no-bridge."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ccoin.bridge.evm import EvmClient
from ccoin.cli.common import BLOCK_TIME, print_json, reports_errors
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.banner import devnet_facts, render_banner
from ccoin.devnet.compose import compose_placement, render_compose
from ccoin.devnet.layout import (
    DEFAULT_BASE_PORT,
    DEFAULT_BLOCK_TIME_MS,
    DEFAULT_NODES,
    DEFAULT_TEST_ACCOUNTS,
    DEVNET_FILE,
    GENESIS_FILE,
    MAX_NODES,
    Devnet,
    Placement,
    init_devnet,
)
from ccoin.devnet.live import JsonStatus, LiveTable
from ccoin.devnet.processes import (
    Started,
    bridge_status,
    bridge_status_here_or_served,
    node_statuses,
    render_table,
    start_devnet,
    statuses_here_or_served,
    stop_devnet,
    stop_started,
    wait_serving,
)
from ccoin.types.genesis import GenesisConfig, seconds_text

REFRESH_SECONDS = 0.5
# Nodes started with --detach outlive the command; holding their Popen objects keeps Popen
# from warning, when collected, that they still run (in a long-lived caller such as tests).
_detached: list[Started] = []

dir_option = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The devnet directory (holds devnet.json).",
)


@click.group("devnet")
def devnet_group() -> None:
    """A local multi-node dev network."""


@devnet_group.command("init")
@click.option(
    "--nodes", default=DEFAULT_NODES, show_default=True, type=click.IntRange(1, MAX_NODES)
)
@dir_option
@click.option(
    "--base-port",
    default=DEFAULT_BASE_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Node I listens for peers on base+I (and will serve RPC on base+100+I).",
)
@click.option(
    "--test-accounts",
    default=DEFAULT_TEST_ACCOUNTS,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Funded accounts whose seeds are written in plain text to DIR/keys.",
)
@click.option(
    "--block-time",
    "block_time_ms",
    default=seconds_text(DEFAULT_BLOCK_TIME_MS),
    show_default=True,
    type=BLOCK_TIME,
    help="Seconds per slot, to the millisecond (0.5 is two blocks a second).",
)
@click.option("--force", is_flag=True, help="Replace an existing devnet in DIR (deletes it).")
@click.option("--if-missing", is_flag=True, help="Do nothing if DIR already holds a devnet.")
@click.option(
    "--no-bridge",
    is_flag=True,
    help="No bridge to BSC: no anvil, contracts, relayer or bridge keys in the genesis.",
)
@click.option(
    "--hosts",
    help="Nodes on separate machines: node I's IP address or name, comma-separated, one per "
    "node. Nodes listen on 0.0.0.0 and dial these; anvil and the relayer run beside node0.",
)
@click.option(
    "--compose",
    is_flag=True,
    help="For docker-compose.yml: nodes and anvil reached by service name (node0.., bsc), "
    "devnet.json naming 127.0.0.1 where their ports are published.",
)
@reports_errors
def devnet_init(
    nodes: int,
    directory: Path,
    base_port: int,
    test_accounts: int,
    block_time_ms: int,
    force: bool,
    if_missing: bool,
    no_bridge: bool,
    hosts: str | None,
    compose: bool,
) -> None:
    """Create an N-node devnet in DIR: network CA, node certificates, genesis, node configs,
    and the bridge's plan (anvil on base+200, contract addresses, relayer config)."""
    if hosts is not None and compose:
        raise click.UsageError("--hosts and --compose contradict each other")
    placement = Placement()
    if hosts is not None:
        placement = Placement.on_hosts([h.strip() for h in hosts.split(",")])
    elif compose:
        placement = compose_placement(nodes)
    result = init_devnet(
        directory,
        nodes=nodes,
        base_port=base_port,
        test_accounts=test_accounts,
        block_time_ms=block_time_ms,
        force=force,
        if_missing=if_missing,
        bridge=not no_bridge,
        placement=placement,
    )
    devnet = result.devnet
    print_json(
        {
            "devnet": str(devnet.root / DEVNET_FILE),
            "created": result.created,
            "chainName": devnet.chain_name,
            "networkId": devnet.network_id,
            "nodes": [
                {"name": n.name, "p2p": n.p2p, "rpc": n.rpc, "config": n.config}
                for n in devnet.nodes
            ],
            "bsc": devnet.bsc.to_json() if devnet.bsc is not None else None,
        }
    )


@devnet_group.command("up")
@dir_option
@click.option("--detach", is_flag=True, help="Return once every node serves RPC.")
@click.option("--no-bridge", is_flag=True, help="Start only the nodes: no anvil, no relayer.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON instead of the banner: one document (with --detach), else JSON lines: the "
    "banner's facts, then {status} per change, then {stopped}.",
)
@reports_errors
def devnet_up(directory: Path, detach: bool, no_bridge: bool, as_json: bool) -> None:
    """Start the devnet: anvil as BSC (deploying the contracts on first start), every node,
    then the relayer; once every node serves RPC, print where everything is and the funded
    test accounts. Without --detach, show their progress until Ctrl-C (or SIGTERM), then
    stop them."""
    devnet = Devnet.load(directory)
    bridge = not no_bridge and devnet.bsc is not None
    if not as_json:
        what = ["bsc (anvil)"] if bridge else []
        what += [f"{len(devnet.nodes)} node(s)"] + (["the relayer"] if bridge else [])
        click.echo(f"starting {devnet.chain_name}: {', '.join(what)}...", err=True)
    if detach:
        started = start_devnet(devnet, bridge=bridge)
        try:
            wait_serving(devnet, started)
            facts = devnet_facts(devnet, bridge=bridge)
        except BaseException:
            stop_started(started)
            raise
        _detached.extend(started)
        if as_json:
            print_json({**facts.to_json(), "started": _started_json(started)})
        else:
            _echo_lines(render_banner(facts))
            click.echo(
                f"\nstatus: ccoin devnet status --dir {facts.directory}; "
                f"stop: ccoin devnet down --dir {facts.directory}"
            )
        return
    _run_in_foreground(devnet, bridge, as_json)


def _run_in_foreground(devnet: Devnet, bridge: bool, as_json: bool) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in watched}
    try:
        started = start_devnet(devnet, bridge=bridge)
        try:
            _watch(devnet, started, bridge, as_json, stop)
        finally:
            if not as_json:
                click.echo("stopping the devnet...", err=True)
            results = stop_started(started)
        if as_json:
            _json_line({"stopped": [r.to_json() for r in results]})
        else:
            click.echo("stopped: " + ", ".join(f"{r.name} {r.outcome}" for r in results))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _watch(
    devnet: Devnet, started: list[Started], bridge: bool, as_json: bool, stop: threading.Event
) -> None:
    """The banner once every node serves RPC, then the live status until `stop`."""
    if not wait_serving(devnet, started, give_up=stop.is_set):
        return  # stopped while starting
    facts = devnet_facts(devnet, bridge=bridge)
    table: LiveTable | JsonStatus
    if as_json:
        _json_line({**facts.to_json(), "started": _started_json(started)})
        table = JsonStatus(sys.stdout)
    else:
        _echo_lines([*render_banner(facts), "", "Ctrl-C stops the devnet", ""])
        table = LiveTable(sys.stdout, terminal=sys.stdout.isatty())
    while not stop.is_set():
        table.show(node_statuses(devnet), bridge_status(devnet) if bridge else None)
        stop.wait(REFRESH_SECONDS)


def _started_json(started: list[Started]) -> list[dict[str, Any]]:
    return [{"name": s.name, "pid": s.pid, "log": str(s.log)} for s in started]


def _echo_lines(lines: list[str]) -> None:
    click.echo("\n".join(lines))


def _json_line(value: Any) -> None:
    """One compact document per line, flushed: a reader of the pipe sees it at once."""
    click.echo(json.dumps(value))
    sys.stdout.flush()


@devnet_group.command("status")
@dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def devnet_status(directory: Path, as_json: bool) -> None:
    """Height, finalized height, peers and up/down of every node; anvil's and the relayer's
    state and the last sidechain height anchored on BSC. What no local process runs (the
    compose devnet, nodes on other hosts) is asked over the network."""
    devnet = Devnet.load(directory)
    statuses = statuses_here_or_served(devnet)
    bridge = bridge_status_here_or_served(devnet)
    if as_json:
        print_json(
            {
                "nodes": [s.to_json() for s in statuses],
                "bridge": bridge.to_json() if bridge is not None else None,
            }
        )
    else:
        for line in render_table(statuses, bridge):
            click.echo(line)


@devnet_group.command("down")
@dir_option
@reports_errors
def devnet_down(directory: Path) -> None:
    """Stop the relayer, every node, then anvil (SIGTERM, then SIGKILL after 10 s)."""
    results = stop_devnet(Devnet.load(directory))
    if not results:
        click.echo("no process of this devnet was running", err=True)
    print_json({"stopped": [r.to_json() for r in results]})
    if any(r.outcome == "still running" for r in results):
        sys.exit(1)


@devnet_group.command("deploy-bsc")
@dir_option
@click.option(
    "--bsc",
    "bsc_url",
    help="anvil's URL from here, when not devnet.json's (the compose file: http://bsc:PORT).",
)
@reports_errors
def devnet_deploy_bsc(directory: Path, bsc_url: str | None) -> None:
    """Wait for the devnet's BSC (anvil) and deploy the contracts where devnet.json plans
    them, unless they are there already (`devnet up` does this itself; the compose file's
    `deploy` service runs it)."""
    devnet = Devnet.load(directory)
    if devnet.bsc is None:
        raise click.UsageError("this devnet was made with --no-bridge")
    with EvmClient(bsc_url or devnet.bsc.url) as client:
        devbsc.wait_ready(client, None, devnet.root / devbsc.BSC_DIR / devbsc.ANVIL_LOG)
    genesis = GenesisConfig.load(devnet.root / GENESIS_FILE)
    done = devbsc.deploy_contracts(devnet.root, devnet.bsc, genesis, bsc_url)
    print_json({"deployed": done.deployed, **devnet.bsc.to_json()})


@devnet_group.command("compose")
@click.option(
    "--nodes", default=DEFAULT_NODES, show_default=True, type=click.IntRange(1, MAX_NODES)
)
@click.option(
    "--base-port", default=DEFAULT_BASE_PORT, show_default=True, type=click.IntRange(1, 65535)
)
@click.option(
    "--out",
    default="-",
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Where to write the compose file ('-': stdout).",
)
@reports_errors
def devnet_compose(nodes: int, base_port: int, out: Path) -> None:
    """Write the docker-compose file for an N-node devnet."""
    text = render_compose(nodes, base_port)
    if str(out) == "-":
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"wrote {out}", err=True)
