"""Time for the node, passed in rather than read from the wall inside the services.

`ChainClock` reads trio's clock plus a fixed offset to unix time. In production trio's clock
is monotonic, so wall-clock jumps do not reorder slots; in tests `trio.testing.MockClock`
with autojump makes a minute of slots pass in milliseconds, with no sleeps in the test.
"""

from __future__ import annotations

import time

import trio


class ChainClock:
    def __init__(self, unix_at_start: float | None = None) -> None:
        start = time.time() if unix_at_start is None else unix_at_start
        self._offset = start - trio.current_time()

    def now(self) -> float:
        """Unix seconds."""
        return self._offset + trio.current_time()

    async def sleep_until(self, unix_time: float) -> None:
        await trio.sleep_until(unix_time - self._offset)
