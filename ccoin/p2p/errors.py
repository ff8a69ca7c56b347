"""Transport errors. Decoding errors stay `ccoin.errors.DecodeError`; these are the failures
of a connection itself (framing, handshake, a peer that went away)."""

from __future__ import annotations


class P2PError(Exception):
    """A connection-level failure; `reason` is a short stable phrase for logs and stats."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class P2PClosed(P2PError):
    """The peer closed the connection cleanly between two frames."""

    def __init__(self, reason: str = "connection closed") -> None:
        super().__init__(reason)


class MalformedFrame(P2PError):
    """An empty or oversized frame: the byte stream can no longer be trusted."""
