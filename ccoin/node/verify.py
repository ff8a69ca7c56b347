"""Batched Ed25519 verification off the event loop.

libsodium's verify releases the GIL, so splitting a batch over a small thread pool uses both
cores (DESIGN section 11: ~15k verifies/s on one thread, ~20k/s on two). Callers on trio run
`verify_batch` through `trio.to_thread.run_sync` so the event loop keeps serving.

A bridge credit's attestations are checked the same way at pool admission (`verify_groups`:
one group per credit, stopping at its first bad signature), and the pool reads the results
through `attestation_check`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ccoin.crypto.keys import verify
from ccoin.types.transaction import CoSignature, Transaction

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


class SignatureVerifier:
    def __init__(self, threads: int | None = None, *, min_chunk: int = 64) -> None:
        self.threads = max(1, threads or min(4, os.cpu_count() or 1))
        self.min_chunk = min_chunk
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ccoin-verify")

    def verify_batch(self, items: list[Item]) -> list[bool]:
        if len(items) < 2 * self.min_chunk or self.threads == 1:
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
        if sum(len(g) for g in groups) < 2 * self.min_chunk or self.threads == 1:
            return _verify_until_bad(groups)
        size = -(-len(groups) // self.threads)
        chunks = [groups[i : i + size] for i in range(0, len(groups), size)]
        results: list[list[bool]] = []
        for part in self._pool.map(_verify_until_bad, chunks):
            results.extend(part)
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True)
