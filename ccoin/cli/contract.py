"""`ccoin contract`: deploy, upgrade, call and read contracts through a node's RPC.

`deploy FILE` and `call ADDRESS METHOD` are transactions (types 5 and 8): they sign,
submit, wait (included by default) and print the receipt; a contract that fails still
costs its fee, and the command then exits with status 2 after printing why. `view` is the
read-only `ccoin_callContract`; `show` prints the contract record; `example` prints one of
the example contracts that ship with ccoin (`ccoin.contracts`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ccoin.cli.common import print_json
from ccoin.cli.remote import (
    Submit,
    connect,
    fail_line,
    node_options,
    parse_amount,
    reports_client_errors,
    submit_options,
)
from ccoin.client.sync import Client
from ccoin.errors import DecodeError, ErrorCode


@click.group("contract")
def contract_group() -> None:
    """Deploy, upgrade, call and read contracts (docs/spec/vm.md)."""


def _json_args(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(ErrorCode.BAD_JSON, f"--args: not JSON ({exc})") from None
    if type(value) is not list:
        raise DecodeError(ErrorCode.BAD_JSON, "--args: a JSON array of arguments")
    return value


def _read_code(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DecodeError(ErrorCode.BAD_FIELD, f"{path}: cannot read ({exc})") from None


def _finish(submit: Submit, client: Client, tx_id: str) -> None:
    """Wait as asked; print the id, status and receipt; exit 2 when the contract failed."""
    out: dict[str, Any] = {"id": tx_id, "status": "submitted", "receipt": None}
    if submit.wait != "none":
        found = client.wait_for(tx_id, submit.wait, timeout=submit.timeout)
        out.update(status=found["status"], blockId=found["blockId"], height=found["height"])
        out["receipt"] = client.get_transaction(tx_id)["receipt"]
    receipt = out["receipt"]
    if submit.as_json:
        print_json(out)
    elif receipt is None:
        click.echo(f"{out['status']} {tx_id}")
    else:
        click.echo(f"{out['status']} {tx_id} in block {out['blockId']} at {out['height']}")
        click.echo(
            f"contract {receipt['contract']}  gas {receipt['gasUsed']}/{receipt['gasLimit']}"
        )
        if receipt["ok"]:
            click.echo(f"value {json.dumps(receipt['value'])}")
            for item in receipt["events"]:
                click.echo(f"event {item['name']} {json.dumps(item['fields'])}")
    if receipt is not None and not receipt["ok"]:
        text = f"{receipt['errorName']} ({receipt['errorCode']}): {receipt['error']}"
        fail_line(f"{text} (transaction {tx_id}, fee paid)", RuntimeError(text))


@contract_group.command("deploy")
@click.argument("code_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--name", required=True, help="The application's name (1-64 of A-Z a-z 0-9 _ . -).")
@click.option("--init-args", default="[]", help="Arguments of the contract's init, a JSON array.")
@click.option("--upgrade", metavar="ADDRESS", help="Replace this contract's code (owner only).")
@submit_options()
def contract_deploy(
    submit: Submit, code_file: Path, name: str, init_args: str, upgrade: str | None
) -> None:
    """Deploy the contract in CODE_FILE (or upgrade one); prints its receipt and address."""
    code = _read_code(code_file)
    args = _json_args(init_args)
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.deploy_contract(
            key, name, code, args, upgrade=upgrade, fee=submit.fee_units(), second_key=second
        )
        _finish(submit, client, tx_id)


@contract_group.command("call")
@click.argument("address")
@click.argument("method")
@click.option("--args", "args_json", default="[]", help="The arguments, a JSON array.")
@click.option("--gas-limit", default=100_000, show_default=True, help="Gas the call may use.")
@click.option("--amount", default="0", help="C to attach: base units, or C as in 1.5C.")
@submit_options()
def contract_call(
    submit: Submit, address: str, method: str, args_json: str, gas_limit: int, amount: str
) -> None:
    """Call METHOD of the contract at ADDRESS as a transaction; prints its receipt."""
    args = _json_args(args_json)
    units = parse_amount(amount, "--amount")
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        tx_id = client.call_contract(
            key,
            address,
            method,
            args,
            gas_limit=gas_limit,
            amount=units,
            fee=submit.fee_units(),
            second_key=second,
        )
        _finish(submit, client, tx_id)


@contract_group.command("view")
@click.argument("address")
@click.argument("method")
@click.option("--args", "args_json", default="[]", help="The arguments, a JSON array.")
@click.option("--sender", help="ctx.sender for the call (default: the contract itself).")
@click.option("--value", default="0", help="C to pretend attached: base units or 1.5C.")
@click.option("--gas-limit", type=int, help="Gas cap (default: the node's maxViewGas).")
@node_options
@reports_client_errors
def contract_view(
    node_url: str,
    as_json: bool,
    address: str,
    method: str,
    args_json: str,
    sender: str | None,
    value: str,
    gas_limit: int | None,
) -> None:
    """Run METHOD read-only at the head's state; prints the value (nothing is applied)."""
    args = _json_args(args_json)
    units = parse_amount(value, "--value")
    with connect(node_url) as client:
        receipt = client.view_contract(
            address, method, args, sender=sender, value=units, gas_limit=gas_limit
        )
    if as_json:
        print_json(receipt)
    elif receipt["ok"]:
        click.echo(json.dumps(receipt["value"]))
    if not receipt["ok"]:
        text = f"{receipt['errorName']} ({receipt['errorCode']}): {receipt['error']}"
        fail_line(text, RuntimeError(text))


@contract_group.command("show")
@click.argument("address")
@click.option("--code", "include_code", is_flag=True, help="Print the source too.")
@node_options
@reports_client_errors
def contract_show(node_url: str, as_json: bool, address: str, include_code: bool) -> None:
    """A contract's owner, name, version, code hash and balance."""
    with connect(node_url) as client:
        record = client.get_contract(address, include_code)
    if as_json:
        print_json(record)
        return
    for field in ("address", "name", "owner", "version", "deployedHeight", "codeHash", "balance"):
        click.echo(f"{field}: {record[field]}")
    if include_code:
        click.echo(record["code"])


@contract_group.command("example")
@click.argument("name", required=False)
def contract_example(name: str | None) -> None:
    """Print the source of an example contract that ships with ccoin, e.g.
    `ccoin contract example token > token.py`; without NAME, list them."""
    from ccoin.contracts import example_names, example_source

    if name is None:
        for known in example_names():
            click.echo(known)
        return
    try:
        source = example_source(name)
    except LookupError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="NAME") from None
    click.echo(source, nl=False)
