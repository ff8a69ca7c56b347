"""The devnet's bridge: anvil standing in for BNB Smart Chain (chain id 97), the BSC
contracts, and the relayer, as devnet processes beside the nodes (ADR 0016).

`devnet init` plans it all before anything runs: the contracts' addresses are those anvil's
first dev account (the deployer) creates at nonces 0, 1, 2 and 3 (CarbonCoin, Anchor, Bridge,
RetirementRegistry), so the genesis can name the Bridge and every node.json the Anchor.
`devnet up` then starts anvil on base+200 with its state kept in `bsc/state.json`, deploys
the contracts if that state has none yet (checking they land where planned), starts the
nodes and then the relayer (`relay/relay.json`).

Dev accounts (anvil's public test mnemonic, so never fund them anywhere real): 0 deploys
and holds the token supply; 1 pays the relayer's BSC gas (`keys/payer.json`); 2 is a user
given USER_TOKENS of C on BSC at deploy (`keys/bsc-user.json`), to try deposits with.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount

from ccoin.bench.anvil import AnvilConfig, find_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge.deployment import deploy_bridge
from ccoin.bridge.evm import Contract, EvmClient, EvmError, create_address, new_account
from ccoin.bridge.solidity import load_artifact
from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import LogRotation
from ccoin.types.codec import UNIT, json_evm_address, json_int, json_object, json_str
from ccoin.types.genesis import GenesisConfig

BSC_PORT_OFFSET = 200  # anvil listens on base + 200
RELAY_METRICS_OFFSET = 201  # the relayer serves its metrics on base + 201
BSC_CHAIN_ID = 97  # BSC testnet's id
BSC_BLOCK_TIME = 1
CONFIRMATIONS = 2  # BSC blocks a deposit is buried under before the delegates attest it
TOKEN_SUPPLY = 10**9 * UNIT  # C on BSC; the sidechain escrow starts with as much
USER_TOKENS = 10**6 * UNIT
ANCHOR_EVERY = 5  # seconds between the relayer's anchors (each a BSC transaction)
STATE_INTERVAL = 5  # seconds between anvil's state dumps (and one at exit)
READY_TIMEOUT = 30.0
LOOPBACK = "127.0.0.1"
POLL_INTERVAL = 0.05

BSC_DIR = "bsc"
STATE_FILE = "state.json"
ANVIL_PID = "anvil.pid"
ANVIL_LOG = "anvil.log"
DEPLOYED_FILE = "deployed.json"
RELAY_DIR = "relay"
RELAY_CONFIG = "relay.json"
RELAYER_PID = "relayer.pid"
RELAYER_LOG = "relayer.log"
PAYER_KEY = "payer.json"
USER_KEY = "bsc-user.json"
RELAYER_KEY = "relayer.json"
DEPLOYER, PAYER, USER = 0, 1, 2  # anvil dev account indexes


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.CONFIG_INVALID, message)


def dev_keys() -> list[LocalAccount]:
    """anvil's dev accounts 0..2: deployer, payer, user."""
    return [new_account(a.key) for a in dev_accounts(3)]


@dataclass(frozen=True)
class DevnetBsc:
    """The `bsc` entry of devnet.json: where anvil listens and where the contracts are.

    `host` is where the user's commands reach anvil (written only when not loopback: a
    devnet on several machines, ADR 0024); the nodes and the relayer may reach it by
    another name (the compose file's `bsc` service), written in their own configs."""

    port: int
    chain_id: int
    deployer: str
    token: str
    anchor: str
    bridge: str
    retirement_registry: str
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return bsc_url(self.host, self.port)

    def to_json(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "chainId": self.chain_id,
            "deployer": self.deployer,
            "token": self.token,
            "anchor": self.anchor,
            "bridge": self.bridge,
            "retirementRegistry": self.retirement_registry,
            **({"host": self.host} if self.host != LOOPBACK else {}),
        }

    @classmethod
    def from_json(cls, value: Any) -> DevnetBsc:
        fields = frozenset(
            {"port", "chainId", "deployer", "token", "anchor", "bridge", "retirementRegistry"}
        )
        obj = json_object(value, "bsc", fields | {"host"})
        if set(obj) - {"host"} != fields:
            raise _fail(f"bsc: an object with {', '.join(sorted(fields))} and optionally host")
        host = json_str(obj.get("host", LOOPBACK), "bsc.host", max_len=255)
        return cls(
            port=json_int(obj["port"], "bsc.port", 1, 65535),
            chain_id=json_int(obj["chainId"], "bsc.chainId", 1, 2**63 - 1),
            deployer=json_evm_address(obj["deployer"], "bsc.deployer"),
            token=json_evm_address(obj["token"], "bsc.token"),
            anchor=json_evm_address(obj["anchor"], "bsc.anchor"),
            bridge=json_evm_address(obj["bridge"], "bsc.bridge"),
            retirement_registry=json_evm_address(
                obj["retirementRegistry"], "bsc.retirementRegistry"
            ),
            host=host,
        )

    @classmethod
    def plan(cls, base_port: int, host: str = LOOPBACK) -> DevnetBsc:
        deployer = dev_keys()[DEPLOYER].address
        token, anchor, bridge, registry = (create_address(deployer, n) for n in range(4))
        port = base_port + BSC_PORT_OFFSET
        return cls(port, BSC_CHAIN_ID, deployer, token, anchor, bridge, registry, host)


def bsc_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def anvil_config() -> AnvilConfig:
    return AnvilConfig(chain_id=BSC_CHAIN_ID, block_time=BSC_BLOCK_TIME, accounts=len(dev_keys()))


def anvil_args(bsc: DevnetBsc, state_file: Path | str, listen: str = LOOPBACK) -> list[str]:
    """anvil's flags for the devnet (the launcher and the compose file both use these)."""
    return [
        *anvil_config().args(bsc.port, listen),
        "--state", str(state_file),
        "--state-interval", str(STATE_INTERVAL),
    ]  # fmt: skip


def anvil_command(root: Path, bsc: DevnetBsc) -> list[str]:
    return [str(find_anvil()), *anvil_args(bsc, root / BSC_DIR / STATE_FILE)]


def relay_command(root: Path) -> list[str]:
    config = str(root / RELAY_DIR / RELAY_CONFIG)
    return [sys.executable, "-m", "ccoin.cli.main", "relay", "--config", config]


def relay_config(
    bsc: DevnetBsc,
    node_rpc: list[str],
    metrics_port: int,
    *,
    bsc_host: str | None = None,
    metrics_host: str = LOOPBACK,
) -> dict[str, Any]:
    """relay/relay.json (paths relative to relay/): node0 is the sidechain endpoint, every
    node a signer; anvil at `bsc_host` when the relayer reaches it by another name than
    the user does."""
    return {
        "bsc": bsc_url(bsc_host or bsc.host, bsc.port),
        "bscChainId": bsc.chain_id,
        "anchor": bsc.anchor,
        "bridge": bsc.bridge,
        "payerKey": f"../keys/{PAYER_KEY}",
        "payerPassphraseFile": "../keys/passphrase",
        "sidechain": f"http://{node_rpc[0]}",
        "signers": [f"http://{rpc}" for rpc in node_rpc],
        "relayerKeystore": f"../keys/{RELAYER_KEY}",
        "relayerPassphraseFile": "../keys/passphrase",
        "intervalSeconds": 1,
        "anchorEverySeconds": ANCHOR_EVERY,
        "metricsListen": f"{metrics_host}:{metrics_port}",
        "log": LogRotation(Path(RELAYER_LOG)).to_json(RELAYER_LOG),  # 10 MiB x 3
    }


def wait_ready(bsc: EvmClient, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    """Until anvil answers with chain id 97; an exited process is an error at once."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ConfigError(
                ErrorCode.CONFIG_INVALID,
                f"anvil exited with status {process.returncode}; {log}:\n{tail}",
            )
        try:
            if bsc.chain_id() == BSC_CHAIN_ID:
                return
        except EvmError:
            pass
        if time.monotonic() > deadline:
            raise _fail(f"anvil did not answer on {bsc.url} within {READY_TIMEOUT:g} s; see {log}")
        time.sleep(POLL_INTERVAL)


@dataclass(frozen=True)
class Deployment:
    deployed: bool  # False: the contracts were there already


def deploy_contracts(
    root: Path, bsc: DevnetBsc, genesis: GenesisConfig, url: str | None = None
) -> Deployment:
    """Deploy CarbonCoin, Anchor (the genesis delegates' bridge keys), Bridge and
    RetirementRegistry where the devnet planned them, unless anvil's state has them
    already; anvil at `url` when the deployer reaches it by another name than devnet.json's
    (a compose service)."""
    marker = root / BSC_DIR / DEPLOYED_FILE
    deployer, _, user = dev_keys()
    with EvmClient(url or bsc.url) as client:
        if client.rpc("eth_getCode", bsc.bridge, "latest") not in ("0x", None):
            return Deployment(deployed=False)
        nonce = int(client.rpc("eth_getTransactionCount", deployer.address, "latest"), 16)
        if marker.exists():
            raise _fail(
                f"BSC (anvil, {root / BSC_DIR / STATE_FILE}) has no Bridge at {bsc.bridge} "
                "though this devnet deployed it: anvil's state was lost. The sidechain's "
                "bridge records refer to it, so recreate the devnet with "
                "`ccoin devnet init --force`"
            )
        if nonce != 0:
            raise _fail(
                f"anvil's dev account 0 ({deployer.address}) has sent {nonce} transaction(s) "
                "already, so the contracts cannot land where devnet.json plans them: start "
                f"anvil afresh (delete {root / BSC_DIR / STATE_FILE}) or recreate the devnet"
            )
        if genesis.bridge is None or genesis.bridge.contract.hex() != bsc.bridge[2:].lower():
            raise _fail("genesis.json's bridge is not the Bridge devnet.json plans")
        deployed = deploy_bridge(client, deployer, genesis, guardian=deployer.address)
        token = deployed.token
        landed = (token.address, deployed.anchor.address, deployed.bridge.address,
                  deployed.retirement_registry.address)  # fmt: skip
        if landed != (bsc.token, bsc.anchor, bsc.bridge, bsc.retirement_registry):
            raise _fail(f"the contracts landed at {landed}, not where devnet.json says")
        token.send(client, deployer, "transfer", user.address, USER_TOKENS)
    marker.write_text(json.dumps(deployed.to_json()))
    return Deployment(deployed=True)


def anchored_height(bsc: DevnetBsc, timeout: float = 2.0) -> int | None:
    """The last sidechain height anchored on BSC (0: none yet), or None when anvil does
    not answer."""
    anchor = Contract(bsc.anchor, tuple(load_artifact("Anchor")["abi"]))
    try:
        with EvmClient(bsc.url, timeout=timeout) as client:
            return int(anchor.read(client, "nextHeight")) - 1
    except (EvmError, DecodingError):
        return None
