"""Gossip copies are dropped by their bytes before any decoding or verification."""

from __future__ import annotations

from ccoin.node.network_link import SeenTransactions
from ccoin.testing import factories as f

NET = f.make_testnet(accounts=3)
NID = b"n" * 32


def test_a_copy_is_seen_once_and_the_memory_is_bounded() -> None:
    seen = SeenTransactions(capacity=2, decoded=1)
    txs = [f.transfer(NET.accounts[0], NET.accounts[1].address, 1 + i, NID) for i in range(3)]
    raws = [tx.encode() for tx in txs]
    assert seen.first_sighting(raws[0]) and not seen.first_sighting(raws[0])
    assert seen.first_sighting(raws[1]) and seen.first_sighting(raws[2])
    assert seen.first_sighting(raws[0])  # forgotten: the oldest went past capacity 2
    seen.remember(txs[0])
    assert seen.decoded(raws[0]) is txs[0]
    seen.remember(txs[1])
    assert seen.decoded(raws[0]) is None and seen.decoded(raws[1]) is txs[1]
