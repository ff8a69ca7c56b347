"""Entry point of the `ccoin` command.

Commands are loaded when they run: `COMMANDS` names the module of each one and carries the
one-line summary that `ccoin --help` lists, so that neither `--help` nor a command imports
what the other commands use (eth-account, the node, the bench). A test keeps each summary
equal to its command's help and guards what importing this module loads.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click

from ccoin import __version__


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives (`module:attribute`) and the summary `ccoin --help` shows."""

    target: str
    summary: str

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), self.target
        return command


COMMANDS: dict[str, LazyCommand] = {
    "account": LazyCommand(
        "ccoin.cli.chain:account_command", "An account's balance, keys, votes and delegate record."
    ),
    "bench": LazyCommand(
        "ccoin.cli.bench:bench",
        "Pre-sign TXS transactions, submit them over RPC in batches to every node, follow "
        "each to finality (as a WebSocket subscriber sees it), and report throughput, latency "
        "and every refusal (a run is `clean` when all TXS finalized).",
    ),
    "block": LazyCommand(
        "ccoin.cli.chain:block_command", "A block by height, id, 'head' or 'finalized'."
    ),
    "bridge": LazyCommand(
        "ccoin.cli.bridge:bridge_group", "The bridge to BNB Smart Chain (docs/spec/bridge.md)."
    ),
    "carbon": LazyCommand(
        "ccoin.modules.carbon.cli:carbon",
        "Carbon credits: classes, issuers, projects, batches, retirements (docs/spec/carbon.md).",
    ),
    "contract": LazyCommand(
        "ccoin.cli.contract:contract_group",
        "Deploy, upgrade, call and read contracts (docs/spec/vm.md).",
    ),
    "devnet": LazyCommand("ccoin.cli.devnet:devnet_group", "A local multi-node dev network."),
    "genesis": LazyCommand("ccoin.cli.genesis:genesis_group", "Create genesis files."),
    "keys": LazyCommand("ccoin.cli.keys:keys_group", "Create and inspect keystores."),
    "node": LazyCommand("ccoin.cli.node:node_group", "Run a node."),
    "relay": LazyCommand(
        "ccoin.cli.relay:relay",
        "Run the bridge relayer described by CONFIG (see ccoin/bridge/relay_config.py).",
    ),
    "status": LazyCommand(
        "ccoin.cli.chain:status_command", "The node's chain, height, finality, peers and pool."
    ),
    "tx": LazyCommand(
        "ccoin.cli.tx:tx_group", "Build, sign and inspect transactions; submit them to a node."
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one of them is asked for."""

    def __init__(self, *args: object, lazy: dict[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, but from the summaries: listing loads no command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            # A stand-in with the summary as its help shortens it as click shortens any.
            shown = loaded or click.Command(name, help=self.lazy[name].summary)
            rows.append((name, shown.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="ccoin")
def cli() -> None:
    """Carbon Coin node: a permissioned DPoS sidechain of BNB Smart Chain."""


def main() -> None:
    cli(prog_name="ccoin")


if __name__ == "__main__":
    main()
