"""Equivocation evidence (type 10): a delegate that signed two headers for one slot, or two
conflicting votes, is jailed and leaves the active set; anything short of a proof is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccoin.consensus.votes import Vote, VoteData
from ccoin.errors import ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.node.consensus_state import active_set
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.assets import EvidenceAsset
from ccoin.types.block import ZERO_HASH, BlockHeader
from ccoin.types.transaction import Transaction, TxBody


@pytest.fixture
def setup() -> tuple[Chain, f.LocalNet]:
    net = f.make_testnet(accounts=3, delegates=4)
    return Chain(MemoryStore(), net.genesis), net


def header(net: f.LocalNet, nid: bytes, who: int, slot: int, salt: bytes) -> BlockHeader:
    key = net.delegates[who]
    h = BlockHeader(
        1,
        5,
        ZERO_HASH,
        slot * 1000,
        key.public_key,
        salt * 32,
        0,
        0,
        0,
        0,
        ZERO_HASH,
        ZERO_HASH,
        None,
    )
    return h.signed(key, nid)


def vote(net: f.LocalNet, nid: bytes, who: int, target: int, target_hash: bytes) -> Vote:
    key = net.delegates[who]
    data = VoteData(1, b"\x01" * 32, target, target_hash)
    return Vote(data, key.public_key, key.sign(data.signing_bytes(nid)))


def evidence(net: f.LocalNet, nid: bytes, kind: str, first: bytes, second: bytes) -> Transaction:
    reporter = net.accounts[1]
    body = TxBody(10, 0, reporter.public_key, None, 0, 0, EvidenceAsset(kind, first, second))
    return body.sign(reporter, nid)


def include(chain: Chain, net: f.LocalNet, tx: Transaction) -> ErrorCode | None:
    _block, execution = chain.build_block([tx], chain.head.timestamp_ms + 1000, net.delegates[0])
    return execution.rejected[0][1].code if execution.rejected else None


def test_double_block_jails_the_delegate(setup: tuple[Chain, f.LocalNet]) -> None:
    chain, net = setup
    nid = chain.network_id
    a, b = header(net, nid, 2, 7, b"a"), header(net, nid, 2, 7, b"b")
    assert net.delegates[2].public_key in active_set(chain)
    assert include(chain, net, evidence(net, nid, "double-block", a.encode(), b.encode())) is None
    assert chain.store.get(schema.jailed(net.delegates[2].public_key)) is not None
    assert net.delegates[2].public_key not in active_set(chain)
    again = evidence(net, nid, "double-block", b.encode(), a.encode())
    assert include(chain, net, again) is ErrorCode.TX_ALREADY_JAILED


def test_double_vote_jails_the_delegate(setup: tuple[Chain, f.LocalNet]) -> None:
    chain, net = setup
    nid = chain.network_id
    a, b = vote(net, nid, 1, 9, b"\x0a" * 32), vote(net, nid, 1, 9, b"\x0b" * 32)
    assert include(chain, net, evidence(net, nid, "double-vote", a.encode(), b.encode())) is None
    assert net.delegates[1].public_key not in active_set(chain)


@pytest.mark.parametrize(
    "case",
    [
        "other-slot",
        "other-generator",
        "forged",
        "same-votes-target",
        "other-voter",
        "not-a-delegate",
    ],
)
def test_anything_short_of_a_proof_is_refused(setup: tuple[Chain, f.LocalNet], case: str) -> None:
    chain, net = setup
    nid = chain.network_id
    a = header(net, nid, 2, 7, b"a")
    if case == "other-slot":
        tx = evidence(net, nid, "double-block", a.encode(), header(net, nid, 2, 8, b"b").encode())
    elif case == "other-generator":
        tx = evidence(net, nid, "double-block", a.encode(), header(net, nid, 3, 7, b"b").encode())
    elif case == "forged":
        forged = replace(header(net, nid, 2, 7, b"b"), block_signature=b"\x01" * 64)
        tx = evidence(net, nid, "double-block", a.encode(), forged.encode())
    elif case == "same-votes-target":
        v1, v2 = vote(net, nid, 1, 9, b"\x0a" * 32), vote(net, nid, 1, 10, b"\x0b" * 32)
        tx = evidence(net, nid, "double-vote", v1.encode(), v2.encode())
    elif case == "other-voter":
        v1, v2 = vote(net, nid, 1, 9, b"\x0a" * 32), vote(net, nid, 2, 9, b"\x0b" * 32)
        tx = evidence(net, nid, "double-vote", v1.encode(), v2.encode())
    else:
        outsider = f.key("outsider")
        h1 = replace(a, generator_public_key=outsider.public_key).signed(outsider, nid)
        h2 = replace(h1, payload_hash=b"z" * 32).signed(outsider, nid)
        tx = evidence(net, nid, "double-block", h1.encode(), h2.encode())
    before = {k: v for k, v in chain.store.iterate() if schema.is_state_key(k)}
    assert include(chain, net, tx) is ErrorCode.TX_BAD_EVIDENCE
    after = {k: v for k, v in chain.store.iterate() if schema.is_state_key(k)}
    assert {k for k in after if k[0] == schema.JAILED[0]} == {
        k for k in before if k[0] == schema.JAILED[0]
    }
