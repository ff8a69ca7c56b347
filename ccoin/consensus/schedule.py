"""Slots, rounds and who produces when (DESIGN section 6).

slot = floor(header timestamp ms / block time ms); a round is N consecutive slots (N = the
active-set size). The round's order is the active set sorted by SHA-256(seed || public key),
where the seed is the hash of the last block before the round on the block's own branch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def slot_of(timestamp_ms: int, block_time_ms: int) -> int:
    return timestamp_ms // block_time_ms


def round_of(slot: int, active_size: int) -> int:
    return slot // active_size


def threshold(active_size: int) -> int:
    """Votes needed to justify: floor(2N/3) + 1, a strict supermajority."""
    return (2 * active_size) // 3 + 1


def elect(weights: Iterable[tuple[bytes, int]], size: int) -> tuple[bytes, ...]:
    """The active set: top `size` by weight, ties by public key (ascending)."""
    ranked = sorted(weights, key=lambda kw: (-kw[1], kw[0]))
    return tuple(key for key, _weight in ranked[:size])


def round_order(active: Sequence[bytes], seed: bytes) -> tuple[bytes, ...]:
    return tuple(sorted(active, key=lambda key: hashlib.sha256(seed + key).digest()))


def producer_for(order: Sequence[bytes], slot: int) -> bytes:
    return order[slot % len(order)]
