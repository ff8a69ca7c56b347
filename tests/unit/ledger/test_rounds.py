"""Active-set election at round boundaries: the block that opens a round records the set
elected from the state at the end of the previous round, and consensus uses it."""

from __future__ import annotations

from dataclasses import replace

from ccoin.consensus import machine as m
from ccoin.consensus.schedule import elect, producer_for, round_order
from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f


def test_votes_change_the_next_rounds_active_set() -> None:
    net = f.make_testnet(accounts=3, delegates=4)
    genesis = replace(net.genesis, active_delegates=2)  # 2 seats, 4 candidates, 2-slot rounds
    chain = Chain(MemoryStore(), genesis)
    nid = chain.network_id
    keys = [d.public_key for d in net.delegates]
    initial = elect([(k, 0) for k in keys], 2)
    assert chain.round_record() == (0, initial)
    outsiders = [k for k in keys if k not in initial]

    # Slot 1 (round 0): a voter backs the two delegates outside the set.
    vote = f.vote(net.accounts[1], [(True, k) for k in outsiders], nid)
    _block, execution = chain.build_block([vote], 1000, net.delegates[0])
    assert execution.included == [vote]
    assert chain.round_record() == (0, initial)  # the running round keeps its set

    # Slot 2 opens round 1: the set is elected from the state at the end of round 0.
    chain.build_block([], 2000, net.delegates[0])
    assert chain.round_record() == (1, tuple(sorted(outsiders)))

    # A replica reaches the same record (it is part of the stateRoot).
    replica = Chain(MemoryStore(), genesis)
    for height in (1, 2):
        block = chain.block_at(height)
        assert block is not None
        replica.apply_block(block)
    assert replica.round_record() == chain.round_record()


def test_machine_uses_the_set_of_each_slots_round() -> None:
    a, b = (b"\x01" * 32,), (b"\x02" * 32,)
    config = m.Config(b"n" * 32, 1, a, lambda *_: True, round_length=4, round_sets=((0, a), (3, b)))
    assert config.active_for_slot(11) == a  # round 2
    assert config.active_for_slot(12) == b  # round 3 onwards
    assert config.active_for_slot(40) == b


def test_produced_and_missed_blocks_follow_the_schedule() -> None:
    net = f.make_testnet(accounts=2, delegates=3)
    genesis = replace(net.genesis, active_delegates=3)  # 3-slot rounds
    chain = Chain(MemoryStore(), genesis)
    nid = chain.network_id
    by_key = {d.public_key: d for d in net.delegates}
    _round, members = chain.round_record()

    def producer(slot: int, seed: bytes) -> bytes:
        return producer_for(round_order(members, seed), slot)

    genesis_hash = chain.genesis_hash
    first = producer(1, genesis_hash)
    chain.build_block([], 1000, by_key[first])  # round 0, slot 1: nothing missed before it
    seed1 = chain.head.hash(nid)  # round 1's seed: the last block before it
    second = producer(4, seed1)
    chain.build_block([], 4000, by_key[second])  # slots 2 (round 0) and 3 (round 1) stay empty
    # Slot 13 is in round 4: slot 5 (round 1) and slot 12 (round 4) count as missed; the
    # whole rounds 2 and 3 without any block are a halt and count against nobody.
    seed4 = chain.head.hash(nid)
    third = producer(13, seed4)
    chain.build_block([], 13000, by_key[third])

    produced: dict[bytes, int] = {k: 0 for k in members}
    missed: dict[bytes, int] = {k: 0 for k in members}
    for pk in (first, second, third):
        produced[pk] += 1
    for pk in (producer(2, genesis_hash), producer(3, seed1), producer(5, seed1)):
        missed[pk] += 1
    missed[producer(12, seed4)] += 1
    for pk in members:
        assert chain.delegate_stats(pk) == {
            "producedBlocks": produced[pk],
            "missedBlocks": missed[pk],
        }
    assert sum(missed.values()) == 4

    replica = Chain(MemoryStore(), genesis)  # the counts are state: a replica agrees
    for height in (1, 2, 3):
        block = chain.block_at(height)
        assert block is not None
        replica.apply_block(block)
    assert all(replica.delegate_stats(k) == chain.delegate_stats(k) for k in members)
    assert replica.head.state_root == chain.head.state_root
