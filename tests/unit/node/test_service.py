"""The single-node service on trio, with a mock clock: slots pass instantly and the test
waits for heights, never for time."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.testing import factories as f
from ccoin.types.transaction import Transaction

NET = f.make_testnet(accounts=4, delegates=1, genesis_time=1_800_000_000)


def config(tmp_path: Path) -> NodeConfig:
    return NodeConfig("n0", tmp_path / "data", tmp_path / "genesis.json", None, None, PoolLimits())


def make_node(tmp_path: Path) -> Node:
    clock = ChainClock(unix_at_start=NET.genesis.genesis_time)
    return Node(config(tmp_path), NET.genesis, NET.delegates[0], clock=clock)


async def test_produces_blocks_includes_and_finalizes_transactions(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    node = make_node(tmp_path)
    nid = node.chain.network_id
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            await node.wait_for_height(1)
            txs = [
                f.transfer(
                    NET.accounts[i],
                    NET.accounts[3].address,
                    100 + i,
                    nid,
                    timestamp=int(node.chain_time()),
                )
                for i in range(3)
            ]
            bad = Transaction(txs[0].body, bytes(64))
            results = await node.submit([*txs, bad])
            assert [r.error for r in results[:3]] == [None, None, None]
            assert results[3].error is not None
            assert results[3].error.code is ErrorCode.TX_BAD_SIGNATURE
            submitted_at = node.chain.height
            for _ in range(5):  # bounded: each pass waits for one more block
                if node.chain.transaction(txs[0].id(nid)) is not None:
                    break
                await node.wait_for_height(node.chain.height + 1)
            located = [node.chain.transaction(tx.id(nid)) for tx in txs]
            heights = {loc.height for loc in located if loc is not None}
            assert len(heights) == 1 and None not in located  # one block took all three
            included_at = heights.pop()
            assert included_at > submitted_at
            await node.wait_for_height(included_at + 2)
            assert len(node.pool) == 0
            assert node.chain.finalized_height >= included_at
            nursery.cancel_scope.cancel()
    finally:
        node.close()


async def test_resumes_after_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    node = make_node(tmp_path)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            await node.wait_for_height(3)
            nursery.cancel_scope.cancel()
        head = node.chain.head
    finally:
        node.close()
    node = make_node(tmp_path)
    try:
        assert node.chain.head == head
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            await node.wait_for_height(head.height + 2)
            nursery.cancel_scope.cancel()
        assert node.chain.block_at(head.height + 1) is not None
    finally:
        node.close()


def test_refuses_a_key_that_is_not_a_delegate(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Node(config(tmp_path), NET.genesis, f.key("not-a-delegate"))
    assert info.value.code is ErrorCode.CONFIG_INVALID


async def test_a_transaction_already_pooled_is_not_verified_again(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    node = make_node(tmp_path)  # not running: the pool keeps what it admits
    nid = node.chain.network_id
    try:
        txs = [f.transfer(NET.accounts[i], NET.accounts[3].address, 7, nid) for i in range(3)]
        assert [r.error for r in await node.submit(txs, gossip=False)] == [None] * 3
        verified = node.metrics.tx_verified._value.get()
        again = await node.submit(txs, gossip=False)
        codes = [r.error.code if r.error else None for r in again]
        assert codes == [ErrorCode.POOL_DUPLICATE] * 3
        assert node.metrics.tx_verified._value.get() == verified  # no second check
        assert node.verifying == 0 and len(node.pool) == 3
    finally:
        node.close()
