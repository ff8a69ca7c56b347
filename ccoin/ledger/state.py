"""A buffered, journaled view of the state over a key-value store.

Execution writes into `StateOverlay.writes` only; the store changes when the chain commits
the whole block. The journal lets one failed transaction be undone exactly (`mark` /
`revert`), which is what makes "an invalid transaction leaves the state byte-identical" a
property of the mechanism rather than of every rule's care.

Accounts are kept decoded for the whole block: each is read (and decoded) once, and its
every change is an object swap; its bytes are written into `writes` once, when the journal
is forgotten (the end of a phase of the block, before anything reads `writes` whole). A
block of transfers among few accounts so decodes and encodes each account once, not twice
per transaction. Account keys are written only through `put_account`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

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
        # (key, previous value, in `_changed` rather than `writes`)
        self._journal: list[tuple[bytes, object, bool]] = []
        self._loaded: dict[bytes, Account | None] = {}  # decoded, as `writes`/the store hold
        self._changed: dict[bytes, Account] = {}  # written, not yet encoded into `writes`
        # Keys written through `put_ordered`: the only writes `floor` must look at.
        self._ordered: set[bytes] = set()

    def get(self, key: bytes) -> bytes | None:
        changed = self._changed.get(key)
        if changed is not None:
            return changed.encode()
        writes = self.writes
        if key in writes:
            return writes[key]
        value = self._store.get(key)
        self.before[key] = value
        return value

    def put(self, key: bytes, value: bytes) -> None:
        self._journal.append((key, self.writes.get(key, _ABSENT), False))
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self._journal.append((key, self.writes.get(key, _ABSENT), False))
        self.writes[key] = None

    def put_ordered(self, key: bytes, value: bytes) -> None:
        """`put` for a table read with `floor` (ordered lookups)."""
        self.put(key, value)
        self._ordered.add(key)

    def floor(self, prefix: bytes, key: bytes) -> tuple[bytes, bytes] | None:
        """The greatest (key, value) under `prefix` with key <= `key`, as the overlay stands.
        Writes to the table must go through `put_ordered` (a reverted one falls back to the
        store's value, which the journal restored)."""
        writes = self.writes
        best: tuple[bytes, bytes] | None = None
        for stored, value in self._store.iterate(prefix, reverse=True, stop=key + b"\x00"):
            if stored in writes:
                current = writes[stored]
                if current is None:
                    continue  # deleted in this block: look further down
                value = current
            best = (stored, value)
            break
        for written in self._ordered:
            if not written.startswith(prefix) or written > key:
                continue
            if best is not None and written <= best[0]:
                continue
            found = writes[written] if written in writes else self._store.get(written)
            if found is not None:
                best = (written, found)
        return best

    def mark(self) -> int:
        return len(self._journal)

    def revert(self, mark: int) -> None:
        journal = self._journal
        writes: dict[bytes, Any] = self.writes
        changed: dict[bytes, Any] = self._changed
        while len(journal) > mark:
            key, previous, account = journal.pop()
            target = changed if account else writes
            if previous is _ABSENT:
                del target[key]
            else:
                target[key] = previous

    def forget_journal(self) -> None:
        """End of a phase: nothing before this can be reverted. Changed accounts get their
        bytes in `writes` here."""
        for key, account in self._changed.items():
            self.writes[key] = account.encode()
            self._loaded[key] = account
        self._changed.clear()
        self._journal.clear()

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Keys under `prefix` as they stand in the overlay (store merged with writes)."""
        merged: dict[bytes, bytes | None] = dict(self._store.iterate(prefix))
        for key, value in self.writes.items():
            if key.startswith(prefix):
                merged[key] = value
        for key, account in self._changed.items():
            if key.startswith(prefix):
                merged[key] = account.encode()
        for key in sorted(merged):
            value = merged[key]
            if value is not None:
                yield key, value

    # -- typed access ---------------------------------------------------------------------

    def account(self, address_raw: bytes) -> Account | None:
        key = schema.account(address_raw)
        found = self._changed.get(key)
        if found is not None:
            return found
        loaded = self._loaded
        if key in loaded:
            return loaded[key]
        data = self.get(key)
        account = None if data is None else Account.load(data)
        loaded[key] = account
        return account

    def put_account(self, address_raw: bytes, account: Account) -> None:
        key = schema.account(address_raw)
        self._journal.append((key, self._changed.get(key, _ABSENT), True))
        self._changed[key] = account

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
