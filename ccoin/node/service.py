"""The node: storage, chain, pool, the consensus machine and the P2P network wired on trio.

One task (`_consensus_loop`) owns the consensus state and reads one channel of events
(slot ticks, headers and votes from peers); it carries out the machine's actions against
the chain (produce, switch heads by rollback and re-apply, vote, finalize) and the network.
Ledger work runs in a worker thread so the event loop keeps serving peers. Without a `p2p`
section the node runs alone: with a one-delegate genesis its own vote is the supermajority.

A contract sandbox fault never stops the node (ADR 0017): while building, the transaction is
dropped (and its sender suspended in the pool); while checking a peer's block, the block is
refused and its producer's peer score lowered. Each fault is counted and logged as one line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trio

from ccoin.consensus import machine as m
from ccoin.consensus.schedule import slot_of
from ccoin.crypto.address import ID_RAW_LEN, id_raw
from ccoin.crypto.keys import KeyPair, verify
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.errors import (
    CcoinError,
    ChainError,
    ConfigError,
    ErrorCode,
    InvalidBlock,
    InvalidTransaction,
    PoolError,
)
from ccoin.ledger.chain import Chain, Execution, InvalidBlockTransaction
from ccoin.node.bounded_work import BoundedWork
from ccoin.node.bridge_signing import open_bridge
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig
from ccoin.node.consensus_state import (
    consensus_config,
    encode_root,
    encode_voter,
    load_root,
    load_voter,
)
from ccoin.node.contract_views import ContractViews
from ccoin.node.faulted_blocks import FAULT_RETRY_SLOTS, FaultedBlocks
from ccoin.node.log import event
from ccoin.node.mempool import Mempool, drop_invalid
from ccoin.node.metrics import NodeGauges, NodeMetrics
from ccoin.node.network_link import NetworkLink
from ccoin.node.tx_status import RejectedLog, Status, TxStatus
from ccoin.node.verify import (
    SignatureVerifier,
    attestation_check,
    attestation_items,
    primary_signature,
)
from ccoin.storage import schema
from ccoin.storage.leveldb import LevelDBStore
from ccoin.types.assets import EvidenceAsset, TxType
from ccoin.types.block import Block
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import CoSignature, Transaction, TxBody

BUILD_BUDGET = 0.3  # of the block time, for executing the candidates of a new block
SOLE_BUILD_BUDGET = 0.7  # the same when this node is the only producer: nobody else applies
FETCH_WINDOW = 8  # blocks below an orphan header asked for at once
PATIENCE = 0.4  # of a slot: how long a producer waits for the previous slot's late block
# The signing bytes hold the network id, so a transaction signed for another network (or
# altered) fails here: the raw path has no other way to tell.
BAD_SIGNATURE_MESSAGE = (
    "signature does not verify over this network's signing bytes: altered, or signed for "
    "another network (another network id)"
)


@dataclass(frozen=True)
class SubmitResult:
    tx_hash: bytes | None
    error: CcoinError | None


def _checked_on_admission(_tx_hash: bytes) -> bool:
    """Every candidate of a block we build comes from the pool's ready set, whose primary
    signatures were checked when they entered it."""
    return True


def _verified_in_block(_cosig: CoSignature) -> bool:
    """A credit returned from a rolled-back block: its attestations verified when applied."""
    return True


def load_delegate_key(config: NodeConfig) -> KeyPair | None:
    if config.keystore is None or config.passphrase_file is None:
        return None
    try:
        passphrase = config.passphrase_file.read_text().rstrip("\n")
    except OSError as exc:
        raise ConfigError(
            ErrorCode.CONFIG_INVALID, f"{config.passphrase_file}: {exc.strerror}"
        ) from None
    return KeyPair(decrypt_seed(load_keystore(config.keystore), passphrase))


class Node:
    def __init__(
        self,
        config: NodeConfig,
        genesis: GenesisConfig,
        key: KeyPair | None,
        *,
        clock: ChainClock | None = None,
        verifier: SignatureVerifier | None = None,
    ) -> None:
        self.config = config
        self.genesis = genesis
        self.key = key
        self._clock = clock
        self.verifier = verifier or SignatureVerifier(
            processes=config.verify_workers == "processes"
        )
        self.store = LevelDBStore(str(config.data_dir))
        try:
            self.chain = Chain(self.store, genesis)
            if key is not None and self.chain.delegate(key.public_key) is None:
                raise ConfigError(
                    ErrorCode.CONFIG_INVALID, "the node's key is not a delegate in this genesis"
                )
        except BaseException:
            self.verifier.close()
            self.store.close()
            raise
        self.network_id = self.chain.network_id
        self.pool = Mempool(genesis, self.network_id, self.chain, config.pool)
        self.blocks: dict[bytes, Block] = {}  # bodies of unfinalized and recent blocks
        base = m.Config(
            self.network_id,
            genesis.block_time_ms,
            (),
            verify,
            key.public_key if key else None,
            key.sign if key else None,
        )
        self.consensus_config = consensus_config(self.chain, base)
        self.consensus = m.initial_state(load_root(self.chain), load_voter(self.chain))
        self._replay_unfinalized()
        self.link = NetworkLink.create(self) if config.p2p is not None else None
        self._events_in, self._events = trio.open_memory_channel[m.Event](10_000)
        self._new_head = trio.Event()
        self._admitted = trio.Event()
        self.evidence: deque[m.Evidence] = deque(maxlen=100)
        self.block_seconds = genesis.block_time_ms / 1000
        self._faulted = FaultedBlocks(FAULT_RETRY_SLOTS * self.block_seconds)
        self.metrics = NodeMetrics(
            self._gauges, carbon=self.chain if genesis.carbon is not None else None
        )
        self.rejected = RejectedLog()
        self.verifying = 0  # transactions submitted and still in signature checks
        self.rpc_url: str | None = None  # set once the RPC server listens
        max_views = config.rpc.max_views_waiting if config.rpc is not None else 16
        self.views = ContractViews(self.chain, max_views)
        # Bridge proofs and signatures read up to MAX_ANCHOR_RANGE blocks (and ask BSC):
        # one at a time, off the event loop, a bounded queue.
        self.bridge_work = BoundedWork("bridge requests", max_views)
        try:
            self.bridge = open_bridge(config.bridge, self.chain, key)
        except BaseException:
            self.close_resources()
            raise

    def _replay_unfinalized(self) -> None:
        """Rebuild the fork tree above the finalized block from our own chain."""
        for height in range(self.chain.finalized_height + 1, self.chain.height + 1):
            block = self.chain.block_at(height)
            if block is None:
                raise ChainError(ErrorCode.CHAIN_CORRUPT, f"missing block {height}")
            self.blocks[block.header.hash(self.network_id)] = block
            self.consensus, _ = m.step(
                self.consensus_config, self.consensus, m.HeaderReceived(block.header, "disk")
            )
        self.consensus = dataclasses.replace(
            self.consensus, head=self.chain.head.hash(self.network_id)
        )

    @property
    def clock(self) -> ChainClock:
        if self._clock is None:
            self._clock = ChainClock()
        return self._clock

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()
        self.close_resources()

    def close_resources(self) -> None:
        self.verifier.close()
        self.views.close()
        self.chain.close()
        self.store.close()

    def chain_time(self) -> float:
        """Seconds since genesis, by the node's clock."""
        return self.clock.now() - self.genesis.genesis_time

    # -- running --------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        event(
            "node_started",
            name=self.config.name,
            network=self.network_id.hex()[:16],
            height=self.chain.height,
            finalized=self.chain.finalized_height,
            producing=self.key is not None,
            peers=len(self.config.p2p.peers) if self.config.p2p else 0,
        )
        try:
            # Worker processes start before the node says it started (its open files are
            # then what they stay), not inside the first big batch.
            await trio.to_thread.run_sync(self.verifier.warm_up)
            async with trio.open_nursery() as nursery:
                if self.link is not None:
                    await nursery.start(self.link.run)
                if self.config.rpc is not None:
                    from ccoin.rpc.server import RpcServer  # rpc builds on the node

                    self.rpc_url = await nursery.start(RpcServer(self, self.config.rpc).run)
                nursery.start_soon(self._consensus_loop)
                nursery.start_soon(self._clock_loop)
                self._write_status()
                task_status.started()
        finally:
            event("node_stopped", name=self.config.name, height=self.chain.height)

    async def _clock_loop(self) -> None:
        """Two ticks a slot: at its start (produce if the previous slot's block is in) and
        `PATIENCE` of a slot later (produce anyway)."""
        block_seconds = self.block_seconds
        last = -1
        while True:
            # max: waking a float's hair before a slot's start must not tick that slot twice
            slot = last = max(self.slot_now() + 1, last + 1)
            start = self.genesis.genesis_time + slot * self.genesis.block_time_ms / 1000
            await self.clock.sleep_until(start)
            await self._events_in.send(m.Tick(slot, early=True))
            await self.clock.sleep_until(start + PATIENCE * block_seconds)
            await self._events_in.send(m.Tick(slot))

    async def _consensus_loop(self) -> None:
        async for ev in self._events:
            # Under load events wait in the queue; the machine must still know the time,
            # or it would refuse peers' current blocks as "from the future". A tick that
            # waited past its slot stands for the current slot instead.
            now = self.slot_now()
            if isinstance(ev, m.Tick) and ev.slot < now:
                ev = m.Tick(now)
            elif now > self.consensus.clock_slot:
                await self.handle(m.Tick(now))
            await self.handle(ev)

    def post(self, ev: m.Event) -> None:
        """Queue an event for the consensus task (drops it if the queue is full: a peer will
        resend, and ticks recur)."""
        try:
            self._events_in.send_nowait(ev)
        except trio.WouldBlock:
            event("event_dropped", kind=type(ev).__name__)

    async def handle(self, first: m.Event) -> None:
        pending = [first]
        while pending:
            ev = pending.pop(0)
            self.consensus, actions = m.step(self.consensus_config, self.consensus, ev)
            for action in actions:
                pending.extend(await self._act(action))

    # -- actions --------------------------------------------------------------------------

    async def _act(self, action: m.Action) -> list[m.Event]:
        if isinstance(action, m.ProduceBlock):
            return await self._produce(action)
        if isinstance(action, m.ApplyHead):
            return await self._apply_head(action)
        if isinstance(action, m.CastVote):
            self.chain.save_meta(schema.META_VOTER, encode_voter(action.record))
            if self.link is not None:
                self.link.broadcast_vote(action.vote)
            return []
        if isinstance(action, m.Finalized):
            self._finalize(action)
        elif isinstance(action, m.FetchAncestors):
            if self.link is not None:
                # A window below the orphan, not everything above finality: if the fork
                # point is deeper, the window's lowest block is itself an orphan and the
                # next fetch reaches further down.
                low = action.header.height - FETCH_WINDOW
                self.link.fetch(action.origin, max(self.chain.finalized_height + 1, low))
        elif isinstance(action, m.RejectHeader):
            event("header_rejected", origin=action.origin[:16], reason=action.reason)
            if self.link is not None:
                self.link.penalize(action.origin, "invalid_block")
        elif isinstance(action, m.RejectVote):
            if self.link is not None:
                self.link.penalize(action.origin, "invalid_signature")
        elif isinstance(action, m.Evidence):
            self.evidence.append(action)
            event("equivocation", kind=action.kind, offender=action.offender.hex()[:16])
            await self._report(action)
        return []

    async def _report(self, evidence: m.Evidence) -> None:
        """Put the proof on chain (a type-10 transaction): the offender is jailed."""
        if self.key is None:
            return
        asset = EvidenceAsset(evidence.kind, evidence.first.encode(), evidence.second.encode())
        body = TxBody(
            TxType.EVIDENCE,
            max(0, math.floor(self.chain_time())),
            self.key.public_key,
            None,
            0,
            self.genesis.min_fee(TxType.EVIDENCE),
            asset,
        )
        [result] = await self.submit([body.sign(self.key, self.network_id)])
        if result.error is not None:
            event("evidence_not_submitted", code=result.error.code.name)

    def _contract_fault(self, phase: str, height: int, tx: str, reason: str, **more: Any) -> None:
        """Count and log (one line, no traceback) a contract sandbox fault."""
        self.metrics.contract_faults.labels(phase).inc()
        fields = {"phase": phase, "height": height, "tx": tx, "reason": reason, **more}
        event("contract_fault", logging.WARNING, **fields)

    async def _produce(self, action: m.ProduceBlock) -> list[m.Event]:
        key = self.key
        if key is None or self.chain.head.hash(self.network_id) != action.parent:
            return []
        ready = list(self.pool.ready())
        # Building stops taking transactions after a share of the slot, so the block still
        # reaches and is applied by the others within its slot however full the pool is.
        share = BUILD_BUDGET if len(self.consensus_config.active) > 1 else SOLE_BUILD_BUDGET
        deadline = time.monotonic() + share * self.block_seconds
        candidates = itertools.takewhile(lambda _tx: time.monotonic() < deadline, ready)
        started = trio.current_time()
        timing = [time.monotonic()]  # queued, building, built

        def build() -> tuple[Block, Execution]:
            timing.append(time.monotonic())
            built = self.chain.build_block(
                candidates,
                action.slot * self.genesis.block_time_ms,
                key,
                preverified=_checked_on_admission,
                attestation=action.attestation,
            )
            timing.append(time.monotonic())
            return built

        block, execution = await trio.to_thread.run_sync(build)
        block_hash = block.header.hash(self.network_id)
        self.blocks[block_hash] = block
        self.pool.remove([tx.hash(self.network_id) for tx in block.transactions])
        drop_invalid(self.pool, execution.rejected, math.floor(self.chain_time()))
        for tx, exc in execution.rejected:
            if exc.code is ErrorCode.TX_SANDBOX_FAULT:
                self._contract_fault(
                    "build", block.header.height, tx.id(self.network_id), exc.message
                )
            if exc.code is not ErrorCode.TX_TIMESTAMP_IN_FUTURE:
                self.rejected.add(tx.hash(self.network_id)[:ID_RAW_LEN], tx, exc)
        self.metrics.block_apply_seconds.labels("produced").observe(trio.current_time() - started)
        self.metrics.observe_block(block)
        if self.link is not None:
            self.link.broadcast_block(block)
        self._after_new_head()  # building committed it: the block is our head now
        event(
            "block_produced",
            height=block.header.height,
            id=block.header.id(self.network_id),
            txs=len(block.transactions),
            attested=block.header.attestation is not None,
            pool=len(self.pool),
            ms=round((trio.current_time() - started) * 1000, 1),
            queued_ms=round((timing[1] - timing[0]) * 1000, 1),
            build_ms=round((timing[2] - timing[1]) * 1000, 1),
        )
        return [m.HeaderReceived(block.header, "self")]

    async def _apply_head(self, action: m.ApplyHead) -> list[m.Event]:
        chain = self.chain
        if chain.head.hash(self.network_id) == action.hash:
            return [m.HeadApplied(action.hash)]
        fork = chain.finalized_height
        todo: list[Block] = []
        for block_hash in action.path:
            block = self.blocks.get(block_hash)
            if block is None:
                return []  # body not here (yet); a peer will send it again
            ours = chain.header_at(block.header.height)
            if not todo and ours is not None and ours.hash(self.network_id) == block_hash:
                fork = block.header.height
            else:
                todo.append(block)
        if fork < chain.height:
            removed = await trio.to_thread.run_sync(chain.rollback_to, fork)
            event("fork_switch", rolled_back=len(removed), to=action.hash.hex()[:16])
            self._return_to_pool(removed)
        for block in todo:
            started = trio.current_time()
            block_hash = block.header.hash(self.network_id)
            if self._faulted.waiting(block_hash, started):
                self.blocks.pop(block_hash, None)
                return [m.BlockInvalid(block_hash)]
            verified = await self._verify_unseen(block)
            try:
                await trio.to_thread.run_sync(
                    functools.partial(
                        chain.apply_block,
                        block,
                        preverified=functools.partial(self._is_verified, verified),
                    )
                )
            except InvalidBlock as exc:
                if (
                    isinstance(exc, InvalidBlockTransaction)
                    and exc.code is ErrorCode.TX_SANDBOX_FAULT
                ):
                    self._refuse_faulted(block, exc)
                else:
                    event("block_invalid", height=block.header.height, code=exc.code.name)
                self.blocks.pop(block_hash, None)
                return [m.BlockInvalid(block_hash)]
            self.pool.remove([tx.hash(self.network_id) for tx in block.transactions])
            self.metrics.block_apply_seconds.labels("received").observe(
                trio.current_time() - started
            )
            self.metrics.observe_block(block)
        self._after_new_head()
        return [m.HeadApplied(action.hash)]

    def _refuse_faulted(self, block: Block, exc: InvalidBlockTransaction) -> None:
        """A block the sandbox faulted on: refused (it may come again, and apply then, if
        the fault was this node's own) and its producer's peer score lowered."""
        header = block.header
        generator = header.generator_public_key
        where = {"block": header.id(self.network_id), "producer": generator.hex()[:16]}
        self._contract_fault("apply", header.height, exc.tx_id, exc.cause.message, **where)
        self._faulted.add(header.hash(self.network_id), trio.current_time())
        producer = self.chain.delegate(generator)
        own = self.key is not None and generator == self.key.public_key
        if self.link is not None and producer is not None and not own:
            self.link.penalize(producer.cert_fingerprint.hex(), "contract_fault")

    def _is_verified(self, checked: set[bytes], tx_hash: bytes) -> bool:
        return tx_hash in checked or self.pool.is_verified(tx_hash)

    async def _verify_unseen(self, block: Block) -> set[bytes]:
        """Check, in one batch on the verifier's threads, the signatures of the block's
        transactions that did not come through our pool; the hashes of the good ones. (A
        bad one is left for `apply_block` to find and report.)"""
        unseen = [
            tx for tx in block.transactions if not self.pool.is_verified(tx.hash(self.network_id))
        ]
        if not unseen:
            return set()
        items = [primary_signature(tx, self.network_id) for tx in unseen]
        valid = await trio.to_thread.run_sync(self.verifier.verify_batch, items)
        return {tx.hash(self.network_id) for tx, ok in zip(unseen, valid, strict=True) if ok}

    def _return_to_pool(self, blocks: list[Block]) -> None:
        now = math.floor(self.chain_time())
        for block in blocks:
            for tx in block.transactions:
                with contextlib.suppress(InvalidTransaction, PoolError):
                    # What the new branch still allows; block execution verified every
                    # signature these carry.
                    self.pool.add(tx, now, _verified_in_block)

    def _after_new_head(self) -> None:
        # The head decides the active sets: its round's recorded set, and the next one's.
        self.consensus_config = consensus_config(self.chain, self.consensus_config)
        self.pool.expire(self.chain.head.timestamp_seconds)
        self._write_status()
        if self.link is not None:
            self.link.announce_status()
        self._new_head.set()
        self._new_head = trio.Event()

    def _finalize(self, action: m.Finalized) -> None:
        root = self.consensus.tree.root_block
        certificate = None if action.certificate is None else action.certificate.encode()
        self.chain.set_finalized(action.checkpoint.height, encode_root(root), certificate)
        self.blocks = {
            h: b for h, b in self.blocks.items() if b.header.height > action.checkpoint.height
        }
        event(
            "block_finalized",
            height=action.checkpoint.height,
            id=root.header.id(self.network_id),  # the root is the block just finalized
            head=self.chain.height,
            by="votes" if action.certificate is not None else "headers",
        )
        self.metrics.blocks_finalized.inc()
        self._after_new_head()

    # -- waiting, status ------------------------------------------------------------------

    async def wait_for_height(self, height: int) -> None:
        while self.chain.height < height:
            await self._new_head.wait()

    async def wait_for_finalized(self, height: int) -> None:
        while self.chain.finalized_height < height:
            await self._new_head.wait()

    async def wait_for_change(self) -> None:
        """Return at the next new head or finalization."""
        await self._new_head.wait()

    async def wait_for_admission(self) -> None:
        """Return when transactions next enter the pool."""
        await self._admitted.wait()

    def _gauges(self) -> NodeGauges:
        return NodeGauges(
            height=self.chain.height,
            finalized_height=self.chain.finalized_height,
            mempool_size=len(self.pool),
            mempool_bytes=self.pool.size_bytes,
            peers=self.link.peer_count() if self.link is not None else 0,
        )

    def transaction_status(self, tx_id: str) -> TxStatus | None:
        """Where the transaction `tx_id` stands, or None if this node never saw it."""
        raw = id_raw(tx_id)
        located = self.chain.transaction_by_raw(raw)
        if located is not None:
            final = located.height <= self.chain.finalized_height
            return TxStatus(
                Status.FINALIZED if final else Status.INCLUDED,
                located.transaction,
                located.block_id,
                located.height,
            )
        waiting = self.pool.get_by_id(raw)
        if waiting is not None:
            return TxStatus(Status.PENDING, waiting)
        rejected = self.rejected.get(raw)
        if rejected is not None:
            return TxStatus(Status.REJECTED, rejected[0], error=rejected[1])
        return None

    def status(self) -> dict[str, Any]:
        return {
            "name": self.config.name,
            "height": self.chain.height,
            "finalized": self.chain.finalized_height,
            "peers": self.link.peer_count() if self.link is not None else 0,
            "head": self.chain.head.id(self.network_id),
            "updated": time.time(),
        }

    def _write_status(self) -> None:
        path = self.config.status_file
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.status()))
            os.replace(tmp, path)
        except OSError as exc:
            event("status_write_failed", error=exc.strerror)

    # -- submission -----------------------------------------------------------------------

    async def submit(self, txs: list[Transaction], *, gossip: bool = True) -> list[SubmitResult]:
        """Verify signatures in a batch off the event loop, then admit to the pool. A
        transaction already in the pool is answered at once and never verified twice (but
        for a pooled credit whose attestations no longer pass, which a copy may replace).
        A credit's attestations are verified in a second batch, for those whose primary
        signature and every cheaper check passed."""
        known = [
            tx.hash(self.network_id) in self.pool
            and not self.pool.replaceable(tx.hash(self.network_id))
            for tx in txs
        ]
        fresh = [tx for tx, seen in zip(txs, known, strict=True) if not seen]
        items = [primary_signature(tx, self.network_id) for tx in fresh]
        self.verifying += len(items)
        try:
            signed = await trio.to_thread.run_sync(self.verifier.verify_batch, items)
        finally:
            self.verifying -= len(items)
        self.metrics.tx_verified.inc(len(items))
        now = math.floor(self.chain_time())
        attested = await self._verify_attestations(
            [tx for tx, ok in zip(fresh, signed, strict=True) if ok], now
        )
        checked = iter(signed)
        results = []
        admitted = []
        for tx, seen in zip(txs, known, strict=True):
            if seen:
                self._merge_cosignatures(tx)
                results.append(SubmitResult(None, PoolError(ErrorCode.POOL_DUPLICATE)))
                continue
            error: CcoinError
            if next(checked):
                try:
                    tx_hash = self.pool.add(tx, now, attested.get(id(tx)))
                except (InvalidTransaction, PoolError) as exc:
                    error = exc
                else:
                    results.append(SubmitResult(tx_hash, None))
                    admitted.append(tx)
                    self.rejected.discard(tx_hash[:ID_RAW_LEN])
                    continue
            else:
                error = InvalidTransaction(ErrorCode.TX_BAD_SIGNATURE, BAD_SIGNATURE_MESSAGE)
            results.append(SubmitResult(None, error))
            self.metrics.tx_rejected.labels(error.code.name).inc()
            self.rejected.add(tx.hash(self.network_id)[:ID_RAW_LEN], tx, error)
        self.metrics.tx_admitted.inc(len(admitted))
        if admitted:
            self._admitted.set()
            self._admitted = trio.Event()
        if gossip and admitted and self.link is not None:
            self.link.broadcast_transactions(admitted)
        return results

    async def _verify_attestations(
        self, txs: list[Transaction], now: int
    ) -> dict[int, Callable[[CoSignature], bool]]:
        """The attestations of the credits among `txs` that the pool would admit on valid
        ones, verified in one batch on the verifier's threads (each credit up to its first
        bad one); for each such credit (by `id`), the answers for `Mempool.add`."""
        credits = [tx for tx in txs if self.pool.needs_attestation_check(tx, now)]
        if not credits:
            return {}
        groups = [attestation_items(tx, self.network_id) for tx in credits]
        self.verifying += len(credits)
        try:
            results = await trio.to_thread.run_sync(self.verifier.verify_groups, groups)
        finally:
            self.verifying -= len(credits)
        return {
            id(tx): attestation_check(tx, self.network_id, group, done)
            for tx, group, done in zip(credits, groups, results, strict=True)
        }

    def _merge_cosignatures(self, tx: Transaction) -> None:
        """A copy of a transaction that waits for co-signatures may carry new ones (the
        hash leaves them out): keep them."""
        tx_hash = tx.hash(self.network_id)
        if tx.signatures and self.pool.is_pending(tx_hash):
            with contextlib.suppress(InvalidTransaction, PoolError):
                self.pool.add_cosignatures(tx_hash, list(tx.signatures))

    def add_cosignatures(self, tx_id: str, cosignatures: tuple[CoSignature, ...]) -> bool:
        """Merge co-signatures into a pooled transaction of a multisignature account and
        gossip the result; True once it has enough to be included."""
        waiting = self.pool.get_by_id(id_raw(tx_id))
        if waiting is None:
            raise PoolError(ErrorCode.NOT_FOUND, f"no transaction {tx_id} waiting in the pool")
        tx_hash = waiting.hash(self.network_id)
        ready = self.pool.add_cosignatures(tx_hash, list(cosignatures))
        updated = self.pool.get(tx_hash)
        if updated is not None and self.link is not None:
            self.link.broadcast_transactions([updated])
        return ready

    def slot_now(self) -> int:
        return slot_of(math.floor(self.chain_time() * 1000), self.genesis.block_time_ms)
