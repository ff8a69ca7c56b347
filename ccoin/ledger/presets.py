"""Genesis presets. The whitepaper's issuance: 500 trillion C, allocated as below; the
ecological and community funds are locked (they cannot send)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ccoin.crypto.address import escrow_address
from ccoin.crypto.keys import KeyPair
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.modules.carbon.genesis import CarbonGenesis
from ccoin.types.assets import DelegateAsset
from ccoin.types.codec import UNIT
from ccoin.types.genesis import (
    DEFAULT_MIN_FEES,
    GenesisAccount,
    GenesisConfig,
    GenesisDelegate,
    RewardSchedule,
)

TRILLION = 10**12


def delegate_asset(k: KeyPair, username: str) -> DelegateAsset:
    """A delegate registration whose bridge address and certificate hash are derived from
    its key: placeholders that the devnet and the tests replace where they matter."""
    return DelegateAsset(
        username,
        hashlib.sha256(b"bridge" + k.public_key).digest()[:20],
        hashlib.sha256(b"cert" + k.public_key).digest(),
    )


@dataclass(frozen=True)
class Fund:
    label: str
    name: str  # file-friendly
    trillions_of_c: int
    locked: bool


WHITEPAPER_FUNDS = (
    Fund("NFT mining reserve", "nft-mining-reserve", 100, False),
    Fund("ecological fund", "ecological-fund", 50, True),
    Fund("community fund", "community-fund", 25, True),
    Fund("reward fund", "reward-fund", 10, False),
    Fund("environmental organisations", "environmental-organisations", 20, False),
    Fund("liquidity", "liquidity", 295, False),
)
TOTAL_ISSUANCE = 500 * TRILLION * UNIT
assert sum(f.trillions_of_c for f in WHITEPAPER_FUNDS) * TRILLION * UNIT == TOTAL_ISSUANCE


@dataclass(frozen=True)
class DelegateSpec:
    key: KeyPair
    asset: DelegateAsset


@dataclass(frozen=True)
class BridgeSpec:
    """A genesis bridge to BSC. The escrow (an address no key owns, locked besides) holds
    `escrow_balance`, the C that the BSC token's supply stands for, taken out of the
    liquidity fund; `relayer` is an account without C that sends the type-6 credits."""

    bsc_chain_id: int
    contract: bytes  # the Bridge contract's address on BSC
    confirmations: int
    escrow_balance: int
    relayer: KeyPair


def whitepaper_genesis(
    *,
    chain_name: str,
    genesis_time: int,
    funds: dict[str, KeyPair],
    delegates: list[DelegateSpec],
    test_accounts: list[KeyPair] = (),  # type: ignore[assignment]
    governance: KeyPair | None = None,
    test_balance: int = 1_000_000 * UNIT,
    block_time_ms: int = 1000,
    active_delegates: int | None = None,
    max_block_transactions: int = 20_000,
    max_block_bytes: int = 8 * 1024 * 1024,
    bridge: BridgeSpec | None = None,
    carbon_committee: KeyPair | None = None,
) -> GenesisConfig:
    """The whitepaper's allocation; test accounts are funded out of the liquidity fund, so
    the total stays 500 trillion C."""
    accounts = []
    for fund in WHITEPAPER_FUNDS:
        balance = fund.trillions_of_c * TRILLION * UNIT
        if fund.name == "liquidity":
            balance -= test_balance * len(test_accounts)
            balance -= bridge.escrow_balance if bridge is not None else 0
        key = funds[fund.name]
        accounts.append(
            GenesisAccount(key.address, balance, key.public_key, fund.locked, fund.label)
        )
    for i, key in enumerate(test_accounts):
        accounts.append(
            GenesisAccount(key.address, test_balance, key.public_key, False, f"test account {i}")
        )
    if governance is not None:  # holds no C: governance transactions have no minimum fee
        accounts.append(
            GenesisAccount(governance.address, 0, governance.public_key, False, "governance")
        )
    carbon = None
    if carbon_committee is not None:  # holds no C: its transactions have no minimum fee
        accounts.append(
            GenesisAccount(
                carbon_committee.address, 0, carbon_committee.public_key, False, "carbon committee"
            )
        )
        carbon = CarbonGenesis(carbon_committee.address)
    bridge_config = None
    if bridge is not None:
        escrow = escrow_address(chain_name)
        accounts.append(GenesisAccount(escrow, bridge.escrow_balance, None, True, "bridge escrow"))
        relayer = bridge.relayer
        accounts.append(GenesisAccount(relayer.address, 0, relayer.public_key, False, "relayer"))
        bridge_config = BridgeConfig(
            escrow, bridge.bsc_chain_id, bridge.contract, bridge.confirmations
        )
    reward_fund = funds["reward-fund"].address
    return GenesisConfig(
        chain_name=chain_name,
        genesis_time=genesis_time,
        block_time_ms=block_time_ms,
        active_delegates=active_delegates or len(delegates),
        max_block_transactions=max_block_transactions,
        max_block_bytes=max_block_bytes,
        min_fees=tuple(DEFAULT_MIN_FEES.values()),
        accounts=tuple(accounts),
        delegates=tuple(GenesisDelegate(d.key.public_key, d.asset) for d in delegates),
        governance=governance.address if governance is not None else "",
        rewards=RewardSchedule(reward_fund, 1, 3_000_000, tuple(c * UNIT for c in (5, 4, 3, 2, 1))),
        bridge=bridge_config,
        carbon=carbon,
    )
