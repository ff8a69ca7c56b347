"""Blocks: apply, reject tampered ones without changing anything, roll back and re-apply,
finality, reads and persistence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ccoin.errors import ChainError, ConfigError, ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.storage.leveldb import LevelDBStore
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.block import Block, BlockHeader
from ccoin.types.genesis import UNIT


def grow(chain: Chain, net: LocalNet, blocks: int, per_block: int = 3) -> list[Block]:
    out = []
    for _ in range(blocks):
        h = chain.height + 1
        txs = [
            f.transfer(
                net.accounts[1 + (h + i) % 6],
                net.accounts[(h + i) % 7 + 1].address,
                (h * 10 + i) * UNIT,
                chain.network_id,
                timestamp=h,
                data=b"memo %d" % h if i == 0 else b"",  # an Asset_Transfers row too
            )
            for i in range(per_block)
        ]
        block, execution = chain.build_block(txs, h * 1000, net.delegates[0])
        assert not execution.rejected
        out.append(block)
    return out


def test_genesis_state_and_network_id(chain: Chain, net: LocalNet) -> None:
    assert chain.height == 0
    assert chain.finalized_height == 0
    for acc in net.genesis.accounts:
        account = chain.account(acc.address)
        assert account is not None and account.balance == acc.balance
    assert {d.username for d in chain.delegates()} == {"delegate_0", "delegate_1", "delegate_2"}
    other = replace(net.genesis, chain_name="other")
    assert Chain(MemoryStore(), other).network_id != chain.network_id


def test_genesis_mismatch_refused(chain: Chain, net: LocalNet) -> None:
    with pytest.raises(ConfigError) as info:
        Chain(chain.store, replace(net.genesis, block_time_ms=2000))
    assert info.value.code is ErrorCode.GENESIS_MISMATCH


def test_replica_applies_blocks_to_the_same_state(chain: Chain, net: LocalNet) -> None:
    blocks = grow(chain, net, 4)
    replica = Chain(MemoryStore(), net.genesis)
    for block in blocks:
        replica.apply_block(Block.decode(block.encode()))
    assert dict(replica.store.iterate()) == dict(chain.store.iterate())


def _resign(block: Block, net: LocalNet, nid: bytes, **changes: object) -> Block:
    header = replace(block.header, **changes).signed(net.delegates[0], nid)
    return Block(header, block.transactions)


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("signature", ErrorCode.BLOCK_BAD_SIGNATURE),
        ("state_root", ErrorCode.BLOCK_BAD_STATE_ROOT),
        ("payload", ErrorCode.BLOCK_BAD_PAYLOAD),
        ("count", ErrorCode.BLOCK_BAD_PAYLOAD),
        ("total_fee", ErrorCode.BLOCK_BAD_PAYLOAD),
        ("parent", ErrorCode.BLOCK_BAD_PARENT),
        ("height", ErrorCode.BLOCK_BAD_PARENT),
        ("timestamp", ErrorCode.BLOCK_INVALID),
        ("generator", ErrorCode.BLOCK_INVALID),
        ("drop_tx", ErrorCode.BLOCK_BAD_PAYLOAD),
    ],
)
def test_tampered_block_is_rejected_and_changes_nothing(
    chain: Chain, net: LocalNet, tamper: str, code: ErrorCode
) -> None:
    source = Chain(MemoryStore(), net.genesis)
    block = grow(source, net, 1)[0]
    nid = chain.network_id
    header = block.header
    if tamper == "signature":
        bad = Block(replace(header, block_signature=bytes(64)), block.transactions)
    elif tamper == "state_root":
        bad = _resign(block, net, nid, state_root=bytes(32))
    elif tamper == "payload":
        bad = _resign(block, net, nid, payload_hash=bytes(32))
    elif tamper == "count":
        bad = _resign(block, net, nid, number_of_transactions=2)
    elif tamper == "total_fee":
        bad = _resign(block, net, nid, total_fee=header.total_fee + 1)
    elif tamper == "parent":
        bad = _resign(block, net, nid, previous_block_hash=bytes(32))
    elif tamper == "height":
        bad = _resign(block, net, nid, height=2)
    elif tamper == "timestamp":
        bad = _resign(block, net, nid, timestamp_ms=0)
    elif tamper == "generator":
        stranger = f.key("stranger")
        bad_header = replace(header, generator_public_key=stranger.public_key)
        bad = Block(bad_header.signed(stranger, nid), block.transactions)
    else:
        bad = Block(header, block.transactions[1:])
    before = dict(chain.store.iterate())
    with pytest.raises(InvalidBlock) as info:
        chain.apply_block(bad)
    assert info.value.code is code
    assert dict(chain.store.iterate()) == before
    chain.apply_block(block)  # the honest block still applies afterwards
    assert chain.head == block.header


def test_block_with_invalid_transaction_is_rejected(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    good = f.transfer(net.accounts[1], net.accounts[2].address, 1, nid, timestamp=1)
    block = Chain(MemoryStore(), net.genesis).build_block([good], 1000, net.delegates[0])[0]
    broke = f.transfer(net.accounts[1], net.accounts[2].address, 10**9 * UNIT, nid)
    txs = (broke,)
    header = replace(block.header, payload_hash=Block(block.header, txs).payload_hash())
    bad = Block(header.signed(net.delegates[0], nid), txs)
    with pytest.raises(InvalidBlock) as info:
        chain.apply_block(bad)
    assert info.value.code is ErrorCode.TX_INSUFFICIENT_BALANCE
    assert chain.height == 0


def test_rollback_to_any_height_and_reapply(chain: Chain, net: LocalNet) -> None:
    snapshots = {0: dict(chain.store.iterate())}
    blocks = grow(chain, net, 5)
    full = dict(chain.store.iterate())
    for target in (3, 1, 0):
        replica = Chain(MemoryStore(), net.genesis)
        for block in blocks[:target]:
            replica.apply_block(block)
        snapshots[target] = dict(replica.store.iterate())
    # Undo records differ by design (a rolled-back chain keeps the ones below the target);
    # compare everything else.
    undo = 0x05

    def without_undo(d: dict[bytes, bytes]) -> dict[bytes, bytes]:
        return {k: v for k, v in d.items() if k[0] != undo}

    removed = chain.rollback_to(3)
    assert [b.header.height for b in removed] == [5, 4]
    assert without_undo(dict(chain.store.iterate())) == without_undo(snapshots[3])
    chain.rollback_to(0)
    assert chain.height == 0
    assert dict(chain.store.iterate()) == snapshots[0]
    for block in blocks:
        chain.apply_block(block)
    assert dict(chain.store.iterate()) == full
    assert chain.transaction(blocks[0].transactions[0].id(chain.network_id)) is not None


def test_finalized_blocks_never_roll_back(chain: Chain, net: LocalNet) -> None:
    grow(chain, net, 4)
    chain.set_finalized(2)
    assert chain.finalized_height == 2
    with pytest.raises(ChainError) as info:
        chain.rollback_to(1)
    assert info.value.code is ErrorCode.CHAIN_FINALIZED
    assert chain.height == 4
    chain.rollback_to(2)
    assert chain.height == 2
    with pytest.raises(ChainError):
        chain.set_finalized(3)  # past the head


def test_reads_by_id_height_and_history(chain: Chain, net: LocalNet) -> None:
    blocks = grow(chain, net, 3)
    nid = chain.network_id
    for block in blocks:
        assert chain.block_by_id(block.header.id(nid)) == block
        assert chain.block_at(block.header.height) == block
    addr = net.accounts[2].address
    history = list(chain.history(addr))
    involved = [
        tx
        for b in blocks
        for tx in b.transactions
        if tx.sender_id == addr or tx.body.recipient_id == addr
    ]
    assert {h.transaction for h in history} == set(involved)
    heights = [h.height for h in history]
    assert heights == sorted(heights, reverse=True)
    assert chain.transaction(f.transfer(net.accounts[1], addr, 1, nid).id(nid)) is None


def test_leveldb_chain_survives_reopen(tmp_path: Path, net: LocalNet) -> None:
    store = LevelDBStore(str(tmp_path / "db"))
    chain = Chain(store, net.genesis)
    grow(chain, net, 3)
    head = chain.head
    store.close()
    reopened = Chain(LevelDBStore(str(tmp_path / "db")), net.genesis)
    assert reopened.head == head
    assert isinstance(reopened.head, BlockHeader)
    grow(reopened, net, 1)
    assert reopened.height == 4
    reopened.store.close()
