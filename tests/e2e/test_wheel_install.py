"""ccoin as a user installs it: a wheel built from this checkout, run from a working directory
outside it, in two installs.

- A fresh venv with `pip install WHEEL` (its dependencies from the package index, as
  `scripts/test` gets them): the `ccoin` entry point.
- `pip install --no-deps --target DIR WHEEL`, run as `python -m ccoin.cli.main` by the base
  interpreter with `PYTHONPATH=DIR` plus the venv's site-packages for the dependencies. No
  install data lands in `sys.prefix` there: this is how a Debian-built Python, which puts
  setuptools `data-files` under its local prefix, saw the package (it died at import while
  the examples and artifacts were looked up in `sys.prefix/share`).

Each one prints its help and an example contract (`ccoin contract example`), and brings up
a one-node devnet with the bridge: `devnet up` deploys the BSC contracts from the packaged
artifacts, `devnet status` reads the Anchor's; the venv also deploys the example token.
The wheel is built once, from a copy of the sources (a stale `build/` in the checkout
cannot leak into it, and the checkout is left as it was). About a minute in all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import ccoin
from ccoin.bench.anvil import find_anvil
from ccoin.contracts import example_source
from ccoin.devnet.ports import RPC_OFFSET, free_port_range

pytestmark = pytest.mark.slow

REPO = Path(ccoin.__file__).resolve().parents[1]
PIP_TIMEOUT = 600.0  # a cold package cache; about 25 s when it is warm
COMMAND_TIMEOUT = 120.0


@dataclass(frozen=True)
class Install:
    """How to run `ccoin` and its Python from one install, and their environment."""

    python: tuple[str, ...]
    ccoin: tuple[str, ...]
    env: dict[str, str]
    package_root: Path  # where `import ccoin` must come from


def _run(
    args: list[str],
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


def ccoin_in(install: Install, cwd: Path, *args: str | Path) -> str:
    return _run([*install.ccoin, *map(str, args)], cwd=cwd, env=install.env)


def where_ccoin_is(install: Install, cwd: Path) -> Path:
    code = "import ccoin; print(ccoin.__file__)"
    return Path(_run([*install.python, "-c", code], cwd=cwd, env=install.env).strip()).parent


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory outside the checkout (and outside both installs)."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def devnet_with_bridge(install: Install, cwd: Path, *, deploy_example: bool) -> None:
    """init, up (anvil, the contracts from the packaged artifacts, the node, the relayer),
    optionally deploy the example token, status (the Anchor's artifact), down."""
    base = free_port_range(1)
    ccoin_in(install, cwd, "devnet", "init", "--nodes", "1", "--dir", "net",
             "--base-port", str(base), "--test-accounts", "2")  # fmt: skip
    try:
        ccoin_in(install, cwd, "devnet", "up", "--dir", "net", "--detach")
        if deploy_example:
            (cwd / "token.py").write_text(ccoin_in(install, cwd, "contract", "example", "token"))
            keys = cwd / "net" / "keys"
            signer = ["--keystore", str(keys / "fund-liquidity.json")]
            signer += ["--passphrase-file", str(keys / "passphrase")]
            node = ["--node", f"http://127.0.0.1:{base + RPC_OFFSET}", "--json"]
            deploy = ["contract", "deploy", "token.py", "--name", "token", *signer, *node]
            deployed = json.loads(ccoin_in(install, cwd, *deploy))
            assert deployed["receipt"]["ok"], deployed
        status = json.loads(ccoin_in(install, cwd, "devnet", "status", "--dir", "net", "--json"))
        assert [n["running"] for n in status["nodes"]] == [True]
        assert status["bridge"]["bscRunning"] and status["bridge"]["anchoredHeight"] is not None
    finally:
        ccoin_in(install, cwd, "devnet", "down", "--dir", "net")


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
    devnet_with_bridge(install, workdir, deploy_example=install_name == "in_venv")
