"""Types 6 and 7 against state on a network with a bridge: withdrawals move C to the
escrow and make the header's withdrawalRoot; deposits need a quorum of active delegates'
attestations, credit once per nonce from the escrow; escrow plus what BSC holds is
constant."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.modules.bridge.rules import withdrawal_leaf
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.assets import TxType
from ccoin.types.block import ZERO_HASH, Block
from ccoin.types.genesis import DEFAULT_MIN_FEES, UNIT
from ccoin.types.merkle import merkle_root
from ccoin.types.transaction import Transaction
from tests.unit.ledger.chain_helpers import balance, block_with, rejected_code

BRIDGE = b"\xbb" * 20
OUT_FEE = DEFAULT_MIN_FEES[TxType.OUT_TRANSFER]


@pytest.fixture
def bridged(net: LocalNet) -> LocalNet:
    """The test network with a bridge: account 6 is the escrow."""
    config = BridgeConfig(net.accounts[6].address, 97, BRIDGE, 3)
    return dataclasses.replace(net, genesis=dataclasses.replace(net.genesis, bridge=config))


@pytest.fixture
def chain(bridged: LocalNet) -> Chain:
    return Chain(MemoryStore(), bridged.genesis)


def escrow(net: LocalNet) -> str:
    assert net.genesis.bridge is not None
    return net.genesis.bridge.escrow


def test_withdrawals_go_to_the_escrow_and_into_the_withdrawal_root(
    chain: Chain, bridged: LocalNet
) -> None:
    alice, bob = bridged.accounts[1], bridged.accounts[2]
    nid = chain.network_id
    before = {a: balance(chain, a) for a in (alice.address, bob.address, escrow(bridged))}
    txs = [
        f.withdraw(alice, b"\x01" * 20, 5 * UNIT, nid),
        f.withdraw(bob, b"\x02" * 20, 7 * UNIT, nid),
    ]
    block, execution = chain.build_block(txs, chain.head.timestamp_ms + 1000, bridged.delegates[0])
    assert execution.included == txs
    leaves = [
        withdrawal_leaf(txs[0].digest(nid)[1], b"\x01" * 20, 5 * UNIT),
        withdrawal_leaf(txs[1].digest(nid)[1], b"\x02" * 20, 7 * UNIT),
    ]
    assert block.header.withdrawal_root == merkle_root(leaves)
    assert balance(chain, alice.address) == before[alice.address] - 5 * UNIT - OUT_FEE
    assert balance(chain, escrow(bridged)) == before[escrow(bridged)] + 12 * UNIT
    assert chain.store.get(schema.withdrawal(txs[0].digest(nid)[1])) is not None
    # Another node checks the root; a block without withdrawals has the zero root.
    other = Chain(MemoryStore(), bridged.genesis)
    other.apply_block(block)
    assert block_with(chain, bridged).included == []
    assert chain.head.withdrawal_root == ZERO_HASH


def test_a_wrong_withdrawal_root_is_an_invalid_block(chain: Chain, bridged: LocalNet) -> None:
    other = Chain(MemoryStore(), bridged.genesis)
    tx = f.withdraw(bridged.accounts[1], b"\x01" * 20, UNIT, chain.network_id)
    block, _ = chain.build_block([tx], chain.head.timestamp_ms + 1000, bridged.delegates[0])
    header = dataclasses.replace(block.header, withdrawal_root=bytes(32)).signed(
        bridged.delegates[0], chain.network_id
    )
    with pytest.raises(InvalidBlock, match="withdrawalRoot"):
        other.apply_block(Block(header, block.transactions))


def test_a_deposit_is_credited_once_from_the_escrow(chain: Chain, bridged: LocalNet) -> None:
    relayer, fresh = bridged.accounts[1], f.key("fresh")
    nid = chain.network_id
    held = balance(chain, escrow(bridged))
    tx = f.deposit(relayer, fresh.address, 3 * UNIT, 1, nid, bridged.delegates)
    assert block_with(chain, bridged, tx).included == [tx]
    assert balance(chain, fresh.address) == 3 * UNIT
    assert balance(chain, escrow(bridged)) == held - 3 * UNIT
    again = f.deposit(relayer, fresh.address, 3 * UNIT, 1, nid, bridged.delegates, timestamp=1)
    assert rejected_code(chain, bridged, again) is ErrorCode.TX_DEPOSIT_CONSUMED


def test_bad_deposits_are_refused_and_change_nothing(chain: Chain, bridged: LocalNet) -> None:
    relayer, to = bridged.accounts[1], bridged.accounts[2].address
    nid = chain.network_id
    delegates = bridged.delegates  # 3 active: the quorum is 3

    def credit(attesters: list[KeyPair] | tuple[KeyPair, ...], **kw: Any) -> Transaction:
        amount = kw.pop("amount", UNIT)
        return f.deposit(relayer, to, amount, 5, nid, attesters, **kw)

    cases = [
        (credit(delegates[:2]), ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS),
        (credit([*delegates[:2], f.key("x")]), ErrorCode.TX_BAD_COSIGNATURE),
        (credit(delegates, bsc_chain_id=56), ErrorCode.TX_WRONG_BRIDGE),
        (credit(delegates, bridge=b"\x01" * 20), ErrorCode.TX_WRONG_BRIDGE),
        (credit(delegates, amount=10**7 * UNIT), ErrorCode.TX_ESCROW_EMPTY),
    ]
    for tx, code in cases:
        assert rejected_code(chain, bridged, tx) is code


def test_escrow_plus_bsc_is_constant_over_a_random_walk(chain: Chain, bridged: LocalNet) -> None:
    """A model of the BSC side (C locked in its Bridge) alongside the chain: a deposit locks
    C there and the escrow pays it out here; a withdrawal pays the escrow here and is
    released there. Their sum never moves."""
    rng = random.Random(7)
    nid = chain.network_id
    locked_on_bsc = 0
    total = balance(chain, escrow(bridged)) + locked_on_bsc
    nonce = 0
    kinds = []
    for step in range(16):
        holder = bridged.accounts[rng.randrange(1, 5)]
        amount = rng.randrange(1, 50) * UNIT
        if rng.random() < 0.5 or locked_on_bsc < amount:
            nonce += 1
            tx = f.deposit(
                holder, holder.address, amount, nonce, nid, bridged.delegates, timestamp=step
            )
            locked_on_bsc += amount
            kinds.append("deposit")
        else:
            tx = f.withdraw(holder, b"\x03" * 20, amount, nid, timestamp=step)
            locked_on_bsc -= amount
            kinds.append("withdraw")
        assert block_with(chain, bridged, tx).included == [tx]
        assert balance(chain, escrow(bridged)) + locked_on_bsc == total
    assert {"deposit", "withdraw"} <= set(kinds)


def test_without_a_bridge_the_types_stay_off(net: LocalNet) -> None:
    chain = Chain(MemoryStore(), net.genesis)
    tx = f.withdraw(net.accounts[1], b"\x01" * 20, UNIT, chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_TYPE_NOT_ENABLED


def test_the_bridge_config_round_trips_and_is_checked(bridged: LocalNet, net: LocalNet) -> None:
    from ccoin.errors import ConfigError
    from ccoin.types.genesis import GenesisConfig

    genesis = bridged.genesis
    assert GenesisConfig.from_json(genesis.to_json()) == genesis
    assert len(genesis.to_array()) == len(net.genesis.to_array()) + 1  # only when configured
    bad = genesis.to_json()
    bad["bridge"]["escrow"] = f.key("stranger").address
    with pytest.raises(ConfigError, match="escrow"):
        GenesisConfig.from_json(bad)
    del bad["bridge"]["escrow"]
    with pytest.raises(ConfigError, match="missing"):
        GenesisConfig.from_json(bad)
