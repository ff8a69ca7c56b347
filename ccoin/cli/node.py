"""`ccoin node init|start`: a single node that produces blocks on its own."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import click
import trio

from ccoin.cli.common import print_json, reports_errors
from ccoin.cli.genesis import random_passphrase, write_genesis
from ccoin.node.config import NodeConfig, RpcConfig, parse_address
from ccoin.node.log import event, setup_logging
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node, load_delegate_key
from ccoin.types.genesis import GenesisConfig

CONFIG_FILE = "node.json"
DEFAULT_RPC = "127.0.0.1:26700"


@click.group("node")
def node_group() -> None:
    """Run a node."""


@node_group.command("init")
@click.option("--dir", "directory", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--test-accounts", default=100, show_default=True, type=click.IntRange(0, 100_000))
@click.option(
    "--kdf",
    type=click.Choice(["fast", "interactive", "moderate"]),
    default="fast",
    show_default=True,
)
@click.option(
    "--rpc",
    "rpc_listen",
    default=DEFAULT_RPC,
    show_default=True,
    metavar="HOST:PORT",
    help="Where the node serves its HTTP API.",
)
@reports_errors
def node_init(directory: Path, test_accounts: int, kdf: str, rpc_listen: str) -> None:
    """Create a single-delegate dev network in DIR: genesis, keys, passphrase, node.json."""
    config_path = directory / CONFIG_FILE
    if config_path.exists():
        raise click.UsageError(f"{config_path} exists; use `ccoin node start --config` on it")
    rpc = RpcConfig(listen=parse_address(rpc_listen, "--rpc"))
    keys = directory / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    passphrase_file = keys / "passphrase"
    passphrase = random_passphrase()
    fd = os.open(passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(passphrase + "\n")
    result = write_genesis(
        out=directory / "genesis.json",
        keys_dir=keys,
        passphrase=passphrase,
        delegates=1,
        test_accounts=test_accounts,
        chain_name="ccoin-dev",
        genesis_time=int(time.time()),
        block_time_ms=1000,
        kdf=kdf,
    )
    config = NodeConfig(
        name="node0",
        data_dir=directory / "data",
        genesis=result.genesis_path,
        keystore=result.delegate_keystores[0],
        passphrase_file=passphrase_file,
        pool=PoolLimits(),
        rpc=rpc,
        verify_workers="processes",
    )
    config_path.write_text(json.dumps(config.to_json(directory), indent=2) + "\n")
    print_json(
        {
            "config": str(config_path),
            "genesis": str(result.genesis_path),
            "rpc": f"http://{rpc.listen}",
        }
    )


@node_group.command("start")
@click.option(
    "--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False)
)
@reports_errors
def node_start(config_path: Path) -> None:
    """Start the node described by CONFIG; stops cleanly on SIGINT or SIGTERM."""
    config = NodeConfig.load(config_path)
    setup_logging(config.log_level, config.log)
    genesis = GenesisConfig.load(config.genesis)
    key = load_delegate_key(config)
    trio.run(_run_until_signal, config, genesis, key)


async def _run_until_signal(config: NodeConfig, genesis: GenesisConfig, key: object) -> None:
    node = Node(config, genesis, key)  # type: ignore[arg-type]
    try:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(node.run)

                async def stop_on_signal() -> None:
                    async for signum in signals:
                        event("signal", signal=signal.Signals(signum).name)
                        nursery.cancel_scope.cancel()
                        return

                nursery.start_soon(stop_on_signal)
    finally:
        node.close()
