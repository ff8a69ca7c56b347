"""Active-set election at round boundaries (DESIGN section 6).

When a block opens a new round (its slot's round is above the recorded one), the active set
for that round is elected from the state as it stands before the block's transactions, which
is the state at the end of the previous round: the top `activeDelegates` admitted, unjailed
delegates by vote weight, ties by public key. The record `[round, [keys]]` lives in the
state, so the stateRoot pins it and every node on a branch agrees on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import msgpack

from ccoin.consensus.schedule import elect
from ccoin.crypto.address import address_raw_from_public_key
from ccoin.storage import schema
from ccoin.types.account import DelegateRecord
from ccoin.types.codec import packb


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

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


def encode_round(round_number: int, members: tuple[bytes, ...]) -> bytes:
    return packb([round_number, list(members)])


def read_round(state: StateReader) -> tuple[int, tuple[bytes, ...]]:
    raw = state.get(schema.ROUND)
    if raw is None:
        return -1, ()
    number, members = msgpack.unpackb(raw)
    return number, tuple(members)
