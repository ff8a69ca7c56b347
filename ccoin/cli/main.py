"""Entry point of the `ccoin` command."""

from __future__ import annotations

import click

from ccoin import __version__
from ccoin.cli.bench import bench
from ccoin.cli.bridge import bridge_group
from ccoin.cli.chain import account_command, block_command, status_command
from ccoin.cli.contract import contract_group
from ccoin.cli.devnet import devnet_group
from ccoin.cli.genesis import genesis_group
from ccoin.cli.keys import keys_group
from ccoin.cli.node import node_group
from ccoin.cli.relay import relay
from ccoin.cli.tx import tx_group


@click.group()
@click.version_option(__version__, prog_name="ccoin")
def cli() -> None:
    """Carbon Coin node: a permissioned DPoS sidechain of BNB Smart Chain."""


cli.add_command(keys_group)
cli.add_command(tx_group)
cli.add_command(contract_group)
cli.add_command(bridge_group)
cli.add_command(relay)
cli.add_command(genesis_group)
cli.add_command(node_group)
cli.add_command(devnet_group)
cli.add_command(status_command)
cli.add_command(account_command)
cli.add_command(block_command)
cli.add_command(bench)


def main() -> None:
    cli(prog_name="ccoin")


if __name__ == "__main__":
    main()
