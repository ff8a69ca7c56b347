"""The pool: admission checks, fee-per-byte order, bounds, per-sender limit, expiry and the
pending area for multisignature transactions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ccoin.errors import ErrorCode, InvalidTransaction, PoolError
from ccoin.ledger.chain import Chain
from ccoin.node.mempool import Mempool, PoolLimits
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.genesis import UNIT
from ccoin.types.transaction import Transaction


@pytest.fixture
def net() -> LocalNet:
    return f.make_testnet(accounts=6, delegates=1, locked=1)


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)


def pool_for(chain: Chain, **limits: int) -> Mempool:
    return Mempool(chain.genesis, chain.network_id, chain, PoolLimits(**limits))


def test_orders_by_fee_per_byte_then_arrival(chain: Chain, net: LocalNet) -> None:
    pool = pool_for(chain)
    nid = chain.network_id
    low = f.transfer(net.accounts[1], net.accounts[2].address, 1, nid, fee=1000)
    high = f.transfer(net.accounts[2], net.accounts[3].address, 1, nid, fee=5000)
    low2 = f.transfer(net.accounts[3], net.accounts[4].address, 1, nid, fee=1000)
    memo = f.transfer(net.accounts[4], net.accounts[1].address, 1, nid, fee=1000, data=b"x" * 60)
    for tx in (low, high, low2, memo):
        pool.add(tx, now=0)
    assert list(pool.ready()) == [high, low, low2, memo]  # memo: same fee, more bytes
    assert len(pool) == 4 and pool.size_bytes > 0


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (
            lambda n, nid: f.transfer(n.accounts[1], n.accounts[2].address, 1, nid, fee=1),
            ErrorCode.TX_FEE_TOO_LOW,
        ),
        (
            lambda n, nid: f.transfer(f.key("nobody"), n.accounts[2].address, 1, nid),
            ErrorCode.TX_SENDER_UNKNOWN,
        ),
        (
            lambda n, nid: f.transfer(n.accounts[0], n.accounts[2].address, 1, nid),
            ErrorCode.TX_ACCOUNT_LOCKED,
        ),
        (
            lambda n, nid: f.transfer(n.accounts[1], n.accounts[2].address, 10**9 * UNIT, nid),
            ErrorCode.TX_INSUFFICIENT_BALANCE,
        ),
        (
            lambda n, nid: f.transfer(n.accounts[1], n.accounts[2].address, 1, nid, timestamp=99),
            ErrorCode.TX_TIMESTAMP_IN_FUTURE,
        ),
        (
            lambda n, nid: f.transfer(
                n.accounts[1], n.accounts[2].address, 1, nid, second=f.key("s")
            ),
            ErrorCode.TX_UNEXPECTED_SECOND_SIGNATURE,
        ),
        (
            lambda n, nid: f.transfer(n.accounts[1], n.accounts[2].address, 1, nid).cosign(
                f.key("c"), nid
            ),
            ErrorCode.TX_UNEXPECTED_COSIGNATURES,
        ),
    ],
)
def test_admission_rejections_change_nothing(
    chain: Chain, net: LocalNet, make: Callable[[LocalNet, bytes], Transaction], code: ErrorCode
) -> None:
    pool = pool_for(chain)
    with pytest.raises(InvalidTransaction) as info:
        pool.add(make(net, chain.network_id), now=0)
    assert info.value.code is code
    assert len(pool) == 0 and pool.size_bytes == 0


def test_duplicate_and_included_are_refused(chain: Chain, net: LocalNet) -> None:
    pool = pool_for(chain)
    nid = chain.network_id
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, nid, timestamp=1)
    pool.add(tx, now=1)
    with pytest.raises(PoolError) as dup:
        pool.add(tx, now=1)
    assert dup.value.code is ErrorCode.POOL_DUPLICATE
    chain.build_block(list(pool.ready()), 1, net.delegates[0])
    pool.remove([tx.hash(nid)])
    with pytest.raises(InvalidTransaction) as info:
        pool.add(tx, now=1)
    assert info.value.code is ErrorCode.TX_ALREADY_INCLUDED


def test_full_pool_evicts_lowest_fee_or_answers_busy(chain: Chain, net: LocalNet) -> None:
    pool = pool_for(chain, max_transactions=2)
    nid = chain.network_id
    a = f.transfer(net.accounts[1], net.accounts[2].address, 1, nid, fee=1000)
    b = f.transfer(net.accounts[2], net.accounts[3].address, 1, nid, fee=2000)
    pool.add(a, now=0)
    pool.add(b, now=0)
    same = f.transfer(net.accounts[3], net.accounts[4].address, 1, nid, fee=1000)
    with pytest.raises(PoolError) as info:
        pool.add(same, now=0)
    assert info.value.code is ErrorCode.POOL_FULL
    richer = f.transfer(net.accounts[4], net.accounts[5].address, 1, nid, fee=3000)
    pool.add(richer, now=0)
    assert list(pool.ready()) == [richer, b]


def test_byte_limit(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, nid)
    pool = pool_for(chain, max_bytes=len(tx.encode()) + 10)
    pool.add(tx, now=0)
    with pytest.raises(PoolError):
        pool.add(f.transfer(net.accounts[2], net.accounts[3].address, 1, nid), now=0)


def test_per_sender_limit(chain: Chain, net: LocalNet) -> None:
    pool = pool_for(chain, per_sender=2)
    nid = chain.network_id
    sender = net.accounts[1]
    for amount in (1, 2):
        pool.add(f.transfer(sender, net.accounts[2].address, amount, nid), now=0)
    with pytest.raises(PoolError) as info:
        pool.add(f.transfer(sender, net.accounts[2].address, 3, nid), now=0)
    assert info.value.code is ErrorCode.POOL_SENDER_LIMIT
    pool.add(f.transfer(net.accounts[2], net.accounts[1].address, 3, nid), now=0)


def test_expiry_by_ttl(chain: Chain, net: LocalNet) -> None:
    pool = pool_for(chain, ttl_seconds=60)
    nid = chain.network_id
    pool.add(f.transfer(net.accounts[1], net.accounts[2].address, 1, nid, timestamp=0), now=0)
    with pytest.raises(InvalidTransaction) as info:
        pool.add(f.transfer(net.accounts[1], net.accounts[2].address, 2, nid), now=100)
    assert info.value.code is ErrorCode.TX_EXPIRED
    assert pool.expire(now=30) == 0
    assert pool.expire(now=61) == 1
    assert len(pool) == 0


def test_multisig_transaction_waits_for_cosignatures(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    owner = net.accounts[1]
    members = [f.key("m1"), f.key("m2"), f.key("m3")]
    chain.build_block(
        [f.register_multisig(owner, members, 2, nid, lifetime=1)], 1000, net.delegates[0]
    )
    pool = pool_for(chain)
    tx = f.transfer(owner, net.accounts[2].address, 5, nid, timestamp=1).cosign(members[0], nid)
    tx_hash = pool.add(tx, now=1)
    assert pool.is_pending(tx_hash) and list(pool.ready()) == []

    with pytest.raises(InvalidTransaction) as info:
        pool.add_cosignatures(tx_hash, list(tx.cosign(f.key("outsider"), nid).signatures))
    assert info.value.code is ErrorCode.TX_BAD_COSIGNATURE
    assert pool.is_pending(tx_hash)

    second = tx.cosign(members[1], nid).signatures
    assert pool.add_cosignatures(tx_hash, list(second)) is True
    ready = list(pool.ready())
    assert len(ready) == 1 and len(ready[0].signatures) == 2
    _block, execution = chain.build_block(ready, 2000, net.delegates[0])
    assert execution.included == ready


def test_pending_multisig_expires_after_lifetime(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    owner = net.accounts[1]
    members = [f.key("m1"), f.key("m2")]
    chain.build_block(
        [f.register_multisig(owner, members, 2, nid, lifetime=1)], 1000, net.delegates[0]
    )
    pool = pool_for(chain)
    pool.add(f.transfer(owner, net.accounts[2].address, 5, nid, timestamp=1), now=1)
    assert pool.expire(now=1 + 3600) == 0
    assert pool.expire(now=2 + 3600) == 1


def test_a_delegate_registration_needs_an_admitted_sender(chain: Chain, net: LocalNet) -> None:
    """Refused at submission, not accepted and then dropped by the block builder."""
    pool = pool_for(chain)
    tx = f.register_delegate(net.accounts[1], "newcomer", chain.network_id)
    with pytest.raises(InvalidTransaction) as info:
        pool.add(tx, 0)
    assert info.value.code is ErrorCode.TX_NOT_ADMITTED and len(pool) == 0
    admit = f.govern(
        net.accounts[-1], "admit", "account", net.accounts[1].address, chain.network_id
    )
    assert chain.build_block([admit], 1000, net.delegates[0])[1].included == [admit]
    assert pool.add(tx, 1) == tx.hash(chain.network_id)
