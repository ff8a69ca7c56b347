"""`ccoin carbon`: the carbon module through a node's RPC (`ccoin.client`).

Transactions (signed and submitted as `ccoin tx` does, with the same key, fee and wait
options): the committee's `admit-class`, `remove-class`, `admit-issuer`, `remove-issuer`;
an issuer's `project` and `issue`; a holder's `transfer`, `retire` and `cancel`. Reads:
`classes`, `issuers`, `projects`, `batches`, `batch`, `holdings`, `history`,
`retirements`, `certificate`; and `prove`, a retirement's proof for the range anchored on
BSC that holds it, which `--record` submits to the RetirementRegistry there.

Loaded only when `ccoin carbon` runs; BSC's libraries only by `prove` on BSC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ccoin.cli.remote import Submit, connect, submit_options
from ccoin.client import Client
from ccoin.client import carbon as C
from ccoin.crypto.address import address_raw
from ccoin.modules.carbon.cli_reads import READS

_RANGE_RE = re.compile(r"\A([0-9]+)(?:-([0-9]+))?\Z")
_VINTAGE_RE = re.compile(r"\A([0-9]{8})-([0-9]{8})\Z")


@click.group("carbon")
def carbon() -> None:
    """Carbon credits: classes, issuers, projects, batches, retirements (docs/spec/carbon.md)."""


# -- option values -------------------------------------------------------------------------


def parse_ranges(text: str, option: str = "--ranges") -> list[tuple[int, int]]:
    """'1-100,200-250' (a serial alone is a range of one): the ranges, in the order given."""
    out = []
    for part in text.replace(" ", "").split(","):
        match = _RANGE_RE.match(part)
        if match is None:
            raise click.BadParameter(
                f"{part!r}: serial ranges as FIRST-LAST[,FIRST-LAST...], e.g. 1-100,200-250",
                param_hint=option,
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first:
            raise click.BadParameter(f"{part!r}: 1 <= first <= last", param_hint=option)
        out.append((first, last))
    return out


def parse_vintage(text: str) -> tuple[int, int]:
    match = _VINTAGE_RE.match(text.strip())
    if match is None:
        raise click.BadParameter(
            f"{text!r}: the vintage as START-END, each YYYYMMDD (20240101-20241231)",
            param_hint="--vintage",
        )
    return int(match.group(1)), int(match.group(2))


def parse_classes(text: str) -> list[str]:
    classes = [c for c in text.replace(" ", "").split(",") if c]
    if not classes:
        raise click.BadParameter("at least one class id, e.g. VCS,GS", param_hint="--classes")
    return classes


def metadata_hash(metadata_file: Path | None, metadata_hex: str | None) -> str:
    """The 32-byte hash the asset commits to: a document's SHA-256, or given in hex."""
    if (metadata_file is None) == (metadata_hex is None):
        raise click.UsageError(
            "give --metadata-file FILE (its SHA-256 goes on chain) or --metadata-hash HEX"
        )
    if metadata_file is not None:
        try:
            return hashlib.sha256(metadata_file.read_bytes()).hexdigest()
        except OSError as exc:
            raise click.UsageError(f"{metadata_file}: {exc.strerror}") from None
    assert metadata_hex is not None
    return metadata_hex.lower().removeprefix("0x")


def selection(quantity: int | None, ranges: str | None) -> tuple[int, list[tuple[int, int]]]:
    """(quantity, ranges) of a transfer, retirement or cancellation: exactly one given."""
    if (quantity is None) == (ranges is None):
        raise click.UsageError(
            "give --quantity N (the lowest serials held) or --ranges FIRST-LAST,..."
        )
    return (quantity or 0), ([] if ranges is None else parse_ranges(ranges))


def metadata_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--metadata-hash", "metadata_hex", help="The document's SHA-256, in hex.")(
        func
    )
    return click.option(
        "--metadata-file",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="The project or issuance document: its SHA-256 goes on chain.",
    )(func)


def selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--ranges", help="Serial ranges instead: FIRST-LAST[,FIRST-LAST...], e.g. 1-100,200-250."
    )(func)
    return click.option(
        "--quantity", type=click.IntRange(1), help="How many credits: the lowest serials held."
    )(func)


# -- transactions ----------------------------------------------------------------------------

Send = Callable[[Client, Any, Any], str]  # (client, key, second key) -> transaction id


def send(
    submit: Submit, build: Send, more: Callable[[Client], dict[str, Any]] | None = None
) -> None:
    """Unlock the keys, sign and submit through the node, wait and report as `ccoin tx`."""
    key, second = submit.key(), submit.second_key()
    with connect(submit.node_url) as client:
        submit.finish(client, build(client, key, second), more)


@carbon.command("admit-class")
@click.argument("class_id")
@click.option("--name", required=True, help="What the class is, e.g. 'Verified Carbon Unit'.")
@submit_options()
def admit_class(submit: Submit, class_id: str, name: str) -> None:
    """The committee admits credit class CLASS_ID (1-8 of A-Z 0-9, a letter first)."""
    C.admit_class_asset(class_id, name)  # refused here, before a passphrase is asked
    send(
        submit,
        lambda c, k, s: c.carbon.admit_class(
            k, class_id, name, fee=submit.fee_units(), second_key=s
        ),
    )


@carbon.command("remove-class")
@click.argument("class_id")
@submit_options()
def remove_class(submit: Submit, class_id: str) -> None:
    """The committee removes credit class CLASS_ID (its credits stay as they are)."""
    C.remove_class_asset(class_id)
    send(
        submit,
        lambda c, k, s: c.carbon.remove_class(k, class_id, fee=submit.fee_units(), second_key=s),
    )


@carbon.command("admit-issuer")
@click.argument("issuer")
@click.option("--classes", required=True, help="The classes it may issue, e.g. VCS,GS.")
@submit_options()
def admit_issuer(submit: Submit, issuer: str, classes: str) -> None:
    """The committee admits address ISSUER for --classes (again: replaces its classes)."""
    chosen = parse_classes(classes)
    C.admit_issuer_asset(issuer, chosen)
    send(
        submit,
        lambda c, k, s: c.carbon.admit_issuer(
            k, issuer, chosen, fee=submit.fee_units(), second_key=s
        ),
    )


@carbon.command("remove-issuer")
@click.argument("issuer")
@submit_options()
def remove_issuer(submit: Submit, issuer: str) -> None:
    """The committee removes issuer ISSUER (its projects and batches stay)."""
    C.remove_issuer_asset(issuer)
    send(
        submit,
        lambda c, k, s: c.carbon.remove_issuer(k, issuer, fee=submit.fee_units(), second_key=s),
    )


@carbon.command("project")
@click.argument("project_id")
@click.option("--class", "class_id", required=True, help="Its credit class, e.g. VCS.")
@click.option("--name", required=True, help="The project's name.")
@click.option("--jurisdiction", required=True, help="ISO 3166-2: KE, or BR-PA.")
@click.option("--methodology", required=True, help="The methodology, e.g. VM0009.")
@metadata_options
@submit_options()
def project(
    submit: Submit,
    project_id: str,
    class_id: str,
    name: str,
    jurisdiction: str,
    methodology: str,
    metadata_file: Path | None,
    metadata_hex: str | None,
) -> None:
    """An issuer registers project PROJECT_ID (1-32 of A-Z 0-9 -) in a class it may issue."""
    digest = metadata_hash(metadata_file, metadata_hex)
    C.project_asset(project_id, class_id, name, jurisdiction, methodology, digest)
    send(
        submit,
        lambda c, k, s: c.carbon.register_project(
            k,
            project_id,
            class_id,
            name,
            jurisdiction,
            methodology,
            digest,
            fee=submit.fee_units(),
            second_key=s,
        ),
    )


@carbon.command("issue")
@click.argument("project_id")
@click.option("--first", type=click.IntRange(1), required=True, help="The batch's first serial.")
@click.option("--last", type=click.IntRange(1), required=True, help="Its last serial.")
@click.option("--origin", required=True, help="The source registry's serial (upper case).")
@click.option("--vintage", required=True, help="START-END, each YYYYMMDD.")
@click.option("--to", "recipient", required=True, help="Who receives the credits.")
@metadata_options
@submit_options()
def issue(
    submit: Submit,
    project_id: str,
    first: int,
    last: int,
    origin: str,
    vintage: str,
    recipient: str,
    metadata_file: Path | None,
    metadata_hex: str | None,
) -> None:
    """The project's issuer issues serials --first..--last as a new batch (PROJECT-NNN),
    once included; prints its batch id."""
    years = parse_vintage(vintage)
    digest = metadata_hash(metadata_file, metadata_hex)
    C.issue_asset(project_id, first, last, origin, years, digest)
    address_raw(recipient)  # a clear BAD_ADDRESS before a passphrase is asked
    sent: list[str] = []

    def build(client: Client, key: Any, second: Any) -> str:
        sent.append(
            client.carbon.issue(
                key,
                project_id,
                first,
                last,
                origin,
                recipient,
                vintage=years,
                metadata_hash=digest,
                fee=submit.fee_units(),
                second_key=second,
            )
        )
        return sent[0]

    def batch(client: Client) -> dict[str, Any]:
        for found in client.carbon.batches(project_id, limit=1000):
            if found["transactionId"] == sent[0]:
                return {"batchId": found["batchId"]}
        return {}

    send(submit, build, batch)


@carbon.command("transfer")
@click.argument("batch_id")
@click.option("--to", "recipient", required=True, help="Who receives the credits.")
@selection_options
@submit_options()
def transfer(
    submit: Submit, batch_id: str, recipient: str, quantity: int | None, ranges: str | None
) -> None:
    """Send credits of BATCH_ID: --quantity (the lowest serials held) or --ranges."""
    count, serials = selection(quantity, ranges)
    C.transfer_asset(batch_id, count, serials)
    address_raw(recipient)
    send(
        submit,
        lambda c, k, s: c.carbon.transfer(
            k,
            recipient,
            batch_id,
            quantity=count,
            ranges=serials,
            fee=submit.fee_units(),
            second_key=s,
        ),
    )


@carbon.command("retire")
@click.argument("batch_id")
@selection_options
@click.option("--beneficiary", required=True, help="For whom the credits are retired.")
@click.option("--jurisdiction", required=True, help="Where it counts, ISO 3166-2: GB, US-CA.")
@click.option("--reason", default="", help="Why (shown on the certificate).")
@submit_options()
def retire(
    submit: Submit,
    batch_id: str,
    quantity: int | None,
    ranges: str | None,
    beneficiary: str,
    jurisdiction: str,
    reason: str,
) -> None:
    """Retire credits of BATCH_ID for good; the transaction id is the retirement's (see
    `certificate` and `prove`)."""
    count, serials = selection(quantity, ranges)
    C.retire_asset(batch_id, beneficiary, jurisdiction, reason, count, serials)
    send(
        submit,
        lambda c, k, s: c.carbon.retire(
            k,
            batch_id,
            beneficiary=beneficiary,
            jurisdiction=jurisdiction,
            reason=reason,
            quantity=count,
            ranges=serials,
            fee=submit.fee_units(),
            second_key=s,
        ),
    )


@carbon.command("cancel")
@click.argument("batch_id")
@selection_options
@click.option("--reason", required=True, help="Why: moved to another registry, invalid...")
@submit_options()
def cancel(
    submit: Submit, batch_id: str, quantity: int | None, ranges: str | None, reason: str
) -> None:
    """Take credits of BATCH_ID out of circulation for good."""
    count, serials = selection(quantity, ranges)
    C.cancel_asset(batch_id, reason, count, serials)
    send(
        submit,
        lambda c, k, s: c.carbon.cancel(
            k,
            batch_id,
            reason=reason,
            quantity=count,
            ranges=serials,
            fee=submit.fee_units(),
            second_key=s,
        ),
    )


for _read in READS:
    carbon.add_command(_read)
