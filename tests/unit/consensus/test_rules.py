"""The pure consensus rules one by one: election, order, thresholds, voter safety,
conflicts and fork choice."""

from __future__ import annotations

import dataclasses
import hashlib

from ccoin.consensus import machine as m
from ccoin.consensus.schedule import elect, producer_for, round_order, threshold
from ccoin.consensus.tree import Checkpoint, ForkTree, TreeBlock
from ccoin.consensus.votes import Vote, VoteData, VoterRecord, conflicting
from ccoin.types.block import ZERO_HASH, BlockHeader

K = [bytes([i]) * 32 for i in range(1, 6)]


def test_election_order_and_threshold() -> None:
    assert elect([(K[0], 5), (K[1], 9), (K[2], 9), (K[3], 0)], 3) == (K[1], K[2], K[0])
    order = round_order(K[:4], b"seed")
    assert sorted(order) == sorted(K[:4])
    assert order == tuple(sorted(K[:4], key=lambda k: hashlib.sha256(b"seed" + k).digest()))
    assert round_order(K[:4], b"other") != order  # the seed changes the order
    assert [producer_for(order, s) for s in range(4, 8)] == list(order)
    assert [threshold(n) for n in (1, 3, 4, 7, 21)] == [1, 3, 3, 5, 15]


def data(s: int, t: int, tag: bytes = b"a") -> VoteData:
    return VoteData(s, tag * 32, t, tag * 32)


def test_voter_record_forbids_double_and_surround_votes() -> None:
    record = VoterRecord().after(data(2, 5))
    assert not record.allows(data(2, 5, b"b"))  # same target height
    assert not record.allows(data(3, 4))  # lower target
    assert not record.allows(data(1, 6))  # would surround (1 < 2 < 5 < 6)
    assert record.allows(data(2, 6)) and record.allows(data(5, 6))


def test_conflicting_votes() -> None:
    assert conflicting(data(1, 5, b"a"), data(1, 5, b"b"))
    assert conflicting(data(1, 9), data(3, 5))  # surround
    assert not conflicting(data(1, 5), data(5, 7))
    assert not conflicting(data(1, 5), data(1, 5))


def test_vote_wire_round_trip() -> None:
    vote = Vote(data(1, 2), K[0], b"\x07" * 64)
    assert Vote.decode(vote.encode()) == vote


def block(height: int, parent: bytes, name: bytes, justified: int = 0) -> TreeBlock:
    header = BlockHeader(
        1, height, parent, height, K[0], ZERO_HASH, 0, 0, 0, 0, ZERO_HASH, ZERO_HASH, None
    )
    digest = hashlib.sha256(name).digest()
    cp = Checkpoint(justified, b"j" * 32)
    return TreeBlock(header, digest, height, cp, Checkpoint(0, b"r" * 32), b"s" * 32)


def test_fork_choice_prefers_justified_then_height_then_slot_then_lowest_hash() -> None:
    root = block(0, ZERO_HASH, b"root")
    tree = ForkTree.from_root(root)
    a1 = block(1, root.hash, b"a1")
    a2 = block(2, a1.hash, b"a2")
    b1 = block(1, root.hash, b"b1", justified=1)
    for b in (a1, a2, b1):
        tree = tree.add(b)
    assert tree.best_leaf() == b1  # justified beats height
    c1 = block(1, root.hash, b"c1", justified=1)
    tree = tree.add(c1)
    assert tree.best_leaf() == min((b1, c1), key=lambda b: b.hash)
    # Same justified and height: the earlier slot wins, whatever the hashes.
    late, early = sorted((b1, c1), key=lambda b: b.hash)
    early = dataclasses.replace(early, slot=0)
    retimed = ForkTree.from_root(root).add(late).add(early)
    assert retimed.best_leaf() == early and early.hash > late.hash
    pruned = tree.remove_subtree(a1.hash)
    assert a2.hash not in pruned and a1.hash not in pruned
    assert tree.prune(b1.hash).root == b1.hash
    assert [b.hash for b in tree.path_from_root(a2.hash)] == [a1.hash, a2.hash]


def test_an_early_tick_waits_for_the_previous_slots_block() -> None:
    root = block(5, ZERO_HASH, b"head at slot 5")  # the helper puts height 5 in slot 5
    config = m.Config(b"n" * 32, 1, (K[0],), lambda *_: True, K[0], lambda _m: b"\x00" * 64)
    state = m.initial_state(root)

    # Slot 6 follows the head's slot: the early tick produces at once.
    _state, actions = m.step(config, state, m.Tick(6, early=True))
    assert [type(a) for a in actions] == [m.ProduceBlock]

    # Slot 7 has no slot-6 block under it yet: the early tick only learns the time...
    after, actions = m.step(config, state, m.Tick(7, early=True))
    assert actions == [] and after.clock_slot == 7 and after.produced_slot < 7
    # ...and the patient tick later in the slot produces anyway, once.
    after, actions = m.step(config, after, m.Tick(7))
    assert [(type(a), a.slot) for a in actions] == [(m.ProduceBlock, 7)]
    assert m.step(config, after, m.Tick(7))[1] == []
