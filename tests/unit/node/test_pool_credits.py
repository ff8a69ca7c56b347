"""Bridge credits (type 6) at the pool's door: refused on the rule block execution applies
(with its code), before any verification unless they name a quorum of distinct active
delegates; a junk copy never blocks the genuine credit; a pooled credit whose attestations
stopped passing is replaced by a copy whose attestations pass; of two that pass, the first
stays."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest

from ccoin.crypto.address import address_raw_from_public_key
from ccoin.crypto.keys import KeyPair, verify
from ccoin.errors import ErrorCode, InvalidTransaction, PoolError
from ccoin.ledger.chain import Chain
from ccoin.ledger.rounds import encode_round
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.node.mempool import Mempool
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.account import Account
from ccoin.types.genesis import UNIT
from ccoin.types.transaction import CoSignature, Transaction
from tests.unit.ledger.chain_helpers import rejected_code

BRIDGE = b"\xbb" * 20


@pytest.fixture
def net() -> LocalNet:
    """Four active delegates (a quorum of 3); account 6 is the escrow."""
    net = f.make_testnet(accounts=8, delegates=4)
    config = BridgeConfig(net.accounts[6].address, 97, BRIDGE, 3)
    return dataclasses.replace(net, genesis=dataclasses.replace(net.genesis, bridge=config))


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)


class ActiveSet:
    """The chain's head state, with the recorded active set replaced when `members` is set
    (as after a round's election)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.members: tuple[bytes, ...] | None = None

    def get(self, key: bytes) -> bytes | None:
        if key == schema.ROUND and self.members is not None:
            return encode_round(1, self.members, None)
        return self.chain.get(key)

    def account_raw(self, address_raw: bytes) -> Account | None:
        return self.chain.account_raw(address_raw)

    def is_included(self, tx_hash: bytes) -> bool:
        return self.chain.is_included(tx_hash)


@pytest.fixture
def state(chain: Chain) -> ActiveSet:
    return ActiveSet(chain)


@pytest.fixture
def pool(chain: Chain, state: ActiveSet) -> Mempool:
    return Mempool(chain.genesis, chain.network_id, state)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """The public keys of the attestations the pool verifies, in order."""
    done: list[bytes] = []

    def counting(public_key: bytes, message: bytes, signature: bytes) -> bool:
        done.append(public_key)
        return verify(public_key, message, signature)

    monkeypatch.setattr("ccoin.node.mempool.verify", counting)
    yield done


def credit(net: LocalNet, chain: Chain, attesters: Sequence[KeyPair], **kw: object) -> Transaction:
    relayer, to = net.accounts[1], net.accounts[2].address
    return f.deposit(relayer, to, UNIT, 5, chain.network_id, attesters, **kw)  # type: ignore[arg-type]


def junk(tx: Transaction, keys: Sequence[KeyPair]) -> Transaction:
    """`tx` with attestations by `keys` that do not verify (attestations are not in the id)."""
    cosigs = tuple(sorted(CoSignature(k.public_key, b"\x07" * 64) for k in keys))
    return dataclasses.replace(tx, signatures=cosigs)


def refused(pool: Mempool, tx: Transaction) -> ErrorCode:
    with pytest.raises((InvalidTransaction, PoolError)) as info:
        pool.add(tx, now=0)
    return info.value.code


def test_forged_credits_are_refused_with_the_code_block_execution_gives(
    net: LocalNet, chain: Chain, pool: Mempool
) -> None:
    d = net.delegates
    genuine = credit(net, chain, d[:3])
    cases: list[tuple[Transaction, ErrorCode]] = [
        (credit(net, chain, []), ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS),  # no fee, no quorum
        (credit(net, chain, d[:2]), ErrorCode.TX_NOT_ENOUGH_ATTESTATIONS),
        (junk(genuine, d[:3]), ErrorCode.TX_BAD_COSIGNATURE),
        (credit(net, chain, [*d[:3], f.key("outsider")]), ErrorCode.TX_BAD_COSIGNATURE),
        (credit(net, chain, d[:3], bridge=b"\x01" * 20), ErrorCode.TX_WRONG_BRIDGE),
        (credit(net, chain, d[:3], bsc_chain_id=56), ErrorCode.TX_WRONG_BRIDGE),
    ]
    for tx, code in cases:
        assert tx.body.fee == 0
        assert refused(pool, tx) is code
        assert rejected_code(chain, net, tx) is code
    assert len(pool) == 0
    pool.add(genuine, now=0)
    assert pool.get(genuine.hash(chain.network_id)) is genuine


def test_a_credited_deposit_is_refused_at_the_door(
    net: LocalNet, chain: Chain, pool: Mempool
) -> None:
    tx = credit(net, chain, net.delegates[:3])
    assert chain.build_block([tx], chain.head.timestamp_ms + 1000, net.delegates[0])[
        1
    ].included == [tx]
    again = credit(net, chain, net.delegates[:3], timestamp=1)  # another id, the same deposit
    assert refused(pool, again) is ErrorCode.TX_DEPOSIT_CONSUMED


def test_a_forged_credit_costs_at_most_one_verification(
    net: LocalNet, chain: Chain, pool: Mempool, verifications: list[bytes]
) -> None:
    d = net.delegates
    genuine = credit(net, chain, d[:3])
    for tx in (credit(net, chain, []), credit(net, chain, [*d[:2], f.key("x")])):
        refused(pool, tx)
    assert verifications == []  # no quorum of distinct active delegates: nothing verified
    assert refused(pool, junk(genuine, d)) is ErrorCode.TX_BAD_COSIGNATURE
    assert len(verifications) == 1  # the first bad attestation ends it
    verifications.clear()
    pool.add(genuine, now=0)
    assert len(verifications) == 3  # one per attestation
    verifications.clear()
    assert refused(pool, junk(genuine, d)) is ErrorCode.POOL_DUPLICATE
    assert verifications == []  # a copy of a pooled credit that passes costs nothing


def test_a_junk_copy_first_does_not_block_the_genuine_credit(
    net: LocalNet, chain: Chain, pool: Mempool
) -> None:
    genuine = credit(net, chain, net.delegates[:3])
    copy = junk(genuine, net.delegates[:3])
    assert copy.hash(chain.network_id) == genuine.hash(chain.network_id)
    assert refused(pool, copy) is ErrorCode.TX_BAD_COSIGNATURE
    assert pool.add(genuine, now=0) == genuine.hash(chain.network_id)
    assert list(pool.ready()) == [genuine]


def test_of_two_copies_that_pass_the_first_stays(
    net: LocalNet, chain: Chain, pool: Mempool
) -> None:
    d = net.delegates
    first, second = credit(net, chain, d[:3]), credit(net, chain, d[1:])
    pool.add(first, now=0)
    assert not pool.replaceable(first.hash(chain.network_id))
    assert refused(pool, second) is ErrorCode.POOL_DUPLICATE
    assert list(pool.ready()) == [first]


def test_a_credit_whose_attestations_stopped_passing_is_replaced(
    net: LocalNet, chain: Chain, pool: Mempool, state: ActiveSet
) -> None:
    d = net.delegates
    old = credit(net, chain, d[:3])
    tx_hash = old.hash(chain.network_id)
    pool.add(old, now=0)
    # A new round's set without delegate 0: the pooled attestations are no longer a quorum.
    state.members = tuple(sorted([d[1].public_key, d[2].public_key, d[3].public_key]))
    assert pool.replaceable(tx_hash)
    assert refused(pool, junk(old, d[1:])) is ErrorCode.TX_BAD_COSIGNATURE
    assert pool.get(tx_hash) is old  # a refused copy changes nothing
    new = credit(net, chain, d[1:])
    assert pool.add(new, now=0) == tx_hash
    assert list(pool.ready()) == [new] and len(pool) == 1
    assert pool.count_from(address_raw_from_public_key(net.accounts[1].public_key)) == 1
    assert not pool.replaceable(tx_hash)


def test_attestations_are_not_merged_into_a_pooled_credit(
    net: LocalNet, chain: Chain, pool: Mempool
) -> None:
    tx = credit(net, chain, net.delegates[:3])
    pool.add(tx, now=0)
    extra = tx.cosign(net.delegates[3], chain.network_id).signatures
    with pytest.raises(InvalidTransaction) as info:
        pool.add_cosignatures(tx.hash(chain.network_id), list(extra))
    assert info.value.code is ErrorCode.TX_UNEXPECTED_COSIGNATURES
