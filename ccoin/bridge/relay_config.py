"""`ccoin relay`'s configuration file (JSON; paths relative to the file):

    {"bsc": URL, "bscChainId": 97, "anchor": "0x..", "bridge": "0x..",
     "payerKey": "payer.json", "payerPassphraseFile": "payer.pass",
     "sidechain": URL, "signers": [URL, ...],
     "relayerKeystore": "relayer.json", "relayerPassphraseFile": "relayer.pass",
     "intervalSeconds": 2, "maxRange": 256, "anchorEverySeconds": 0,
     "metricsListen": "127.0.0.1:9464"}

`intervalSeconds` is the pause between rounds (doubled after each failed round, up to a
minute); `anchorEverySeconds` spaces anchors out (each is a BSC transaction) unless
`maxRange` heights are waiting; 0 anchors every round. `metricsListen`, when given, serves
the relayer's Prometheus metrics (`ccoin_relay_*`) there.

`sidechain` is the node the relayer reads the chain from and submits credits to; when it
stops answering, the relayer moves on to the `signers` (delegate nodes are sidechain nodes
too) in turn. The payer key (an Ethereum v3 keystore) pays BSC gas; the relayer keystore
(ccoin's) is the sidechain account that sends type-6 credits (fee 0; it must exist on
chain). Neither can do
anything the delegates do not sign (ADR 0015).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccoin.errors import CcoinError, ConfigError, ErrorCode
from ccoin.node.config import parse_address
from ccoin.node.log import LogRotation
from ccoin.types.codec import json_evm_address, json_int, json_object, json_str, read_json_file

_FIELDS = frozenset(
    {
        "bsc",
        "bscChainId",
        "anchor",
        "bridge",
        "payerKey",
        "payerPassphraseFile",
        "sidechain",
        "signers",
        "relayerKeystore",
        "relayerPassphraseFile",
        "intervalSeconds",
        "maxRange",
        "anchorEverySeconds",
        "metricsListen",
        "log",
    }
)
_OPTIONAL = frozenset({"intervalSeconds", "maxRange", "anchorEverySeconds", "metricsListen", "log"})
MAX_CONFIG_BYTES = 1024 * 1024


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.CONFIG_INVALID, message)


def _url(value: Any, name: str) -> str:
    url = json_str(value, name, max_len=2048)
    if not url.startswith(("http://", "https://")):
        raise _fail(f"{name}: an http(s) URL")
    return url


@dataclass(frozen=True)
class RelayConfig:
    bsc: str
    bsc_chain_id: int
    anchor: str
    bridge: str
    payer_key: Path
    payer_passphrase_file: Path
    sidechain: str
    signers: tuple[str, ...]
    relayer_keystore: Path
    relayer_passphrase_file: Path
    interval_seconds: int = 2
    max_range: int = 256
    anchor_every_seconds: int = 0
    metrics_listen: str | None = None  # host:port
    log: LogRotation | None = None  # None: log lines go to stderr

    @classmethod
    def load(cls, path: Path) -> RelayConfig:
        obj = read_json_file(path, MAX_CONFIG_BYTES, ErrorCode.CONFIG_INVALID)
        return cls.from_json(obj, path.resolve().parent)

    @classmethod
    def from_json(cls, value: Any, base: Path) -> RelayConfig:
        try:
            return cls._from_json(value, base)
        except ConfigError:
            raise
        except CcoinError as exc:  # a typed DecodeError from the json_* helpers
            raise _fail(exc.message) from None

    @classmethod
    def _from_json(cls, value: Any, base: Path) -> RelayConfig:
        obj = json_object(value, "relay", _FIELDS)
        missing = sorted(_FIELDS - _OPTIONAL - set(obj))
        if missing:
            raise _fail(f"relay: missing field(s) {', '.join(missing)}")
        signers = obj["signers"]
        if type(signers) is not list or not 1 <= len(signers) <= 101:
            raise _fail("signers: a list of 1 to 101 delegate node URLs")

        def path(name: str) -> Path:
            return base / json_str(obj[name], name, max_len=4096)

        return cls(
            bsc=_url(obj["bsc"], "bsc"),
            bsc_chain_id=json_int(obj["bscChainId"], "bscChainId", 1, 2**63 - 1),
            anchor=json_evm_address(obj["anchor"], "anchor"),
            bridge=json_evm_address(obj["bridge"], "bridge"),
            payer_key=path("payerKey"),
            payer_passphrase_file=path("payerPassphraseFile"),
            sidechain=_url(obj["sidechain"], "sidechain"),
            signers=tuple(_url(s, "signers[]") for s in signers),
            relayer_keystore=path("relayerKeystore"),
            relayer_passphrase_file=path("relayerPassphraseFile"),
            interval_seconds=json_int(obj.get("intervalSeconds", 2), "intervalSeconds", 1, 3600),
            max_range=json_int(obj.get("maxRange", 256), "maxRange", 1, 10_000),
            anchor_every_seconds=json_int(
                obj.get("anchorEverySeconds", 0), "anchorEverySeconds", 0, 86_400
            ),
            metrics_listen=(
                str(parse_address(obj["metricsListen"], "metricsListen"))
                if "metricsListen" in obj
                else None
            ),
            log=LogRotation.from_json(obj["log"], base) if "log" in obj else None,
        )
