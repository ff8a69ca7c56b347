"""Waiting in tests: for a node's events, bounded by blocks rather than by time; and for a
condition that only polling can see (another process, a container, a namespace)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

from ccoin.node.service import Node

T = TypeVar("T")


async def within_blocks(node: Node, blocks: int, fn: Callable[[], Awaitable[T]]) -> T:
    """`await fn()`, failing if the node first grows by `blocks` blocks. Mock time is no
    bound here: it races ahead whenever a worker thread runs, so the bound is in blocks."""
    done: list[T] = []
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            done.append(await fn())
            nursery.cancel_scope.cancel()

        async def watchdog() -> None:
            await node.wait_for_height(node.chain.height + blocks)
            nursery.cancel_scope.cancel()

        nursery.start_soon(run)
        nursery.start_soon(watchdog)
    assert done, f"still waiting after {blocks} more blocks"
    return done[0]


def poll_until(what: str, condition: Callable[[], bool], timeout: float, poll: float) -> float:
    """Check `condition` every `poll` seconds until it holds; fail after `timeout` seconds
    naming `what`. Returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
    return time.monotonic() - start
