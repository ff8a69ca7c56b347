"""`ccoin carbon`'s reads (`classes`, `issuers`, `projects`, `batches`, `batch`,
`holdings`, `history`, `retirements`, `certificate`) and `prove`, through a node's RPC:
human lines, or the node's JSON with `--json`. `ccoin.modules.carbon.cli` mounts them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ccoin.cli.common import print_json
from ccoin.cli.remote import connect, node_options, reports_client_errors

# -- reads -------------------------------------------------------------------------------------


def ranges_text(ranges: Sequence[Sequence[str]]) -> str:
    return ",".join(first if first == last else f"{first}-{last}" for first, last in ranges)


def show(value: Any, as_json: bool, rows: Callable[[Any], list[str]]) -> None:
    if as_json:
        print_json(value)
        return
    for line in rows(value):
        click.echo(line)


def fields(record: dict[str, Any], indent: str = "") -> list[str]:
    """`name: value` lines, nested objects indented, serial ranges as FIRST-LAST."""
    out = []
    for name, value in record.items():
        if isinstance(value, dict):
            out += [f"{indent}{name}:", *fields(value, indent + "  ")]
        elif name == "ranges":
            out.append(f"{indent}{name}: {ranges_text(value)}")
        elif isinstance(value, list):
            out.append(f"{indent}{name}: {','.join(str(v) for v in value)}")
        else:
            out.append(f"{indent}{name}: {value}")
    return out


def _limit(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
        help="At most this many.")(func)  # fmt: skip


@click.command("classes")
@node_options
@reports_client_errors
def classes(node_url: str, as_json: bool) -> None:
    """Credit classes, removed ones too (their credits remain)."""
    with connect(node_url) as client:
        found = client.carbon.classes()

    def rows(items: list[dict[str, Any]]) -> list[str]:
        out = []
        for c in items:
            state = "active" if c["active"] else f"removed at {c['removedHeight']}"
            out.append(f"{c['classId']}  {c['name']}  admitted at {c['admittedHeight']}, {state}")
        return out or ["no credit classes"]

    show(found, as_json, rows)


@click.command("issuers")
@node_options
@reports_client_errors
def issuers(node_url: str, as_json: bool) -> None:
    """Admitted issuers and the classes each may issue."""
    with connect(node_url) as client:
        found = client.carbon.issuers()
    show(
        found,
        as_json,
        lambda items: (
            [
                f"{i['issuer']}  {','.join(i['classes'])}  admitted at {i['admittedHeight']}"
                for i in items
            ]
            or ["no issuers"]
        ),
    )


@click.command("projects")
@click.option("--class", "class_id", help="Only this class's projects.")
@_limit
@node_options
@reports_client_errors
def projects(class_id: str | None, limit: int, node_url: str, as_json: bool) -> None:
    """Registered projects."""
    with connect(node_url) as client:
        found = client.carbon.projects(class_id, limit)
    show(
        found,
        as_json,
        lambda items: (
            [
                f"{p['projectId']}  {p['classId']}  {p['name']}  {p['jurisdiction']}  "
                f"{p['methodology']}  issuer {p['issuer']}  {p['batches']} batches"
                for p in items
            ]
            or ["no projects"]
        ),
    )


@click.command("batches")
@click.option("--project", "project_id", help="Only this project's batches.")
@_limit
@node_options
@reports_client_errors
def batches(project_id: str | None, limit: int, node_url: str, as_json: bool) -> None:
    """Issued batches and their supply."""
    with connect(node_url) as client:
        found = client.carbon.batches(project_id, limit)
    show(
        found,
        as_json,
        lambda items: (
            [
                f"{b['batchId']}  serials {b['first']}-{b['last']}  vintage {b['vintageStart']}-"
                f"{b['vintageEnd']}  issued {b['issued']}: tradable {b['tradable']}, retired "
                f"{b['retired']}, cancelled {b['cancelled']}"
                for b in items
            ]
            or ["no batches"]
        ),
    )


@click.command("batch")
@click.argument("batch_id")
@node_options
@reports_client_errors
def batch(batch_id: str, node_url: str, as_json: bool) -> None:
    """One batch: its serials, origin, issuer and supply."""
    with connect(node_url) as client:
        found = client.carbon.batch(batch_id)
    show(found, as_json, fields)


@click.command("holdings")
@click.argument("address")
@_limit
@node_options
@reports_client_errors
def holdings(address: str, limit: int, node_url: str, as_json: bool) -> None:
    """ADDRESS's tradable credits, per batch, as serial ranges."""
    with connect(node_url) as client:
        found = client.carbon.holdings(address, limit)
    show(
        found,
        as_json,
        lambda value: (
            [
                f"{h['batchId']}  {h['quantity']}  serials {ranges_text(h['ranges'])}"
                for h in value["holdings"]
            ]
            or [f"{address} holds no credits"]
        ),
    )


@click.command("history")
@click.argument("batch_id")
@click.argument("serial", type=click.IntRange(1))
@_limit
@node_options
@reports_client_errors
def history(batch_id: str, serial: int, limit: int, node_url: str, as_json: bool) -> None:
    """Every event that moved SERIAL of BATCH_ID, oldest first, and where it is now."""
    with connect(node_url) as client:
        found = client.carbon.serial_history(batch_id, serial, limit)

    def rows(value: dict[str, Any]) -> list[str]:
        now = f"{value['status']}, held by {value['holder']}"
        if value["retirementId"]:
            now += f", retirement {value['retirementId']}"
        out = [f"{value['batchId']} serial {value['serial']}: {now}"]
        for e in value["events"]:
            out.append(
                f"  {e['height']}  {e['kind']}  {e['from'] or '-'} -> {e['to'] or '-'}  "
                f"in {e['transactionId']} (range {e['range'][0]}-{e['range'][1]})"
            )
        if not value["complete"]:
            out.append(f"  ... (the first {limit} events; --limit for more)")
        return out

    show(found, as_json, rows)


@click.command("retirements")
@click.option("--beneficiary", help="Retired for this beneficiary.")
@click.option("--project", "project_id", help="Credits of this project.")
@click.option("--from", "from_height", type=click.IntRange(0), help="At or above this height.")
@click.option("--to", "to_height", type=click.IntRange(0), help="At or below this height.")
@_limit
@node_options
@reports_client_errors
def retirements(
    beneficiary: str | None,
    project_id: str | None,
    from_height: int | None,
    to_height: int | None,
    limit: int,
    node_url: str,
    as_json: bool,
) -> None:
    """Retirements in height order, by beneficiary, project and heights."""
    with connect(node_url) as client:
        found = client.carbon.retirements(
            beneficiary=beneficiary,
            project_id=project_id,
            from_height=from_height,
            to_height=to_height,
            limit=limit,
        )
    show(
        found,
        as_json,
        lambda items: (
            [
                f"{r['retirementId']}  at {r['height']}  {r['batchId']}  {r['quantity']}  for "
                f"{r['beneficiary']} ({r['jurisdiction']})  serials {ranges_text(r['ranges'])}"
                for r in items
            ]
            or ["no retirements"]
        ),
    )


@click.command("certificate")
@click.argument("retirement_id", metavar="ID")
@node_options
@reports_client_errors
def certificate(retirement_id: str, node_url: str, as_json: bool) -> None:
    """The certificate of retirement ID (its transaction's id or hash): stable JSON with
    --json, to keep or to hand on."""
    with connect(node_url) as client:
        found = client.carbon.certificate(retirement_id)
    show(found, as_json, fields)


# -- proofs on BSC ------------------------------------------------------------------------------


@click.command("prove")
@click.argument("retirement_id", metavar="RETIREMENT_ID")
@click.option(
    "--from",
    "from_height",
    type=click.IntRange(1),
    help="First height of the anchored range (else found on BSC).",
)
@click.option(
    "--to",
    "to_height",
    type=click.IntRange(1),
    help="Last height of that range (finalized on the node).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Submit the proof to the RetirementRegistry on BSC (the payer pays gas); "
    "refused if the retirement is recorded there already.",
)
@click.option(
    "--devnet",
    "devnet_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A devnet directory: its anvil, RetirementRegistry and BSC user key, "
    "unless the options below say otherwise.",
)
@click.option("--bsc", "bsc_url", help="A BSC JSON-RPC URL.")
@click.option("--registry", "registry_address", help="The RetirementRegistry (0x...).")
@click.option(
    "--payer-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An Ethereum v3 keystore paying BSC gas (--record).",
)
@click.option("--payer-passphrase-file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--timeout",
    default=120.0,
    show_default=True,
    help="Seconds to wait for finality and for the anchor on BSC.",
)
@node_options
@reports_client_errors
def prove(
    retirement_id: str,
    from_height: int | None,
    to_height: int | None,
    record: bool,
    timeout: float,
    node_url: str,
    as_json: bool,
    **bsc: Any,
) -> None:
    """Print the proof of RETIREMENT_ID: the retirement under its block's retirementRoot,
    and the block under the anchored range's root (RetirementRegistry.record's arguments).
    The range is the one the Anchor on BSC holds the block in (waiting for it), unless
    --from and --to name it."""
    if (from_height is None) != (to_height is None):
        raise click.UsageError("give both --from and --to, or neither (then BSC is asked)")
    if from_height is not None and to_height is not None:
        if record:
            raise click.UsageError("--record finds the anchored range on BSC: drop --from/--to")
        with connect(node_url) as client:
            proof = client.carbon.retirement_proof(retirement_id, from_height, to_height)
        show(proof, as_json, fields)
        return
    from ccoin.modules.carbon.registry import prove_on_bsc  # BSC's libraries: only here

    out = prove_on_bsc(retirement_id, record, timeout, node_url, **bsc)
    show(out, as_json, fields)


READS = (
    classes,
    issuers,
    projects,
    batches,
    batch,
    holdings,
    history,
    retirements,
    certificate,
    prove,
)
