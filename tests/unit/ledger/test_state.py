"""The state overlay: decoded accounts kept for the block, written once, reverted exactly."""

from __future__ import annotations

from ccoin.ledger.state import StateOverlay
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.types.account import Account

A, B = b"\x01" * 14, b"\x02" * 14


def store_with(balance: int) -> MemoryStore:
    store = MemoryStore()
    store.commit({schema.account(A): Account(balance).encode()})
    return store


def test_an_account_is_decoded_once_and_encoded_at_the_end_of_the_phase() -> None:
    overlay = StateOverlay(store_with(100))
    first = overlay.account(A)
    assert first is not None and first.balance == 100
    assert overlay.account(A) is first  # not decoded again
    for balance in (90, 80, 70):
        overlay.put_account(A, Account(balance))
    overlay.put_account(B, Account(5))
    # readers of raw bytes (contracts' balance reads) see the change before it is encoded
    assert overlay.get(schema.account(A)) == Account(70).encode()
    assert dict(overlay.iterate(schema.account(B)[:1]))[schema.account(B)] == Account(5).encode()
    assert schema.account(A) not in overlay.writes  # not written yet
    overlay.forget_journal()
    assert overlay.writes == {
        schema.account(A): Account(70).encode(),
        schema.account(B): Account(5).encode(),
    }
    assert overlay.before == {schema.account(A): Account(100).encode()}  # for the undo record
    assert overlay.account(A) == Account(70)


def test_revert_restores_accounts_and_raw_writes_together() -> None:
    overlay = StateOverlay(store_with(100))
    overlay.put_account(A, Account(60))
    overlay.forget_journal()
    mark = overlay.mark()
    overlay.put_account(A, Account(10))
    overlay.put_account(B, Account(1))
    overlay.put(b"\x99key", b"v")
    assert overlay.account(A) == Account(10)
    overlay.revert(mark)
    assert overlay.account(A) == Account(60)
    assert overlay.account(B) is None
    assert overlay.get(b"\x99key") is None
    overlay.forget_journal()
    assert overlay.writes == {schema.account(A): Account(60).encode()}


def test_a_revert_to_before_the_first_write_leaves_the_stored_account() -> None:
    overlay = StateOverlay(store_with(100))
    mark = overlay.mark()
    overlay.put_account(A, Account(1))
    overlay.revert(mark)
    overlay.forget_journal()
    assert overlay.writes == {}
    assert overlay.account(A) == Account(100)
