"""Anchor ranges over real headers: the root covers contiguous heights only, and every
block's path proves its leaf (height, hash, withdrawalRoot, retirementRoot) under it."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.bridge.anchors import header_leaf, range_proof, range_root
from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.merkle import verify_inclusion


def test_every_block_of_a_range_proves_under_its_root() -> None:
    net = f.make_testnet(accounts=2, delegates=1)
    chain = Chain(MemoryStore(), net.genesis)
    for _ in range(5):
        chain.build_block([], chain.head.timestamp_ms + 1000, net.delegates[0])
    headers = [h for h in (chain.header_at(i) for i in range(1, 6)) if h is not None]
    nid = chain.network_id
    root = range_root(headers, nid)
    for header in headers:
        path = range_proof(headers, header.height, nid)
        leaf = header_leaf(header, nid)
        assert verify_inclusion(leaf, header.height - 1, len(headers), path, root)
    with pytest.raises(ValueError, match="contiguous"):
        range_root([headers[0], headers[2]], nid)
    with pytest.raises(ValueError):
        range_root([], nid)
    for field in ("withdrawal_root", "retirement_root"):  # the leaf commits both roots
        changed = dataclasses.replace(headers[1], **{field: b"\x01" * 32})
        assert range_root([headers[0], changed, *headers[2:]], nid) != root
    header = headers[0]
    assert header_leaf(header, nid) == (
        header.height.to_bytes(8, "big")
        + header.hash(nid)
        + header.withdrawal_root
        + header.retirement_root
    )
