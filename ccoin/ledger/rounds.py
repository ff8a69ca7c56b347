"""Active-set election at round boundaries (DESIGN section 6).

When a block opens a new round (its slot's round is above the recorded one), the active set
for that round is elected from the state as it stands before the block's transactions, which
is the state at the end of the previous round: the top `activeDelegates` admitted, unjailed
delegates by vote weight, ties by public key. The record `[round, [keys]]` lives in the
state, so the stateRoot pins it and every node on a branch agrees on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import msgpack

from ccoin.consensus.schedule import elect, producer_for, round_order
from ccoin.crypto.address import address_raw_from_public_key
from ccoin.storage import schema
from ccoin.types.account import DelegateRecord
from ccoin.types.codec import packb


class KeyReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


class StateReader(KeyReader, Protocol):
    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


def elect_active(state: StateReader, size: int) -> tuple[bytes, ...]:
    weights = []
    for _key, raw in state.iterate(schema.DELEGATE):
        record = DelegateRecord.decode(raw)
        pk = record.public_key
        admitted = state.get(schema.admitted(address_raw_from_public_key(pk))) is not None
        if admitted and state.get(schema.jailed(pk)) is None:
            weights.append((pk, record.vote_weight))
    return elect(weights, size)


@dataclass(frozen=True)
class RoundRecord:
    number: int
    members: tuple[bytes, ...]
    # Hash of the last block before the round (the schedule's seed); None for round 0,
    # whose seed is the genesis block's hash (which cannot sit inside its own state).
    seed: bytes | None


def encode_round(round_number: int, members: tuple[bytes, ...], seed: bytes | None) -> bytes:
    return packb([round_number, list(members), seed])


def read_round_record(state: KeyReader) -> RoundRecord:
    raw = state.get(schema.ROUND)
    if raw is None:
        return RoundRecord(-1, (), None)
    number, members, seed = msgpack.unpackb(raw)
    return RoundRecord(number, tuple(members), seed)


def read_round(state: KeyReader) -> tuple[int, tuple[bytes, ...]]:
    record = read_round_record(state)
    return record.number, record.members


def missed_producers(
    parent_slot: int, slot: int, size: int, parent: RoundRecord, current: RoundRecord
) -> list[bytes]:
    """The delegates scheduled for the empty slots between a block and its parent.

    Only the parent's round and the block's own round count: a whole round without any
    block is a network halt, not one delegate's fault, and this bounds the work to two
    rounds' slots however long the gap."""
    parent_round, block_round = parent_slot // size, slot // size
    if parent_round == block_round:
        spans = [(parent_slot + 1, slot, current)]
    else:
        spans = [(parent_slot + 1, (parent_round + 1) * size, parent)]
        spans.append((block_round * size, slot, current))
    missed: list[bytes] = []
    for first, end, record in spans:
        if record.members and record.seed is not None:
            order = round_order(record.members, record.seed)
            missed.extend(producer_for(order, k) for k in range(first, end))
    return missed


def encode_stats(produced: int, missed: int) -> bytes:
    return packb([produced, missed])


def read_stats(state: StateReader, public_key: bytes) -> tuple[int, int]:
    """(blocks produced, slots missed) of a delegate."""
    raw = state.get(schema.delegate_stats(public_key))
    if raw is None:
        return 0, 0
    produced, missed = msgpack.unpackb(raw)
    return produced, missed
