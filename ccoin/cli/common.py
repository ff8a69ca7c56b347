"""Shared CLI plumbing: error reporting, passphrases, network ids, JSON output."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import KeystoreError, decrypt_seed, load_keystore
from ccoin.errors import CcoinError, DecodeError, ErrorCode
from ccoin.storage.kv import StorageError

F = TypeVar("F", bound=Callable[..., Any])

PASSPHRASE_ENV = "CCOIN_PASSPHRASE"


def reports_errors(func: F) -> F:
    """Turn typed errors into one clear line and exit status 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CcoinError as exc:
            fail(exc.code, exc.message)
        except KeystoreError as exc:
            fail(ErrorCode.KEYSTORE_INVALID, str(exc))
        except StorageError as exc:
            hint = " (is another node using this data directory?)" if "lock" in str(exc) else ""
            fail(ErrorCode.STORAGE_FAILURE, f"{exc}{hint}")
        except BaseExceptionGroup as group:  # a service inside the node's nursery failed
            from ccoin.vm.runner import WorkerFault  # only the node's commands raise these

            fault = group.subgroup(lambda e: isinstance(e, WorkerFault))
            if fault is not None:  # the ledger turns faults into refusals (ADR 0017): a bug
                fail(ErrorCode.SANDBOX_FAULT, f"{_leaves(fault)[0]}")
            typed = group.subgroup(lambda e: isinstance(e, CcoinError))
            if typed is None:
                raise
            first = _leaves(typed)[0]
            assert isinstance(first, CcoinError)
            fail(first.code, first.message)

    return wrapper  # type: ignore[return-value]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


def fail(code: ErrorCode, message: str) -> NoReturn:
    click.echo(f"error: {code.name} ({code.number}): {message}", err=True)
    sys.exit(2)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    if passphrase_file is not None:
        try:
            return passphrase_file.read_text().rstrip("\n")
        except OSError as exc:
            raise click.UsageError(f"{passphrase_file}: {exc.strerror}") from None
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    value: str = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def load_key(keystore: Path, passphrase_file: Path | None) -> KeyPair:
    ks = load_keystore(keystore)
    return KeyPair(decrypt_seed(ks, read_passphrase(passphrase_file)))


def network_id(genesis: Path | None, network_id_hex: str | None) -> bytes:
    if (genesis is None) == (network_id_hex is None):
        raise click.UsageError("give exactly one of --genesis FILE or --network-id HEX")
    if genesis is not None:
        from ccoin.ledger.genesis import network_id_of  # the ledger: only when asked
        from ccoin.types.genesis import GenesisConfig

        return network_id_of(GenesisConfig.load(genesis))
    assert network_id_hex is not None
    try:
        raw = bytes.fromhex(network_id_hex)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise DecodeError(ErrorCode.BAD_FIELD, "--network-id: 64 hex characters")
    return raw


def read_json_input(source: str) -> Any:
    """JSON from a file path, or from stdin when `source` is '-'."""
    return parse_json_input(read_text_input(source), source)


def read_text_input(source: str) -> str:
    """The text of a file path, or of stdin when `source` is '-'."""
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        raise click.UsageError(f"{source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise click.UsageError(f"{source}: not text (JSON or hex expected)") from None


def parse_json_input(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(ErrorCode.BAD_JSON, f"{source}: not JSON ({exc})") from None


network_options = [
    click.option(
        "--genesis",
        "genesis",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Genesis file of the network (gives the network id).",
    ),
    click.option("--network-id", "network_id_hex", help="Network id as 64 hex characters."),
]


def with_network(func: F) -> F:
    for option in reversed(network_options):
        func = option(func)
    return func


# click >= 8.2 types ParamType as a generic; subscripting it would break click 8.1 at run time
class BlockTime(click.ParamType):  # type: ignore[type-arg]
    """Seconds per slot, to the millisecond ("1", "0.5", "2.25"); the value is milliseconds.
    Parsed as a decimal so 0.3 is exactly 300 ms, never a float's neighbour."""

    name = "SECONDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from decimal import Decimal, InvalidOperation

        from ccoin.types.genesis import MAX_BLOCK_TIME_MS, MIN_BLOCK_TIME_MS, seconds_text

        if isinstance(value, int):  # already milliseconds (a converted default)
            return value
        try:
            ms = Decimal(str(value).strip()) * 1000
        except InvalidOperation:
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not ms.is_finite() or ms != ms.to_integral_value():
            self.fail(f"{value!r}: a block time is whole milliseconds (e.g. 0.5)", param, ctx)
        if not MIN_BLOCK_TIME_MS <= ms <= MAX_BLOCK_TIME_MS:
            self.fail(
                f"{value!r}: between {seconds_text(MIN_BLOCK_TIME_MS)} and "
                f"{seconds_text(MAX_BLOCK_TIME_MS)} seconds",
                param,
                ctx,
            )
        return int(ms)


BLOCK_TIME = BlockTime()
