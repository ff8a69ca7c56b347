"""Property test: random valid and invalid issue, transfer, retire and cancel sequences keep
every carbon invariant; a refused transaction leaves the state byte-identical; retirement
and cancellation records never change once written; a replica applying the same blocks
reaches the same state root."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ccoin.ledger.chain import Chain
from ccoin.modules.carbon import ranges as R
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import carbon as c
from ccoin.testing.factories import LocalNet
from ccoin.types.transaction import Transaction
from tests.unit.ledger.chain_helpers import block_with, snapshot

NET = c.carbon_testnet(accounts=8, max_holding_ranges=6)
PROJECTS = {"P1": ("VCS", 1), "P2": ("GS", 5)}  # project -> (class, issuer account)
ORIGINS = [f"SRC-{i}" for i in range(6)]
HOLDERS = [1, 2, 3, 4, 5]
MAX_SERIAL = 300


def small_ranges() -> st.SearchStrategy[R.Ranges]:
    def build(serials: frozenset[int]) -> R.Ranges:
        out: list[R.Range] = []
        for s in sorted(serials):
            if out and s == out[-1][1] + 1:
                out[-1] = (out[-1][0], s)
            else:
                out.append((s, s))
        return tuple(out)

    spans = st.lists(st.tuples(st.integers(1, 110), st.integers(0, 15)), min_size=1, max_size=3)
    return spans.map(
        lambda items: build(
            frozenset(s for a, n in items for s in range(a, min(a + n, MAX_SERIAL) + 1))
        )
    )


def operations() -> st.SearchStrategy[tuple[Any, ...]]:
    batch = st.tuples(st.sampled_from(sorted(PROJECTS)), st.sampled_from([1, 1, 1, 2, 3]))
    selection = st.one_of(
        st.tuples(st.integers(1, 40), st.just(())), st.tuples(st.just(0), small_ranges())
    )
    # mostly the two seeded holders, so that most moves can succeed
    holder = st.sampled_from([2, 2, 3, 3, *HOLDERS])
    return st.one_of(
        st.tuples(
            st.just("issue"),
            st.sampled_from(sorted(PROJECTS)),
            st.integers(1, MAX_SERIAL),
            st.integers(1, 80),
            st.sampled_from(ORIGINS),
            holder,
            st.booleans(),  # by the project's own issuer, or by a stranger
        ),
        st.tuples(st.just("transfer"), holder, holder, batch, selection),
        st.tuples(st.just("retire"), holder, batch, selection),
        st.tuples(st.just("cancel"), holder, batch, selection),
    )


def build_tx(op: tuple[Any, ...], nid: bytes, stamp: int) -> Transaction:
    accounts = NET.accounts
    kind = op[0]
    if kind == "issue":
        _, project, first, count, origin, recipient, own = op
        issuer = accounts[PROJECTS[project][1] if own else 6]
        last = first + count - 1
        return c.issue(
            issuer, project, first, last, origin, accounts[recipient].address, nid, timestamp=stamp
        )
    if kind == "transfer":
        _, sender, recipient, (project, n), (quantity, ranges) = op
        return c.transfer(
            accounts[sender],
            accounts[recipient].address,
            f"{project}-{n:03d}",
            nid,
            quantity=quantity,
            ranges=ranges,
            timestamp=stamp,
        )
    _, sender, (project, n), (quantity, ranges) = op
    factory = c.retire if kind == "retire" else c.cancel
    return factory(
        accounts[sender],
        f"{project}-{n:03d}",
        nid,
        quantity=quantity,
        ranges=ranges,
        timestamp=stamp,
    )


def setup(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    committee = net.accounts[0]
    txs = [
        c.admit_class(committee, "VCS", nid),
        c.admit_class(committee, "GS", nid, timestamp=1),
        c.admit_issuer(committee, net.accounts[1].address, ("VCS",), nid),
        c.admit_issuer(committee, net.accounts[5].address, ("GS",), nid),
        c.register_project(net.accounts[1], "P1", "VCS", nid),
        c.register_project(net.accounts[5], "P2", "GS", nid),
    ]
    assert block_with(chain, net, *txs).rejected == []
    # one batch in each project to start from, so that most moves can succeed
    first = [
        c.issue(net.accounts[1], "P1", 1, 100, "SEED-1", net.accounts[2].address, nid),
        c.issue(net.accounts[5], "P2", 1, 100, "SEED-2", net.accounts[3].address, nid),
    ]
    assert block_with(chain, net, *first).rejected == []


def state_tables(chain: Chain) -> dict[bytes, bytes]:
    return {
        k: v
        for k, v in snapshot(chain).items()
        if k[0] >= 0x10 and k != schema.ROUND and not k.startswith(schema.DELEGATE_STATS)
    }


def final_records(chain: Chain) -> dict[bytes, bytes]:
    out = dict(chain.store.iterate(schema.CARBON_RETIREMENT))
    out.update(chain.store.iterate(schema.CARBON_CANCELLATION))
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(operations(), min_size=1, max_size=4), min_size=8, max_size=30))
def test_random_sequences_keep_every_invariant(blocks: list[list[tuple[Any, ...]]]) -> None:
    chain = Chain(MemoryStore(), NET.genesis)
    setup(chain, NET)
    nid = chain.network_id
    included = refused = 0
    for ops in blocks:
        # the block's own second: ids stay distinct across blocks, and the same operation
        # twice in one block is a replay (one more invalid case)
        stamp = chain.head.timestamp_seconds + 1
        txs = [build_tx(op, nid, stamp) for op in ops]
        before = state_tables(chain)
        records_before = final_records(chain)
        execution = block_with(chain, NET, *txs)
        included += len(execution.included)
        refused += len(execution.rejected)
        if not execution.included:
            assert state_tables(chain) == before  # refused: byte-identical
        after = final_records(chain)
        for key, value in records_before.items():
            assert after[key] == value  # retirements and cancellations never change
        c.check_invariants(chain.store.iterate)
    replica = Chain(MemoryStore(), NET.genesis)
    for height in range(1, chain.head.height + 1):
        replica.apply_block(chain.block_at(height))
    assert replica.head.state_root == chain.head.state_root
    event("included: " + ("none" if not included else "1-4" if included < 5 else "5+"))
    event("refused: " + ("none" if not refused else "1-4" if refused < 5 else "5+"))
    assert replica.head.retirement_root == chain.head.retirement_root
