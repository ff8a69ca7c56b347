"""`open_store`: a store from configuration, so callers never import a backend directly (and
the key-value contract in `kv` imports no backend)."""

from __future__ import annotations

from ccoin.storage.kv import KeyValueStore


def open_store(kind: str, path: str | None) -> KeyValueStore:
    """`kind` is "memory" (`path` is ignored) or "leveldb" (`path` is required; the
    directory and its parents are created if missing)."""
    if kind == "memory":
        from ccoin.storage.memory import MemoryStore

        return MemoryStore()
    if kind == "leveldb":
        if path is None:
            raise ValueError("leveldb store requires a path")
        from ccoin.storage.leveldb import LevelDBStore

        return LevelDBStore(path, create_if_missing=True)
    raise ValueError(f"unknown store kind: {kind!r} (expected 'memory' or 'leveldb')")
