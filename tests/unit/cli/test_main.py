"""`ccoin` loads a command only when it runs (issue 13: a quick CLI): what importing the
entry point and the read commands loads, and that the lazy listing says what the commands
themselves say."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from ccoin.cli.main import COMMANDS, cli

# What the entry point must never load: the heavy libraries, and the bench.
HEAVY = ("eth_account", "py_ecc", "hypothesis", "starlette", "hypercorn", "ccoin.bench")
# What a read command (`ccoin status`) must not load either: the async stack, the node.
NOT_FOR_READS = (*HEAVY, "trio", "httpx", "ccoin.node", "ccoin.ledger", "ccoin.vm.runner")


def loaded_by(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` (or their submodules) a fresh interpreter holds after `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"names = {list(names)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if any(m == n or m.startswith(n + '.') for n in names))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    found: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_entry_point_loads_nothing_heavy() -> None:
    assert loaded_by("import ccoin.cli.main", HEAVY) == []


def test_help_loads_no_command_module() -> None:
    modules = tuple(sorted({lazy.target.partition(":")[0] for lazy in COMMANDS.values()}))
    code = (
        "import sys\nfrom ccoin.cli.main import cli\n"
        "try:\n    cli(['--help'], prog_name='ccoin')\nexcept SystemExit:\n    pass"
    )
    assert loaded_by(code, modules + HEAVY) == []


def test_the_read_commands_load_no_async_stack_and_no_node() -> None:
    assert loaded_by("import ccoin.cli.chain", NOT_FOR_READS) == []


def test_every_listed_command_loads_under_its_name() -> None:
    for name, lazy in COMMANDS.items():
        command = lazy.load()
        assert command.name == name, lazy.target
        # The summary is the command's own, whole (the listing shortens both alike).
        summary = click.Command(name, help=lazy.summary).get_short_help_str(1000)
        assert summary == command.get_short_help_str(1000), name


def test_the_lazy_help_is_the_help_of_the_loaded_commands() -> None:
    eager = click.Group("cli", help=cli.help)
    for name, lazy in COMMANDS.items():
        eager.add_command(lazy.load(), name)
    eager = click.version_option("0", prog_name="ccoin")(eager)
    lazy_help = CliRunner().invoke(cli, ["--help"], prog_name="ccoin")
    eager_help = CliRunner().invoke(eager, ["--help"], prog_name="ccoin")
    assert lazy_help.exit_code == 0
    assert "status" in lazy_help.output and "Commands:" in lazy_help.output
    assert lazy_help.output == eager_help.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nonsense"], prog_name="ccoin")
    assert result.exit_code == 2
    assert "No such command 'nonsense'" in result.output
