"""What one client may ask of the server: open connections (per node and per client
address), a request rate per client address (token bucket) and a bounded request body, read
in chunks so an oversized body is refused before it is held in memory; and the process's
limit of open files, which the connections share with the rest of the node."""

from __future__ import annotations

import resource
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

from ccoin.errors import ErrorCode, RpcError

MAX_TRACKED_CLIENTS = 10_000
# Open files the node needs beside its HTTP connections: the store (LevelDB keeps at most a
# fifth of the limit open for reads), the P2P peers, the sandboxes' pipes, the log.
FILES_BESIDE_CONNECTIONS = 512


def room_for_connections(wanted: int) -> tuple[int, int]:
    """How many HTTP connections this process can hold (at most `wanted`), and its soft limit
    of open files, raised first (up to the hard limit) to fit `wanted` beside
    FILES_BESIDE_CONNECTIONS. Past the limit `accept` fails with EMFILE, and so does every
    other file the node opens (its store's included) while the connections hold them all."""
    needed = wanted + FILES_BESIDE_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted, soft
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if raised > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    return min(wanted, max(soft - FILES_BESIDE_CONNECTIONS, soft // 2)), soft


class ConnectionSlots:
    """Open connections: at most `total`, and at most `per_client` from one address, so one
    slow client (a slow-loris holding every connection it opens) cannot take them all."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self.open = 0
        self._by_client: dict[str, int] = {}  # only clients with a connection open

    def take(self, client: str) -> bool:
        """A slot for a new connection from `client`, or False when it must be closed."""
        held = self._by_client.get(client, 0)
        if self.open >= self.total or held >= self.per_client:
            return False
        self.open += 1
        self._by_client[client] = held + 1
        return True

    def give(self, client: str) -> None:
        """The slot of a closed connection."""
        self.open -= 1
        held = self._by_client.pop(client) - 1
        if held:
            self._by_client[client] = held


class RateLimiter:
    """Token bucket per client address: `rate` tokens a second, at most `burst` saved.
    The least recently seen clients are forgotten past `MAX_TRACKED_CLIENTS` (a forgotten
    client starts with a full bucket, which only ever errs on the lenient side)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> None:
        """Spend one token of `client` or raise `RPC_RATE_LIMITED`."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            retry = (1.0 - tokens) / self.rate
            raise RpcError(
                ErrorCode.RPC_RATE_LIMITED,
                f"more than {self.rate:g} requests a second from {client}; retry in {retry:.2f} s",
            )
        self._buckets[client] = (tokens - 1.0, now)
        self._buckets.move_to_end(client)
        while len(self._buckets) > MAX_TRACKED_CLIENTS:
            self._buckets.popitem(last=False)


async def read_limited(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit: int
) -> bytes:
    """The whole body, or `RPC_BODY_TOO_LARGE` as soon as it (or its declared length) is
    over `limit` bytes."""
    if declared_length is not None:
        try:
            declared = int(declared_length)
        except ValueError:
            raise RpcError(ErrorCode.RPC_INVALID_REQUEST, "bad Content-Length") from None
        if declared > limit:
            raise RpcError(ErrorCode.RPC_BODY_TOO_LARGE, f"body of {declared} bytes; limit {limit}")
    parts = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise RpcError(ErrorCode.RPC_BODY_TOO_LARGE, f"body over the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
