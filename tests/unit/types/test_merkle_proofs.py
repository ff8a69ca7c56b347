"""Inclusion proofs (RFC 6962 audit paths): every leaf of trees of every size up to 33
proves, and a changed leaf, index, path or root does not. (The size only shapes the path:
the root binds the tree, and leaves and inner nodes are hashed apart.)"""

from __future__ import annotations

from ccoin.types.merkle import inclusion_proof, merkle_root, verify_inclusion


def test_every_leaf_proves_and_nothing_else_does() -> None:
    for size in range(1, 34):
        leaves = [bytes([i]) * 3 for i in range(size)]
        root = merkle_root(leaves)
        for index in range(size):
            path = inclusion_proof(leaves, index)
            assert verify_inclusion(leaves[index], index, size, path, root)
            assert not verify_inclusion(b"forged", index, size, path, root)
            if size > 1:
                assert not verify_inclusion(leaves[index], (index + 1) % size, size, path, root)
                assert not verify_inclusion(leaves[index], index, size, path[:-1], root)
            assert not verify_inclusion(leaves[index], index, size, path, merkle_root(leaves[1:]))
            assert not verify_inclusion(leaves[index], size, size, path, root)
