from __future__ import annotations

import pytest

from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing.carbon import carbon_testnet
from ccoin.testing.factories import LocalNet


@pytest.fixture
def net() -> LocalNet:
    """Account 0 is the carbon committee, 1 an issuer, 2-4 holders."""
    return carbon_testnet(accounts=8)


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)
