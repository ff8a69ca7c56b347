"""`ccoin bridge`: the sidechain side of the BSC bridge, through a node's RPC.

`prove` prints what `Bridge.withdraw` on BSC needs for a withdrawal (a type-7 transaction),
given the anchored range that holds it (`Anchor.range(i)` on BSC tells the ranges).
"""

from __future__ import annotations

import click

from ccoin.cli.common import print_json
from ccoin.cli.remote import connect, node_options, reports_client_errors


@click.group("bridge")
def bridge_group() -> None:
    """The bridge to BNB Smart Chain (docs/spec/bridge.md)."""


@bridge_group.command("prove")
@click.argument("withdrawal_id")
@click.option("--from", "from_height", type=click.IntRange(1), required=True,
              help="First height of the anchored range holding the withdrawal.")  # fmt: skip
@click.option("--to", "to_height", type=click.IntRange(1), required=True,
              help="Last height of that range (finalized on the node).")  # fmt: skip
@node_options
@reports_client_errors
def bridge_prove(
    node_url: str, as_json: bool, withdrawal_id: str, from_height: int, to_height: int
) -> None:
    """Print the proof of WITHDRAWAL_ID: the withdrawal under its block's withdrawalRoot,
    and the block under the anchored range's root."""
    with connect(node_url) as client:
        proof = client.get_withdrawal_proof(withdrawal_id, from_height, to_height)
    if as_json:
        print_json(proof)
        return
    for name, value in proof.items():
        shown = ",".join(value) if isinstance(value, list) else value
        click.echo(f"{name}: {shown}")
