"""Block rewards come out of the reward fund, follow the genesis schedule and never change
the total supply; a block claiming another reward is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccoin.errors import ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.account import Account
from ccoin.types.block import Block
from ccoin.types.genesis import GenesisConfig, RewardSchedule


def rewarded_genesis(fund_balance: int) -> tuple[GenesisConfig, f.LocalNet]:
    net = f.make_testnet(accounts=3, delegates=1)
    fund = net.accounts[2].address
    accounts = tuple(
        replace(a, balance=fund_balance) if a.address == fund else a for a in net.genesis.accounts
    )
    schedule = RewardSchedule(fund, offset=2, distance=3, milestones=(50, 20))
    return replace(net.genesis, accounts=accounts, rewards=schedule), net


def supply(chain: Chain) -> int:
    return sum(Account.load(v).balance for _k, v in chain.store.iterate(schema.ACCOUNT))


def test_schedule() -> None:
    schedule = RewardSchedule("C1", offset=2, distance=3, milestones=(50, 20))
    assert [schedule.at(h) for h in range(1, 10)] == [0, 50, 50, 50, 20, 20, 20, 20, 20]
    assert RewardSchedule().at(5) == 0


def test_rewards_move_from_the_fund_to_the_producer_until_it_is_empty() -> None:
    genesis, net = rewarded_genesis(fund_balance=130)
    chain = Chain(MemoryStore(), genesis)
    total = supply(chain)
    rewards = []
    for h in range(1, 8):
        block, execution = chain.build_block([], h * 1000, net.delegates[0])
        rewards.append(block.header.reward)
        assert execution.reward == block.header.reward
        assert supply(chain) == total
    assert rewards == [0, 50, 50, 30, 0, 0, 0]  # the fund held 130
    producer = chain.account(net.delegates[0].address)
    assert producer is not None and producer.balance == 130
    assert GenesisConfig.from_json(genesis.to_json()) == genesis


def test_wrong_reward_is_refused() -> None:
    genesis, net = rewarded_genesis(fund_balance=1000)
    source = Chain(MemoryStore(), genesis)
    block1, _ = source.build_block([], 1000, net.delegates[0])
    block2, _ = source.build_block([], 2000, net.delegates[0])
    chain = Chain(MemoryStore(), genesis)
    chain.apply_block(block1)
    header = replace(block2.header, reward=51).signed(net.delegates[0], chain.network_id)
    with pytest.raises(InvalidBlock) as info:
        chain.apply_block(Block(header, ()))
    assert info.value.code is ErrorCode.BLOCK_INVALID
    chain.apply_block(block2)
    assert chain.head.reward == 50
