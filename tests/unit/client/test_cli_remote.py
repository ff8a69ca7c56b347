"""The RPC commands' plumbing, without a node: URLs, errors, amounts, option checks."""

from __future__ import annotations

import socket
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.cli.remote import parse_amount, reports_client_errors
from ccoin.client.errors import NodeError
from ccoin.client.protocol import base_url
from ccoin.types.codec import format_amount


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://127.0.0.1:26700", "http://127.0.0.1:26700"),
        ("127.0.0.1:26700", "http://127.0.0.1:26700"),
        ("https://node.example:443/rpc", "https://node.example:443"),
        ("http://h:1/", "http://h:1"),
    ],
)
def test_base_url(given: str, url: str) -> None:
    assert base_url(given) == url


def test_base_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError):
        base_url("ftp://h:1")


@pytest.mark.parametrize("command", [["status"], ["account", "Cxyz"], ["block", "1"]])
def test_an_unreachable_node_is_one_line_with_its_url_and_exit_2(command: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(cli, [*command, "--node", url])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: NODE_UNREACHABLE: could not reach {url}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_node_url_comes_from_the_environment() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(cli, ["status", "--json"], env={"CCOIN_NODE": url})
    assert result.exit_code == 2
    assert f"could not reach {url}" in result.stderr


def test_a_bad_node_url_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["status", "--node", "ftp://h:1"])
    assert result.exit_code == 2
    assert "--node" in result.stderr


def test_vote_needs_a_change(tmp_path: Path) -> None:
    keystore = tmp_path / "k.json"
    keystore.write_text("{}")
    result = CliRunner().invoke(cli, ["tx", "vote", "--keystore", str(keystore)])
    assert result.exit_code == 2
    assert "--add or --remove" in result.stderr


def test_node_errors_print_name_and_number() -> None:
    @click.command()
    @reports_client_errors
    def boom() -> None:
        raise NodeError(3001, "TX_INSUFFICIENT_BALANCE", "insufficient balance")

    result = CliRunner().invoke(boom)
    assert result.exit_code == 2
    assert result.stderr == "error: TX_INSUFFICIENT_BALANCE (3001): insufficient balance\n"


@pytest.mark.parametrize(
    ("text", "units"),
    [("0", 0), ("12345", 12345), ("1C", 10_000), ("1.5C", 15_000), ("0.0001 C", 1), (".5c", 5000)],
)
def test_parse_amount(text: str, units: int) -> None:
    assert parse_amount(text, "--amount") == units


@pytest.mark.parametrize("text", ["-1", "1.00001C", "abc", "C", ".C", "1.-5C", "1.5", ""])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_amount(text, "--amount")


def test_format_amount() -> None:
    assert format_amount("10000015000") == "1,000,001.5000 C"
    assert format_amount(7) == "0.0007 C"
