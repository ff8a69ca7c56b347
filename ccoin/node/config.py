"""Node configuration: a JSON file; relative paths are relative to the file's directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import LogRotation
from ccoin.node.mempool import PoolLimits
from ccoin.p2p.peer import PeerAddress
from ccoin.types.codec import json_evm_address, json_int, json_object, json_str, read_json_file

MAX_CONFIG_FILE = 1024 * 1024
_FIELDS = frozenset(
    {
        "name",
        "dataDir",
        "genesis",
        "keystore",
        "passphraseFile",
        "pool",
        "logLevel",
        "log",
        "p2p",
        "rpc",
        "bridge",
        "verifyWorkers",
    }
)
VERIFY_WORKERS = ("processes", "threads")
_BRIDGE_FIELDS = frozenset({"key", "passphraseFile", "bsc", "anchor"})
_P2P_FIELDS = frozenset({"listen", "peers", "cert", "key"})
STATUS_FILE = "status.json"  # written by the node into its dataDir on every new head
_POOL_FIELDS = frozenset(
    {
        "maxTransactions",
        "maxBytes",
        "perSender",
        "ttlSeconds",
        "faultSuspensionSeconds",
        "maxSuspendedSenders",
    }
)
# rpc section: JSON name -> (RpcConfig field, lowest, highest)
_RPC_LIMITS = {
    "maxBodyBytes": ("max_body_bytes", 1024, 256 * 1024 * 1024),
    "maxBatch": ("max_batch", 1, 100_000),
    "maxTransactionsPerCall": ("max_transactions_per_call", 1, 100_000),
    "ratePerSecond": ("rate_per_second", 1, 1_000_000),
    "rateBurst": ("rate_burst", 1, 1_000_000),
    "maxVerifying": ("max_verifying", 1, 10_000_000),
    "maxWebsockets": ("max_websockets", 1, 100_000),
    "maxSubscriptions": ("max_subscriptions", 1, 100_000),
    "maxViewGas": ("max_view_gas", 1, 2_000_000),  # at most gas.CALL_GAS_CAP
    "maxViewsWaiting": ("max_views_waiting", 1, 10_000),
    "readTimeoutSeconds": ("read_timeout_seconds", 1, 3600),
    "idleTimeoutSeconds": ("idle_timeout_seconds", 1, 3600),
    "maxConnections": ("max_connections", 1, 100_000),
    "maxConnectionsPerClient": ("max_connections_per_client", 1, 100_000),
}


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.CONFIG_INVALID, message)


def parse_address(value: Any, name: str) -> PeerAddress:
    """`host:port` text into the address type the P2P network dials and listens on."""
    text = json_str(value, name, max_len=255)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise _fail(f"{name}: expected host:port, got {text!r}")
    return PeerAddress(host, int(port))


@dataclass(frozen=True)
class P2PConfig:
    listen: PeerAddress
    peers: tuple[PeerAddress, ...]
    cert: Path
    key: Path


@dataclass(frozen=True)
class RpcConfig:
    """The HTTP API (`ccoin.rpc`): where it listens and what it accepts from one client."""

    listen: PeerAddress
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 1_000  # JSON-RPC requests in one batch
    max_transactions_per_call: int = 5_000  # entries of one ccoin_sendTransactions
    rate_per_second: int = 200  # requests per client address, token bucket refill
    rate_burst: int = 400
    max_verifying: int = 50_000  # transactions awaiting signature checks before RPC_BUSY
    max_websockets: int = 256
    max_subscriptions: int = 64  # per WebSocket connection
    max_view_gas: int = 1_000_000  # gas cap of one ccoin_callContract
    max_views_waiting: int = 16  # ccoin_callContract calls queued before RPC_BUSY
    read_timeout_seconds: int = 10  # a connection that sends nothing this long is closed
    idle_timeout_seconds: int = 30  # a kept-alive connection between requests
    max_connections: int = 512  # open HTTP connections; more are closed at once
    max_connections_per_client: int = 128  # from one address: one client cannot take all

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"listen": str(self.listen)}
        for name, (attr, _lo, _hi) in _RPC_LIMITS.items():
            out[name] = getattr(self, attr)
        return out


def _rpc_from_json(value: Any) -> RpcConfig:
    obj = json_object(value, "rpc", frozenset(_RPC_LIMITS) | {"listen"})
    if "listen" not in obj:
        raise _fail("rpc: missing field listen")
    limits = {
        attr: json_int(obj[name], f"rpc.{name}", lo, hi)
        for name, (attr, lo, hi) in _RPC_LIMITS.items()
        if name in obj
    }
    return RpcConfig(listen=parse_address(obj["listen"], "rpc.listen"), **limits)


@dataclass(frozen=True)
class BridgeNodeConfig:
    """A delegate node's part in the bridge (ADR 0015): its secp256k1 bridge key (an
    Ethereum v3 keystore), its own BSC endpoint and the Anchor contract it signs for."""

    key: Path
    passphrase_file: Path
    bsc: str
    anchor: str

    def to_json(self, rel: Any) -> dict[str, Any]:
        return {
            "key": rel(self.key),
            "passphraseFile": rel(self.passphrase_file),
            "bsc": self.bsc,
            "anchor": self.anchor,
        }


def _bridge_from_json(value: Any, base: Path) -> BridgeNodeConfig:
    obj = json_object(value, "bridge", _BRIDGE_FIELDS)
    missing = sorted(_BRIDGE_FIELDS - set(obj))
    if missing:
        raise _fail(f"bridge: missing field(s) {', '.join(missing)}")
    bsc = json_str(obj["bsc"], "bridge.bsc", max_len=2048)
    if not bsc.startswith(("http://", "https://")):
        raise _fail("bridge.bsc: an http(s) JSON-RPC URL")
    anchor = json_evm_address(obj["anchor"], "bridge.anchor")
    return BridgeNodeConfig(
        key=base / json_str(obj["key"], "bridge.key", max_len=4096),
        passphrase_file=base
        / json_str(obj["passphraseFile"], "bridge.passphraseFile", max_len=4096),
        bsc=bsc,
        anchor=anchor,
    )


@dataclass(frozen=True)
class NodeConfig:
    name: str
    data_dir: Path
    genesis: Path
    keystore: Path | None
    passphrase_file: Path | None
    pool: PoolLimits
    log_level: str = "info"
    p2p: P2PConfig | None = None
    rpc: RpcConfig | None = None
    bridge: BridgeNodeConfig | None = None
    log: LogRotation | None = None  # None: log lines go to stderr
    # Where signatures are checked: worker processes (a node from a config file: the node's
    # interpreter keeps its GIL) or threads (the default in code: in-process test nodes)
    verify_workers: str = "threads"

    @property
    def status_file(self) -> Path:
        return self.data_dir / STATUS_FILE

    @classmethod
    def load(cls, path: str | Path) -> NodeConfig:
        p = Path(path)
        obj = read_json_file(p, MAX_CONFIG_FILE, ErrorCode.CONFIG_INVALID)
        try:
            return cls.from_json(obj, p.resolve().parent)
        except ConfigError:
            raise
        except Exception as exc:  # a typed DecodeError from the json_* helpers
            raise _fail(f"{p}: {exc}") from None

    @classmethod
    def from_json(cls, obj: Any, base: Path) -> NodeConfig:
        obj = json_object(obj, "config", _FIELDS)
        for name in ("name", "dataDir", "genesis"):
            if name not in obj:
                raise _fail(f"config: missing field {name}")

        def path(name: str) -> Path | None:
            if obj.get(name) is None:
                return None
            return base / json_str(obj[name], name, max_len=4096)

        pool_obj = json_object(obj.get("pool", {}), "pool", _POOL_FIELDS)
        defaults = PoolLimits()
        pool = PoolLimits(
            max_transactions=json_int(
                pool_obj.get("maxTransactions", defaults.max_transactions),
                "pool.maxTransactions",
                1,
                10_000_000,
            ),
            max_bytes=json_int(
                pool_obj.get("maxBytes", defaults.max_bytes), "pool.maxBytes", 1024, 2**34
            ),
            per_sender=json_int(
                pool_obj.get("perSender", defaults.per_sender), "pool.perSender", 1, 10_000_000
            ),
            ttl_seconds=json_int(
                pool_obj.get("ttlSeconds", defaults.ttl_seconds), "pool.ttlSeconds", 1, 30 * 86400
            ),
            fault_suspension_seconds=json_int(
                pool_obj.get("faultSuspensionSeconds", defaults.fault_suspension_seconds),
                "pool.faultSuspensionSeconds",
                1,
                86400,
            ),
            max_suspended_senders=json_int(
                pool_obj.get("maxSuspendedSenders", defaults.max_suspended_senders),
                "pool.maxSuspendedSenders",
                1,
                10_000_000,
            ),
        )
        level = json_str(obj.get("logLevel", "info"), "logLevel", max_len=8)
        if level not in ("debug", "info", "warning", "error"):
            raise _fail("logLevel: one of debug, info, warning, error")
        workers = json_str(obj.get("verifyWorkers", "processes"), "verifyWorkers", max_len=16)
        if workers not in VERIFY_WORKERS:
            raise _fail("verifyWorkers: processes or threads")
        keystore = path("keystore")
        passphrase = path("passphraseFile")
        if (keystore is None) != (passphrase is None):
            raise _fail("keystore and passphraseFile go together")
        data_dir = path("dataDir")
        genesis = path("genesis")
        assert data_dir is not None and genesis is not None
        p2p = None
        if obj.get("p2p") is not None:
            p2p = _p2p_from_json(obj["p2p"], base)
        return cls(
            name=json_str(obj["name"], "name", max_len=64),
            data_dir=data_dir,
            genesis=genesis,
            keystore=keystore,
            passphrase_file=passphrase,
            pool=pool,
            log_level=level,
            p2p=p2p,
            rpc=None if obj.get("rpc") is None else _rpc_from_json(obj["rpc"]),
            bridge=None if obj.get("bridge") is None else _bridge_from_json(obj["bridge"], base),
            log=None if obj.get("log") is None else LogRotation.from_json(obj["log"], base),
            verify_workers=workers,
        )

    def to_json(self, base: Path) -> dict[str, Any]:
        """The file `load` reads back when it lies in `base`. Relative paths here are taken
        from the working directory, like any path; in the file, a path under `base` is
        written relative to it (the folder can move as one) and any other absolute."""
        root = Path(os.path.abspath(base))

        def rel(p: Path | None) -> str | None:
            if p is None:
                return None
            # abspath on both sides, not resolve: the same spelling, symlinks kept
            path = Path(os.path.abspath(p))
            return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

        out: dict[str, Any] = {
            "name": self.name,
            "dataDir": rel(self.data_dir),
            "genesis": rel(self.genesis),
            "pool": {
                "maxTransactions": self.pool.max_transactions,
                "maxBytes": self.pool.max_bytes,
                "perSender": self.pool.per_sender,
                "ttlSeconds": self.pool.ttl_seconds,
                "faultSuspensionSeconds": self.pool.fault_suspension_seconds,
                "maxSuspendedSenders": self.pool.max_suspended_senders,
            },
            "logLevel": self.log_level,
            "verifyWorkers": self.verify_workers,
        }
        if self.keystore is not None:
            out["keystore"] = rel(self.keystore)
            out["passphraseFile"] = rel(self.passphrase_file)
        if self.p2p is not None:
            out["p2p"] = {
                "listen": str(self.p2p.listen),
                "peers": [str(p) for p in self.p2p.peers],
                "cert": rel(self.p2p.cert),
                "key": rel(self.p2p.key),
            }
        if self.rpc is not None:
            out["rpc"] = self.rpc.to_json()
        if self.bridge is not None:
            out["bridge"] = self.bridge.to_json(rel)
        if self.log is not None:
            out["log"] = self.log.to_json(str(rel(self.log.file)))
        return out


def _p2p_from_json(value: Any, base: Path) -> P2PConfig:
    obj = json_object(value, "p2p", _P2P_FIELDS)
    for name in ("listen", "cert", "key"):
        if name not in obj:
            raise _fail(f"p2p: missing field {name}")
    peers = obj.get("peers", [])
    if type(peers) is not list or len(peers) > 1000:
        raise _fail("p2p.peers: a list of host:port")
    return P2PConfig(
        listen=parse_address(obj["listen"], "p2p.listen"),
        peers=tuple(parse_address(p, "p2p.peers[]") for p in peers),
        cert=base / json_str(obj["cert"], "p2p.cert", max_len=4096),
        key=base / json_str(obj["key"], "p2p.key", max_len=4096),
    )
