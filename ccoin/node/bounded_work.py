"""Blocking work that RPC calls hand to a worker thread (reading many blocks, running a
contract view, asking BSC), so it never holds up the node's event loop: at most `workers`
run at once and at most `max_waiting` wait, after which a call is refused with the
retryable `RPC_BUSY` instead of queueing without bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import trio

from ccoin.errors import ErrorCode, RpcError

T = TypeVar("T")


class BoundedWork:
    def __init__(self, what: str, max_waiting: int, workers: int = 1) -> None:
        self.what = what
        self.max_waiting = max_waiting
        self.waiting = 0
        self._limiter = trio.CapacityLimiter(workers)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self.waiting >= self.max_waiting:
            raise RpcError(ErrorCode.RPC_BUSY, f"{self.waiting} {self.what} are waiting")
        self.waiting += 1
        try:
            async with self._limiter:
                return await trio.to_thread.run_sync(fn, *args)
        finally:
            self.waiting -= 1
