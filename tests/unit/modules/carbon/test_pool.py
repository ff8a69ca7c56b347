"""The pool refuses a carbon transaction that cannot apply at submission, with the code the
block would give (the module's admission check), and admits the ones that can."""

from __future__ import annotations

import pytest

from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.ledger.chain import Chain
from ccoin.node.mempool import Mempool, PoolLimits
from ccoin.testing import carbon as c
from ccoin.testing.factories import LocalNet
from tests.unit.modules.carbon.conftest import BATCH, ORIGIN


def pool_for(chain: Chain) -> Mempool:
    return Mempool(chain.genesis, chain.network_id, chain, PoolLimits())


def test_doomed_carbon_transactions_are_refused_at_submission(
    registry: Chain, net: LocalNet
) -> None:
    pool = pool_for(registry)
    nid = registry.network_id
    issuer, a, b, stranger = net.accounts[1], net.accounts[2], net.accounts[3], net.accounts[5]
    cases = [
        (c.admit_class(stranger, "NEW", nid), ErrorCode.TX_CARBON_NOT_COMMITTEE),
        (c.register_project(stranger, "X-1", "VCS", nid), ErrorCode.TX_CARBON_NOT_ISSUER),
        (c.register_project(issuer, "X-2", "NOPE", nid), ErrorCode.TX_CARBON_CLASS_UNKNOWN),
        (
            c.issue(issuer, "VCS-1234", 5_000_000, 5_000_001, ORIGIN, a.address, nid),
            ErrorCode.TX_CARBON_ORIGIN_USED,
        ),
        (c.retire(b, BATCH, nid, quantity=1), ErrorCode.TX_CARBON_INSUFFICIENT),
        (c.transfer(a, b.address, "VCS-9-001", nid, quantity=1), ErrorCode.TX_CARBON_BATCH_UNKNOWN),
    ]
    for tx, code in cases:
        with pytest.raises(InvalidTransaction) as refused:
            pool.add(tx, now=registry.head.timestamp_seconds)
        assert refused.value.code == code, tx.body.type
    assert len(pool) == 0
    good = c.retire(a, BATCH, nid, quantity=40)
    pool.add(good, now=registry.head.timestamp_seconds)
    assert list(pool.ready()) == [good]
