"""Blocks this node's contract sandbox faulted on (ADR 0017): refused for a while, not for
good, since the fault may have been this node's own; a bounded memory."""

from __future__ import annotations

import math
from collections import OrderedDict

FAULT_RETRY_SLOTS = 2
"""A refused block comes back at once (peers resend it, fetches return it): it is run again
only after this many slots."""
MAX_FAULTED_BLOCKS = 256


class FaultedBlocks:
    """Block hash -> the time (trio's clock) before which it is not run again."""

    def __init__(self, retry_after: float, capacity: int = MAX_FAULTED_BLOCKS) -> None:
        self.retry_after = retry_after
        self.capacity = capacity
        self._until: OrderedDict[bytes, float] = OrderedDict()

    def waiting(self, block_hash: bytes, now: float) -> bool:
        """Whether the block faulted lately, so that it is refused without running it."""
        return self._until.get(block_hash, -math.inf) > now

    def add(self, block_hash: bytes, now: float) -> None:
        self._until[block_hash] = now + self.retry_after
        self._until.move_to_end(block_hash)
        while len(self._until) > self.capacity:
            self._until.popitem(last=False)
