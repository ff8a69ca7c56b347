"""A block-applying child process for the crash test (`tests/e2e/test_crash.py`).

    python -m ccoin.testing.crashchild DBDIR SEED MAX_HEIGHT

opens (or creates) a LevelDB chain at DBDIR over a fixed genesis and produces blocks
head+1 .. MAX_HEIGHT, printing ``applied <h>`` (flushed) after each block's synced commit.
The test kills it with SIGKILL at random moments and checks that the database reopens whole.

Block contents depend only on (SEED, height) and the state before the block, which itself
depends only on SEED, so `expected_chain` can replay the same chain into a `MemoryStore` as
the reference. Some blocks carry invalid candidates (insufficient balance, fee too low,
unknown sender, duplicates, replays) so the builder's skip path runs too; whether each one is
skipped is as deterministic as the rest. Every 10 heights the chain finalizes h - 2, so undo
records are pruned; a restarted child first redoes the finalization its head calls for, in
case the previous child was killed between a block and its `set_finalized`.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping
from functools import cache

from ccoin.crypto.keys import KeyPair
from ccoin.ledger.chain import Chain
from ccoin.storage.kv import KeyValueStore
from ccoin.storage.memory import MemoryStore
from ccoin.testing.factories import LocalNet, key, make_testnet, transfer
from ccoin.types.codec import UNIT
from ccoin.types.transaction import Transaction

ACCOUNTS = 16
MIN_TXS = 20
MAX_TXS = 200
MAX_AMOUNT = 10 * UNIT
FINALIZE_EVERY = 10
FINALIZE_LAG = 2
# Far above any account's balance (16 accounts of 1,000,000 C), far below MAX_BIGINT.
HUGE_AMOUNT = 10**15


@cache
def testnet() -> LocalNet:
    """The fixed genesis every crash child and reference replay uses."""
    return make_testnet(accounts=ACCOUNTS, delegates=1)


@cache
def _stranger() -> KeyPair:
    """A key whose account never received anything: its transfers are always rejected."""
    return key("crash-stranger")


def _transfers(
    rng: random.Random, height: int, network_id: bytes, limit: int | None = None
) -> list[Transaction]:
    """The regular (valid when built) transfers of a block, drawn first from its `rng`."""
    accounts = testnet().accounts
    count = rng.randint(MIN_TXS, MAX_TXS)
    txs: list[Transaction] = []
    for i in range(count if limit is None else min(limit, count)):
        s = rng.randrange(ACCOUNTS)
        r = (s + rng.randrange(1, ACCOUNTS)) % ACCOUNTS
        amount = rng.randint(1, MAX_AMOUNT)
        # A memo on some transfers puts rows in the Asset_Transfers table too.
        data = f"{height}:{i}".encode() if rng.random() < 0.25 else b""
        txs.append(
            transfer(
                accounts[s],
                accounts[r].address,
                amount,
                network_id,
                timestamp=height,
                data=data,
            )
        )
    return txs


def _rng(seed: str, height: int) -> random.Random:
    return random.Random(f"{seed}:{height}")


def block_transactions(seed: str, height: int, network_id: bytes) -> list[Transaction]:
    """The candidate transactions for `height`: a function of (seed, height) only."""
    rng = _rng(seed, height)
    txs = _transfers(rng, height, network_id)
    if rng.random() < 0.4:
        accounts = testnet().accounts
        for _ in range(rng.randint(1, 3)):
            kind = rng.randrange(5)
            sender = accounts[rng.randrange(ACCOUNTS)]
            recipient = accounts[rng.randrange(ACCOUNTS)].address
            if kind == 0:  # insufficient balance
                bad = transfer(sender, recipient, HUGE_AMOUNT, network_id, timestamp=height)
            elif kind == 1:  # fee below the minimum
                bad = transfer(sender, recipient, 1, network_id, fee=1, timestamp=height)
            elif kind == 2:  # sender account unknown
                bad = transfer(_stranger(), recipient, 1, network_id, timestamp=height)
            elif kind == 3 or height == 1:  # exact duplicate of a candidate in this block
                bad = txs[rng.randrange(len(txs))]
            else:  # replay of the previous block's first transfer (already in the chain)
                bad = _transfers(_rng(seed, height - 1), height - 1, network_id, limit=1)[0]
            txs.insert(rng.randrange(len(txs) + 1), bad)
    return txs


def finalized_for(height: int) -> int:
    """The finalized height the producer has set once the head reached `height`."""
    return max(0, height - height % FINALIZE_EVERY - FINALIZE_LAG)


def open_chain(store: KeyValueStore) -> Chain:
    return Chain(store, testnet().genesis)


def _ignore(_event: str) -> None:
    pass


def produce(
    chain: Chain, seed: str, height: int, *, event: Callable[[str], None] = _ignore
) -> None:
    """Build and commit block `height` (the head must be `height - 1`), then finalize if
    `height` calls for it. `event` hears ``block <h>`` before the block's commit,
    ``applied <h>`` after it, and ``final <f>`` before the finalization's commit."""
    if chain.height != height - 1:
        raise ValueError(f"head is {chain.height}, cannot produce block {height}")
    txs = block_transactions(seed, height, chain.network_id)
    event(f"block {height}")
    chain.build_block(txs, timestamp_ms=height * 1000, key=testnet().delegates[0])
    event(f"applied {height}")
    if height % FINALIZE_EVERY == 0:
        event(f"final {finalized_for(height)}")
        chain.set_finalized(finalized_for(height))


def extend(chain: Chain, seed: str, height: int) -> None:
    """Produce blocks until the head is at `height`."""
    while chain.height < height:
        produce(chain, seed, chain.height + 1)


def expected_chain(seed: str, height: int) -> Chain:
    """The reference: genesis .. `height` replayed into a fresh `MemoryStore`."""
    chain = open_chain(MemoryStore())
    extend(chain, seed, height)
    return chain


def run(db_dir: str, seed: str, max_height: int) -> None:
    """Produce blocks into the LevelDB chain at `db_dir` until `max_height`.

    Output, one flushed line per event, so the parent knows how far the child got when it
    was killed: ``start <head>`` once opened; ``begin <what>`` / ``end <what>`` around every
    store commit (``block <h>`` or ``final <h>``); ``applied <h>`` after block h's commit.
    """
    from ccoin.storage.leveldb import LevelDBStore

    class TracingStore(LevelDBStore):
        label = "open"

        def commit(self, changes: Mapping[bytes, bytes | None], *, sync: bool = True) -> None:
            print(f"begin {self.label}", flush=True)
            super().commit(changes, sync=sync)
            print(f"end {self.label}", flush=True)

    store = TracingStore(db_dir)
    try:
        chain = open_chain(store)
        # Redo a finalization a killed predecessor may not have reached (idempotent).
        store.label = f"final {finalized_for(chain.height)}"
        chain.set_finalized(finalized_for(chain.height))
        print(f"start {chain.height}", flush=True)

        def event(what: str) -> None:
            if what.startswith("applied "):
                print(what, flush=True)
            else:
                store.label = what

        while chain.height < max_height:
            produce(chain, seed, chain.height + 1, event=event)
        print("done", flush=True)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m ccoin.testing.crashchild DBDIR SEED MAX_HEIGHT", file=sys.stderr)
        return 2
    run(args[0], args[1], int(args[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
