"""Every chain write is one synced batch (a SIGKILL test cannot see a missing fsync, since
the OS page cache survives the process; this test pins the flag instead)."""

from __future__ import annotations

from collections.abc import Mapping

from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f


class RecordingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[int, bool]] = []

    def commit(self, changes: Mapping[bytes, bytes | None], *, sync: bool = True) -> None:
        self.commits.append((len(changes), sync))
        super().commit(changes, sync=sync)


def test_every_chain_write_is_one_synced_commit() -> None:
    net = f.make_testnet(accounts=3, delegates=1)
    store = RecordingStore()
    chain = Chain(store, net.genesis)
    assert store.commits == [(store.commits[0][0], True)]  # genesis: one batch
    nid = chain.network_id
    for h in range(1, 4):
        tx = f.transfer(net.accounts[1], net.accounts[2].address, h, nid, timestamp=h)
        chain.build_block([tx], h * 1000, net.delegates[0])
    chain.set_finalized(1)
    chain.rollback_to(2)
    assert len(store.commits) == 1 + 3 + 1 + 1
    assert all(sync for _n, sync in store.commits)
