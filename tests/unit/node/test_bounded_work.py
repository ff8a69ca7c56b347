"""BoundedWork: blocking work off the event loop, one at a time, a bounded queue."""

from __future__ import annotations

import threading

import pytest
import trio
import trio.testing

from ccoin.errors import ErrorCode, RpcError
from ccoin.node.bounded_work import BoundedWork


async def test_one_at_a_time_then_busy_then_drained() -> None:
    work = BoundedWork("bridge requests", max_waiting=2)
    release = threading.Event()
    running: list[int] = []
    peak = 0
    lock = threading.Lock()

    def job(n: int) -> int:
        nonlocal peak
        with lock:
            running.append(n)
            peak = max(peak, len(running))
        release.wait(10)
        with lock:
            running.remove(n)
        return n * 10

    results: list[int] = []

    async def call(n: int) -> None:
        results.append(await work.run(job, n))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, 1)
        nursery.start_soon(call, 2)
        await trio.testing.wait_all_tasks_blocked()
        assert work.waiting == 2
        with pytest.raises(RpcError) as busy:
            await work.run(job, 3)
        assert busy.value.code is ErrorCode.RPC_BUSY
        assert "2 bridge requests are waiting" in busy.value.message
        release.set()
    assert sorted(results) == [10, 20] and work.waiting == 0
    assert peak == 1  # never two at once
    assert await work.run(job, 4) == 40  # free again
