"""The key-value contract every storage backend implements.

This module owns the `KeyValueStore` / `WriteBatch` protocols, the `StorageError` raised for
backend failures, and the small helpers (byte validation, prefix
range arithmetic) that the backends share so they agree exactly on semantics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

__all__ = [
    "KeyValueStore",
    "StorageError",
    "WriteBatch",
    "key_range",
    "require_bytes",
]


class StorageError(Exception):
    """A backend failure (I/O, corruption, closed store), distinct from caller mistakes.

    Caller mistakes (non-bytes keys or values) raise `TypeError` instead, so that code
    handling storage failures never swallows programming errors.
    """


class WriteBatch(Protocol):
    """Write-only view of a pending atomic batch, so callers cannot read half-applied state."""

    def put(self, key: bytes, value: bytes) -> None:
        """Stage `key = value`; overrides any earlier staged write to `key`."""
        ...

    def delete(self, key: bytes) -> None:
        """Stage removal of `key`; overrides any earlier staged write to `key`."""
        ...


class KeyValueStore(Protocol):
    """Ordered bytes-to-bytes map with atomic batches: the only storage the node relies on.

    Keys are ordered bytewise (unsigned lexicographic), which is what `schema` key layouts
    are designed around. Keys and values must be `bytes`; anything else raises `TypeError`.
    `b""` is a real value, distinct from a missing key (`None`).
    """

    def get(self, key: bytes) -> bytes | None:
        """Return the value stored under `key`, or `None` if absent (hot path: keep cheap)."""
        ...

    def iterate(
        self,
        prefix: bytes = b"",
        *,
        reverse: bool = False,
        start: bytes | None = None,
        stop: bytes | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield `(key, value)` pairs whose key starts with `prefix`, in bytewise key order.

        Order is ascending, or descending if `reverse`. `start` (inclusive) and `stop`
        (exclusive) are absolute keys that further restrict the range. The view is a
        snapshot taken when `iterate` is called: writes made while iterating are not seen,
        so callers may safely modify the store inside the loop.
        """
        ...

    def atomic_batch(self, *, sync: bool = True) -> AbstractContextManager[WriteBatch]:
        """Open a batch whose writes land together, so a crash never leaves partial state.

        All staged puts/deletes are applied atomically when the `with` block exits normally;
        nothing is applied if it raises. The last staged write to a key wins. `sync=True`
        makes the write durable (fsync) before returning.
        """
        ...

    def commit(self, changes: Mapping[bytes, bytes | None], *, sync: bool = True) -> None:
        """Apply `changes` as one atomic batch; a `None` value deletes the key.

        A convenience for the common "I already have the full diff" case (hot path).
        """
        ...

    def close(self) -> None:
        """Release the backend; every later operation raises `StorageError`. Idempotent."""
        ...


def require_bytes(key: object, value: object = b"") -> None:
    """Raise `TypeError` unless `key` and `value` are `bytes`.

    Backends call this (or an inlined equivalent on hot paths) so both reject the same
    inputs: LevelDB alone would silently accept `bytearray`/`memoryview` values.
    """
    if not isinstance(key, bytes):
        raise TypeError(f"key must be bytes, not {type(key).__name__}")
    if not isinstance(value, bytes):
        raise TypeError(f"value must be bytes, not {type(value).__name__}")


def _prefix_end(prefix: bytes) -> bytes | None:
    """Smallest key greater than every key starting with `prefix` (None if unbounded).

    Trailing 0xff bytes cannot be incremented, so they are dropped first: the end of
    b"\\x01\\xff" is b"\\x02" (so b"\\x02..." keys never leak in), and an all-0xff prefix
    has no end at all.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def key_range(
    prefix: bytes, start: bytes | None, stop: bytes | None
) -> tuple[bytes, bytes | None] | None:
    """Combine `prefix` and `start`/`stop` into one half-open range `[lower, upper)`.

    Returns `None` when the range is empty and `upper=None` when it is unbounded above.
    Shared by the backends so their iteration bounds are identical.
    """
    require_bytes(prefix)
    if start is not None and not isinstance(start, bytes):
        raise TypeError(f"start must be bytes, not {type(start).__name__}")
    if stop is not None and not isinstance(stop, bytes):
        raise TypeError(f"stop must be bytes, not {type(stop).__name__}")
    lower = prefix if start is None or start < prefix else start
    upper = _prefix_end(prefix)
    if stop is not None and (upper is None or stop < upper):
        upper = stop
    if upper is not None and lower >= upper:
        return None
    return lower, upper
