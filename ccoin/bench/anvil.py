"""Start and stop anvil, a real local EVM node, as the reference for `ccoin bench --anvil`.

anvil comes from the `@foundry-rs/anvil` npm package (installed by `scripts/setup-npm`). That
package ships the real binary in a per-platform package (`@foundry-rs/anvil-linux-amd64`,
...) and a Node wrapper; we run the binary itself so it starts fast and our SIGTERM
reaches it rather than a Node process in between.

Defaults stand in for BNB Smart Chain: chain id 97, 1 s blocks, base fee 0 (BSC burns no
base fee). The block gas limit is raised far above anvil's default 30M (which caps a block
at ~1,428 plain transfers) so that the gas limit is not what bounds anvil's throughput.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ccoin.devnet.ports import free_port_range

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHAIN_ID = 97  # BSC testnet's id: anvil stands in for BNB Smart Chain
DEFAULT_BLOCK_TIME = 1
DEFAULT_ACCOUNTS = 64
# 10G gas: ~476k transfers per block, far more than anvil executes in a second here.
DEFAULT_GAS_LIMIT = 10_000_000_000
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"

_PLATFORMS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_PORT_ATTEMPTS = 3


class AnvilError(RuntimeError):
    """anvil could not be started or stopped as asked."""


class AnvilNotInstalled(AnvilError):
    """The anvil binary is neither under node_modules nor on PATH: the npm packages were
    not installed."""


def _platform_package() -> str:
    """The name of the npm package holding this platform's binary, e.g. `anvil-linux-amd64`."""
    osname = _PLATFORMS.get(sys.platform)
    arch = _ARCHES.get(platform.machine().lower())
    if osname is None or arch is None:
        raise AnvilNotInstalled(f"anvil has no npm build for {sys.platform}/{platform.machine()}")
    return f"anvil-{osname}-{arch}"


def find_anvil(root: Path | None = None) -> Path:
    """The anvil binary installed by npm under `root`/node_modules, else `anvil` on PATH.

    Without `root`, looks in this source tree and then in the current directory (for an
    installed, non-editable ccoin). Within node_modules, looks where the `@foundry-rs/anvil`
    wrapper itself looks: the platform package first, then its fallback download places.
    Without any node_modules copy, takes the `anvil` on PATH (the Docker image has one in
    /usr/local/bin).
    """
    roots = [root] if root is not None else list(dict.fromkeys([REPO_ROOT, Path.cwd()]))
    exe = "anvil.exe" if sys.platform == "win32" else "anvil"
    candidates = []
    try:
        package = _platform_package()
    except AnvilNotInstalled:
        package = None  # no npm build for this platform; PATH may still have one
    for base in roots:
        modules = base / "node_modules" / "@foundry-rs"
        if package is not None:
            candidates.append(modules / package / "bin" / exe)
        candidates += [modules / "anvil" / "dist" / exe, modules / "anvil" / exe]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    on_path = shutil.which(exe)
    if on_path is not None:
        return Path(on_path)
    raise AnvilNotInstalled(
        f"anvil is not installed (looked for {candidates[0]} and for {exe} on PATH); "
        "run scripts/setup-npm"
    )


@dataclass(frozen=True)
class AnvilConfig:
    """What anvil is started with; part of a bench report so a reader can judge it."""

    chain_id: int = DEFAULT_CHAIN_ID
    block_time: float = DEFAULT_BLOCK_TIME
    accounts: int = DEFAULT_ACCOUNTS
    gas_limit: int = DEFAULT_GAS_LIMIT
    mnemonic: str = DEFAULT_MNEMONIC

    def args(self, port: int, host: str = "127.0.0.1") -> list[str]:
        """anvil's command-line flags for this config on `host`:`port` (block time 0:
        automine, a block per transaction as it arrives, for tests)."""
        interval = ["--block-time", f"{self.block_time:g}"] if self.block_time else []
        return [
            "--host", host,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            *interval,
            "--accounts", str(self.accounts),
            "--mnemonic", self.mnemonic,
            "--gas-limit", str(self.gas_limit),
            "--block-base-fee-per-gas", "0",  # as on BSC
            "--no-request-size-limit",  # big JSON-RPC batches: 2 MB limit by default
            "--quiet",  # a log line per tx would slow anvil down and fill the log
        ]  # fmt: skip


@dataclass
class AnvilNode:
    """A running anvil process and the settings it was started with."""

    binary: Path
    port: int
    config: AnvilConfig
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def args(self) -> list[str]:
        """The flags anvil was started with."""
        return self.config.args(self.port)

    def log_tail(self, max_chars: int = 2000) -> str:
        """The end of anvil's output, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-max_chars:].strip()

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate anvil; kill it if it does not exit within `timeout` seconds."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def _wait_ready(node: AnvilNode, timeout: float) -> None:
    """Poll `eth_chainId` until anvil answers with the chain id it was given."""
    deadline = time.monotonic() + timeout
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    with httpx.Client(timeout=1.0) as client:
        while True:
            if node.process.poll() is not None:
                raise AnvilError(
                    f"anvil exited with code {node.process.returncode} on start:\n{node.log_tail()}"
                )
            try:
                reply = client.post(node.url, json=body).json()
                if int(reply["result"], 16) == node.config.chain_id:
                    return
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                pass
            if time.monotonic() > deadline:
                raise AnvilError(
                    f"anvil did not answer eth_chainId on {node.url} within {timeout:g}s:\n"
                    f"{node.log_tail()}"
                )
            time.sleep(0.02)


def _launch(binary: Path, port: int, log_dir: Path, config: AnvilConfig) -> AnvilNode:
    """Start one anvil process with its output going to a log file (no pipe to fill)."""
    log_path = log_dir / f"anvil-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(binary), *config.args(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    return AnvilNode(binary=binary, port=port, config=config, process=process, log_path=log_path)


@contextmanager
def start_anvil(
    *,
    chain_id: int = DEFAULT_CHAIN_ID,
    block_time: float = DEFAULT_BLOCK_TIME,
    accounts: int = DEFAULT_ACCOUNTS,
    port: int | None = None,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    startup_timeout: float = 15.0,
    root: Path | None = None,
) -> Iterator[AnvilNode]:
    """Run anvil on 127.0.0.1 for the duration of the block and stop it afterwards.

    With no `port`, picks a free one and retries on another if it was taken meanwhile.
    Raises `AnvilNotInstalled` if the binary is missing (`root` overrides where to look)
    and `AnvilError` if anvil exits or does not answer within `startup_timeout` seconds.
    """
    binary = find_anvil(root)
    config = AnvilConfig(
        chain_id=chain_id, block_time=block_time, accounts=accounts, gas_limit=gas_limit
    )
    with tempfile.TemporaryDirectory(prefix="ccoin-anvil-") as log_dir:
        node = _start_ready(binary, port, Path(log_dir), config, startup_timeout)
        try:
            yield node
        finally:
            node.stop()


def _start_ready(
    binary: Path, port: int | None, log_dir: Path, config: AnvilConfig, startup_timeout: float
) -> AnvilNode:
    """Launch anvil and wait until it answers; on a port race, try another free port."""
    attempts = [port] if port is not None else [None] * _PORT_ATTEMPTS
    error: AnvilError | None = None
    for wanted in attempts:
        node = _launch(binary, wanted or free_port_range(1), log_dir, config)
        try:
            _wait_ready(node, startup_timeout)
            return node
        except AnvilError as exc:
            node.stop()
            error = exc
            if port is not None or "in use" not in node.log_tail():
                break
    assert error is not None
    raise error
