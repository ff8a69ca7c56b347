"""Peer scores and bans, keyed by certificate fingerprint. Pure and synchronous: the clock
is passed in, so tests move time by hand.

Every peer starts at 0; misbehaviour subtracts the points in `PENALTIES`. A peer whose
score reaches `ban_threshold` is banned for `ban_seconds` and starts again from 0 when the
ban expires. A malformed frame costs the whole budget at once: the peer is either broken
or hostile, and the byte stream is no longer trustworthy. A block the contract sandbox
faulted on costs its producer less than an invalid one: the fault may be this node's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BAN_THRESHOLD = -100
BAN_SECONDS = 600.0

PENALTIES: dict[str, int] = {
    "malformed_frame": -100,
    "invalid_message": -50,
    "invalid_signature": -50,
    "invalid_block": -50,
    "contract_fault": -25,
    "unrequested": -10,
    "spam": -10,
    "timeout": -5,
}


@dataclass
class _Record:
    score: int = 0
    banned_until: float | None = None
    reasons: list[str] = field(default_factory=list)


class PeerScores:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        ban_threshold: int = BAN_THRESHOLD,
        ban_seconds: float = BAN_SECONDS,
    ) -> None:
        if ban_threshold >= 0:
            raise ValueError("ban_threshold must be negative")
        self._clock = clock
        self._threshold = ban_threshold
        self._ban_seconds = ban_seconds
        self._records: dict[bytes, _Record] = {}

    def penalize(self, peer: bytes, points: int, reason: str) -> bool:
        """Add `points` (negative) to the peer's score; True when the peer is now banned."""
        if points > 0:
            raise ValueError("a penalty is zero or negative points")
        record = self._current(peer, create=True)
        if record.banned_until is not None:
            return True
        record.score += points
        record.reasons = [*record.reasons[-7:], reason]  # the last few, for logs
        if record.score <= self._threshold:
            record.banned_until = self._clock() + self._ban_seconds
            return True
        return False

    def penalize_for(self, peer: bytes, reason: str) -> bool:
        """`penalize` with the points from `PENALTIES[reason]`."""
        return self.penalize(peer, PENALTIES[reason], reason)

    def is_banned(self, peer: bytes) -> bool:
        return self._current(peer).banned_until is not None

    def score(self, peer: bytes) -> int:
        return self._current(peer).score

    def reasons(self, peer: bytes) -> list[str]:
        return list(self._current(peer).reasons)

    def forget_expired(self) -> None:
        """Drop records that carry no information any more (score 0, no ban)."""
        for peer in list(self._records):
            record = self._current(peer)
            if record.score == 0 and record.banned_until is None:
                del self._records[peer]

    def _current(self, peer: bytes, *, create: bool = False) -> _Record:
        record = self._records.get(peer)
        if record is None:
            record = _Record()
            if create:
                self._records[peer] = record
            return record
        if record.banned_until is not None and self._clock() >= record.banned_until:
            record.score = 0
            record.banned_until = None
        return record
