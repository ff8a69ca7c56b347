"""A buffered, journaled view of the state over a key-value store.

Execution writes into `StateOverlay.writes` only; the store changes when the chain commits
the whole block. The journal lets one failed transaction be undone exactly (`mark` /
`revert`), which is what makes "an invalid transaction leaves the state byte-identical" a
property of the mechanism rather than of every rule's care.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ccoin.storage import schema
from ccoin.storage.kv import KeyValueStore
from ccoin.types.account import Account, DelegateRecord
from ccoin.types.codec import packb

_ABSENT = object()


class StateOverlay:
    def __init__(self, store: KeyValueStore) -> None:
        self._store = store
        self.writes: dict[bytes, bytes | None] = {}
        # What the store held for keys read before they were written: the block's undo
        # record needs old values, and most written keys were read first.
        self.before: dict[bytes, bytes | None] = {}
        self._journal: list[tuple[bytes, object]] = []

    def get(self, key: bytes) -> bytes | None:
        writes = self.writes
        if key in writes:
            return writes[key]
        value = self._store.get(key)
        self.before[key] = value
        return value

    def put(self, key: bytes, value: bytes) -> None:
        self._journal.append((key, self.writes.get(key, _ABSENT)))
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self._journal.append((key, self.writes.get(key, _ABSENT)))
        self.writes[key] = None

    def mark(self) -> int:
        return len(self._journal)

    def revert(self, mark: int) -> None:
        journal = self._journal
        writes = self.writes
        while len(journal) > mark:
            key, previous = journal.pop()
            if previous is _ABSENT:
                del writes[key]
            else:
                writes[key] = previous  # type: ignore[assignment]

    def forget_journal(self) -> None:
        self._journal.clear()

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Keys under `prefix` as they stand in the overlay (store merged with writes)."""
        merged: dict[bytes, bytes | None] = dict(self._store.iterate(prefix))
        for key, value in self.writes.items():
            if key.startswith(prefix):
                merged[key] = value
        for key in sorted(merged):
            value = merged[key]
            if value is not None:
                yield key, value

    # -- typed access ---------------------------------------------------------------------

    def account(self, address_raw: bytes) -> Account | None:
        data = self.get(schema.account(address_raw))
        return None if data is None else Account.load(data)

    def put_account(self, address_raw: bytes, account: Account) -> None:
        self.put(schema.account(address_raw), account.encode())

    def delegate(self, public_key: bytes) -> DelegateRecord | None:
        data = self.get(schema.delegate(public_key))
        return None if data is None else DelegateRecord.decode(data)

    def put_delegate(self, record: DelegateRecord) -> None:
        self.put(schema.delegate(record.public_key), record.encode())


def state_changes_digest(writes: dict[bytes, bytes | None]) -> bytes:
    """SHA-256 of the block's sorted state key/value changes (DESIGN section 5)."""
    changes = sorted((k, v) for k, v in writes.items() if schema.is_state_key(k))
    return hashlib.sha256(packb(changes)).digest()


def next_state_root(previous_root: bytes, writes: dict[bytes, bytes | None]) -> bytes:
    return hashlib.sha256(previous_root + state_changes_digest(writes)).digest()
