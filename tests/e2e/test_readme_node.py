"""The README's single-node commands, run by the installed `ccoin` entry point from a fresh
working directory, with a relative and an absolute `--dir`: the node must start and
finalize a block.

The commands are read from README.md, so the test follows the docs. One change only:
`--rpc` on a free port, because tests never bind the default port a developer's own node
may hold.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ccoin.testing.ports import free_port_range
from tests.e2e.test_client_cli import wait_ready
from tests.e2e.test_node_process import WAIT_SECONDS, stop

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
README_DIR = "mynet"  # the --dir the README's commands use
CCOIN = Path(sys.executable).parent / "ccoin"  # the console script beside this interpreter


def readme_commands() -> list[list[str]]:
    """`ccoin node init ... && ccoin node start ...` from the README, as argument lists."""
    lines = [line for line in README.read_text().splitlines() if "ccoin node init" in line]
    assert len(lines) == 1, f"one `ccoin node init` line in README.md, found {lines}"
    commands = [shlex.split(part) for part in lines[0].split("&&")]
    assert [c[:3] for c in commands] == [["ccoin", "node", "init"], ["ccoin", "node", "start"]]
    return commands


def with_dir(command: list[str], directory: str) -> list[str]:
    """The README's command with its `mynet` swapped for `directory`."""
    return [
        arg.replace(README_DIR, directory, 1) if arg.startswith(README_DIR) else arg
        for arg in command
    ]


@pytest.mark.parametrize("directory", [README_DIR, "a/b", "absolute"])
def test_the_readmes_single_node_commands_work(directory: str, tmp_path: Path) -> None:
    assert CCOIN.exists(), f"no `ccoin` entry point at {CCOIN}; install the package"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if directory == "absolute":
        directory = str(tmp_path / "elsewhere" / "net")  # outside the working directory
    init, start = (with_dir(c, directory) for c in readme_commands())
    listen = f"127.0.0.1:{free_port_range(1)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCOIN_")}

    created = subprocess.run(
        [str(CCOIN), *init[1:], "--rpc", listen],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    log = tmp_path / "node.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(CCOIN), *start[1:]], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        wait_ready(
            f"http://{listen}", lambda s: s["finalizedHeight"] >= 1, lambda: proc.poll() is None
        )
    except (AssertionError, pytest.fail.Exception) as exc:
        pytest.fail(f"{exc}; the node's log:\n{log.read_text()[-2000:]}")
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text()[-2000:]
