"""Plumbing shared by the commands that talk to a running node through `ccoin.client`:
the `--node` and `--json` options, one-line errors (exit 2), keys and amounts."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ccoin.cli.common import PASSPHRASE_ENV, load_key, print_json, reports_errors
from ccoin.client import (
    DEFAULT_URL,
    BadResponse,
    Client,
    NodeError,
    NodeUnreachable,
    WaitTimeout,
)
from ccoin.crypto.keys import KeyPair
from ccoin.types.codec import UNIT

F = TypeVar("F", bound=Callable[..., Any])

NODE_ENV = "CCOIN_NODE"
DECIMALS = len(str(UNIT)) - 1


def node_options(func: F) -> F:
    """`--node URL` (or $CCOIN_NODE) and `--json`."""
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")(func)
    return click.option(
        "--node",
        "node_url",
        default=DEFAULT_URL,
        show_default=True,
        envvar=NODE_ENV,
        help=f"The node's RPC URL (env {NODE_ENV}).",
    )(func)


def reports_client_errors(func: F) -> F:
    """Like `reports_errors`, for the client's errors too: one line, exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NodeError as exc:
            fail_line(str(exc), exc)  # NAME (number): message, with the id if rejected
        except NodeUnreachable as exc:
            fail_line(f"NODE_UNREACHABLE: {exc}", exc)
        except WaitTimeout as exc:
            fail_line(f"WAIT_TIMEOUT: {exc}", exc)
        except BadResponse as exc:
            fail_line(f"BAD_RESPONSE: {exc}", exc)

    return reports_errors(wrapper)  # type: ignore[return-value]


def fail_line(text: str, exc: Exception) -> NoReturn:
    click.echo(f"error: {text}", err=True)
    raise SystemExit(2) from exc


@contextmanager
def connect(node_url: str) -> Iterator[Client]:
    try:
        client = Client(node_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--node") from None
    with client:
        yield client


def unlock(keystore: Path, passphrase_file: Path | None) -> KeyPair:
    """Decrypt a keystore; says which one when it has to prompt (several may be asked)."""
    if passphrase_file is None and not os.environ.get(PASSPHRASE_ENV):
        click.echo(f"keystore {keystore}", err=True)
    return load_key(keystore, passphrase_file)


def parse_amount(text: str, what: str) -> int:
    """Base units from a plain integer, or C with a suffix: '1.5C', '0.0001 C'."""
    value = text.strip().replace("_", "")
    if _UNITS_RE.match(value):
        return int(value)
    match = _COINS_RE.match(value)
    whole, frac = (match.group(1), match.group(2) or "") if match else ("", "")
    if not whole + frac:
        raise click.BadParameter(
            f"{text!r}: base units (10000 = 1 C) or C with a suffix, e.g. 1.5C", param_hint=what
        )
    return int(whole or "0") * UNIT + int(frac.ljust(DECIMALS, "0"))


_UNITS_RE = re.compile(r"\A[0-9]+\Z")
_COINS_RE = re.compile(rf"\A([0-9]*)(?:\.([0-9]{{0,{DECIMALS}}}))?\s*[cC]\Z")


# -- submitting transactions ------------------------------------------------------------

WAIT_CHOICES = ("included", "finalized", "none")
_KEYSTORE = click.Path(path_type=Path, dir_okay=False, exists=True)
_FILE = click.Path(path_type=Path, dir_okay=False)


@dataclass(frozen=True)
class Submit:
    """The options every submitting `ccoin tx` command shares."""

    node_url: str
    as_json: bool
    keystore: Path | None
    passphrase_file: Path | None
    fee: str | None
    wait: str
    timeout: float
    second_keystore: Path | None = None
    second_passphrase_file: Path | None = None

    def __post_init__(self) -> None:
        self.fee_units()  # a malformed --fee fails before any passphrase is asked

    def key(self) -> KeyPair:
        assert self.keystore is not None
        return unlock(self.keystore, self.passphrase_file)

    def second_key(self) -> KeyPair | None:
        if self.second_keystore is None:
            return None
        return unlock(self.second_keystore, self.second_passphrase_file)

    def fee_units(self) -> int | None:
        return None if self.fee is None else parse_amount(self.fee, "--fee")

    def finish(
        self,
        client: Client,
        tx_id: str,
        more: Callable[[Client], dict[str, Any]] | None = None,
    ) -> None:
        """Wait as asked, then print the id and where the transaction stands; once it is
        in a block, also what `more` reads of its outcome (a line `name: value` each)."""
        out: dict[str, Any] = {"id": tx_id, "status": "submitted"}
        extra: dict[str, Any] = {}
        if self.wait != "none":
            found = client.wait_for(tx_id, self.wait, timeout=self.timeout)
            out.update(status=found["status"], blockId=found["blockId"], height=found["height"])
            extra = more(client) if more is not None else {}
        if self.as_json:
            print_json({**out, **extra})
            return
        if out["status"] == "submitted":
            click.echo(f"submitted {tx_id}")
        else:
            click.echo(f"{out['status']} {tx_id} in block {out['blockId']} at {out['height']}")
        for name, value in extra.items():
            click.echo(f"{name}: {value}")


def submit_options(*, keystore: bool = True, second: bool = True) -> Callable[[F], F]:
    """Add the shared options to a command; it gets them as its first argument, a `Submit`."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            shared = {name: kwargs.pop(name, None) for name in _SUBMIT_FIELDS}
            return func(Submit(**shared), **kwargs)

        command: Any = reports_client_errors(wrapper)
        options = [
            click.option("--fee", help="Fee in base units or C (default: the type's minimum)."),
            click.option(
                "--wait",
                type=click.Choice(WAIT_CHOICES),
                default="included",
                show_default=True,
                help="Wait until the transaction is included or finalized, or not at all.",
            ),
            click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait."),
        ]
        if keystore:
            options += [
                click.option("--keystore", required=True, type=_KEYSTORE, help="Sender's key."),
                click.option(
                    "--passphrase-file", type=_FILE, help=f"Else ${PASSPHRASE_ENV} or a prompt."
                ),
            ]
        if second:
            options += [
                click.option(
                    "--second-keystore",
                    type=_KEYSTORE,
                    help="The account's registered second key (adds signSignature).",
                ),
                click.option("--second-passphrase-file", type=_FILE),
            ]
        for option in reversed(options):
            command = option(command)
        decorated: F = node_options(command)
        return decorated

    return decorate


_SUBMIT_FIELDS = [f.name for f in dataclasses.fields(Submit)]
