"""Free loopback ports for devnets, benchmarks and tests that start nodes.

Ports are chosen *below* the kernel's ephemeral range. A port the kernel hands out on its
own (an outgoing connection's local port, a proxy listening on port 0) could otherwise land
on a node's P2P or RPC port between our probe and the node's bind, and the node would exit
with "address in use". Outside the ephemeral range only an explicit bind can take it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

RPC_OFFSET = 100  # `ccoin devnet init` reserves base+100.. for RPC
BSC_OFFSET = 200  # and base+200 for the devnet's anvil, base+201 for its relayer's metrics
LOWEST = 10_000
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral port range (Linux's default when it cannot be read)."""
    try:
        low, high = (int(x) for x in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def _candidates(span: int) -> list[int]:
    low, high = ephemeral_range()
    below = range(LOWEST, low - span)
    above = range(high + 1, 65536 - span)
    pool = [*below, *above]
    random.shuffle(pool)
    return pool


def free_port_range(count: int) -> int:
    """A base port with base..base+count-1, the RPC range after it and the devnet's BSC
    and relayer-metrics ports (base+200, base+201) free right now.

    The whole span lies outside the ephemeral range (see the module docstring).
    """
    span = BSC_OFFSET + 2
    for base in _candidates(span)[:200]:
        wanted = [
            *range(base, base + count),
            *range(base + RPC_OFFSET, base + RPC_OFFSET + count),
            base + BSC_OFFSET,
            base + BSC_OFFSET + 1,
        ]
        held: list[socket.socket] = []
        try:
            for port in wanted:
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise RuntimeError("no free loopback port range found")
