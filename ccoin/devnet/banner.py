"""What `ccoin devnet up` prints once the devnet is up: where every endpoint is and which
funded test accounts to use (anvil's banner is the model: a devnet that introduces itself).

`devnet_facts` gathers the facts from the devnet directory; `render_banner` (text) and
`DevnetFacts.to_json` (`--json`) are pure, so both forms say the same and are tested
without processes.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.cli.genesis import TEST_ACCOUNTS_FILE
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import GENESIS_FILE, Devnet
from ccoin.devnet.pids import LOG_FILE
from ccoin.types.codec import format_amount
from ccoin.types.genesis import GenesisConfig, seconds_text

SHOWN_ACCOUNTS = 10
WARNING = "public test keys: their seeds are in plain text in this file; never use them for value"


@dataclass(frozen=True)
class NodeEndpoints:
    name: str
    p2p: str  # host:port
    rpc: str  # http URL
    websocket: str
    metrics: str
    log: str  # absolute


@dataclass(frozen=True)
class BscFacts:
    """anvil standing in for BSC, the bridge's contracts on it, and who to try it with."""

    url: str
    chain_id: int
    anchor: str
    bridge: str
    token: str
    retirement_registry: str
    user: str  # anvil's dev account 2: holds C on BSC for `ccoin bridge deposit --devnet`
    relayer_metrics: str | None


@dataclass(frozen=True)
class FundedAccount:
    index: int
    address: str
    balance: int  # base units, from the genesis

    def import_command(self, directory: str) -> str:
        """The command that turns this account into a keystore (throwaway keys: fast KDF)."""
        return (
            f"ccoin keys import --devnet {shlex.quote(directory)} --test-account {self.index} "
            f"--out test-account-{self.index}.json --kdf fast"
        )


@dataclass(frozen=True)
class DevnetFacts:
    directory: str  # as the user should type it: relative when under the working directory
    root: str  # absolute
    chain_name: str
    network_id: str  # hex
    block_time_ms: int
    nodes: tuple[NodeEndpoints, ...]
    bsc: BscFacts | None  # None: started without the bridge
    accounts: tuple[FundedAccount, ...]  # the first SHOWN_ACCOUNTS
    account_count: int  # every funded test account of the devnet

    @property
    def accounts_file(self) -> str:
        return f"{self.directory}/keys/{TEST_ACCOUNTS_FILE}"

    def to_json(self) -> dict[str, Any]:
        """The `--json` form: the banner's facts, with absolute paths and amounts as decimal
        strings (as over RPC)."""
        return {
            "devnet": self.root,
            "chainName": self.chain_name,
            "networkId": self.network_id,
            "blockTimeMs": self.block_time_ms,
            "nodes": [
                {
                    "name": n.name,
                    "p2p": n.p2p,
                    "rpc": n.rpc,
                    "websocket": n.websocket,
                    "metrics": n.metrics,
                    "log": n.log,
                }
                for n in self.nodes
            ],
            "bsc": None if self.bsc is None else _bsc_json(self.bsc),
            "testAccounts": {
                "count": self.account_count,
                "file": str(Path(self.root, "keys", TEST_ACCOUNTS_FILE)),
                "warning": WARNING if self.account_count else None,
                "first": [
                    {
                        "index": a.index,
                        "address": a.address,
                        "balance": str(a.balance),
                        "import": a.import_command(self.root),
                    }
                    for a in self.accounts
                ],
            },
        }


def _bsc_json(bsc: BscFacts) -> dict[str, Any]:
    return {
        "url": bsc.url,
        "chainId": bsc.chain_id,
        "anchor": bsc.anchor,
        "bridge": bsc.bridge,
        "token": bsc.token,
        "retirementRegistry": bsc.retirement_registry,
        "user": bsc.user,
        "relayerMetrics": bsc.relayer_metrics,
    }


def render_banner(facts: DevnetFacts) -> list[str]:
    """The banner's lines: chain, nodes' endpoints, BSC and the bridge, test accounts."""
    lines = [
        f"{facts.chain_name} is up: {len(facts.nodes)} node(s), a block every "
        f"{seconds_text(facts.block_time_ms)} s, in {facts.directory}",
        f"network id  {facts.network_id}",
        "",
    ]
    name = max(4, *(len(n.name) for n in facts.nodes))
    rpc = max(len(n.rpc) for n in facts.nodes)
    ws = max(len(n.websocket) for n in facts.nodes)
    lines.append(f"{'node':<{name}}  {'RPC':<{rpc}}  {'WebSocket':<{ws}}  metrics")
    for n in facts.nodes:
        lines.append(f"{n.name:<{name}}  {n.rpc:<{rpc}}  {n.websocket:<{ws}}  {n.metrics}")
    lines += [f"logs in {facts.directory}/nodeI/{LOG_FILE}", ""]
    if facts.bsc is None:
        lines += ["BSC: none (started without the bridge)", ""]
    else:
        bsc = facts.bsc
        lines += [
            f"BSC (anvil)  {bsc.url}  chain id {bsc.chain_id}",
            f"  Anchor     {bsc.anchor}",
            f"  Bridge     {bsc.bridge}",
            f"  token (C)  {bsc.token}",
            f"  Registry   {bsc.retirement_registry}  carbon retirements proven on BSC",
            f"  BSC user   {bsc.user}  C to deposit (ccoin bridge deposit --devnet)",
        ]
        if bsc.relayer_metrics is not None:
            lines.append(f"  relayer    metrics {bsc.relayer_metrics}")
        lines.append("")
    return lines + _accounts(facts)


def _accounts(facts: DevnetFacts) -> list[str]:
    if not facts.accounts:
        return ["Test accounts: none (this devnet was made with --test-accounts 0)"]
    lines = [f"Test accounts, funded at genesis ({len(facts.accounts)} of {facts.account_count:,})"]
    width = max(len(a.address) for a in facts.accounts)
    for a in facts.accounts:
        lines.append(f"({a.index}) {a.address:<{width}}  {format_amount(a.balance)}")
        lines.append(f"    {a.import_command(facts.directory)}")
    return [
        *lines,
        "",
        f"WARNING: these are PUBLIC test keys (their seeds are in {facts.accounts_file}):",
        "         use them on this devnet only, never for anything of value.",
    ]


def shown_path(path: Path, cwd: Path) -> str:
    """`path` as the user should type it in `cwd`: relative when inside it, else absolute."""
    if path != cwd and path.is_relative_to(cwd):
        return str(path.relative_to(cwd))
    return str(path)


def devnet_facts(devnet: Devnet, *, bridge: bool = True, cwd: Path | None = None) -> DevnetFacts:
    """The banner's facts for `devnet` (reads its genesis, test accounts and relay config);
    no BSC part without `bridge` or on a devnet made with --no-bridge."""
    genesis = GenesisConfig.load(devnet.root / GENESIS_FILE)
    nodes = tuple(
        NodeEndpoints(
            name=n.name,
            p2p=n.p2p,
            rpc=f"http://{n.rpc}",
            websocket=f"ws://{n.rpc}/ws",
            metrics=f"http://{n.rpc}/metrics",
            log=str(devnet.node_dir(n) / LOG_FILE),
        )
        for n in devnet.nodes
    )
    has_accounts = (devnet.root / "keys" / TEST_ACCOUNTS_FILE).exists()
    keys = devnet.test_accounts() if has_accounts else []
    balances = {a.address: a.balance for a in genesis.accounts}
    accounts = tuple(
        FundedAccount(i, key.address, balances.get(key.address, 0))
        for i, key in enumerate(keys[:SHOWN_ACCOUNTS])
    )
    return DevnetFacts(
        directory=shown_path(devnet.root, (cwd or Path.cwd()).resolve()),
        root=str(devnet.root),
        chain_name=devnet.chain_name,
        network_id=devnet.network_id,
        block_time_ms=genesis.block_time_ms,
        nodes=nodes,
        bsc=_bsc_facts(devnet) if bridge else None,
        accounts=accounts,
        account_count=len(keys),
    )


def _bsc_facts(devnet: Devnet) -> BscFacts | None:
    bsc = devnet.bsc
    if bsc is None:
        return None
    return BscFacts(
        url=bsc.url,
        chain_id=bsc.chain_id,
        anchor=bsc.anchor,
        bridge=bsc.bridge,
        token=bsc.token,
        retirement_registry=bsc.retirement_registry,
        user=devbsc.dev_keys()[devbsc.USER].address,
        relayer_metrics=_relayer_metrics(devnet.root),
    )


def _relayer_metrics(root: Path) -> str | None:
    """From relay/relay.json, which devnet init wrote (None when it names no metrics port)."""
    try:
        config = json.loads((root / devbsc.RELAY_DIR / devbsc.RELAY_CONFIG).read_text())
        listen = config["metricsListen"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return f"http://{listen}/metrics" if type(listen) is str else None
