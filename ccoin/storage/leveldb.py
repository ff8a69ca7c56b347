"""LevelDB `KeyValueStore` backend (via plyvel): the node's persistent storage.

This module owns `LevelDBStore`: it maps the interface onto plyvel, translating plyvel's
failures (`plyvel.Error`, and the `RuntimeError` it raises for closed handles) into
`StorageError`, and rejecting non-`bytes` values that plyvel itself would accept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import plyvel

from ccoin.storage.kv import KeyValueStore, StorageError, WriteBatch, key_range, require_bytes

__all__ = ["LevelDBStore"]

# Bloom filters make `get` on absent keys (common when checking for duplicates) skip disk
# reads; 10 bits/key is LevelDB's recommended setting. Existing tables stay readable.
_BLOOM_FILTER_BITS = 10


def _wrap(exc: BaseException) -> StorageError:
    """Turn a plyvel failure into a `StorageError` with a readable message.

    plyvel puts the raw LevelDB status in `args` as `bytes`, so decode it.
    """
    if isinstance(exc, RuntimeError):
        return StorageError("store is closed")
    raw = exc.args[0] if len(exc.args) == 1 else None
    detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(exc)
    return StorageError(f"leveldb: {detail}")


def _iterate(it: Any, floor: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    """Drain a plyvel iterator, mapping its errors and releasing it (and its snapshot).

    `floor` is an inclusive lower bound enforced here rather than by plyvel: see
    `LevelDBStore.iterate` for why reverse iteration needs it.
    """
    try:
        if floor is None:
            yield from it
        else:
            for item in it:
                if item[0] < floor:
                    return
                yield item
    except (plyvel.Error, RuntimeError) as exc:
        raise _wrap(exc) from exc
    finally:
        it.close()


class _LevelDBBatch:
    """Validating wrapper around a plyvel transactional `WriteBatch`.

    LevelDB applies batch operations in order, so the last write to a key wins.
    """

    __slots__ = ("_done", "_wb")

    def __init__(self, wb: Any) -> None:
        self._wb = wb
        self._done = False

    def put(self, key: bytes, value: bytes) -> None:
        """Stage `key = value`."""
        if self._done:
            raise StorageError("batch is finished")
        require_bytes(key, value)
        self._wb.put(key, value)

    def delete(self, key: bytes) -> None:
        """Stage removal of `key`."""
        if self._done:
            raise StorageError("batch is finished")
        require_bytes(key)
        self._wb.delete(key)

    def __enter__(self) -> WriteBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done = True
        # plyvel's transaction=True batch discards itself when exc_type is set, else writes.
        try:
            self._wb.__exit__(exc_type, exc, tb)
        except (plyvel.Error, RuntimeError) as err:
            raise _wrap(err) from err


class LevelDBStore(KeyValueStore):
    """Persistent store backed by one LevelDB directory (single-process: LevelDB locks it)."""

    def __init__(self, path: str, *, create_if_missing: bool = True) -> None:
        self._path = path
        try:
            if create_if_missing:
                # LevelDB only creates the last path component; make the parents too.
                os.makedirs(path, exist_ok=True)
            elif not os.path.isdir(path):
                # LevelDB would mkdir `path` (and leave a LOCK file) before failing.
                raise StorageError(f"cannot open leveldb store at {path!r}: does not exist")
            self._db: Any = plyvel.DB(
                path,
                create_if_missing=create_if_missing,
                bloom_filter_bits=_BLOOM_FILTER_BITS,
            )
        except (plyvel.Error, OSError) as exc:
            raise StorageError(f"cannot open leveldb store at {path!r}: {_wrap(exc)}") from exc

    def _require_db(self) -> Any:
        db = self._db
        if db is None:
            raise StorageError("store is closed")
        return db

    def get(self, key: bytes) -> bytes | None:
        """Return the value under `key`, or `None` if absent."""
        db = self._db
        if db is None:
            raise StorageError("store is closed")
        if not isinstance(key, bytes):
            raise TypeError(f"key must be bytes, not {type(key).__name__}")
        try:
            value: bytes | None = db.get(key)
        except (plyvel.Error, RuntimeError) as exc:
            raise _wrap(exc) from exc
        return value

    def iterate(
        self,
        prefix: bytes = b"",
        *,
        reverse: bool = False,
        start: bytes | None = None,
        stop: bytes | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield `(key, value)` pairs in range from LevelDB's implicit iterator snapshot.

        The plyvel iterator (and so the snapshot) is created here, eagerly, not on the first
        `next()`. Closing the store ends in-flight iterators with `StorageError`.
        """
        db = self._require_db()
        bounds = key_range(prefix, start, stop)
        if bounds is None:
            return iter(())
        lower, upper = bounds
        # plyvel rejects prefix= together with start=/stop=, so bounds are precomputed.
        # plyvel 1.5.1 bug: a reverse iterator with `start` yields nothing when the first key
        # it would yield equals `start` (it tests `start >= key` instead of `start > key`), so
        # a one-key range like [b"d", b"e") comes back empty. Reverse lower bounds are
        # therefore enforced in `_iterate` instead.
        floor = lower if reverse and lower else None
        try:
            it = db.iterator(start=None if reverse else lower, stop=upper, reverse=reverse)
        except (plyvel.Error, RuntimeError) as exc:
            raise _wrap(exc) from exc
        return _iterate(it, floor)

    def atomic_batch(self, *, sync: bool = True) -> AbstractContextManager[WriteBatch]:
        """Return a batch written atomically (and fsynced if `sync`) on clean exit."""
        db = self._require_db()
        return _LevelDBBatch(db.write_batch(sync=sync, transaction=True))

    def commit(self, changes: Mapping[bytes, bytes | None], *, sync: bool = True) -> None:
        """Apply `changes` atomically (`None` deletes) as one LevelDB write batch."""
        db = self._db
        if db is None:
            raise StorageError("store is closed")
        try:
            wb = db.write_batch(sync=sync)
            put = wb.put
            delete = wb.delete
            for key, value in changes.items():
                if not isinstance(key, bytes):
                    raise TypeError(f"key must be bytes, not {type(key).__name__}")
                if value is None:
                    delete(key)
                elif isinstance(value, bytes):
                    put(key, value)
                else:
                    raise TypeError(f"value must be bytes, not {type(value).__name__}")
            # Reached only if every entry was valid: an early TypeError leaves `wb` unwritten.
            wb.write()
        except (plyvel.Error, RuntimeError) as exc:
            raise _wrap(exc) from exc

    def close(self) -> None:
        """Close the database (releasing its lock); later operations raise `StorageError`."""
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __repr__(self) -> str:
        state = "closed" if self._db is None else "open"
        return f"LevelDBStore({self._path!r}, {state})"
