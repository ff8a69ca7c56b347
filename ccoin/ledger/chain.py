"""The chain: blocks committed to storage, one synced batch each, with undo records.

`Chain` owns the store. It builds blocks (producer path), checks and applies blocks from
elsewhere, rolls back non-final blocks, and answers reads (blocks, transactions, accounts,
history). Every block write is one `commit()`: after a crash the database holds a block
whole or not at all, and the head pointer moves in the same batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack

from ccoin.consensus.schedule import slot_of
from ccoin.crypto.address import (
    address_raw,
    address_raw_from_public_key,
    id_from_hash,
    id_raw,
)
from ccoin.crypto.keys import KeyPair, verify
from ccoin.errors import (
    ChainError,
    ConfigError,
    ErrorCode,
    InvalidBlock,
    InvalidTransaction,
)
from ccoin.ledger.context import BlockContext
from ccoin.ledger.execute import TxExecutor
from ccoin.ledger.genesis import genesis_header, genesis_state
from ccoin.ledger.rounds import (
    RoundRecord,
    elect_active,
    encode_round,
    encode_stats,
    missed_producers,
    read_round,
    read_round_record,
    read_stats,
)
from ccoin.ledger.state import StateOverlay, next_state_root
from ccoin.modules.catalog import TYPE_SPECS, enabled_modules
from ccoin.modules.contracts.records import ContractRecord, Receipt
from ccoin.modules.contracts.rules import ContractEngine, load_contract
from ccoin.storage import schema
from ccoin.storage.kv import KeyValueStore
from ccoin.types.account import Account, DelegateRecord
from ccoin.types.block import (
    BLOCK_VERSION,
    ZERO_HASH,
    Attestation,
    Block,
    BlockHeader,
    payload_hash,
)
from ccoin.types.codec import field_bytes, field_int, field_list, packb, unpack_canonical
from ccoin.types.genesis import GenesisConfig
from ccoin.types.merkle import merkle_root
from ccoin.types.transaction import Transaction
from ccoin.vm.gas import BLOCK_GAS_CAP

MAX_UNDO_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class TxLocation:
    """Where an included transaction sits: the Transaction record's blockId plus position."""

    transaction: Transaction
    block_id: str
    height: int
    index: int


class InvalidBlockTransaction(InvalidBlock):
    """A block refused for one of its transactions (strict execution): which one, and the
    transaction's own error (`cause`); the code is the transaction's."""

    def __init__(self, tx_id: str, cause: InvalidTransaction) -> None:
        super().__init__(cause.code, f"transaction {tx_id}: {cause.message}")
        self.tx_id = tx_id
        self.cause = cause


@dataclass
class Execution:
    """The result of running a block's transactions over the current head."""

    overlay: StateOverlay
    included: list[Transaction]
    rejected: list[tuple[Transaction, InvalidTransaction]]
    total_amount: int
    total_fee: int
    state_root: bytes
    reward: int = 0
    withdrawal_root: bytes = ZERO_HASH  # of the block's type-7 leaves; zero when none
    retirement_root: bytes = ZERO_HASH  # of the block's carbon retirement leaves; zero when none


class Chain:
    def __init__(
        self,
        store: KeyValueStore,
        genesis: GenesisConfig,
        contracts: ContractEngine | None = None,
    ) -> None:
        self.store = store
        self.genesis = genesis
        # Runs contract code; its sandbox process starts on the first contract transaction.
        self.contracts = contracts or ContractEngine()
        # The enabled modules' end-of-block hooks, in the catalog's order (ADR 0025).
        self._end_block_modules = tuple(
            m for m in enabled_modules(genesis) if m.end_block is not None
        )
        writes = genesis_state(genesis)
        header0 = genesis_header(genesis, writes)
        self.network_id = hashlib.sha256(header0.encode()).digest()
        stored = store.get(schema.META_NETWORK_ID)
        if stored is None:
            self._write_genesis(header0, writes)
        elif stored != self.network_id:
            raise ConfigError(
                ErrorCode.GENESIS_MISMATCH,
                f"database holds network {stored.hex()[:16]}..., the genesis file makes "
                f"{self.network_id.hex()[:16]}...",
            )
        version = store.get(schema.META_SCHEMA_VERSION)
        if version != schema.u64(schema.SCHEMA_VERSION):
            found = schema.read_u64(version) if version and len(version) == 8 else None
            raise ChainError(
                ErrorCode.CHAIN_CORRUPT,
                f"database schema version {found}, this node reads version "
                f"{schema.SCHEMA_VERSION}: start from an empty data directory",
            )
        self.head = self._load_head()
        genesis_block = self.header_at(0)
        assert genesis_block is not None
        self.genesis_hash = genesis_block.hash(self.network_id)

    # -- genesis and head -----------------------------------------------------------------

    def _write_genesis(self, header: BlockHeader, writes: dict[bytes, bytes | None]) -> None:
        changes = dict(writes)
        changes.update(self._block_records(header, []))
        changes[schema.META_SCHEMA_VERSION] = schema.u64(schema.SCHEMA_VERSION)
        changes[schema.META_GENESIS] = packb(self.genesis.to_array())
        changes[schema.META_FINALIZED] = schema.u64(0)
        # The network id goes last in meaning: it marks the database as initialized, and it
        # lands in the same batch as everything else.
        changes[schema.META_NETWORK_ID] = self.network_id
        self.store.commit(changes, sync=True)

    def _load_head(self) -> BlockHeader:
        raw = self.store.get(schema.META_HEAD)
        if raw is None:
            raise ChainError(ErrorCode.CHAIN_CORRUPT, "no head pointer")
        header = self.header_at(schema.read_u64(raw))
        if header is None:
            raise ChainError(ErrorCode.CHAIN_CORRUPT, "head pointer names a missing block")
        return header

    def close(self) -> None:
        """Stop the contract sandbox (the store belongs to the caller)."""
        self.contracts.close()

    def contract(self, address: str) -> ContractRecord | None:
        return load_contract(self.store.get, address_raw(address))

    def receipt(self, tx_id: str) -> Receipt | None:
        """The receipt of an included type 5 or 8 transaction."""
        data = self.store.get(schema.receipt(id_raw(tx_id)))
        return None if data is None else Receipt.decode(data)

    @property
    def height(self) -> int:
        return self.head.height

    @property
    def finalized_height(self) -> int:
        raw = self.store.get(schema.META_FINALIZED)
        return 0 if raw is None else schema.read_u64(raw)

    def finality_certificate(self) -> bytes | None:
        """The stored votes that made the finalized block final, if the headers do not
        show it yet (`ccoin.consensus.finality.FinalityCertificate` bytes)."""
        return self.store.get(schema.META_FINALITY_CERTIFICATE)

    # -- execution ------------------------------------------------------------------------

    def context(self, height: int, timestamp_ms: int, generator: bytes) -> BlockContext:
        return BlockContext(height, timestamp_ms, generator, self.genesis, self.network_id)

    def execute(
        self,
        transactions: Iterable[Transaction],
        ctx: BlockContext,
        *,
        strict: bool,
        preverified: Callable[[bytes], bool] = lambda _h: False,
        max_bytes: int | None = None,
    ) -> Execution:
        """Run `transactions` over the head state. `strict` (checking someone's block): the
        first invalid transaction raises `InvalidBlockTransaction`. Otherwise (building a
        block) invalid ones, a contract sandbox fault among them, are skipped and reported."""
        overlay = StateOverlay(self.store)
        parent_round = self._round_record(overlay)
        self._open_round(overlay, ctx)
        self._count_production(overlay, ctx, parent_round)
        executor = TxExecutor(overlay, ctx, preverified, self.contracts)
        included: list[Transaction] = []
        rejected: list[tuple[Transaction, InvalidTransaction]] = []
        limit = self.genesis.max_block_transactions
        budget = max_bytes if max_bytes is not None else self.genesis.max_block_bytes
        used = 0
        gas_used = 0
        for tx in transactions:
            if len(included) >= limit:
                break
            size = len(tx.encode()) if not strict else 0
            if not strict and used + size > budget:
                continue
            gas_of = TYPE_SPECS[tx.body.type].block_gas
            tx_gas = gas_of(tx.body) if gas_of is not None else 0
            if gas_used + tx_gas > BLOCK_GAS_CAP:
                if strict:
                    raise InvalidBlock(
                        ErrorCode.BLOCK_TOO_LARGE, f"contract gas above the cap of {BLOCK_GAS_CAP}"
                    )
                continue  # it waits for the next block
            try:
                executor.apply(tx)
            except InvalidTransaction as exc:
                if strict:
                    raise InvalidBlockTransaction(tx.id(self.network_id), exc) from None
                rejected.append((tx, exc))
                continue
            used += size
            gas_used += tx_gas
            included.append(tx)
        generator = address_raw_from_public_key(ctx.generator_public_key)
        if executor.total_fee:
            executor.credit(generator, executor.total_fee)
        reward = self._pay_reward(executor, generator, ctx.height)
        for module in self._end_block_modules:
            assert module.end_block is not None
            module.end_block(executor)
        overlay.forget_journal()
        return Execution(
            overlay,
            included,
            rejected,
            executor.total_amount,
            executor.total_fee,
            next_state_root(self.head.state_root, overlay.writes),
            reward,
            merkle_root(executor.withdrawals) if executor.withdrawals else ZERO_HASH,
            merkle_root(executor.retirements) if executor.retirements else ZERO_HASH,
        )

    def _open_round(self, overlay: StateOverlay, ctx: BlockContext) -> None:
        """Elect the active set when this block opens a new round (before its transactions:
        the state at the end of the previous round)."""
        size = self.genesis.active_delegates
        current = slot_of(ctx.timestamp_ms, self.genesis.block_time_ms) // size
        recorded, _members = read_round(overlay)
        if current > recorded:
            elected = elect_active(overlay, size)
            overlay.put(
                schema.ROUND, encode_round(current, elected, self.head.hash(self.network_id))
            )
        overlay.forget_journal()

    def _round_record(self, state: StateOverlay | KeyValueStore) -> RoundRecord:
        record = read_round_record(state)
        return dataclasses.replace(record, seed=record.seed or self.genesis_hash)

    def _count_production(
        self, overlay: StateOverlay, ctx: BlockContext, parent: RoundRecord
    ) -> None:
        """Blocks produced and slots missed per delegate (state, so the stateRoot pins it)."""
        block_time_ms = self.genesis.block_time_ms
        tally: dict[bytes, tuple[int, int]] = {ctx.generator_public_key: (1, 0)}
        if self.head.height > 0:  # before the first block the chain had not started
            for pk in missed_producers(
                slot_of(self.head.timestamp_ms, block_time_ms),
                slot_of(ctx.timestamp_ms, block_time_ms),
                self.genesis.active_delegates,
                parent,
                self._round_record(overlay),
            ):
                produced, missed = tally.get(pk, (0, 0))
                tally[pk] = (produced, missed + 1)
        for pk, (produced, missed) in tally.items():
            old_produced, old_missed = read_stats(overlay, pk)
            overlay.put(
                schema.delegate_stats(pk),
                encode_stats(old_produced + produced, old_missed + missed),
            )
        overlay.forget_journal()

    def round_record(self) -> tuple[int, tuple[bytes, ...]]:
        return read_round(self.store)

    def delegate_stats(self, public_key: bytes) -> dict[str, int]:
        produced, missed = read_stats(self.store, public_key)
        return {"producedBlocks": produced, "missedBlocks": missed}

    def _pay_reward(self, executor: TxExecutor, generator: bytes, height: int) -> int:
        """Move the block reward from the reward fund to the generator (never minted)."""
        schedule = self.genesis.rewards
        amount = schedule.at(height)
        if not amount:
            return 0
        fund_raw = address_raw(schedule.account)
        fund = executor.state.account(fund_raw)
        amount = min(amount, fund.balance if fund else 0)
        if amount and fund is not None:
            executor.set_balance(fund_raw, fund, fund.balance - amount)
            executor.credit(generator, amount)
        return amount

    # -- producing and applying -----------------------------------------------------------

    def build_block(
        self,
        candidates: Iterable[Transaction],
        timestamp_ms: int,
        key: KeyPair,
        *,
        preverified: Callable[[bytes], bool] = lambda _h: False,
        attestation: Attestation | None = None,
    ) -> tuple[Block, Execution]:
        """Build and sign the next block from `candidates` (invalid ones are skipped), then
        commit it. Returns the block and what happened to each candidate."""
        height = self.head.height + 1
        if timestamp_ms <= self.head.timestamp_ms:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "timestamp must increase")
        ctx = self.context(height, timestamp_ms, key.public_key)
        execution = self.execute(candidates, ctx, strict=False, preverified=preverified)
        header = BlockHeader(
            version=BLOCK_VERSION,
            height=height,
            previous_block_hash=self.head.hash(self.network_id),
            timestamp_ms=timestamp_ms,
            generator_public_key=key.public_key,
            payload_hash=payload_hash(execution.included),
            number_of_transactions=len(execution.included),
            total_amount=execution.total_amount,
            total_fee=execution.total_fee,
            reward=execution.reward,
            state_root=execution.state_root,
            withdrawal_root=execution.withdrawal_root,
            retirement_root=execution.retirement_root,
            attestation=attestation,
        ).signed(key, self.network_id)
        block = Block(header, tuple(execution.included))
        self._commit(block, execution)
        return block, execution

    def apply_block(
        self, block: Block, *, preverified: Callable[[bytes], bool] = lambda _h: False
    ) -> Execution:
        """Check `block` against the head and every rule, then commit it, or raise
        `InvalidBlock` and change nothing."""
        header = block.header
        self.check_header(block)
        ctx = self.context(header.height, header.timestamp_ms, header.generator_public_key)
        execution = self.execute(block.transactions, ctx, strict=True, preverified=preverified)
        if (execution.total_amount, execution.total_fee) != (header.total_amount, header.total_fee):
            raise InvalidBlock(ErrorCode.BLOCK_BAD_PAYLOAD, "totalAmount or totalFee mismatch")
        if execution.reward != header.reward:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "reward does not follow the schedule")
        if execution.state_root != header.state_root:
            raise InvalidBlock(ErrorCode.BLOCK_BAD_STATE_ROOT)
        if execution.withdrawal_root != header.withdrawal_root:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "withdrawalRoot does not match")
        if execution.retirement_root != header.retirement_root:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "retirementRoot does not match")
        self._commit(block, execution)
        return execution

    def check_header(self, block: Block) -> None:
        header = block.header
        head = self.head
        if header.version != BLOCK_VERSION:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, f"unknown version {header.version}")
        if header.height != head.height + 1:
            raise InvalidBlock(
                ErrorCode.BLOCK_BAD_PARENT, f"height {header.height}, head is {head.height}"
            )
        if header.previous_block_hash != head.hash(self.network_id):
            raise InvalidBlock(ErrorCode.BLOCK_BAD_PARENT, "previousBlockHash is not the head")
        if header.timestamp_ms <= head.timestamp_ms:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "timestamp must increase")
        if self.store.get(schema.delegate(header.generator_public_key)) is None:
            raise InvalidBlock(ErrorCode.BLOCK_INVALID, "generator is not a delegate")
        if not verify(
            header.generator_public_key,
            header.signing_bytes(self.network_id),
            header.block_signature,
        ):
            raise InvalidBlock(ErrorCode.BLOCK_BAD_SIGNATURE)
        if len(block.transactions) > self.genesis.max_block_transactions:
            raise InvalidBlock(ErrorCode.BLOCK_TOO_LARGE)
        if header.number_of_transactions != len(block.transactions):
            raise InvalidBlock(ErrorCode.BLOCK_BAD_PAYLOAD, "numberOfTransactions mismatch")
        if header.payload_hash != block.payload_hash():
            raise InvalidBlock(ErrorCode.BLOCK_BAD_PAYLOAD, "payloadHash mismatch")
        # The slot schedule and the attestation are consensus rules, checked by
        # `ccoin.consensus.machine.check_header` before a node applies a block.

    # -- commit, undo, rollback ------------------------------------------------------------

    def _block_records(
        self, header: BlockHeader, transactions: list[Transaction] | tuple[Transaction, ...]
    ) -> dict[bytes, bytes | None]:
        """Chain-table writes for a block: the block, its id, the Transaction records, the
        asset tables, account history and the head pointer."""
        nid = self.network_id
        block_hash = header.hash(nid)
        block_id = id_from_hash(block_hash)
        height = header.height
        writes: dict[bytes, bytes | None] = {}
        tx_ids: list[bytes] = []
        for index, tx in enumerate(transactions):
            tx_id = tx.hash(nid)[:14]
            tx_ids.append(tx_id)
            writes[schema.transaction(tx_id)] = packb([block_id, height, index, tx.encode()])
            body = tx.body
            if body.type != 0 or body.asset.to_array() != [b""]:
                writes[schema.asset(body.type, tx_id)] = packb(body.asset.to_array())
            sender = address_raw_from_public_key(body.sender_public_key)
            writes[schema.account_history(sender, height, index)] = tx_id
            if body.recipient_id is not None:
                writes[schema.account_history(address_raw(body.recipient_id), height, index)] = (
                    tx_id
                )
        writes[schema.block_by_height(height)] = packb([header.to_array(), tx_ids])
        writes[schema.block_height_by_id(block_hash[:14])] = schema.u64(height)
        writes[schema.META_HEAD] = schema.u64(height)
        return writes

    def _commit(self, block: Block, execution: Execution) -> None:
        changes = execution.overlay.writes
        get = self.store.get
        before = execution.overlay.before
        undo = [[key, before[key] if key in before else get(key)] for key in changes]
        # The block's own records are new keys (its height, its id, its transactions' ids,
        # which the replay check found absent, and history entries at its height): the
        # rollback deletes them, finding them from the block itself, so the undo record
        # holds only the state's old values and the head pointer's.
        records = self._block_records(block.header, block.transactions)
        undo.append([schema.META_HEAD, get(schema.META_HEAD)])
        changes.update(records)
        changes[schema.undo(block.header.height)] = packb(undo)
        self.store.commit(changes, sync=True)
        self.head = block.header

    def rollback_to(self, height: int) -> list[Block]:
        """Undo every block above `height` in one synced batch; return them, newest first,
        so their transactions can go back to the pool."""
        if height >= self.head.height:
            return []
        if height < self.finalized_height:
            raise ChainError(
                ErrorCode.CHAIN_FINALIZED,
                f"height {height} is below the finalized height {self.finalized_height}",
            )
        removed: list[Block] = []
        changes: dict[bytes, bytes | None] = {}
        for h in range(self.head.height, height, -1):
            block = self.block_at(h)
            raw = self.store.get(schema.undo(h))
            if block is None or raw is None:
                raise ChainError(ErrorCode.CHAIN_CORRUPT, f"no undo record for height {h}")
            for key in self._block_records(block.header, block.transactions):
                changes[key] = None  # the head pointer's old value is in the undo record
            for key, old in field_list(
                unpack_canonical(raw, max_size=MAX_UNDO_BYTES, what="undo"), "undo"
            ):
                changes[key] = old
            changes[schema.undo(h)] = None
            removed.append(block)
        self.store.commit(changes, sync=True)
        self.head = self._load_head()
        return removed

    def set_finalized(
        self, height: int, consensus: bytes | None = None, certificate: bytes | None = None
    ) -> None:
        """Record `height` as final and drop the undo records it no longer needs.
        `consensus` is what the consensus layer must remember about that block (its round
        seed and justified checkpoint), and `certificate` the votes that made it final when
        the headers do not show it yet (else any earlier certificate goes), both stored in
        the same synced batch: what is reported final after it survives a crash."""
        current = self.finalized_height
        if height <= current:
            return
        if height > self.head.height:
            raise ChainError(ErrorCode.CHAIN_CORRUPT, "cannot finalize past the head")
        changes: dict[bytes, bytes | None] = {
            schema.undo(h): None for h in range(current + 1, height + 1)
        }
        changes[schema.META_FINALIZED] = schema.u64(height)
        if consensus is not None:
            changes[schema.META_FINALIZED_CONSENSUS] = consensus
        changes[schema.META_FINALITY_CERTIFICATE] = certificate
        self.store.commit(changes, sync=True)

    def save_meta(self, key: bytes, value: bytes) -> None:
        """A synced single write of a node-local meta record (e.g. the voter record)."""
        if not key.startswith(schema.META):
            raise ValueError("only meta keys")
        self.store.commit({key: value}, sync=True)

    # -- reads ----------------------------------------------------------------------------

    def _block_entry(self, height: int) -> tuple[BlockHeader, list[bytes]] | None:
        raw = self.store.get(schema.block_by_height(height))
        if raw is None:
            return None
        header_arr, tx_ids = field_list(
            unpack_canonical(raw, max_size=64 * 1024 * 1024, what="block record"), "block", size=2
        )
        return BlockHeader.from_array(header_arr), tx_ids

    def block_summary(self, height: int) -> tuple[BlockHeader, list[str]] | None:
        """A block's header and its transaction ids, without reading the transactions
        (our own record: trusted, no canonical re-check)."""
        raw = self.store.get(schema.block_by_height(height))
        if raw is None:
            return None
        header_arr, tx_ids = msgpack.unpackb(raw)
        return BlockHeader.from_array(header_arr), [id_from_hash(t) for t in tx_ids]

    def height_of(self, block_id: str) -> int | None:
        raw = self.store.get(schema.block_height_by_id(id_raw(block_id)))
        return None if raw is None else schema.read_u64(raw)

    def header_at(self, height: int) -> BlockHeader | None:
        entry = self._block_entry(height)
        return None if entry is None else entry[0]

    def block_at(self, height: int) -> Block | None:
        entry = self._block_entry(height)
        if entry is None:
            return None
        header, tx_ids = entry
        txs = []
        for tx_id in tx_ids:
            located = self.transaction_by_raw(tx_id)
            if located is None:
                raise ChainError(ErrorCode.CHAIN_CORRUPT, "block names a missing transaction")
            txs.append(located.transaction)
        return Block(header, tuple(txs))

    def block_by_id(self, block_id: str) -> Block | None:
        height = self.height_of(block_id)
        return None if height is None else self.block_at(height)

    def transaction_by_raw(self, tx_id: bytes) -> TxLocation | None:
        raw = self.store.get(schema.transaction(tx_id))
        if raw is None:
            return None
        block_id, height, index, tx_bytes = field_list(
            unpack_canonical(raw, max_size=1024 * 1024, what="transaction record"),
            "transaction record",
            size=4,
        )
        return TxLocation(
            Transaction.decode(field_bytes(tx_bytes, "tx")),
            block_id,
            field_int(height, "height"),
            field_int(index, "index"),
        )

    def transaction(self, tx_id: str) -> TxLocation | None:
        return self.transaction_by_raw(id_raw(tx_id))

    def get(self, key: bytes) -> bytes | None:
        """One key of the committed head state (rules shared with the pool read it)."""
        return self.store.get(key)

    def is_included(self, tx_hash: bytes) -> bool:
        return self.store.get(schema.transaction(tx_hash[:14])) is not None

    def account(self, address: str) -> Account | None:
        return self.account_raw(address_raw(address))

    def account_raw(self, raw_address: bytes) -> Account | None:
        raw = self.store.get(schema.account(raw_address))
        return None if raw is None else Account.load(raw)  # our own database: trusted

    def delegate(self, public_key: bytes) -> DelegateRecord | None:
        raw = self.store.get(schema.delegate(public_key))
        return None if raw is None else DelegateRecord.decode(raw)

    def delegates(self) -> list[DelegateRecord]:
        return [DelegateRecord.decode(v) for _k, v in self.store.iterate(schema.DELEGATE)]

    def history(self, address: str, *, limit: int = 100) -> Iterator[TxLocation]:
        """An account's transactions, sent and received, newest first."""
        prefix = schema.account_history_prefix(address_raw(address))
        for n, (_key, tx_id) in enumerate(self.store.iterate(prefix, reverse=True)):
            if n >= limit:
                return
            located = self.transaction_by_raw(tx_id)
            if located is not None:
                yield located

    def asset_record(self, tx_type: int, tx_id: str) -> Any:
        raw = self.store.get(schema.asset(tx_type, id_raw(tx_id)))
        return None if raw is None else unpack_canonical(raw, max_size=1024 * 1024, what="asset")
