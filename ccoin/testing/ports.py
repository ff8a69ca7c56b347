"""Free loopback ports for tests and benchmarks that start nodes."""

from __future__ import annotations

import socket

RPC_OFFSET = 100  # `ccoin devnet init` reserves base+100.. for RPC


def free_port_range(count: int) -> int:
    """A base port with base..base+count-1 and the RPC range after it free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + RPC_OFFSET + count > 65535:
            continue
        wanted = [*range(base, base + count), *range(base + RPC_OFFSET, base + RPC_OFFSET + count)]
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
