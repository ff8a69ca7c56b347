from __future__ import annotations

import pytest

from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing.factories import LocalNet, make_testnet


@pytest.fixture
def net() -> LocalNet:
    return make_testnet(accounts=8, delegates=3, locked=1)


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)
