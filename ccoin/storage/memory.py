"""In-memory `KeyValueStore` backend for tests, simulations and throwaway nodes.

This module owns `MemoryStore`: a `SortedDict` (so iteration is ordered bytewise, exactly like
LevelDB) plus a buffered batch that is applied in one step. Nothing is persisted; `sync` is
accepted for interface compatibility and ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from sortedcontainers import SortedDict

from ccoin.storage.kv import KeyValueStore, StorageError, WriteBatch, key_range, require_bytes

__all__ = ["MemoryStore"]


class _MemoryBatch:
    """Buffers writes in a dict (so the last write to a key wins) until the block exits."""

    __slots__ = ("_done", "_ops", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._ops: dict[bytes, bytes | None] = {}
        self._done = False

    def put(self, key: bytes, value: bytes) -> None:
        """Stage `key = value`."""
        if self._done:
            raise StorageError("batch is finished")
        require_bytes(key, value)
        self._ops[key] = value

    def delete(self, key: bytes) -> None:
        """Stage removal of `key`."""
        if self._done:
            raise StorageError("batch is finished")
        require_bytes(key)
        self._ops[key] = None

    def __enter__(self) -> WriteBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done = True
        ops, self._ops = self._ops, {}
        if exc_type is None:
            # Entries were validated on staging, so applying cannot fail half-way.
            self._store._apply(ops)


class MemoryStore(KeyValueStore):
    """Volatile store with the same ordering, snapshot and atomicity semantics as LevelDB."""

    def __init__(self) -> None:
        self._data: Any = SortedDict()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("store is closed")

    def _apply(self, ops: Mapping[bytes, bytes | None]) -> None:
        """Apply pre-validated changes; callers guarantee every entry is well-typed."""
        self._check_open()
        data = self._data
        for key, value in ops.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value

    def get(self, key: bytes) -> bytes | None:
        """Return the value under `key`, or `None` if absent."""
        if self._closed:
            raise StorageError("store is closed")
        if not isinstance(key, bytes):
            raise TypeError(f"key must be bytes, not {type(key).__name__}")
        value: bytes | None = self._data.get(key)
        return value

    def iterate(
        self,
        prefix: bytes = b"",
        *,
        reverse: bool = False,
        start: bytes | None = None,
        stop: bytes | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield `(key, value)` pairs in range from a copy taken now (snapshot isolation)."""
        self._check_open()
        bounds = key_range(prefix, start, stop)
        if bounds is None:
            return iter(())
        lower, upper = bounds
        data = self._data
        lo = data.bisect_left(lower)
        hi = len(data) if upper is None else data.bisect_left(upper)
        items: list[tuple[bytes, bytes]] = data.items()[lo:hi]
        if reverse:
            items.reverse()
        return iter(items)

    def atomic_batch(self, *, sync: bool = True) -> AbstractContextManager[WriteBatch]:
        """Return a batch buffered in memory and applied in one step on clean exit."""
        self._check_open()
        return _MemoryBatch(self)

    def commit(self, changes: Mapping[bytes, bytes | None], *, sync: bool = True) -> None:
        """Apply `changes` atomically (`None` deletes): validate everything, then write."""
        if self._closed:
            raise StorageError("store is closed")
        for key, value in changes.items():
            if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
                require_bytes(key, b"" if value is None else value)
        self._apply(changes)

    def close(self) -> None:
        """Drop the data; later operations raise `StorageError`."""
        self._closed = True
        self._data = SortedDict()
