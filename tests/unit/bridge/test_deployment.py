"""`plan_addresses` against anvil's known CREATE addresses, and the Anchor's genesis set."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.bridge.deployment import genesis_members, needed_nonce, plan_addresses
from ccoin.bridge.digests import sorted_members
from ccoin.crypto.keys import KeyPair
from ccoin.errors import CcoinError
from ccoin.ledger.presets import WHITEPAPER_FUNDS, DelegateSpec, whitepaper_genesis
from ccoin.testing.factories import delegate_asset

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CREATED = (
    "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
)


def test_plan_addresses_are_anvils_create_addresses() -> None:
    assert plan_addresses(DEV0, 0) == CREATED
    assert plan_addresses(DEV0.lower(), 1)[:3] == CREATED[1:]
    assert needed_nonce(DEV0, CREATED[2], 10) == 0
    assert needed_nonce(DEV0, CREATED[1], 10) is None  # nonce 1 is no Bridge's (n + 2)
    with pytest.raises(CcoinError):
        plan_addresses("0x1234", 0)
    with pytest.raises(CcoinError):
        plan_addresses(DEV0, -1)


def test_anchor_members_are_the_genesis_active_set_sorted() -> None:
    keys = [KeyPair.generate() for _ in range(5)]
    specs = [
        DelegateSpec(
            k, dataclasses.replace(delegate_asset(k, f"d{i}"), bridge_address=bytes([i + 1]) * 20)
        )
        for i, k in enumerate(keys)
    ]
    funds = {f.name: KeyPair.generate() for f in WHITEPAPER_FUNDS}
    genesis = whitepaper_genesis(
        chain_name="t", genesis_time=1, funds=funds, delegates=specs, active_delegates=3
    )
    members = genesis_members(genesis)
    # all weights are 0 at genesis: the election takes the lowest public keys
    active = sorted(k.public_key for k in keys)[:3]
    by_key = {s.key.public_key: s.asset.bridge_address for s in specs}
    assert [m.lower() for m in members] == [
        m.lower() for m in sorted_members("0x" + by_key[pk].hex() for pk in active)
    ]
    assert len(members) == 3
