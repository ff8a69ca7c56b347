"""Merkle roots with distinct leaf and inner-node prefixes (RFC 6962 shape).

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), split at the largest
power of two below n; the root of no leaves is SHA-256 of the empty string. The prefixes stop
an inner node from being passed off as a leaf (the second-preimage trick on Bitcoin's tree).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root over the leaf *data* (each hashed with `leaf_hash`)."""
    if not leaves:
        return EMPTY_ROOT
    level = [leaf_hash(d) for d in leaves]
    return _root_of_hashes(level)


def _root_of_hashes(hashes: list[bytes]) -> bytes:
    # Bottom-up pairing that keeps an odd last node for the next level gives the same root
    # as RFC 6962's recursive split, without recursion depth or slicing copies.
    while len(hashes) > 1:
        paired = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        if len(hashes) % 2:
            paired.append(hashes[-1])
        hashes = paired
    return hashes[0]


def merkle_root_recursive(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962's definition, kept as the reference the fast version is tested against."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(merkle_root_recursive(leaves[:k]), merkle_root_recursive(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` (RFC 6962's PATH), over the leaf *data*; verified by
    `verify_inclusion` here and by the BSC contracts' `Merkle.verify`."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of {len(leaves)}")
    return _path(index, [leaf_hash(d) for d in leaves])


def _path(index: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    if index < k:
        return [*_path(index, hashes[:k]), _root_of_hashes(hashes[k:])]
    return [*_path(index - k, hashes[k:]), _root_of_hashes(hashes[:k])]


def verify_inclusion(
    leaf_data: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162, 2.1.3.2: whether `path` proves `leaf_data` at `index` of `size` under `root`."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf_data)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
