from __future__ import annotations

import pytest

from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import carbon as c
from ccoin.testing.carbon import carbon_testnet
from ccoin.testing.factories import LocalNet
from tests.unit.ledger.chain_helpers import block_with


@pytest.fixture
def net() -> LocalNet:
    """Account 0 is the carbon committee, 1 an issuer, 2-4 holders."""
    return carbon_testnet(accounts=8)


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)


BATCH = "VCS-1234-001"
ORIGIN = "VCS-1234-2024-000001-1000000"


@pytest.fixture
def registry(chain: Chain, net: LocalNet) -> Chain:
    """Class VCS admitted, account 1 its issuer, project VCS-1234, one batch of 1,000,000
    credits (serials 1-1,000,000) issued to account 2."""
    nid = chain.network_id
    committee, issuer, holder = net.accounts[0], net.accounts[1], net.accounts[2]
    execution = block_with(
        chain,
        net,
        c.admit_class(committee, "VCS", nid),
        c.admit_class(committee, "GS", nid, timestamp=1),
        c.admit_issuer(committee, issuer.address, ("VCS",), nid),
        c.register_project(issuer, "VCS-1234", "VCS", nid),
    )
    assert execution.rejected == []
    execution = block_with(
        chain, net, c.issue(issuer, "VCS-1234", 1, 1_000_000, ORIGIN, holder.address, nid)
    )
    assert execution.rejected == []
    return chain
