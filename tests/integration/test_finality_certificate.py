"""Four real nodes over TLS: each finalizes from the votes it holds (ADR 0020) and stores
the certificate, a supermajority of valid Ed25519 votes from the finalized block to the
child it has applied, in the same batch as the finalized pointer."""

from __future__ import annotations

from pathlib import Path

import trio
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ccoin.consensus.finality import FinalityCertificate
from ccoin.consensus.schedule import threshold
from ccoin.consensus.votes import VoteData
from ccoin.node.service import Node
from tests.integration.test_nodes_inprocess import build_network


def check_certificate(node: Node) -> bool:
    """Whether `node` holds a certificate for its finalized block; if so, it must be valid."""
    raw = node.chain.finality_certificate()
    if raw is None:
        return False
    certificate = FinalityCertificate.decode(raw)
    nid = node.network_id
    final = node.chain.header_at(node.chain.finalized_height)
    child = node.chain.header_at(node.chain.finalized_height + 1)
    assert final is not None and child is not None  # the child is applied
    link = certificate.link
    assert (link.source_height, link.source_hash) == (final.height, final.hash(nid))
    assert (link.target_height, link.target_hash) == (child.height, child.hash(nid))
    delegates = {d.public_key for d in node.genesis.delegates}
    assert len(link.votes) >= threshold(len(delegates))
    message = VoteData(
        link.source_height, link.source_hash, link.target_height, link.target_hash
    ).signing_bytes(nid)
    for vote in link.votes:
        assert vote.public_key in delegates
        try:
            VerifyKey(vote.public_key).verify(message, vote.signature)
        except BadSignatureError:
            raise AssertionError("a certificate vote does not verify") from None
    return True


async def test_each_node_finalizes_from_votes_and_stores_the_certificate(
    tmp_path: Path,
) -> None:
    nodes = build_network(tmp_path)
    try:
        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                for node in nodes:
                    await nursery.start(node.run)
                certified: set[int] = set()
                while len(certified) < len(nodes):
                    for i, node in enumerate(nodes):
                        if node.chain.finalized_height >= 2 and check_certificate(node):
                            certified.add(i)
                    await nodes[0].wait_for_change()
                nursery.cancel_scope.cancel()
    finally:
        for node in nodes:
            node.close()
