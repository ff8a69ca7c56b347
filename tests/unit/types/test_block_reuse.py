"""A block's bytes are its parts' bytes joined, and decoding may reuse transactions that
gossip already decoded."""

from __future__ import annotations

import pytest

from ccoin.errors import DecodeError, ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.block import Block
from ccoin.types.codec import packb
from ccoin.types.transaction import Transaction


def a_block() -> Block:
    net = f.make_testnet(accounts=3)
    chain = Chain(MemoryStore(), net.genesis)
    txs = [
        f.transfer(net.accounts[i], net.accounts[2].address, 5, chain.network_id) for i in (0, 1)
    ]
    block, _execution = chain.build_block(txs, 1000, net.delegates[0])
    assert len(block.transactions) == 2
    return block


def test_encode_is_the_canonical_packing() -> None:
    block = a_block()
    assert block.encode() == packb(block.to_array())
    assert Block.decode(block.encode()) == block


def test_decode_reuses_known_transactions_for_their_exact_bytes() -> None:
    block = a_block()
    known = {tx.encode(): tx for tx in block.transactions[:1]}
    asked: list[bytes] = []

    def lookup(raw: bytes) -> Transaction | None:
        asked.append(raw)
        return known.get(raw)

    decoded = Block.decode(block.encode(), lookup)
    assert decoded == block
    assert decoded.transactions[0] is block.transactions[0]  # reused, not decoded again
    assert decoded.transactions[1] is not block.transactions[1]
    assert asked == [tx.encode() for tx in block.transactions]


def test_a_long_form_array_header_is_not_canonical() -> None:
    data = a_block().encode()
    assert data[0] == 0x92
    with pytest.raises(DecodeError) as info:
        Block.decode(b"\xdc\x00\x02" + data[1:])
    assert info.value.code is ErrorCode.NON_CANONICAL
