"""Contracts compiled once on the node: `CompileCache`, a bounded LRU of `compile_contract`
results keyed by the SHA-256 of the source; the sandbox's children get the code objects.

May import: `ccoin.vm.instrument`, `ccoin.vm.calls`.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from dataclasses import dataclass

from ccoin.vm.calls import WorkerFault
from ccoin.vm.instrument import compile_contract

CACHE_ENTRIES = 256
CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CompiledSource:
    """A contract source as the node compiled it: the `marshal`-ed code object and the
    export names, or (``code`` None) the deterministic error that rejected it."""

    code: bytes | None
    exports: tuple[str, ...] = ()
    error: str | None = None

    @property
    def size(self) -> int:
        return len(self.code or b"") + len(self.error or "") + 64 * (1 + len(self.exports))


class CompileCache:
    """`compile_contract` results keyed by the SHA-256 of the source: a bounded LRU.

    Compiling (lint, instrument, compile) is deterministic, so a cached entry is what a
    fresh compile would give. A rejection (`ContractRejected`, or any other exception the
    compiler raises) is cached as its error text; MemoryError and RecursionError are the
    machine's, not the source's: a `WorkerFault`, not cached. Thread-safe; one may be shared
    by several runners.
    """

    def __init__(self, max_entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a compile cache needs room for one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, CompiledSource] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, source: str) -> CompiledSource:
        key = hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
        entry = _compile(source)  # outside the lock: other sources need not wait
        with self._lock:
            self.misses += 1
            if key not in self._entries:
                self._entries[key] = entry
                self._bytes += entry.size
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries or (
                self._bytes > self.max_bytes and len(self._entries) > 1
            ):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
        return entry


def _compile(source: str) -> CompiledSource:
    try:
        contract = compile_contract(source)
    except (MemoryError, RecursionError) as exc:
        raise WorkerFault(f"{type(exc).__name__} compiling the contract") from None
    except Exception as exc:  # the source's own, deterministic failure: a result
        return CompiledSource(code=None, error=f"{type(exc).__name__}: {exc}")
    return CompiledSource(code=marshal.dumps(contract.code), exports=contract.exports)
