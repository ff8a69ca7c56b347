"""`ccoin status|account|block`: read a running node's chain through its RPC API."""

from __future__ import annotations

from typing import Any

import click

from ccoin.cli.common import print_json
from ccoin.cli.remote import connect, node_options, reports_client_errors
from ccoin.types.codec import format_amount


@click.command("status")
@node_options
@reports_client_errors
def status_command(node_url: str, as_json: bool) -> None:
    """The node's chain, height, finality, peers and pool."""
    with connect(node_url) as client:
        status = client.status()
    if as_json:
        print_json(status)
        return
    final = status["finalizedId"] or "-"
    click.echo(
        f"chain      {status['chainName']} (network {status['networkId'][:16]}..)\n"
        f"node       {status['name']} {status['version']} at {client.url}\n"
        f"head       {status['height']} {status['headId']}\n"
        f"finalized  {status['finalizedHeight']} {final}\n"
        f"peers      {status['peers']}\n"
        f"mempool    {status['mempoolSize']} transactions, {status['mempoolBytes']} bytes"
    )


@click.command("account")
@click.argument("address")
@node_options
@reports_client_errors
def account_command(address: str, node_url: str, as_json: bool) -> None:
    """An account's balance, keys, votes and delegate record."""
    with connect(node_url) as client:
        account = client.get_account(address)
    if as_json:
        print_json(account)
        return
    lines = [
        f"address    {account['address']}" + ("" if account["exists"] else " (no such account)"),
        f"balance    {format_amount(account['balance'])} ({account['balance']} units)",
        f"pending    {account['pending']} transactions in the pool",
    ]
    if account.get("publicKey"):
        lines.append(f"publicKey  {account['publicKey']}")
    if account.get("secondPublicKey"):
        lines.append(f"secondKey  {account['secondPublicKey']}")
    if account.get("multisignature"):
        group = account["multisignature"]
        lines.append(f"multisig   {group['min']} of {len(group['keysgroup'])}")
    if account.get("locked"):
        lines.append("locked     yes (cannot send)")
    lines += [f"votes      {v}" for v in account.get("votes", [])]
    if account.get("delegate"):
        d = account["delegate"]
        lines.append(f"delegate   {d['username']} (votes {format_amount(d['voteWeight'])})")
    click.echo("\n".join(lines))


@click.command("block")
@click.argument("which", metavar="HEIGHT|ID")
@click.option("--transactions", is_flag=True, help="Include the full transactions.")
@node_options
@reports_client_errors
def block_command(which: str, transactions: bool, node_url: str, as_json: bool) -> None:
    """A block by height, id, 'head' or 'finalized'."""
    selector: int | str = int(which) if which.isdigit() else which
    with connect(node_url) as client:
        block = client.get_block(selector, transactions=transactions)
    if as_json:
        print_json(block)
        return
    click.echo("\n".join(block_lines(block)))


def block_lines(block: dict[str, Any]) -> list[str]:
    lines = [
        f"block      {block['height']} {block['id']}",
        f"timestamp  {block['timestamp']} (seconds since genesis)",
        f"generator  {block['generatorPublicKey']}",
        f"amount     {format_amount(block['totalAmount'])}, fees {format_amount(block['totalFee'])}"
        f", reward {format_amount(block['reward'])}",
        f"txs        {block['numberOfTransactions']}",
    ]
    for tx in block.get("transactions", []):
        to = f" -> {tx['recipientId']}" if tx.get("recipientId") else ""
        lines.append(
            f"  {tx['id']} type {tx['type']} {tx['senderId']}{to} {format_amount(tx['amount'])}"
        )
    lines += [f"  {tx_id}" for tx_id in block.get("transactionIds", [])]
    return lines
