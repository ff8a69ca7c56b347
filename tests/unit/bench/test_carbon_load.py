"""The carbon load (`ccoin bench --workload carbon`) against a ledger built from the bench's
own genesis: every setup step and every measured move is included, in any order."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from ccoin.bench import carbon_load as cl
from ccoin.crypto.address import address_raw
from ccoin.devnet.layout import init_devnet
from ccoin.errors import ConfigError
from ccoin.ledger.chain import Chain
from ccoin.modules.carbon import state as S
from ccoin.modules.carbon.records import Holding
from ccoin.modules.carbon.wire import CarbonTransferAsset, RetireAsset
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.carbon import check_invariants
from ccoin.types.asset_base import TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction

ACCOUNTS = 12  # two full chains of five and one of two
ROUNDS = 7
NID = b"n" * 32
FEES = dict.fromkeys(cl.CARBON_TYPES, 1_000)


class Ledger:
    """A chain over the genesis `ccoin bench` starts its devnet with, and its producer."""

    def __init__(self, root: Path) -> None:
        self.devnet = init_devnet(root, nodes=1, test_accounts=ACCOUNTS, bridge=False).devnet
        self.genesis = GenesisConfig.load(root / "genesis.json")
        self.chain = Chain(MemoryStore(), self.genesis)
        self.producer = self.devnet.key("delegate-0")
        self.fees = {t: self.genesis.min_fee(t) for t in cl.CARBON_TYPES}

    def block(self, txs: list[Transaction]) -> None:
        """A block of `txs`: each one must be included."""
        timestamp = self.chain.head.timestamp_ms + 1000
        execution = self.chain.build_block(txs, timestamp, self.producer)[1]
        assert [(tx.id(self.chain.network_id), e.code) for tx, e in execution.rejected] == []
        assert len(execution.included) == len(txs)

    def holdings(self) -> dict[bytes, int]:
        """Serial ranges per holding."""
        return {
            key: len(Holding.decode(value).ranges)
            for key, value in self.chain.store.iterate(schema.CARBON_HOLDING)
        }


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "net")


def _set_up(ledger: Ledger, registry: cl.Registry, load: list[Transaction]) -> None:
    committee = ledger.devnet.key("carbon-committee")
    accounts = ledger.devnet.test_accounts()
    nid = ledger.chain.network_id
    for _label, txs in cl.setup_steps(committee, accounts, registry, load, nid, 0, ledger.fees):
        ledger.block(txs)


@pytest.mark.parametrize("order", ["submitted", "reversed", "shuffled"])
def test_every_move_is_included_in_any_order(ledger: Ledger, order: str) -> None:
    accounts = ledger.devnet.test_accounts()
    registry = cl.Registry.fresh()
    nid = ledger.chain.network_id
    first = cl.moves(accounts, ACCOUNTS * ROUNDS, registry.batch_id, nid, 0, ledger.fees)
    second = cl.moves(  # a sweep's second run, signed up front with the first
        accounts, ACCOUNTS * 2, registry.batch_id, nid, 0, ledger.fees, first=len(first)
    )
    _set_up(ledger, registry, first + second)
    assert set(ledger.holdings().values()) == {1}
    for run in (first, second):
        txs = list(run)
        if order == "reversed":
            txs.reverse()
        elif order == "shuffled":
            random.Random(15).shuffle(txs)
        for start in range(0, len(txs), 10):
            ledger.block(txs[start : start + 10])
            # what an account receives joins what it holds: one range each, always
            assert set(ledger.holdings().values()) <= {1}
    batch = S.batch(ledger.chain.store.get, registry.batch_id)
    assert batch is not None and batch.issued == cl.ISSUED
    retired = sum(
        a.quantity for tx in first + second if isinstance(a := tx.body.asset, RetireAsset)
    )
    assert (batch.retired, batch.cancelled) == (retired, 0)
    assert check_invariants(ledger.chain.store.iterate) >= 1
    # every account moved exactly its share; the issuer (first of its chain, so it
    # received nothing) keeps what no share took
    issuer = address_raw(accounts[0].address)
    left = S.holding(ledger.chain.store.get, issuer, registry.batch_id).quantity
    assert left == cl.ISSUED - sum(cl.needs(first + second).values())


def test_the_setup_runs_again_on_the_same_chain(ledger: Ledger) -> None:
    """A second `ccoin bench --dir` on one devnet: a fresh class, project and origin."""
    accounts = ledger.devnet.test_accounts()
    nid = ledger.chain.network_id
    for _run in range(2):
        registry = cl.Registry.fresh()
        load = cl.moves(accounts, ACCOUNTS * 2, registry.batch_id, nid, 0, ledger.fees)
        _set_up(ledger, registry, load)
        ledger.block(load)


def test_the_mix_the_chains_and_the_quantities() -> None:
    accounts = [f.key(f"carbon{i}") for i in range(ACCOUNTS)]
    txs = cl.moves(accounts, ACCOUNTS * 10, "BENCH-X-001", NID, 5, FEES)
    assert len({tx.hash(NID) for tx in txs}) == len(txs)  # quantities keep them distinct
    assert cl.mix(txs) == {
        "transfers": 90,
        "retirements": 30,  # accounts 4, 9 and 11 end their chains
        "retired_share": 0.25,
        "by": "quantity, lowest serials first",
        "pattern": "chains of 5 test accounts: each transfers to the next, the last retires",
    }
    for i, tx in enumerate(txs):
        k, asset = i % ACCOUNTS, tx.body.asset
        assert tx.body.sender_id == accounts[k].address
        assert isinstance(asset, CarbonTransferAsset | RetireAsset)
        assert (asset.batch_id, asset.quantity, asset.ranges) == ("BENCH-X-001", 1 + i // 12, ())
        assert tx.body.fee == 1_000 and tx.body.timestamp == 5
        if k in (4, 9, 11):
            assert tx.body.type == TxType.CARBON_RETIRE and tx.body.recipient_id is None
        else:
            assert tx.body.type == TxType.CARBON_TRANSFER
            assert tx.body.recipient_id == accounts[k + 1].address
    full = cl.moves([f.key(f"carbon{i}") for i in range(10)], 1000, "BENCH-X-001", NID, 5, FEES)
    assert cl.mix(full)["retired_share"] == 0.2  # whole chains: four to one
    later = cl.moves(accounts, 12, "BENCH-X-001", NID, 5, FEES, first=len(txs))
    assert not {tx.hash(NID) for tx in later} & {tx.hash(NID) for tx in txs}
    assert cl.needs(txs)[accounts[0].address] == sum(range(1, 11))
    with pytest.raises(ConfigError):
        cl.moves(accounts[:1], 5, "BENCH-X-001", NID, 5, FEES)


def test_setup_shares_are_disjoint_ranges_below_the_issuers() -> None:
    accounts = [f.key(f"carbon{i}") for i in range(ACCOUNTS)]
    committee = f.key("committee")
    registry = cl.Registry("BTEST", "BENCH-TEST", "CCOIN-BENCH:TEST")
    load = cl.moves(accounts, ACCOUNTS * 3, registry.batch_id, NID, 5, FEES)
    steps = cl.setup_steps(committee, accounts, registry, load, NID, 5, FEES)
    assert [label for label, _txs in steps] == ["class", "issuer", "project", "issue", "credits 1"]
    shares = steps[-1][1]
    wanted = cl.needs(load)
    ranges = {}
    for tx in shares:
        asset = tx.body.asset
        assert isinstance(asset, CarbonTransferAsset) and asset.quantity == 0
        assert tx.body.recipient_id is not None
        ((low, high),) = asset.ranges
        assert high - low + 1 == wanted[tx.body.recipient_id]
        ranges[tx.body.recipient_id] = (low, high)
    # account k + 1's share lies right below account k's, from serial 1 up
    order = [ranges[a.address] for a in reversed(accounts[1:])]
    assert order[0][0] == 1
    assert all(upper[0] == lower[1] + 1 for lower, upper in itertools.pairwise(order))
    many = [f.key(f"many{i}") for i in range(cl.SETUP_CHUNK + 2)]
    load = cl.moves(many, len(many), "B-001", NID, 5, FEES)
    steps = cl.setup_steps(committee, many, registry, load, NID, 5, FEES)
    # the pool's per-sender limit: the issuer's shares go in steps
    assert [label for label, _txs in steps][-2:] == ["credits 1", "credits 2"]


def test_fresh_registries_differ() -> None:
    a, b = cl.Registry.fresh(), cl.Registry.fresh()
    assert a.class_id != b.class_id and a.origin != b.origin
    assert a.batch_id == f"{a.project_id}-001"
    assert cl.Registry.fresh("ABC123").to_json() == {
        "class": "BABC123",
        "project": "BENCH-ABC123",
        "batch": "BENCH-ABC123-001",
    }
