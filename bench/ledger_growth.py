"""How building and committing a block costs as the chain grows, per part and per table.

    .venv/bin/python bench/ledger_growth.py [--txs 150000] [--block 5000] [--accounts 1000]

One chain in this process on LevelDB: blocks of transfers among funded accounts, signatures
taken as checked (this measures the ledger, not Ed25519). For each window of blocks it
prints, in microseconds a transfer: `execute` (the rules against state), `records` (the
block's records and undo record), `write` (LevelDB's synced batch write) and the bytes the
batch wrote per table; at the end LevelDB's own compaction table. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from typing import Any

from ccoin.ledger.chain import Chain
from ccoin.storage.leveldb import LevelDBStore
from ccoin.testing import factories as f

TABLES = {0x01: "blocks", 0x02: "blockIds", 0x03: "transactions", 0x04: "history", 0x05: "undo"}


def table_name(prefix: int) -> str:
    if prefix in TABLES:
        return TABLES[prefix]
    return "state" if 0x10 <= prefix <= 0x1F else f"0x{prefix:02x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=150_000)
    parser.add_argument("--block", type=int, default=5_000, help="transfers per block")
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--window", type=int, default=5, help="blocks per printed line")
    args = parser.parse_args()

    net = f.make_testnet(accounts=args.accounts, delegates=1, max_block_transactions=args.block)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = LevelDBStore(os.path.join(tmp, "db"))
        chain = Chain(store, net.genesis)
        nid = chain.network_id
        write_s: list[float] = []
        written: Counter[str] = Counter()
        inner_commit = store.commit

        def timed_commit(changes: Any, *, sync: bool = True) -> None:
            for key, value in changes.items():
                written[table_name(key[0])] += len(key) + (len(value) if value else 0)
            t = time.perf_counter()
            inner_commit(changes, sync=sync)
            write_s.append(time.perf_counter() - t)

        store.commit = timed_commit  # type: ignore[method-assign]
        commit_wall: list[float] = []
        inner_block_commit = chain._commit

        def timed_block_commit(block: Any, execution: Any) -> None:
            t = time.perf_counter()
            inner_block_commit(block, execution)
            commit_wall.append(time.perf_counter() - t)

        chain._commit = timed_block_commit  # type: ignore[method-assign]
        window: list[tuple[float, float, float]] = []
        blocks = (args.txs + args.block - 1) // args.block
        done = 0
        for height in range(1, blocks + 1):
            count = min(args.block, args.txs - done)
            txs = [
                f.transfer(
                    net.accounts[(done + i) % args.accounts],
                    net.accounts[rng.randrange(args.accounts)].address,
                    rng.randrange(1, 1000),
                    nid,
                    timestamp=height,  # no two alike, however many blocks
                )
                for i in range(count)
            ]
            t = time.perf_counter()
            _block, execution = chain.build_block(
                txs, height * 1000, net.delegates[0], preverified=lambda _h: True
            )
            total = time.perf_counter() - t
            assert len(execution.included) == count, execution.rejected[:3]
            write = write_s[-1]
            window.append((total - commit_wall[-1], commit_wall[-1] - write, write))
            done += count
            if len(window) == args.window or height == blocks:
                per_tx = 1e6 / count
                report = {
                    "transfers": done,
                    "execute_us": round(statistics.mean(w[0] for w in window) * per_tx, 1),
                    "records_us": round(statistics.mean(w[1] for w in window) * per_tx, 1),
                    "write_us": round(statistics.mean(w[2] for w in window) * per_tx, 1),
                    "write_max_us": round(max(w[2] for w in window) * per_tx, 1),
                    "bytes_per_transfer": {
                        k: round(v / (count * len(window))) for k, v in written.most_common()
                    },
                }
                print(json.dumps(report), flush=True)
                window.clear()
                written.clear()
        stats = store._require_db().get_property(b"leveldb.stats")
        print(json.dumps({"leveldb_stats": stats.decode() if stats else None}))
        store.close()


if __name__ == "__main__":
    main()
