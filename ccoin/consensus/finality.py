"""Finality from the votes a node holds (ADR 0020, extending ADR 0007).

Block F is final once there is a supermajority link from F to its child C (q votes with
source F and target C) and F is justified: by C's header (its attestation targets F) or by
q votes the node holds for (F's justified checkpoint -> F). The headers reach the same
answer one block later, when C's child carries the F -> C link as its attestation; a node
that holds the votes need not wait for that block. `FinalityCertificate` is the proof: the
node persists it with the finalized pointer before it reports the finality anywhere.

Bytes (stored, `encode`): packb([link, justification or None]), each an attestation array
`[sourceHeight, sourceHash, targetHeight, targetHash, [[voter, signature], ...]]` as in
block headers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ccoin.consensus.schedule import threshold
from ccoin.consensus.tree import ForkTree, TreeBlock
from ccoin.consensus.votes import VoteData
from ccoin.types.block import Attestation
from ccoin.types.codec import field_list, packb, unpack_canonical
from ccoin.types.transaction import CoSignature

MAX_CERTIFICATE_BYTES = 2 * 101 * 110 + 512  # two attestations of at most 101 votes


@dataclass(frozen=True)
class FinalityCertificate:
    """`link`: q votes source F, target F's child. `justification`: q votes (F's justified
    checkpoint -> F) when the child's header does not carry them; None when it does."""

    link: Attestation
    justification: Attestation | None = None

    def encode(self) -> bytes:
        justification = None if self.justification is None else self.justification.to_array()
        return packb([self.link.to_array(), justification])

    @classmethod
    def decode(cls, raw: bytes) -> FinalityCertificate:
        arr = unpack_canonical(raw, max_size=MAX_CERTIFICATE_BYTES, what="finality certificate")
        link, justification = field_list(arr, "finality certificate", size=2)
        return cls(
            Attestation.from_array(link),
            None if justification is None else Attestation.from_array(justification),
        )


Members = Callable[[int], tuple[bytes, ...]]  # the active set of the round a slot is in
HeldVotes = Mapping[VoteData, Mapping[bytes, bytes]]  # vote data -> {voter: signature}


def held_link(votes: HeldVotes, members: tuple[bytes, ...], data: VoteData) -> Attestation | None:
    """The votes held for `data` from `members` as an attestation, if they reach the
    supermajority of `members`."""
    active = set(members)
    signers = sorted((k, s) for k, s in votes.get(data, {}).items() if k in active)
    if len(signers) < threshold(len(members)):
        return None
    votes_ = tuple(CoSignature(k, s) for k, s in signers)
    return Attestation(
        data.source_height, data.source_hash, data.target_height, data.target_hash, votes_
    )


def certificate_for(
    votes: HeldVotes, members: Members, block: TreeBlock, child: TreeBlock
) -> FinalityCertificate | None:
    """Whether the held votes make `block` final through `child` (its direct child)."""
    link = held_link(
        votes, members(child.slot), VoteData(block.height, block.hash, child.height, child.hash)
    )
    if link is None:
        return None
    if child.justified == block.checkpoint:  # the child's header attests `block`
        return FinalityCertificate(link)
    justified = block.justified
    data = VoteData(justified.height, justified.hash, block.height, block.hash)
    justification = held_link(votes, members(block.slot), data)
    if justification is None:
        return None
    return FinalityCertificate(link, justification)


def final_by_votes(
    tree: ForkTree, head: bytes, finalized_height: int, votes: HeldVotes, members: Members
) -> tuple[TreeBlock, FinalityCertificate] | None:
    """The highest block on the head's branch, above `finalized_height`, that the held
    votes make final. Only the head's branch: the ledger can finalize only what it
    applied, and a final block that is not on it would make the head conflict with
    finality (the node then switches, by fork choice over the pruned tree)."""
    best: tuple[TreeBlock, FinalityCertificate] | None = None
    for child in tree.path_from_root(head):
        block = tree.blocks[child.parent]
        if block.height <= finalized_height:
            continue
        certificate = certificate_for(votes, members, block, child)
        if certificate is not None:
            best = (block, certificate)
    return best
