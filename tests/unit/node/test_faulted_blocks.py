"""The memory of blocks the sandbox faulted on: refused until their retry time, bounded."""

from __future__ import annotations

from ccoin.node.faulted_blocks import FaultedBlocks


def test_a_faulted_block_waits_its_retry_time_then_runs_again() -> None:
    blocks = FaultedBlocks(retry_after=2.0)
    assert not blocks.waiting(b"a", 10.0)
    blocks.add(b"a", 10.0)
    assert blocks.waiting(b"a", 10.0) and blocks.waiting(b"a", 11.9)
    assert not blocks.waiting(b"a", 12.0)
    assert not blocks.waiting(b"b", 11.0)


def test_the_memory_is_bounded_and_forgets_the_oldest() -> None:
    blocks = FaultedBlocks(retry_after=5.0, capacity=3)
    for name in (b"a", b"b", b"c"):
        blocks.add(name, 0.0)
    blocks.add(b"a", 1.0)  # faulted again: the newest now
    blocks.add(b"d", 1.0)
    assert [blocks.waiting(n, 2.0) for n in (b"a", b"b", b"c", b"d")] == [True, False, True, True]
