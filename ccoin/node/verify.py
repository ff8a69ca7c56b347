"""Batched Ed25519 verification off the event loop.

libsodium's verify releases the GIL, so splitting a batch over a small thread pool uses both
cores (DESIGN section 11: ~15k verifies/s on one thread, ~20k/s on two). Callers on trio run
`verify_batch` through `trio.to_thread.run_sync` so the event loop keeps serving.

A bridge credit's attestations are checked the same way at pool admission (`verify_groups`:
one group per credit, stopping at its first bad signature), and the pool reads the results
through `attestation_check`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from ccoin.crypto.keys import verify
from ccoin.types.transaction import CoSignature, Transaction

PARENT_POLL_SECONDS = 0.5

# (public key, message, signature)
Item = tuple[bytes, bytes, bytes]


def primary_signature(tx: Transaction, network_id: bytes) -> Item:
    """What checking a transaction's primary signature takes."""
    return tx.body.sender_public_key, tx.digest(network_id)[0], tx.signature


def attestation_items(tx: Transaction, network_id: bytes) -> list[Item]:
    """What checking a credit's attestations takes, in the order the rule asks for them."""
    message = tx.digest(network_id)[0]
    return [(c.public_key, message, c.signature) for c in tx.signatures]


def attestation_check(
    tx: Transaction, network_id: bytes, items: Sequence[Item], results: Sequence[bool]
) -> Callable[[CoSignature], bool]:
    """The answer to "does this attestation verify" from a `verify_groups` result; one not
    in it (the active set changed while it ran) is verified on the spot."""
    known = {(pk, sig): ok for (pk, _msg, sig), ok in zip(items, results, strict=False)}
    message = tx.digest(network_id)[0]

    def valid(cosig: CoSignature) -> bool:
        ok = known.get((cosig.public_key, cosig.signature))
        return verify(cosig.public_key, message, cosig.signature) if ok is None else ok

    return valid


def _verify_chunk(items: list[Item]) -> list[bool]:
    return [verify(pk, msg, sig) for pk, msg, sig in items]


def _verify_until_bad(groups: list[list[Item]]) -> list[list[bool]]:
    results = []
    for group in groups:
        done: list[bool] = []
        for pk, msg, sig in group:
            done.append(verify(pk, msg, sig))
            if not done[-1]:
                break
        results.append(done)
    return results


def _exit_with_parent(parent: int) -> None:
    """In a worker process: exit once the node is gone, even killed with SIGKILL (a pool's
    workers otherwise wait on their pipe for ever). Polled, portable, and independent of
    which of the node's threads started the worker."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="ccoin-verify-parent", daemon=True).start()


class SignatureVerifier:
    """`threads` workers (default: the cores, at most 4). With `processes`, they are worker
    processes instead of threads: the items travel by pipe (about 230 bytes each), and the
    node's interpreter no longer shares its GIL with the Python half of every verify call
    (PyNaCl's wrapper allocates and copies around the C call), which under load is what
    its event loop waits for."""

    def __init__(
        self, threads: int | None = None, *, processes: bool = False, min_chunk: int = 64
    ) -> None:
        self.threads = max(1, threads or min(4, os.cpu_count() or 1))
        self.min_chunk = min_chunk
        self.processes = processes
        self._pool: Executor
        if processes:
            # spawn: the node has threads and a trio loop, which a fork must not copy
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.threads,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        else:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ccoin-verify")

    def warm_up(self) -> None:
        """Start the worker processes now (each imports the verifier once), not on the
        first batch."""
        if self.processes:
            list(self._pool.map(_verify_chunk, [[]] * self.threads))

    def _inline(self, count: int) -> bool:
        """Checked on the caller's thread: too few to split, or one thread to split over."""
        return count < 2 * self.min_chunk or (self.threads == 1 and not self.processes)

    def verify_batch(self, items: list[Item]) -> list[bool]:
        if self._inline(len(items)):
            return _verify_chunk(items)
        size = -(-len(items) // self.threads)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        results: list[bool] = []
        for part in self._pool.map(_verify_chunk, chunks):
            results.extend(part)
        return results

    def verify_groups(self, groups: list[list[Item]]) -> list[list[bool]]:
        """Each group's signatures in order, up to and including its first bad one (which
        is all a group needs to fail); the groups spread over the threads."""
        if self._inline(sum(len(g) for g in groups)):
            return _verify_until_bad(groups)
        size = -(-len(groups) // self.threads)
        chunks = [groups[i : i + size] for i in range(0, len(groups), size)]
        results: list[list[bool]] = []
        for part in self._pool.map(_verify_until_bad, chunks):
            results.extend(part)
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True)
