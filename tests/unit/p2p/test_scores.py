"""Peer scores and bans with a hand-driven clock."""

from __future__ import annotations

import pytest

from ccoin.p2p.scores import BAN_SECONDS, BAN_THRESHOLD, PENALTIES, PeerScores

A = b"\x0a" * 32
B = b"\x0b" * 32


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_penalty_table() -> None:
    assert BAN_THRESHOLD == -100
    assert BAN_SECONDS == 600
    assert PENALTIES["malformed_frame"] == -100
    assert PENALTIES["invalid_message"] == -50
    assert PENALTIES["invalid_signature"] == PENALTIES["invalid_block"] == -50
    assert PENALTIES["unrequested"] == PENALTIES["spam"] == -10
    assert PENALTIES["timeout"] == -5


def test_scores_accumulate_until_the_threshold() -> None:
    scores = PeerScores(FakeClock())
    assert scores.score(A) == 0
    assert not scores.penalize_for(A, "invalid_message")
    assert scores.score(A) == -50
    assert not scores.is_banned(A)
    assert scores.penalize_for(A, "invalid_block")  # -100 reaches the threshold
    assert scores.is_banned(A)
    assert not scores.is_banned(B)
    assert scores.reasons(A) == ["invalid_message", "invalid_block"]


def test_malformed_frame_bans_at_once() -> None:
    scores = PeerScores(FakeClock())
    assert scores.penalize_for(A, "malformed_frame")
    assert scores.is_banned(A)


def test_small_penalties_add_up() -> None:
    scores = PeerScores(FakeClock())
    results = [scores.penalize_for(A, "spam") for _ in range(10)]
    assert results == [False] * 9 + [True]


def test_ban_expires_and_the_peer_starts_again() -> None:
    clock = FakeClock()
    scores = PeerScores(clock, ban_seconds=60)
    scores.penalize(A, -100, "custom")
    clock.now += 59.9
    assert scores.is_banned(A)
    assert scores.penalize_for(A, "timeout")  # still banned; penalties do not pile up
    clock.now += 0.1
    assert not scores.is_banned(A)
    assert scores.score(A) == 0
    assert not scores.penalize_for(A, "invalid_message")


def test_rewards_are_not_penalties() -> None:
    scores = PeerScores(FakeClock())
    with pytest.raises(ValueError):
        scores.penalize(A, 5, "bonus")
    with pytest.raises(KeyError):
        scores.penalize_for(A, "no such reason")
    with pytest.raises(ValueError):
        PeerScores(FakeClock(), ban_threshold=0)


def test_queries_do_not_grow_state() -> None:
    clock = FakeClock()
    scores = PeerScores(clock, ban_seconds=1)
    for i in range(100):
        scores.is_banned(bytes([i]) * 32)
        scores.score(bytes([i]) * 32)
    assert scores._records == {}
    scores.penalize_for(A, "malformed_frame")
    clock.now += 2
    scores.forget_expired()
    assert scores._records == {}
