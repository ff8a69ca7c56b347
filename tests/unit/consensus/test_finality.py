"""Finality from the votes held (`ccoin.consensus.finality`, ADR 0020): exactly q votes of
the right round's members make the link; the block must be justified (by its child's
header, or by held votes); only the head's branch counts; the certificate round-trips."""

from __future__ import annotations

import hashlib

import pytest

from ccoin.consensus.finality import FinalityCertificate, certificate_for, final_by_votes
from ccoin.consensus.tree import Checkpoint, ForkTree, TreeBlock
from ccoin.consensus.votes import VoteData
from ccoin.errors import DecodeError
from ccoin.types.block import ZERO_HASH, BlockHeader
from ccoin.types.codec import packb

MEMBERS = tuple(sorted(hashlib.sha256(bytes([i])).digest() for i in range(4)))  # q = 3
OUTSIDER = hashlib.sha256(b"outsider").digest()


def members(_slot: int) -> tuple[bytes, ...]:
    return MEMBERS


def block(height: int, parent: TreeBlock | None, name: bytes, justified: Checkpoint) -> TreeBlock:
    header = BlockHeader(
        1,
        height,
        parent.hash if parent else ZERO_HASH,
        height,
        MEMBERS[0],
        ZERO_HASH,
        0,
        0,
        0,
        0,
        ZERO_HASH,
        ZERO_HASH,
        None,
    )
    digest = hashlib.sha256(name).digest()
    return TreeBlock(header, digest, height, justified, Checkpoint(0, b"r" * 32), b"s" * 32)


ROOT = block(0, None, b"root", Checkpoint(0, hashlib.sha256(b"root").digest()))
A = block(1, ROOT, b"a", ROOT.checkpoint)  # justified: the root
B = block(2, A, b"b", A.checkpoint)  # B's header attests A
B_BARE = block(2, A, b"b-bare", ROOT.checkpoint)  # B without an attestation for A
X = block(1, ROOT, b"x", ROOT.checkpoint)  # a sibling branch
Y = block(2, X, b"y", X.checkpoint)


def tree(*blocks: TreeBlock) -> ForkTree:
    out = ForkTree.from_root(ROOT)
    for b in blocks:
        out = out.add(b)
    return out


def votes_for(data: VoteData, voters: tuple[bytes, ...]) -> dict[bytes, bytes]:
    return {v: hashlib.sha512(v + data.target_hash).digest() for v in voters}


def link(a: TreeBlock, b: TreeBlock) -> VoteData:
    return VoteData(a.height, a.hash, b.height, b.hash)


def test_q_votes_from_the_child_make_its_parent_final() -> None:
    held = {link(A, B): votes_for(link(A, B), MEMBERS[:3])}
    found = final_by_votes(tree(A, B), B.hash, 0, held, members)
    assert found is not None
    final, certificate = found
    assert final == A
    assert certificate.justification is None  # B's header already justifies A
    assert certificate.link.target_hash == B.hash and len(certificate.link.votes) == 3


def test_q_minus_one_votes_or_outsiders_are_not_enough() -> None:
    short = {link(A, B): votes_for(link(A, B), MEMBERS[:2])}
    assert final_by_votes(tree(A, B), B.hash, 0, short, members) is None
    padded = {link(A, B): votes_for(link(A, B), (*MEMBERS[:2], OUTSIDER))}
    assert final_by_votes(tree(A, B), B.hash, 0, padded, members) is None


def test_a_child_without_the_attestation_needs_held_votes_justifying_the_parent() -> None:
    held = {link(A, B_BARE): votes_for(link(A, B_BARE), MEMBERS)}
    assert final_by_votes(tree(A, B_BARE), B_BARE.hash, 0, held, members) is None
    justify = link(ROOT, A)
    held[justify] = votes_for(justify, MEMBERS[1:])
    found = final_by_votes(tree(A, B_BARE), B_BARE.hash, 0, held, members)
    assert found is not None and found[0] == A
    assert found[1].justification is not None
    assert found[1].justification.target_hash == A.hash


def test_only_the_heads_branch_and_only_above_finality() -> None:
    held = {link(A, B): votes_for(link(A, B), MEMBERS)}
    both = tree(A, B, X, Y)
    assert final_by_votes(both, Y.hash, 0, held, members) is None  # head on the other fork
    assert final_by_votes(both, B.hash, 1, held, members) is None  # A is already final
    assert certificate_for(held, members, A, B) is not None


def test_the_certificate_round_trips_and_rejects_junk() -> None:
    held = {link(ROOT, A): votes_for(link(ROOT, A), MEMBERS)}
    held[link(A, B_BARE)] = votes_for(link(A, B_BARE), MEMBERS[:3])
    certificate = certificate_for(held, members, A, B_BARE)
    assert certificate is not None and certificate.justification is not None
    raw = certificate.encode()
    assert FinalityCertificate.decode(raw) == certificate
    with pytest.raises(DecodeError):
        FinalityCertificate.decode(raw + b"\x00")
    with pytest.raises(DecodeError):
        FinalityCertificate.decode(packb([1, None]))
