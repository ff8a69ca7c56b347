"""Transfers verified, applied and committed per second by one node (issue 2's benchmark).

    .venv/bin/python bench/ledger_throughput.py [--txs 40000] [--block 5000] [--accounts 2000]

Pre-signs transfers between many funded accounts (not timed), then times the node's own
path for each block: batched Ed25519 verification on a thread pool (as the pool does on
admission), execution against state, and the synced LevelDB commit of the block with its
undo record. Prints one JSON report; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from ccoin.ledger.chain import Chain
from ccoin.node.verify import SignatureVerifier
from ccoin.storage.leveldb import LevelDBStore
from ccoin.testing import factories as f
from ccoin.types.transaction import Transaction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=40_000)
    parser.add_argument("--block", type=int, default=5_000, help="transactions per block")
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--pipeline",
        action="store_true",
        help="verify block k+1 on threads while block k executes (slower here: the verify "
        "threads and the executing thread contend for the GIL)",
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="verify in worker processes instead of threads (no GIL shared with execution)",
    )
    args = parser.parse_args()

    net = f.make_testnet(
        accounts=args.accounts, delegates=1, max_block_transactions=max(args.block, 1)
    )
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = LevelDBStore(os.path.join(tmp, "db"))
        chain = Chain(store, net.genesis)
        nid = chain.network_id
        t0 = time.perf_counter()
        txs = [
            f.transfer(
                net.accounts[i % args.accounts],
                net.accounts[rng.randrange(args.accounts)].address,
                rng.randrange(1, 1000),
                nid,
                timestamp=0,
            )
            for i in range(args.txs)
        ]
        sign_s = time.perf_counter() - t0
        wire = [tx.encode() for tx in txs]  # what arrives from outside

        verifier = SignatureVerifier(args.threads, processes=args.processes)
        verifier.warm_up()
        stage = ThreadPoolExecutor(1)  # verifies block k+1 while block k executes

        def decode_and_verify(raws: list[bytes]) -> tuple[list[Transaction], set[bytes], float]:
            t = time.perf_counter()
            batch = [Transaction.decode(raw) for raw in raws]
            items = [(tx.body.sender_public_key, tx.digest(nid)[0], tx.signature) for tx in batch]
            ok = verifier.verify_batch(items)
            good = {tx.hash(nid) for tx, valid in zip(batch, ok, strict=True) if valid}
            return batch, good, time.perf_counter() - t

        blocks = [wire[b : b + args.block] for b in range(0, len(wire), args.block)]
        verify_s = apply_s = wait_s = 0.0
        included = 0
        start = time.perf_counter()
        if args.pipeline:
            pending = stage.submit(decode_and_verify, blocks[0])
        for i in range(len(blocks)):
            t = time.perf_counter()
            if args.pipeline:
                batch, verified, spent = pending.result()
                if i + 1 < len(blocks):
                    pending = stage.submit(decode_and_verify, blocks[i + 1])
            else:
                batch, verified, spent = decode_and_verify(blocks[i])
            wait_s += time.perf_counter() - t
            verify_s += spent

            t = time.perf_counter()
            _block, execution = chain.build_block(
                batch, (1 + i) * 1000, net.delegates[0], preverified=verified.__contains__
            )
            apply_s += time.perf_counter() - t
            included += len(execution.included)
            assert not execution.rejected, execution.rejected[:3]
        total = time.perf_counter() - start
        stage.shutdown()
        verifier.close()
        store.close()

    report = {
        "txs": args.txs,
        "included": included,
        "block_size": args.block,
        "threads": args.threads,
        "transfers_per_s": round(included / total),
        "seconds": round(total, 2),
        "pipeline": args.pipeline,
        "processes": args.processes,
        "decode_and_verify_s": round(verify_s, 2),
        "waiting_for_verify_s": round(wait_s, 2),
        "execute_and_commit_s": round(apply_s, 2),
        "presign_s": round(sign_s, 2),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
