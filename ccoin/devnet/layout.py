"""`ccoin devnet init`: a network CA, one certificate, keystore and node.json per node, a
genesis naming every node as a delegate, and `devnet.json` describing it all.

Layout of DIR (every path inside a node.json is relative to its node directory, so DIR can
be moved or mounted elsewhere, e.g. at /devnet in the docker-compose services)::

    devnet.json            chain name, network id, one entry per node
    genesis.json           whitepaper allocation, N delegates, networkCa = ca/ca.crt
    ca/ca.crt, ca/ca.key   the network CA (key 0600)
    keys/                  fund and delegate keystores, delegates' bridge keys (bridge-I.json,
                           Ethereum v3), the passphrase, test accounts
    nodeI/node.json        name nodeI, dataDir data, genesis ../genesis.json, p2p section
    nodeI/tls/node.crt|key the node's certificate (CN nodeI) and key (0600)
    nodeI/keys/            delegate.json (delegate I's keystore), bridge.json (its bridge
                           key), passphrase (0600)
    bsc/                   anvil's state.json, log and pid (see ccoin.devnet.bsc)
    relay/relay.json       the relayer's config; its log and pid beside it

Without --no-bridge, keys/ also holds payer.json and bsc-user.json (anvil dev accounts 1
and 2 as Ethereum v3 keystores) and relayer.json (the sidechain account sending credits).

Everything is built in a hidden staging directory inside DIR and moved into place with
devnet.json last, so devnet.json exists only when the rest does.

Where the processes run is a `Placement`: all on this machine's loopback (the default),
on separate hosts (`--hosts`), or in the compose file's containers (`--compose`); it
decides the addresses in node.json, relay.json and devnet.json (ADR 0024).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from eth_account import Account

from ccoin.cli.genesis import (
    BRIDGE_KDF_ITERATIONS,
    TEST_ACCOUNTS_FILE,
    random_passphrase,
    write_genesis,
)
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import (
    KDF_PRESETS,
    KeystoreError,
    decrypt_seed,
    encrypt_seed,
    load_keystore,
    save_keystore,
)
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.bsc import DevnetBsc
from ccoin.devnet.pids import LOG_FILE, PID_FILE, node_alive, read_pid
from ccoin.errors import CcoinError, ConfigError, ErrorCode
from ccoin.ledger.genesis import network_id_of
from ccoin.ledger.presets import BridgeSpec
from ccoin.node.config import BridgeNodeConfig, NodeConfig, P2PConfig, RpcConfig, parse_address
from ccoin.node.log import LogRotation
from ccoin.node.mempool import PoolLimits
from ccoin.p2p.certs import NetworkCA, fingerprint
from ccoin.p2p.peer import PeerAddress

DEVNET_FILE = "devnet.json"
GENESIS_FILE = "genesis.json"
CONFIG_FILE = "node.json"
CHAIN_NAME = "ccoin-devnet"
HOST = "127.0.0.1"
ANY = "0.0.0.0"  # listen on every interface: nodes on several hosts, or in containers
DEFAULT_NODES = 4
DEFAULT_BASE_PORT = 26600
DEFAULT_TEST_ACCOUNTS = 1000
DEFAULT_BLOCK_TIME_MS = 1000
RPC_PORT_OFFSET = 100  # node I's RPC port is base + 100 + I
MAX_NODES = 21
MAX_PORT = 65535
KDF = "fast"
STAGING_PREFIX = ".devnet-init-"
_NODE_DIR = re.compile(r"node\d{1,3}")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")
_MAX_DEVNET_FILE = 1024 * 1024


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.CONFIG_INVALID, message)


def node_name(index: int) -> str:
    return f"node{index}"


def p2p_port(base_port: int, index: int) -> int:
    return base_port + index


def rpc_port(base_port: int, index: int) -> int:
    return base_port + RPC_PORT_OFFSET + index


def check_shape(nodes: int, base_port: int, bridge: bool = False) -> None:
    """Refuse a node count or base port that gives no valid devnet."""
    if not 1 <= nodes <= MAX_NODES:
        raise _fail(f"--nodes: 1 to {MAX_NODES}, got {nodes}")
    top = base_port + devbsc.RELAY_METRICS_OFFSET if bridge else rpc_port(base_port, nodes - 1)
    if base_port < 1 or top > MAX_PORT:
        bsc = (
            f", bsc base+{devbsc.BSC_PORT_OFFSET}, relayer metrics base+"
            f"{devbsc.RELAY_METRICS_OFFSET}"
            if bridge
            else ""
        )
        raise _fail(
            f"--base-port: ports {base_port}..{top} (p2p base+I, rpc base+{RPC_PORT_OFFSET}+I"
            f"{bsc}) must lie in 1..{MAX_PORT}"
        )


def check_host(host: str, where: str) -> str:
    """An IP address or a DNS name, as a peer dials it."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host):
            raise _fail(f"{where}: an IP address or a host name, got {host!r}") from None
    return host


@dataclass(frozen=True)
class Placement:
    """Where the devnet's processes run, as their peers and as the user reach them (ADR 0024).

    The default: every process on this machine's loopback. With `hosts`, node I runs on
    hosts[I] (an IP address or a name): its P2P and RPC listen on every interface, its
    peers dial hosts[I], and its certificate names hosts[I] too; anvil and the relayer run
    at `bsc_host`. `client_host` is what devnet.json says, what the user's commands
    (`devnet status`, `bridge deposit --devnet`, ...) dial, when the user reaches every
    process there rather than at the hosts: the compose devnet, whose ports are published
    on the host's loopback.
    """

    hosts: tuple[str, ...] = ()
    bsc_host: str = HOST
    client_host: str | None = None

    @classmethod
    def on_hosts(cls, hosts: Sequence[str]) -> Placement:
        """Nodes on separate machines; anvil and the relayer beside node0."""
        if not hosts:
            raise _fail("--hosts: at least one host")
        return cls(tuple(hosts), bsc_host=hosts[0])

    @property
    def listen(self) -> str:
        return ANY if self.hosts else HOST

    def host(self, index: int) -> str:
        return self.hosts[index] if self.hosts else HOST

    def client(self, host: str) -> str:
        return self.client_host or host

    def check(self, nodes: int) -> None:
        if self.hosts and len(self.hosts) != nodes:
            raise _fail(f"--hosts: one host per node, {nodes}; got {len(self.hosts)}")
        for i, host in enumerate(self.hosts):
            check_host(host, f"--hosts[{i}]")
        check_host(self.bsc_host, "bsc host")


@dataclass(frozen=True)
class DevnetNode:
    """One node's entry in devnet.json; paths are relative to the devnet directory."""

    name: str
    p2p: str
    rpc: str
    config: str
    data_dir: str

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "p2p": self.p2p,
            "rpc": self.rpc,
            "config": self.config,
            "dataDir": self.data_dir,
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> DevnetNode:
        fields = ("name", "p2p", "rpc", "config", "dataDir")
        if type(obj) is not dict or set(obj) != set(fields):
            raise _fail(f"{where}: an object with exactly {', '.join(fields)}")
        if not all(type(obj[f]) is str for f in fields):
            raise _fail(f"{where}: every field is a string")
        if not _NODE_DIR.fullmatch(obj["name"]):
            raise _fail(f"{where}.name: nodeI, got {obj['name']!r}")
        for f in ("p2p", "rpc"):
            parse_address(obj[f], f"{where}.{f}")
        for f in ("config", "dataDir"):
            _relative(obj[f], f"{where}.{f}")
        return cls(obj["name"], obj["p2p"], obj["rpc"], obj["config"], obj["dataDir"])


def _relative(value: str, where: str) -> None:
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise _fail(f"{where}: a path inside the devnet directory, got {value!r}")


@dataclass(frozen=True)
class Devnet:
    root: Path  # absolute
    chain_name: str
    network_id: str  # hex
    nodes: tuple[DevnetNode, ...]
    bsc: DevnetBsc | None = None  # None: a devnet without the bridge (--no-bridge)

    def to_json(self) -> dict[str, Any]:
        return {
            "chainName": self.chain_name,
            "networkId": self.network_id,
            "nodes": [n.to_json() for n in self.nodes],
            **({"bsc": self.bsc.to_json()} if self.bsc is not None else {}),
        }

    def node_dir(self, node: DevnetNode) -> Path:
        return self.root / node.name

    def config_path(self, node: DevnetNode) -> Path:
        return self.root / node.config

    def data_dir(self, node: DevnetNode) -> Path:
        return self.root / node.data_dir

    def pid_file(self, node: DevnetNode) -> Path:
        return self.node_dir(node) / PID_FILE

    def test_accounts(self) -> list[KeyPair]:
        """The funded test accounts whose seeds `devnet init` wrote in plain text."""
        path = self.root / "keys" / TEST_ACCOUNTS_FILE
        try:
            entries = json.loads(path.read_text())["accounts"]
            return [KeyPair(bytes.fromhex(e["seed"])) for e in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _fail(f"{path}: no test accounts ({exc})") from None

    def key(self, name: str) -> KeyPair:
        """The keystore `keys/NAME.json` (e.g. `carbon-committee`), opened with the devnet's
        passphrase (`keys/passphrase`)."""
        keys = self.root / "keys"
        path = keys / f"{name}.json"
        try:
            passphrase = (keys / "passphrase").read_text().rstrip("\n")
            return KeyPair(decrypt_seed(load_keystore(path), passphrase))
        except OSError as exc:
            raise _fail(f"{keys / 'passphrase'}: {exc.strerror}") from None
        except KeystoreError as exc:
            raise _fail(f"the devnet's {name} key: {exc}") from None

    @classmethod
    def load(cls, directory: Path) -> Devnet:
        root = Path(directory).resolve()
        path = root / DEVNET_FILE
        try:
            if path.stat().st_size > _MAX_DEVNET_FILE:
                raise _fail(f"{path}: larger than {_MAX_DEVNET_FILE} bytes")
            obj = json.loads(path.read_text())
        except FileNotFoundError:
            raise _fail(f"{path}: no devnet here; create one with `ccoin devnet init`") from None
        except OSError as exc:
            raise _fail(f"{path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _fail(f"{path}: not JSON ({exc})") from None
        if type(obj) is not dict or not (
            {"chainName", "networkId", "nodes"}
            <= set(obj)
            <= {"chainName", "networkId", "nodes", "bsc"}
        ):
            raise _fail(f"{path}: an object with chainName, networkId, nodes and optionally bsc")
        if type(obj["chainName"]) is not str or type(obj["networkId"]) is not str:
            raise _fail(f"{path}: chainName and networkId are strings")
        nodes = obj["nodes"]
        if type(nodes) is not list or not 1 <= len(nodes) <= MAX_NODES:
            raise _fail(f"{path}: nodes is a list of 1 to {MAX_NODES} nodes")
        parsed = tuple(DevnetNode.from_json(n, f"nodes[{i}]") for i, n in enumerate(nodes))
        if len({n.name for n in parsed}) != len(parsed):
            raise _fail(f"{path}: duplicate node names")
        try:
            bsc = DevnetBsc.from_json(obj["bsc"]) if "bsc" in obj else None
        except CcoinError as exc:
            raise _fail(f"{path}: {exc.message}") from None
        return cls(root, obj["chainName"], obj["networkId"], parsed, bsc)


@dataclass(frozen=True)
class InitResult:
    devnet: Devnet
    created: bool  # False when --if-missing found an existing devnet


def generated_entries(root: Path) -> list[Path]:
    """What `init` creates in `root` (including leftovers of an interrupted init)."""
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if (
            name in (DEVNET_FILE, GENESIS_FILE, "ca", "keys", devbsc.BSC_DIR, devbsc.RELAY_DIR)
            or (_NODE_DIR.fullmatch(name) and entry.is_dir())
            or name.startswith(STAGING_PREFIX)
        ):
            out.append(entry)
    return out


def _running_in(root: Path) -> list[str]:
    running = []
    bridge = (
        ("bsc", devbsc.BSC_DIR, devbsc.ANVIL_PID, devbsc.STATE_FILE),
        ("relayer", devbsc.RELAY_DIR, devbsc.RELAYER_PID, devbsc.RELAY_CONFIG),
    )
    for name, directory, pid_file, marker in bridge:
        pid = read_pid(root / directory / pid_file)
        if pid is not None and node_alive(pid, (root / directory / marker).resolve()):
            running.append(f"{name} (pid {pid})")
    for entry in generated_entries(root):
        if not _NODE_DIR.fullmatch(entry.name):
            continue
        pid = read_pid(entry / PID_FILE)
        if pid is not None and node_alive(pid, (entry / CONFIG_FILE).resolve()):
            running.append(f"{entry.name} (pid {pid})")
    return running


def init_devnet(
    directory: Path,
    *,
    nodes: int = DEFAULT_NODES,
    base_port: int = DEFAULT_BASE_PORT,
    test_accounts: int = DEFAULT_TEST_ACCOUNTS,
    block_time_ms: int = DEFAULT_BLOCK_TIME_MS,
    force: bool = False,
    if_missing: bool = False,
    genesis_time: int | None = None,
    bridge: bool = True,
    placement: Placement = Placement(),
) -> InitResult:
    """Create a devnet of `nodes` nodes in `directory` (see the module docstring), placed
    as `placement` says (default: every process on this machine's loopback)."""
    if force and if_missing:
        raise _fail("--force and --if-missing contradict each other")
    root = Path(directory).resolve()
    if (root / DEVNET_FILE).exists():
        if if_missing:
            return InitResult(Devnet.load(root), created=False)
        if not force:
            raise _fail(f"{root / DEVNET_FILE} exists; use --force to replace this devnet")
    check_shape(nodes, base_port, bridge)
    placement.check(nodes)
    existing = generated_entries(root)
    if existing and not force:
        names = ", ".join(e.name for e in existing)
        raise _fail(f"{root} holds files of an unfinished devnet init ({names}); use --force")
    if force:
        running = _running_in(root)
        if running:
            raise _fail(
                f"nodes of this devnet are running: {', '.join(running)}; "
                "stop them with `ccoin devnet down` first"
            )
        for entry in existing:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    try:
        devnet = _build(
            stage,
            nodes=nodes,
            base_port=base_port,
            test_accounts=test_accounts,
            block_time_ms=block_time_ms,
            genesis_time=int(time.time()) if genesis_time is None else genesis_time,
            bridge=bridge,
            placement=placement,
        )
        for entry in sorted(stage.iterdir()):
            if entry.name != DEVNET_FILE:
                os.replace(entry, root / entry.name)
        os.replace(stage / DEVNET_FILE, root / DEVNET_FILE)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return InitResult(dataclasses.replace(devnet, root=root), True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def _build(
    stage: Path,
    *,
    nodes: int,
    base_port: int,
    test_accounts: int,
    block_time_ms: int,
    genesis_time: int,
    bridge: bool,
    placement: Placement,
) -> Devnet:
    names = [node_name(i) for i in range(nodes)]
    ca = NetworkCA.create(f"{CHAIN_NAME} CA")
    (stage / "ca").mkdir()
    ca.save(stage / "ca" / "ca.crt", stage / "ca" / "ca.key")
    fingerprints = []
    for i, name in enumerate(names):
        identity = ca.issue_node_cert(name, hosts=placement.hosts[i : i + 1])
        tls = stage / name / "tls"
        tls.mkdir(parents=True)
        identity.save(tls / "node.crt", tls / "node.key")
        fingerprints.append(fingerprint(identity.cert_der))

    keys = stage / "keys"
    keys.mkdir()
    passphrase = random_passphrase()
    _write_private(keys / "passphrase", (passphrase + "\n").encode())
    plan = DevnetBsc.plan(base_port, placement.client(placement.bsc_host)) if bridge else None
    spec = _bridge_keys(keys, passphrase, plan) if plan is not None else None
    result = write_genesis(
        out=stage / GENESIS_FILE,
        keys_dir=keys,
        passphrase=passphrase,
        delegates=nodes,
        test_accounts=test_accounts,
        chain_name=CHAIN_NAME,
        genesis_time=genesis_time,
        block_time_ms=block_time_ms,
        kdf=KDF,
        cert_fingerprints=fingerprints,
        network_ca=ca.cert_pem.decode("ascii"),
        bridge=spec,
    )

    hosts = [placement.host(i) for i in range(nodes)]
    addresses = [PeerAddress(hosts[i], p2p_port(base_port, i)) for i in range(nodes)]
    entries = []
    for i, name in enumerate(names):
        keys_of = (result.delegate_keystores[i], result.bridge_keystores[i])
        _write_node(stage, name, keys_of, passphrase, addresses, i, base_port, plan, placement)
        client = placement.client(hosts[i])
        entries.append(
            DevnetNode(
                name=name,
                p2p=str(PeerAddress(client, p2p_port(base_port, i))),
                rpc=str(PeerAddress(client, rpc_port(base_port, i))),
                config=f"{name}/{CONFIG_FILE}",
                data_dir=f"{name}/data",
            )
        )
    devnet = Devnet(stage, CHAIN_NAME, network_id_of(result.genesis).hex(), tuple(entries), plan)
    if plan is not None:
        (stage / devbsc.BSC_DIR).mkdir()
        (stage / devbsc.RELAY_DIR).mkdir()
        rpc = [f"{hosts[i]}:{rpc_port(base_port, i)}" for i in range(nodes)]
        metrics = base_port + devbsc.RELAY_METRICS_OFFSET
        relay = devbsc.relay_config(
            plan, rpc, metrics, bsc_host=placement.bsc_host, metrics_host=placement.listen
        )
        _write_json(stage / devbsc.RELAY_DIR / devbsc.RELAY_CONFIG, relay)
    _write_json(stage / DEVNET_FILE, devnet.to_json())
    return devnet


def _write_node(
    stage: Path,
    name: str,
    keystores: tuple[Path, Path],
    passphrase: str,
    addresses: list[PeerAddress],
    index: int,
    base_port: int,
    plan: DevnetBsc | None,
    placement: Placement,
) -> None:
    """nodeI/keys (the delegate's keystore, its bridge key, the passphrase) and node.json."""
    node_dir = stage / name
    keys = node_dir / "keys"
    keys.mkdir()
    delegate_keystore, bridge_keystore = keystores
    _write_private(keys / "delegate.json", delegate_keystore.read_bytes())
    _write_private(keys / "passphrase", (passphrase + "\n").encode())
    node_bridge = None
    if plan is not None:
        _write_private(keys / "bridge.json", bridge_keystore.read_bytes())
        node_bridge = BridgeNodeConfig(
            key=keys / "bridge.json",
            passphrase_file=keys / "passphrase",
            bsc=devbsc.bsc_url(placement.bsc_host, plan.port),
            anchor=plan.anchor,
        )
    config = NodeConfig(
        name=name,
        data_dir=node_dir / "data",
        genesis=stage / GENESIS_FILE,
        keystore=keys / "delegate.json",
        passphrase_file=keys / "passphrase",
        pool=PoolLimits(),
        p2p=P2PConfig(
            listen=PeerAddress(placement.listen, addresses[index].port),
            peers=tuple(a for j, a in enumerate(addresses) if j != index),
            cert=node_dir / "tls" / "node.crt",
            key=node_dir / "tls" / "node.key",
        ),
        rpc=RpcConfig(listen=PeerAddress(placement.listen, rpc_port(base_port, index))),
        bridge=node_bridge,
        log=LogRotation(node_dir / LOG_FILE),  # 10 MiB x 3
        # every node of the devnet shares one machine's cores: worker processes would add
        # pipes, not cores (measured no better, docs/benchmarks.md); one node: processes
        verify_workers="threads",
    )
    obj = config.to_json(node_dir)
    obj["genesis"] = f"../{GENESIS_FILE}"  # to_json writes paths outside base absolute
    NodeConfig.from_json(obj, node_dir)  # what `node start` will check
    _write_json(node_dir / CONFIG_FILE, obj)


def _bridge_keys(keys: Path, passphrase: str, plan: DevnetBsc) -> BridgeSpec:
    """The bridge's keys in keys/: the relayer's sidechain account, and anvil's dev accounts
    1 (pays the relayer's BSC gas) and 2 (a user holding C on BSC) as v3 keystores."""
    relayer = KeyPair.generate()
    opslimit, memlimit = KDF_PRESETS[KDF]
    save_keystore(
        encrypt_seed(relayer.seed, passphrase, opslimit=opslimit, memlimit=memlimit),
        keys / devbsc.RELAYER_KEY,
    )
    _, payer, user = devbsc.dev_keys()
    for name, account in ((devbsc.PAYER_KEY, payer), (devbsc.USER_KEY, user)):
        keystore = Account.encrypt(
            account.key, passphrase, kdf="pbkdf2", iterations=BRIDGE_KDF_ITERATIONS[KDF]
        )
        _write_private(keys / name, (json.dumps(keystore) + "\n").encode())
    return BridgeSpec(
        bsc_chain_id=plan.chain_id,
        contract=bytes.fromhex(plan.bridge[2:]),
        confirmations=devbsc.CONFIRMATIONS,
        escrow_balance=devbsc.TOKEN_SUPPLY,
        relayer=relayer,
    )
