"""Crash test: SIGKILL a block-applying child at random moments; the database must reopen whole.

Each round starts `ccoin.testing.crashchild` on the same LevelDB directory, waits (on the
child's output, never on a sleep) until it has applied 1-4 new blocks, kills it with SIGKILL
immediately, after a short busy random delay, or just after the child announces its next
store commit (to land inside the write), then opens the database here and checks it against
a reference chain replayed from genesis into a `MemoryStore`:

* the head pointer names a block that exists and decodes, with all its transactions;
* the head is exactly what the child's output allows (a block it reported applied is durable,
  a block whose commit it had not begun is absent) and never moves backwards;
* the head block, its stateRoot and every state-table row are byte-identical to the replay,
  and so is every other row except undo records and the finalized height (which depend on
  when the child was killed, and are checked separately);
* an undo record exists for exactly the blocks above the finalized height.

`CRASH_KILLS` sets the number of rounds (default 50) and `CRASH_SEED` the random seed (default
random; it is in every failure message, so a failure can be replayed).
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ccoin.ledger.chain import Chain
from ccoin.storage import schema
from ccoin.storage.leveldb import LevelDBStore
from ccoin.storage.memory import MemoryStore
from ccoin.testing import crashchild

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_HEIGHT = 10_000
WAIT_SECONDS = 60.0


@dataclass
class ChildOutput:
    """Lines from a child's stdout, read from the raw pipe with a deadline (no hang)."""

    proc: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    eof: bool = False
    _partial: bytes = b""

    def __post_init__(self) -> None:
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)

    def close(self) -> None:
        self._selector.close()

    def read_more(self, deadline: float) -> None:
        """Wait for output (or EOF) until `deadline`; fail the test if none comes."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self._selector.select(remaining):
            pytest.fail(f"child wrote nothing for {WAIT_SECONDS} s; last lines {self.lines[-5:]}")
        chunk = os.read(self._fd, 65536)
        if not chunk:
            self.eof = True
            return
        now = time.monotonic()
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        for raw in complete:
            self.lines.append(raw.decode())
            self.times.append(now)

    def drain(self) -> None:
        """Read everything the (dead) child wrote, up to EOF."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.eof:
            self.read_more(deadline)


def applied_heights(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith("applied ")]


KILL_MODES = ("now", "yield", "spin", "within-block", "in-commit")


def wait_busily(rng: random.Random, mode: str, block_seconds: float) -> None:
    """Wait a random short while, busily (so the child keeps running on the other core)."""
    if mode == "yield":
        for _ in range(rng.randint(0, 2000)):
            os.sched_yield()
    elif mode in ("spin", "in-commit"):
        n = rng.randint(0, 2000)
        while n:
            n -= 1
    elif mode == "within-block":
        # Anywhere in the next block's build-and-commit, spread evenly.
        until = time.perf_counter() + rng.uniform(0, 1.2 * block_seconds)
        while time.perf_counter() < until:
            pass


def where_killed(lines: list[str]) -> str:
    """Which phase the child's last line puts the kill in."""
    last = next((line for line in reversed(lines) if line), "")
    if last.startswith("begin block"):
        return "inside block commit"
    if last.startswith("begin final"):
        return "inside finalize commit"
    if last.startswith("end block"):
        return "after block commit"
    return "between commits"


def check_database(
    db_dir: Path,
    ref: Chain,
    seed: str,
    previous_head: int,
    lines: list[str],
    context: str,
) -> int:
    """Open the database after a kill, check everything against `ref`; return the head."""
    store = LevelDBStore(str(db_dir), create_if_missing=False)
    try:
        # Chain() itself reads the head pointer and decodes the block it names.
        chain = crashchild.open_chain(store)
        head = chain.height

        # Durability and atomicity against what the child reported before it died.
        started = [int(line.split()[1]) for line in lines if line.startswith("start ")]
        assert started == [previous_head], f"{context}: child start lines {started}"
        applied = applied_heights(lines)
        assert applied == list(range(previous_head + 1, previous_head + 1 + len(applied))), (
            f"{context}: applied lines out of order: {applied}"
        )
        last_applied = applied[-1] if applied else previous_head
        begun = {line.split()[2] for line in lines if line.startswith("begin block ")}
        allowed = {last_applied}
        if str(last_applied + 1) in begun:
            allowed.add(last_applied + 1)
        assert head >= previous_head, f"{context}: head went backwards {previous_head}->{head}"
        assert head in allowed, (
            f"{context}: head {head}, but the child had applied {last_applied} and begun "
            f"commits for {sorted(begun, key=int)}"
        )

        # The reference chain, replayed from genesis (incrementally) to the same height.
        crashchild.extend(ref, seed, head)
        assert ref.height == head
        assert chain.head == ref.head, f"{context}: head header differs from the replay"
        assert chain.head.state_root == ref.head.state_root, f"{context}: stateRoot differs"
        head_block = chain.block_at(head)  # raises CHAIN_CORRUPT if a transaction is missing
        assert head_block is not None
        assert head_block == ref.block_at(head), f"{context}: head block differs"
        assert len(head_block.transactions) == head_block.header.number_of_transactions
        for tx in head_block.transactions:
            assert chain.is_included(tx.hash(chain.network_id)), f"{context}: missing tx"
        # Every block decodes: headers all the way, full blocks for the new heights.
        for h in range(1, head + 1):
            header = chain.header_at(h)
            assert header is not None and header.height == h, f"{context}: block {h} missing"
        for h in range(max(1, previous_head), head + 1):
            assert chain.block_at(h) == ref.block_at(h), f"{context}: block {h} differs"
        assert chain.header_at(head + 1) is None, f"{context}: a block above the head"

        # Every row, byte for byte.
        db_rows = dict(store.iterate())
        ref_rows = dict(ref.store.iterate())
        db_state = {k: v for k, v in db_rows.items() if schema.is_state_key(k)}
        ref_state = {k: v for k, v in ref_rows.items() if schema.is_state_key(k)}
        assert db_state == ref_state, f"{context}: state tables differ from the replay"

        def chain_rows(rows: dict[bytes, bytes]) -> dict[bytes, bytes]:
            return {
                k: v
                for k, v in rows.items()
                if not k.startswith(schema.UNDO) and k != schema.META_FINALIZED
            }

        db_chain, ref_chain = chain_rows(db_rows), chain_rows(ref_rows)
        if db_chain != ref_chain:
            diff = sorted(set(db_chain.items()) ^ set(ref_chain.items()))[:5]
            pytest.fail(f"{context}: chain tables differ from the replay, e.g. {diff}")

        # Finalization and undo records: the kill may fall between a block and its
        # set_finalized, so the finalized height is this head's or the one before.
        finalized = chain.finalized_height
        assert finalized in {
            crashchild.finalized_for(head),
            crashchild.finalized_for(head - 1),
        }, f"{context}: finalized height {finalized} at head {head}"
        undo_heights = [
            schema.height_from_block_key(k) for k in db_rows if k.startswith(schema.UNDO)
        ]
        assert undo_heights == list(range(finalized + 1, head + 1)), (
            f"{context}: undo records for {undo_heights}, finalized {finalized}, head {head}"
        )
        for h in undo_heights:
            ref_undo = ref_rows.get(schema.undo(h))
            if ref_undo is not None:
                assert db_rows[schema.undo(h)] == ref_undo, f"{context}: undo {h} differs"
        return head
    finally:
        store.close()


def run_child(
    db_dir: Path, seed: str, rng: random.Random, block_seconds: float, log: Path
) -> tuple[list[str], str, float]:
    """Start a child, kill it after 1-4 new blocks; return its output, how, block time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    want = rng.randint(1, 4)
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ccoin.testing.crashchild", str(db_dir), seed, str(MAX_HEIGHT)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=REPO_ROOT,
            env=env,
        )
    out = ChildOutput(proc)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(applied_heights(out.lines)) < want:
            out.read_more(deadline)
            if out.eof:
                proc.wait(timeout=WAIT_SECONDS)
                pytest.fail(
                    f"child exited ({proc.returncode}) before applying {want} blocks; "
                    f"output {out.lines[-5:]}; stderr:\n{log.read_text()}"
                )
        mode = rng.choice(KILL_MODES)
        if mode == "in-commit":
            # Wait for the next commit to begin (the child says so just before writing).
            seen = len(out.lines)
            while not any(line.startswith("begin ") for line in out.lines[seen:]):
                out.read_more(deadline)
                if out.eof:
                    pytest.fail(f"child exited early: {out.lines[-5:]}\n{log.read_text()}")
        wait_busily(rng, mode, block_seconds)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT_SECONDS)
        out.drain()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT_SECONDS)
        out.close()
        assert proc.stdout is not None
        proc.stdout.close()
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(f"child ended with {proc.returncode}, not SIGKILL:\n{log.read_text()}")
    # The time between applied lines tells how long a block takes, for the next delay.
    stamps = [t for line, t in zip(out.lines, out.times, strict=True) if "applied" in line]
    if len(stamps) >= 2:
        block_seconds = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    return out.lines, mode, block_seconds


def test_sigkill_while_applying_blocks_leaves_a_whole_database(tmp_path: Path) -> None:
    kills = int(os.environ.get("CRASH_KILLS", "50"))
    test_seed = os.environ.get("CRASH_SEED") or str(random.SystemRandom().randrange(2**32))
    rng = random.Random(test_seed)
    seed = f"crash-{test_seed}"
    db_dir = tmp_path / "db"
    ref = crashchild.open_chain(MemoryStore())
    head = 0
    heads: list[int] = []
    moments: Counter[str] = Counter()
    block_seconds = 0.02
    started = time.monotonic()
    for round_ in range(kills):
        context = f"CRASH_SEED={test_seed} round {round_}"
        log = tmp_path / f"child-{round_}.err"
        lines, mode, block_seconds = run_child(db_dir, seed, rng, block_seconds, log)
        previous = head
        head = check_database(db_dir, ref, seed, head, lines, f"{context} (kill {mode})")
        moment = where_killed(lines)
        if moment == "inside block commit":
            last = max(applied_heights(lines), default=previous)
            moment += " (block kept)" if head > last else " (block absent)"
        moments[moment] += 1
        heads.append(head)
    elapsed = time.monotonic() - started
    print(
        f"\ncrash test CRASH_SEED={test_seed}: {kills} SIGKILLs in {elapsed:.1f} s, "
        f"heads {heads}, kill moments {dict(moments)}"
    )
    assert heads == sorted(heads)
    assert len(heads) == kills
