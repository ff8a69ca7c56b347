"""The single-node service: storage, chain, pool and block production wired on trio.

Until the consensus issue lands, a node with a delegate key produces a block in every slot
(slot = floor((now - genesis time) / block time)); the block timestamp is the slot's start
in chain seconds. With one delegate the finality rule of DESIGN section 6 reduces to "a
block is final once two blocks are built on it" (its own vote is a 1-of-1 supermajority),
which is what `_finalize` records; the BFT votes replace it in the consensus issue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import trio

from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.errors import CcoinError, ConfigError, ErrorCode, InvalidTransaction, PoolError
from ccoin.ledger.chain import Chain, Execution
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig
from ccoin.node.log import event
from ccoin.node.mempool import Mempool, drop_invalid
from ccoin.node.verify import SignatureVerifier
from ccoin.storage.leveldb import LevelDBStore
from ccoin.types.block import Block
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction

FINALITY_DEPTH = 2


@dataclass(frozen=True)
class SubmitResult:
    tx_hash: bytes | None
    error: CcoinError | None


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
        self.verifier = verifier or SignatureVerifier()
        self.store = LevelDBStore(str(config.data_dir))
        try:
            self.chain = Chain(self.store, genesis)
        except BaseException:
            self.store.close()
            raise
        self.pool = Mempool(genesis, self.chain.network_id, self.chain, config.pool)
        self._new_head = trio.Event()
        if key is not None and self.chain.delegate(key.public_key) is None:
            self.close()
            raise ConfigError(
                ErrorCode.CONFIG_INVALID, "the node's key is not a delegate in this genesis"
            )

    @property
    def clock(self) -> ChainClock:
        if self._clock is None:
            self._clock = ChainClock()
        return self._clock

    def close(self) -> None:
        self.verifier.close()
        self.store.close()

    def chain_time(self) -> int:
        """Seconds since genesis, by the node's clock."""
        return math.floor(self.clock.now()) - self.genesis.genesis_time

    # -- running ----------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        event(
            "node_started",
            name=self.config.name,
            network=self.chain.network_id.hex()[:16],
            height=self.chain.height,
            finalized=self.chain.finalized_height,
            producing=self.key is not None,
        )
        task_status.started()
        try:
            if self.key is not None:
                await self._produce_forever(self.key)
            else:
                await trio.sleep_forever()
        finally:
            event("node_stopped", name=self.config.name, height=self.chain.height)

    async def _produce_forever(self, key: KeyPair) -> None:
        block_time = self.genesis.block_time
        while True:
            slot = max(
                self.chain_time() // block_time + 1, self.chain.head.timestamp // block_time + 1
            )
            await self.clock.sleep_until(self.genesis.genesis_time + slot * block_time)
            await self.produce(key, slot * block_time)

    async def produce(self, key: KeyPair, timestamp: int) -> Block:
        """Build, sign and commit one block at `timestamp` (chain seconds)."""
        candidates = list(self.pool.ready())
        verified = {tx.hash(self.chain.network_id) for tx in candidates}
        started = trio.current_time()
        block, execution = await trio.to_thread.run_sync(
            lambda: self.chain.build_block(
                candidates, timestamp, key, preverified=verified.__contains__
            )
        )
        self._after_block(block, execution)
        event(
            "block_produced",
            height=block.header.height,
            id=block.header.id(self.chain.network_id),
            txs=len(block.transactions),
            rejected=len(execution.rejected),
            pool=len(self.pool),
            finalized=self.chain.finalized_height,
            ms=round((trio.current_time() - started) * 1000, 1),
        )
        return block

    def _after_block(self, block: Block, execution: Execution) -> None:
        nid = self.chain.network_id
        self.pool.remove([tx.hash(nid) for tx in block.transactions])
        drop_invalid(self.pool, execution.rejected)
        self.pool.expire(block.header.timestamp)
        self.chain.set_finalized(max(0, block.header.height - FINALITY_DEPTH))
        self._new_head.set()
        self._new_head = trio.Event()

    async def wait_for_height(self, height: int) -> None:
        while self.chain.height < height:
            await self._new_head.wait()

    # -- submission ---------------------------------------------------------------------------

    async def submit(self, txs: list[Transaction]) -> list[SubmitResult]:
        """Verify signatures in a batch off the event loop, then admit to the pool."""
        nid = self.chain.network_id
        items = [(tx.body.sender_public_key, tx.digest(nid)[0], tx.signature) for tx in txs]
        valid = await trio.to_thread.run_sync(self.verifier.verify_batch, items)
        now = self.chain_time()
        results = []
        for tx, ok in zip(txs, valid, strict=True):
            if not ok:
                results.append(SubmitResult(None, InvalidTransaction(ErrorCode.TX_BAD_SIGNATURE)))
                continue
            try:
                results.append(SubmitResult(self.pool.add(tx, now), None))
            except (InvalidTransaction, PoolError) as exc:
                results.append(SubmitResult(None, exc))
        return results
