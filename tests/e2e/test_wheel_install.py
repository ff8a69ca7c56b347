"""ccoin as a user installs it: a wheel built from this checkout, run from a working directory
outside it, in two installs.

- A fresh venv with `pip install WHEEL` (its dependencies from the package index, as
  `scripts/test` gets them): the `ccoin` entry point.
- `pip install --no-deps --target DIR WHEEL`, run as `python -m ccoin.cli.main` by the base
  interpreter with `PYTHONPATH=DIR` plus the venv's site-packages for the dependencies. No
  install data lands in `sys.prefix` there: this is how a Debian-built Python, which puts
  setuptools `data-files` under its local prefix, saw the package (it died at import while
  the examples and artifacts were looked up in `sys.prefix/share`).

Each one prints its help and an example contract (`ccoin contract example`). The --target
install brings up a one-node devnet with the bridge: `devnet up` deploys the BSC contracts
from the packaged artifacts, `devnet status` reads the Anchor's. The venv does issue 13's
acceptance as a user would: `devnet init` with the default four nodes and the bridge,
`devnet up --detach`, waits (on `devnet status --json`) for finality on every node and an
anchor on BSC, deploys an example contract with `contract deploy` and reads it back with
`contract view`, runs `ccoin bench --contract --txs 200 --dir DEVNET --json` against that
devnet (all 200 calls finalized, every receipt a success), and always `devnet down`.
anvil is on PATH, where a user has it (find_anvil's last resort; no node_modules here).
The wheel is built once, from a copy of the sources (a stale `build/` in the checkout
cannot leak into it, and the checkout is left as it was). About 65 s in all on two cores,
the package cache warm; the acceptance test is about half of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ccoin
from ccoin.bench.anvil import find_anvil
from ccoin.contracts import example_source
from ccoin.devnet.ports import RPC_OFFSET, free_port_range

pytestmark = pytest.mark.slow

REPO = Path(ccoin.__file__).resolve().parents[1]
PIP_TIMEOUT = 600.0  # a cold package cache; about 25 s when it is warm
COMMAND_TIMEOUT = 120.0
READY_DEADLINE = 90.0  # four nodes, anvil and the relayer on two shared cores
POLL = 0.5
TEST_ACCOUNTS = 20  # bench --contract mints to each first (not timed, but not free)
BENCH_CALLS = 200
BENCH_TIMEOUT = 240.0
REPORTED = ("finalized_tps", "submitted_tps", "latency_p50_s", "latency_p95_s", "gas_per_call")


@dataclass(frozen=True)
class Install:
    """How to run `ccoin` and its Python from one install, and their environment."""

    python: tuple[str, ...]
    ccoin: tuple[str, ...]
    env: dict[str, str]
    package_root: Path  # where `import ccoin` must come from


def _run(
    args: Sequence[str | Path],
    *,
    timeout: float = COMMAND_TIMEOUT,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheel-install")


@pytest.fixture(scope="module")
def wheel(outside: Path) -> Path:
    source = outside / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "ccoin", source / "ccoin", ignore=ignored)
    dist = outside / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        timeout=PIP_TIMEOUT,
    )
    (built,) = dist.glob("ccoin-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(outside: Path, wheel: Path) -> Path:
    root = outside / "venv"
    _run([sys.executable, "-m", "venv", str(root)])
    _run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        timeout=PIP_TIMEOUT,
    )
    return root


def _env(**extra: str) -> dict[str, str]:
    """No trace of this checkout or its venv; anvil on PATH, as the image has it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(find_anvil().parent), env.get("PATH", "")])
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def in_venv(venv: Path) -> Install:
    python = str(venv / "bin" / "python")
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    return Install((python,), (str(venv / "bin" / "ccoin"),), _env(), Path(site.strip()))


@pytest.fixture(scope="module")
def on_pythonpath(outside: Path, wheel: Path, in_venv: Install) -> Install:
    target = outside / "target"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    _run([*pip, str(wheel)], timeout=PIP_TIMEOUT)
    # The base interpreter: its sys.prefix holds nothing of ccoin's.
    python = (getattr(sys, "_base_executable", sys.executable), "-s")
    path = os.pathsep.join([str(target), str(in_venv.package_root)])
    return Install(python, (*python, "-m", "ccoin.cli.main"), _env(PYTHONPATH=path), target)


def ccoin_in(
    install: Install, cwd: Path, *args: str | Path, timeout: float = COMMAND_TIMEOUT
) -> str:
    return _run([*install.ccoin, *args], cwd=cwd, env=install.env, timeout=timeout)


def where_ccoin_is(install: Install, cwd: Path) -> Path:
    code = "import ccoin; print(ccoin.__file__)"
    return Path(_run([*install.python, "-c", code], cwd=cwd, env=install.env).strip()).parent


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory outside the checkout (and outside both installs)."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def ccoin_json(
    install: Install, cwd: Path, *args: str | Path, timeout: float = COMMAND_TIMEOUT
) -> Any:
    return json.loads(ccoin_in(install, cwd, *args, timeout=timeout))


def devnet_status(install: Install, cwd: Path) -> Any:
    return ccoin_json(install, cwd, "devnet", "status", "--dir", "net", "--json")


def one_node_devnet_with_bridge(install: Install, cwd: Path) -> None:
    """init, up (anvil, the contracts from the packaged artifacts, the node, the relayer),
    status (the Anchor's artifact), down."""
    base = free_port_range(1)
    ccoin_in(install, cwd, "devnet", "init", "--nodes", "1", "--dir", "net",
             "--base-port", str(base), "--test-accounts", "2")  # fmt: skip
    try:
        ccoin_in(install, cwd, "devnet", "up", "--dir", "net", "--detach")
        status = devnet_status(install, cwd)
        assert [n["running"] for n in status["nodes"]] == [True]
        assert status["bridge"]["bscRunning"] and status["bridge"]["anchoredHeight"] is not None
    finally:
        ccoin_in(install, cwd, "devnet", "down", "--dir", "net")


def finalized_and_anchored(status: Any) -> bool:
    """Every node runs, sees all its peers and has finalized a block; anvil and the relayer
    run and a sidechain height is anchored on BSC."""
    nodes, bridge = status["nodes"], status["bridge"]
    return all(
        n["running"] and (n["finalized"] or 0) >= 1 and n["peers"] == len(nodes) - 1 for n in nodes
    ) and (
        bridge["bscRunning"] and bridge["relayerRunning"] and (bridge["anchoredHeight"] or 0) >= 1
    )


def wait_for_devnet(install: Install, cwd: Path) -> Any:
    """`devnet status --json` until the devnet is finalized and anchored (there is no event to
    wait on from outside the processes; each poll is a CLI run, about a second)."""
    deadline = time.monotonic() + READY_DEADLINE
    while not finalized_and_anchored(status := devnet_status(install, cwd)):
        assert time.monotonic() < deadline, f"not finalized and anchored in time: {status}"
        time.sleep(POLL)
    return status


def deploy_example(install: Install, cwd: Path, node: str) -> None:
    """The carbon registry from `contract example`, deployed and final, then read back."""
    source = cwd / "carbon_registry.py"
    source.write_text(ccoin_in(install, cwd, "contract", "example", "carbon_registry"))
    keys = cwd / "net" / "keys"
    signer: list[str | Path] = ["--keystore", keys / "fund-liquidity.json"]
    signer += ["--passphrase-file", keys / "passphrase"]
    deploy = ["contract", "deploy", source.name, "--name", "registry", *signer]
    deployed = ccoin_json(install, cwd, *deploy, "--wait", "finalized", "--node", node, "--json")
    assert deployed["status"] == "finalized" and deployed["receipt"]["ok"], deployed
    owner, address = deployed["receipt"]["value"], deployed["receipt"]["contract"]
    view = ccoin_json(install, cwd, "contract", "view", address, "totals", "--node", node, "--json")
    assert view["value"] == {"issued": 0, "retired": 0, "owner": owner}, view


def bench_contract_calls(install: Install, cwd: Path) -> Any:
    """`ccoin bench --contract` against the running devnet: every call final and a success."""
    bench = ["bench", "--contract", "--txs", str(BENCH_CALLS), "--dir", "net", "--json"]
    report = ccoin_json(install, cwd, *bench, "--timeout", "120", timeout=BENCH_TIMEOUT)
    assert report["workload"] == "token-contract transfers" and report["nodes"] == 4
    assert report["txs"] == report["accepted"] == report["finalized"] == BENCH_CALLS, report
    assert report["rejected"] == {} and report["timed_out"] is False, report
    assert report["receipts_sampled"] == report["receipts_ok"] == BENCH_CALLS, report
    assert report["receipt_errors"] == {}, report
    return report


@pytest.mark.parametrize("install_name", ["in_venv", "on_pythonpath"])
def test_the_installed_package_runs_outside_the_checkout(
    install_name: str, request: pytest.FixtureRequest, workdir: Path
) -> None:
    install: Install = request.getfixturevalue(install_name)
    assert where_ccoin_is(install, workdir).is_relative_to(install.package_root)
    assert "Carbon Coin node" in ccoin_in(install, workdir, "--help")
    assert ccoin_in(install, workdir, "contract", "example").split() == [
        "carbon_registry", "nft_auction", "token"
    ]  # fmt: skip
    assert ccoin_in(install, workdir, "contract", "example", "token") == example_source("token")
    if install_name == "on_pythonpath":  # the venv's devnet is the acceptance test's
        one_node_devnet_with_bridge(install, workdir)


def test_the_acceptance_in_a_fresh_venv(in_venv: Install, workdir: Path) -> None:
    """Issue 13: init (four nodes, the bridge), up, deploy an example contract, bench 200
    contract calls, down."""
    base = free_port_range(4)
    init = ["devnet", "init", "--dir", "net", "--base-port", str(base)]
    devnet = ccoin_json(in_venv, workdir, *init, "--test-accounts", str(TEST_ACCOUNTS))
    assert len(devnet["nodes"]) == 4 and devnet["bsc"] is not None
    try:
        ccoin_in(in_venv, workdir, "devnet", "up", "--dir", "net", "--detach")
        wait_for_devnet(in_venv, workdir)
        deploy_example(in_venv, workdir, f"http://127.0.0.1:{base + RPC_OFFSET}")
        report = bench_contract_calls(in_venv, workdir)
        print("bench:", {k: report[k] for k in REPORTED})
        status = devnet_status(in_venv, workdir)
        assert all(n["running"] for n in status["nodes"]) and status["bridge"]["relayerRunning"]
    finally:
        ccoin_in(in_venv, workdir, "devnet", "down", "--dir", "net")
