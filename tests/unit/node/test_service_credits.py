"""A node with a bridge checks a credit's attestations when it is submitted, off the event
loop: a copy of a genuine credit carrying junk attestations, submitted first, is refused
and the genuine one is admitted and lands in a block; forged credits are refused with the
code block execution gives. Mock clock: the test waits for heights, never for time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import trio
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.node.verify import Item, SignatureVerifier
from ccoin.testing import factories as f
from ccoin.types.genesis import UNIT
from ccoin.types.transaction import CoSignature

_NET = f.make_testnet(accounts=8, delegates=1, genesis_time=1_800_000_000)
NET = dataclasses.replace(
    _NET,
    genesis=dataclasses.replace(
        _NET.genesis, bridge=BridgeConfig(_NET.accounts[6].address, 97, b"\xbb" * 20, 3)
    ),
)


class CountingVerifier(SignatureVerifier):
    """Counts the attestations verified (in groups, on the verifier's threads)."""

    def __init__(self) -> None:
        super().__init__(1)
        self.attestations = 0

    def verify_groups(self, groups: list[list[Item]]) -> list[list[bool]]:
        results = super().verify_groups(groups)
        self.attestations += sum(len(r) for r in results)
        return results


def make_node(tmp_path: Path, verifier: SignatureVerifier) -> Node:
    config = NodeConfig(
        "n0", tmp_path / "data", tmp_path / "genesis.json", None, None, PoolLimits()
    )
    clock = ChainClock(unix_at_start=NET.genesis.genesis_time)
    return Node(config, NET.genesis, NET.delegates[0], clock=clock, verifier=verifier)


async def test_a_junk_copy_first_then_the_genuine_credit_lands(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    verifier = CountingVerifier()
    node = make_node(tmp_path, verifier)
    nid = node.network_id
    relayer, to = NET.accounts[1], f.key("fresh").address
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            await node.wait_for_height(1)
            now = int(node.chain_time())
            genuine = f.deposit(relayer, to, 3 * UNIT, 1, nid, NET.delegates, timestamp=now)
            copy = dataclasses.replace(
                genuine, signatures=(CoSignature(NET.delegates[0].public_key, bytes(64)),)
            )
            forged = f.deposit(relayer, to, 9 * UNIT, 2, nid, [], timestamp=now)
            results = await node.submit([copy, forged])
            codes = [r.error.code if r.error else None for r in results]
            assert codes == [ErrorCode.TX_BAD_COSIGNATURE, ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS]
            assert len(node.pool) == 0
            assert verifier.attestations == 1  # the copy's one; none for the forged credit
            [result] = await node.submit([genuine])
            assert result.error is None
            assert verifier.attestations == 2
            for _ in range(5):  # bounded: each pass waits for one more block
                if node.chain.transaction(genuine.id(nid)) is not None:
                    break
                await node.wait_for_height(node.chain.height + 1)
            assert node.chain.transaction(genuine.id(nid)) is not None
            assert node.chain.account(to) is not None
            assert node.chain.account(to).balance == 3 * UNIT  # type: ignore[union-attr]
            nursery.cancel_scope.cancel()
    finally:
        node.close()
