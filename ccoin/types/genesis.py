"""The genesis file: network parameters, initial accounts and delegates.

The JSON file is what people edit; `GenesisConfig.to_array()` is its canonical form, whose
SHA-256 is the genesis block's payloadHash. The network id is SHA-256 of the genesis block's
bytes (`ccoin.ledger.genesis`), so any change to this file makes a different network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccoin.crypto.address import address_from_public_key, address_raw
from ccoin.errors import CcoinError, ConfigError, ErrorCode, InvalidTransaction
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.modules.carbon.genesis import CarbonGenesis
from ccoin.types.assets import DelegateAsset, TxType
from ccoin.types.codec import (
    MAX_BIGINT,
    UNIT,
    json_bigint,
    json_hex,
    json_int,
    json_object,
    json_str,
    read_json_file,
)

MAX_GENESIS_FILE = 16 * 1024 * 1024
MAX_GENESIS_ACCOUNTS = 100_000

FEE_NAMES = {
    TxType.TRANSFER: "transfer",
    TxType.SECOND_SIGNATURE: "secondSignature",
    TxType.DELEGATE: "delegate",
    TxType.VOTE: "vote",
    TxType.MULTISIGNATURE: "multisignature",
    TxType.CONTRACT_DEPLOY: "contractDeploy",
    TxType.IN_TRANSFER: "inTransfer",
    TxType.OUT_TRANSFER: "outTransfer",
    TxType.CONTRACT_CALL: "contractCall",
    TxType.GOVERNANCE: "governance",
    TxType.EVIDENCE: "evidence",
}

DEFAULT_MIN_FEES = {
    TxType.TRANSFER: UNIT // 10,  # 0.1 C
    TxType.SECOND_SIGNATURE: 5 * UNIT,
    TxType.DELEGATE: 25 * UNIT,
    TxType.VOTE: 1 * UNIT,
    TxType.MULTISIGNATURE: 5 * UNIT,
    TxType.CONTRACT_DEPLOY: 25 * UNIT,
    TxType.IN_TRANSFER: 0,  # paid by the relaying delegate; attestations prove it
    TxType.OUT_TRANSFER: UNIT // 10,
    TxType.CONTRACT_CALL: UNIT // 10,
    TxType.GOVERNANCE: 0,
    TxType.EVIDENCE: 0,  # reporting an equivocation should cost nothing
}


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.GENESIS_INVALID, message)


@dataclass(frozen=True)
class GenesisAccount:
    address: str
    balance: int
    public_key: bytes | None = None
    locked: bool = False
    label: str = ""

    def to_array(self) -> list[Any]:
        return [self.address, self.public_key, self.balance, self.locked, self.label]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": self.address, "balance": str(self.balance)}
        if self.public_key is not None:
            out["publicKey"] = self.public_key.hex()
        if self.locked:
            out["locked"] = True
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class GenesisDelegate:
    public_key: bytes
    asset: DelegateAsset

    def to_array(self) -> list[Any]:
        return [self.public_key, *self.asset.to_array()]

    def to_json(self) -> dict[str, Any]:
        return {"publicKey": self.public_key.hex(), **self.asset.to_json()}


@dataclass(frozen=True)
class RewardSchedule:
    """Block rewards, paid from a genesis account (the whitepaper's reward fund) rather than
    minted, so the total supply never changes. The reward at height h is 0 below `offset`,
    else milestones[min((h - offset) // distance, last)], capped by what the account holds."""

    account: str = ""  # empty: no rewards
    offset: int = 1
    distance: int = 3_000_000
    milestones: tuple[int, ...] = ()

    def at(self, height: int) -> int:
        if not self.account or not self.milestones or height < self.offset:
            return 0
        step = (height - self.offset) // self.distance
        return self.milestones[min(step, len(self.milestones) - 1)]

    def to_array(self) -> list[Any]:
        return [self.account, self.offset, self.distance, list(self.milestones)]

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "offset": self.offset,
            "distance": self.distance,
            "milestones": [str(m) for m in self.milestones],
        }

    @classmethod
    def from_json(cls, obj: Any, accounts: tuple[GenesisAccount, ...]) -> RewardSchedule:
        obj = json_object(
            obj, "rewards", frozenset({"account", "offset", "distance", "milestones"})
        )
        account = json_str(obj.get("account", ""), "rewards.account", max_len=21)
        if account and account not in {a.address for a in accounts}:
            raise _fail("rewards.account: must be one of the genesis accounts")
        milestones = obj.get("milestones", [])
        if type(milestones) is not list or len(milestones) > 100:
            raise _fail("rewards.milestones: a list of at most 100 amounts")
        return cls(
            account,
            json_int(obj.get("offset", 1), "rewards.offset", 1, MAX_BIGINT),
            json_int(obj.get("distance", 3_000_000), "rewards.distance", 1, MAX_BIGINT),
            tuple(json_bigint(m, "rewards.milestones[]") for m in milestones),
        )


MIN_BLOCK_TIME_MS = 100
MAX_BLOCK_TIME_MS = 60_000


def seconds_text(ms: int) -> str:
    """Milliseconds as a person writes seconds: 1000 -> "1", 500 -> "0.5"."""
    return f"{ms / 1000:g}"


@dataclass(frozen=True)
class GenesisConfig:
    chain_name: str
    genesis_time: int  # unix seconds; every timestamp on chain counts from here
    block_time_ms: int  # milliseconds per slot
    active_delegates: int
    max_block_transactions: int
    max_block_bytes: int
    min_fees: tuple[int, ...]  # indexed by transaction type
    accounts: tuple[GenesisAccount, ...]
    delegates: tuple[GenesisDelegate, ...]
    # PEM of the network CA certificate: every node certificate must chain to it (DESIGN
    # section 7). Pinned by the network id like every other genesis field.
    network_ca: str = ""
    rewards: RewardSchedule = field(default_factory=lambda: RewardSchedule())
    # The account whose type-9 transactions admit and revoke accounts and node certificates
    # (it may be a multisignature account); empty: nobody can.
    governance: str = ""
    # The bridge to BSC; None: types 6 and 7 are not enabled on this network.
    bridge: BridgeConfig | None = None
    # The carbon module's section (ccoin.modules.carbon); None: types 11-16 are not enabled.
    carbon: CarbonGenesis | None = None

    def min_fee(self, tx_type: int) -> int:
        """The type's minimum fee: the core types' from `minFees`, a module's types' from
        the module's own section."""
        if tx_type < len(self.min_fees):
            return self.min_fees[tx_type]
        if self.carbon is not None and tx_type >= TxType.CARBON_COMMITTEE:
            return self.carbon.min_fee(tx_type)
        raise InvalidTransaction(
            ErrorCode.TX_TYPE_NOT_ENABLED, f"type {tx_type} is not enabled on this network"
        )

    @property
    def total_supply(self) -> int:
        return sum(a.balance for a in self.accounts)

    def to_array(self) -> list[Any]:
        return [
            "CCOIN-GENESIS",
            self.chain_name,
            self.genesis_time,
            self.block_time_ms,
            self.active_delegates,
            self.max_block_transactions,
            self.max_block_bytes,
            list(self.min_fees),
            [a.to_array() for a in self.accounts],
            [d.to_array() for d in self.delegates],
            self.network_ca,
            self.rewards.to_array(),
            self.governance,
            # Only when configured: a network without a bridge keeps the bytes (and so the
            # network id) it had before bridges existed.
            *([self.bridge.to_array()] if self.bridge is not None else []),
            # Module sections follow, each a tagged array, only when configured.
            *([self.carbon.to_array()] if self.carbon is not None else []),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "chainName": self.chain_name,
            "genesisTime": self.genesis_time,
            "blockTimeMs": self.block_time_ms,
            "activeDelegates": self.active_delegates,
            "maxBlockTransactions": self.max_block_transactions,
            "maxBlockBytes": self.max_block_bytes,
            "minFees": {FEE_NAMES[TxType(t)]: str(f) for t, f in enumerate(self.min_fees)},
            "accounts": [a.to_json() for a in self.accounts],
            "delegates": [d.to_json() for d in self.delegates],
            "networkCa": self.network_ca,
            "rewards": self.rewards.to_json(),
            "governance": self.governance,
            **({"bridge": self.bridge.to_json()} if self.bridge is not None else {}),
            **({"carbon": self.carbon.to_json()} if self.carbon is not None else {}),
        }

    @classmethod
    def from_json(cls, obj: Any) -> GenesisConfig:
        try:
            return _genesis_from_json(obj)
        except ConfigError:
            raise
        except CcoinError as exc:
            raise _fail(exc.message) from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> GenesisConfig:
        obj = read_json_file(Path(path), MAX_GENESIS_FILE, ErrorCode.GENESIS_INVALID)
        return cls.from_json(obj)


_GENESIS_FIELDS = frozenset(
    {
        "chainName",
        "genesisTime",
        "blockTimeMs",
        "activeDelegates",
        "maxBlockTransactions",
        "maxBlockBytes",
        "minFees",
        "accounts",
        "delegates",
        "networkCa",
        "rewards",
        "governance",
        "bridge",
        "carbon",
    }
)
_GENESIS_REQUIRED = _GENESIS_FIELDS - {"networkCa", "rewards", "governance", "bridge", "carbon"}


def _genesis_from_json(obj: Any) -> GenesisConfig:
    if isinstance(obj, dict) and "blockTime" in obj:
        raise _fail(
            "blockTime (whole seconds) was replaced by blockTimeMs (milliseconds, "
            f"{MIN_BLOCK_TIME_MS}-{MAX_BLOCK_TIME_MS}): write the genesis again with "
            "`ccoin genesis new` or `ccoin devnet init`"
        )
    obj = json_object(obj, "genesis", _GENESIS_FIELDS)
    missing = sorted(_GENESIS_REQUIRED - set(obj))
    if missing:
        raise _fail(f"genesis: missing field(s) {', '.join(missing)}")
    chain_name = json_str(obj["chainName"], "chainName", max_len=64)
    if not chain_name:
        raise _fail("chainName: must not be empty")
    fees_obj = json_object(obj["minFees"], "minFees", frozenset(FEE_NAMES.values()))
    min_fees = tuple(
        json_bigint(fees_obj[name], f"minFees.{name}") if name in fees_obj else DEFAULT_MIN_FEES[t]
        for t, name in FEE_NAMES.items()
    )
    accounts = _accounts_from_json(obj["accounts"])
    delegates = _delegates_from_json(obj["delegates"])
    active = json_int(obj["activeDelegates"], "activeDelegates", 1, 101)
    if not delegates:
        raise _fail("delegates: at least one genesis delegate is needed to produce blocks")
    if len(delegates) < active:
        raise _fail(f"delegates: {len(delegates)} given, activeDelegates is {active}")
    return GenesisConfig(
        chain_name=chain_name,
        genesis_time=json_int(obj["genesisTime"], "genesisTime", 0, 2**40),
        block_time_ms=json_int(
            obj["blockTimeMs"], "blockTimeMs", MIN_BLOCK_TIME_MS, MAX_BLOCK_TIME_MS
        ),
        active_delegates=active,
        max_block_transactions=json_int(
            obj["maxBlockTransactions"], "maxBlockTransactions", 1, 50_000
        ),
        max_block_bytes=json_int(obj["maxBlockBytes"], "maxBlockBytes", 1024, 16 * 1024 * 1024),
        min_fees=min_fees,
        accounts=accounts,
        delegates=delegates,
        network_ca=_network_ca(obj.get("networkCa", "")),
        rewards=RewardSchedule.from_json(obj.get("rewards", {}), accounts),
        governance=_governance(obj.get("governance", ""), accounts),
        bridge=(
            BridgeConfig.from_json(obj["bridge"], {a.address for a in accounts})
            if "bridge" in obj
            else None
        ),
        carbon=CarbonGenesis.from_json(obj["carbon"]) if "carbon" in obj else None,
    )


def _governance(value: Any, accounts: tuple[GenesisAccount, ...]) -> str:
    address = json_str(value, "governance", max_len=21)
    if address and address not in {a.address for a in accounts}:
        raise _fail("governance: must be one of the genesis accounts")
    return address


def _network_ca(value: Any) -> str:
    pem = json_str(value, "networkCa", max_len=16 * 1024)
    if pem and not pem.startswith("-----BEGIN CERTIFICATE-----"):
        raise _fail("networkCa: a PEM certificate (-----BEGIN CERTIFICATE-----)")
    return pem


def _accounts_from_json(value: Any) -> tuple[GenesisAccount, ...]:
    if type(value) is not list or len(value) > MAX_GENESIS_ACCOUNTS:
        raise _fail(f"accounts: a list of at most {MAX_GENESIS_ACCOUNTS} accounts")
    seen: set[str] = set()
    total = 0
    out = []
    for i, item in enumerate(value):
        name = f"accounts[{i}]"
        item = json_object(
            item, name, frozenset({"address", "publicKey", "balance", "locked", "label"})
        )
        address = json_str(item.get("address"), f"{name}.address", max_len=21)
        address_raw(address)
        public_key = None
        if item.get("publicKey") is not None:
            public_key = json_hex(item["publicKey"], f"{name}.publicKey", size=32)
            if address_from_public_key(public_key) != address:
                raise _fail(f"{name}: publicKey does not match address")
        locked = item.get("locked", False)
        if type(locked) is not bool:
            raise _fail(f"{name}.locked: true or false")
        balance = json_bigint(item.get("balance"), f"{name}.balance")
        total += balance
        if total > MAX_BIGINT:
            raise _fail("accounts: total supply exceeds 2**63-1 base units")
        if address in seen:
            raise _fail(f"{name}: duplicate address {address}")
        seen.add(address)
        label = json_str(item.get("label", ""), f"{name}.label", max_len=64)
        out.append(GenesisAccount(address, balance, public_key, locked, label))
    return tuple(out)


def _delegates_from_json(value: Any) -> tuple[GenesisDelegate, ...]:
    if type(value) is not list or len(value) > 1000:
        raise _fail("delegates: a list of at most 1000 delegates")
    out = []
    keys: set[bytes] = set()
    names: set[str] = set()
    bridges: set[bytes] = set()
    for i, item in enumerate(value):
        name = f"delegates[{i}]"
        item = json_object(
            item, name, frozenset({"publicKey", "username", "bridgeAddress", "certFingerprint"})
        )
        public_key = json_hex(item.get("publicKey"), f"{name}.publicKey", size=32)
        asset = DelegateAsset.from_json({k: v for k, v in item.items() if k != "publicKey"})
        if public_key in keys or asset.username in names or asset.bridge_address in bridges:
            raise _fail(f"{name}: duplicate publicKey, username or bridgeAddress")
        keys.add(public_key)
        names.add(asset.username)
        bridges.add(asset.bridge_address)
        out.append(GenesisDelegate(public_key, asset))
    return tuple(out)
