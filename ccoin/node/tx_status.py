"""Where a transaction stands: pending in the pool, included, finalized, or rejected.

Included and finalized come from the chain; pending from the pool. Rejections are not part
of the chain, so the node remembers the most recent ones (bounded, oldest forgotten first):
a transaction refused on submission, or dropped from the pool because a block builder found
it invalid. A rejected id that later gets included reports its inclusion: the chain wins.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

from ccoin.errors import CcoinError, ErrorCode
from ccoin.types.transaction import Transaction

MAX_REMEMBERED_REJECTIONS = 100_000

# Refusals that say nothing against the transaction itself: it is known elsewhere.
_NOT_REJECTIONS = frozenset({ErrorCode.POOL_DUPLICATE, ErrorCode.TX_ALREADY_INCLUDED})


class Status(Enum):
    PENDING = "pending"
    INCLUDED = "included"
    FINALIZED = "finalized"
    REJECTED = "rejected"


@dataclass(frozen=True)
class TxStatus:
    status: Status
    transaction: Transaction | None  # None only for a rejection of bytes never stored
    block_id: str | None = None
    height: int | None = None
    error: CcoinError | None = None


class RejectedLog:
    def __init__(self, capacity: int = MAX_REMEMBERED_REJECTIONS) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[Transaction | None, CcoinError]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, id_raw: bytes, tx: Transaction | None, error: CcoinError) -> None:
        if error.code in _NOT_REJECTIONS:
            return
        self._entries[id_raw] = (tx, error)
        self._entries.move_to_end(id_raw)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def discard(self, id_raw: bytes) -> None:
        self._entries.pop(id_raw, None)

    def get(self, id_raw: bytes) -> tuple[Transaction | None, CcoinError] | None:
        return self._entries.get(id_raw)
