"""The transaction pool: bounded, ordered by fee per byte, with per-sender limits.

Admission checks what can be checked cheaply against the current state (type enabled, fee,
replay, sender exists, not locked, balance for amount + fee, primary signature done by the
caller in a batch off the event loop). The block builder re-checks everything against the
state of the block being built. Transactions of a multisignature account that still lack
co-signatures wait in a *pending* area for at most the group's lifetime; `add_cosignatures`
moves them to the ready set once `min` valid co-signatures are in.

A transaction the sandbox faulted on while a block was built (`TX_SANDBOX_FAULT`) leaves the
pool without a fee paid, so its sender is suspended (ADR 0017): its other contract
transactions (types 5 and 8) are evicted and new ones refused with `POOL_SENDER_SUSPENDED`
for `fault_suspension_seconds`; its other types are still admitted. The table of suspended
senders holds at most `max_suspended_senders` (beyond, the oldest suspension is dropped).

A bridge credit (type 6) is admitted only on the rule block execution applies to it
(`ccoin.modules.bridge.rules`): this network's Bridge, a deposit not credited yet, and attestations
by a quorum of the head's active delegates, each valid. The caller verifies the attestations
off the event loop and passes the answers (`attested`). Attestations are not in the id, so
for a pooled credit whose attestations no longer pass (the active set changed), a copy with
attestations that do pass replaces it; while the pooled one passes, the first stays and a
copy is a `POOL_DUPLICATE`, checked without any verification.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sortedcontainers import SortedList

from ccoin.crypto.address import ID_RAW_LEN, address_raw_from_public_key
from ccoin.crypto.keys import verify
from ccoin.errors import ErrorCode, InvalidTransaction, PoolError
from ccoin.ledger.execute import (
    MAX_FUTURE_SECONDS,
    OWN_COSIGNER_TYPES,
    check_min_fee,
    check_sender,
    check_type_enabled,
    transaction_cost,
)
from ccoin.ledger.rounds import read_round
from ccoin.modules.bridge.rules import check_attestations, check_deposit_open
from ccoin.modules.catalog import TYPE_SPECS
from ccoin.modules.core.rules import count_cosignatures
from ccoin.types.account import Account
from ccoin.types.assets import InTransferAsset, TxType
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import CoSignature, Transaction

# Fee per byte is compared as an integer scaled by this factor, so ordering never depends on
# float rounding.
_FEE_SCALE = 1_000_000
CONTRACT_TYPES = frozenset({TxType.CONTRACT_DEPLOY, TxType.CONTRACT_CALL})
# Whether one attestation of a credit verifies (over the credit's signing bytes).
Attested = Callable[[CoSignature], bool]


def _verified_before(_cosig: CoSignature) -> bool:
    """A pooled credit's attestations were all verified when it entered the pool."""
    return True


@dataclass(frozen=True)
class PoolLimits:
    max_transactions: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    per_sender: int = 1_000
    ttl_seconds: int = 3 * 3600
    # A sender whose contract transaction faulted the sandbox: how long its contract
    # transactions are refused, and how many such senders are remembered at once.
    fault_suspension_seconds: int = 60
    max_suspended_senders: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "max_transactions",
            "max_bytes",
            "per_sender",
            "ttl_seconds",
            "fault_suspension_seconds",
            "max_suspended_senders",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"pool limit {name} must be positive")


@dataclass
class PoolEntry:
    tx: Transaction
    tx_hash: bytes
    size: int
    sender: bytes  # raw address
    received: int  # chain seconds
    seq: int
    pending_until: int | None = None  # set while waiting for co-signatures
    rank: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.rank = (-(self.tx.body.fee * _FEE_SCALE // self.size), self.seq)


class StateReader(Protocol):
    """What the pool needs to know about the chain (implemented by `Chain`)."""

    def account_raw(self, address_raw: bytes) -> Account | None: ...

    def is_included(self, tx_hash: bytes) -> bool: ...

    def get(self, key: bytes) -> bytes | None: ...


class Mempool:
    def __init__(
        self,
        genesis: GenesisConfig,
        network_id: bytes,
        state: StateReader,
        limits: PoolLimits | None = None,
    ) -> None:
        self.genesis = genesis
        self.network_id = network_id
        self.state = state
        self.limits = limits or PoolLimits()
        self._by_hash: dict[bytes, PoolEntry] = {}
        self._by_id: dict[bytes, PoolEntry] = {}  # raw id (first 14 bytes of the hash)
        self._ready: SortedList = SortedList(key=lambda e: e.rank)
        self._per_sender: dict[bytes, int] = {}
        # Suspended sender (raw address) -> the chain second its suspension ends; oldest
        # first (every suspension is as long, so also the first to end).
        self._suspended: OrderedDict[bytes, int] = OrderedDict()
        self._bytes = 0
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._by_hash

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def is_verified(self, tx_hash: bytes) -> bool:
        """True when the pool holds `tx_hash`: its primary signature was checked on entry."""
        return tx_hash in self._by_hash

    # -- admission ------------------------------------------------------------------------

    def add(self, tx: Transaction, now: int, attested: Attested | None = None) -> bytes:
        """Admit `tx`, whose primary signature the caller has verified. Returns its hash.
        For a bridge credit, `attested` answers whether each attestation verifies (by
        default it is verified here, on the caller's thread). Raises `InvalidTransaction`
        or `PoolError`; a refused transaction changes nothing."""
        tx_hash = tx.hash(self.network_id)
        pooled = self._by_hash.get(tx_hash)
        if pooled is not None and not self.replaceable(tx_hash):
            raise PoolError(ErrorCode.POOL_DUPLICATE)
        if attested is None:
            attested = self._verify_here(tx)
        entry = self._checked_entry(tx, tx_hash, now, attested)
        if pooled is not None:
            self._remove(pooled)
        try:
            self._make_room(entry)
        except PoolError:
            if pooled is not None:
                self._insert(pooled)
            raise
        self._insert(entry)
        return tx_hash

    def needs_attestation_check(self, tx: Transaction, now: int) -> bool:
        """True for a credit that `add` would admit if its attestations verify: every other
        check passes (so no signature is verified for a credit refused anyway)."""
        if tx.body.type != TxType.IN_TRANSFER:
            return False
        tx_hash = tx.hash(self.network_id)
        if tx_hash in self._by_hash and not self.replaceable(tx_hash):
            return False
        try:
            self._checked_entry(tx, tx_hash, now, _verified_before)
        except (InvalidTransaction, PoolError):
            return False
        return True

    def replaceable(self, tx_hash: bytes) -> bool:
        """True for a pooled credit whose attestations no longer pass against the head's
        active set: a copy of it with attestations that pass may take its place."""
        entry = self._by_hash.get(tx_hash)
        if entry is None or entry.tx.body.type != TxType.IN_TRANSFER:
            return False
        try:
            check_attestations(self._active(), entry.tx, _verified_before)
        except InvalidTransaction:
            return True
        return False

    def _verify_here(self, tx: Transaction) -> Attested:
        message = tx.digest(self.network_id)[0]
        return lambda cosig: verify(cosig.public_key, message, cosig.signature)

    def _active(self) -> tuple[bytes, ...]:
        return read_round(self.state)[1]

    def _checked_entry(
        self, tx: Transaction, tx_hash: bytes, now: int, attested: Attested
    ) -> PoolEntry:
        body = tx.body
        check_type_enabled(body.type, self.genesis)
        check_min_fee(body, self.genesis)
        if now - body.timestamp > self.limits.ttl_seconds:
            raise InvalidTransaction(ErrorCode.TX_EXPIRED)
        if body.timestamp > now + MAX_FUTURE_SECONDS:
            raise InvalidTransaction(ErrorCode.TX_TIMESTAMP_IN_FUTURE)
        if self.state.is_included(tx_hash):
            raise InvalidTransaction(ErrorCode.TX_ALREADY_INCLUDED)
        sender_raw = address_raw_from_public_key(body.sender_public_key)
        if body.type in CONTRACT_TYPES:
            self._check_not_suspended(sender_raw, now)
        account = self.state.account_raw(sender_raw)
        pending_until = self._check_sender(tx, account, now)
        waiting = self._per_sender.get(sender_raw, 0) - (tx_hash in self._by_hash)
        if waiting >= self.limits.per_sender:
            raise PoolError(
                ErrorCode.POOL_SENDER_LIMIT,
                f"{self.limits.per_sender} transactions from this sender already wait",
            )
        if body.type == TxType.IN_TRANSFER:  # last: the only check that verifies signatures
            self._check_credit(tx, attested)
        return PoolEntry(
            tx, tx_hash, len(tx.encode()), sender_raw, now, next(self._seq), pending_until
        )

    def _check_credit(self, tx: Transaction, attested: Attested) -> None:
        """Block execution's rule for a credit, up to its attestations (the escrow's balance
        is left to the block: it moves with every credit and withdrawal)."""
        asset = tx.body.asset
        assert isinstance(asset, InTransferAsset)
        config = self.genesis.bridge
        assert config is not None  # type 6 is enabled only with a bridge
        check_deposit_open(self.state.get, config, asset)
        check_attestations(self._active(), tx, attested)

    def _check_sender(self, tx: Transaction, account: Account | None, now: int) -> int | None:
        body = tx.body
        account = check_sender(body, account)
        # the type's own stateful check (its module's), before the balance
        spec = TYPE_SPECS.get(body.type)
        if spec is not None and spec.admit is not None:
            spec.admit(self.state.get, self.genesis, tx)
        if transaction_cost(body) > account.balance:
            raise InvalidTransaction(
                ErrorCode.TX_INSUFFICIENT_BALANCE,
                f"balance {account.balance} < amount {body.amount} + fee {body.fee}",
            )
        if account.second_public_key is None and tx.sign_signature is not None:
            raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_SECOND_SIGNATURE)
        if account.second_public_key is not None and tx.sign_signature is None:
            raise InvalidTransaction(ErrorCode.TX_MISSING_SECOND_SIGNATURE)
        group = account.multisignature
        if group is None or body.type in OWN_COSIGNER_TYPES:
            if group is None and tx.signatures and body.type not in OWN_COSIGNER_TYPES:
                raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_COSIGNATURES)
            return None
        message = tx.digest(self.network_id)[0]
        if count_cosignatures(tx, group.keysgroup, message) >= group.min:
            return None
        return now + group.lifetime * 3600

    def _check_not_suspended(self, sender_raw: bytes, now: int) -> None:
        until = self.suspended_until(sender_raw, now)
        if until is not None:
            raise PoolError(
                ErrorCode.POOL_SENDER_SUSPENDED,
                "a contract transaction from this sender faulted the sandbox: its contract "
                f"transactions are refused for {until - now} s more",
            )

    # -- suspension after a sandbox fault -------------------------------------------------

    def suspend(self, sender_raw: bytes, now: int) -> int:
        """Refuse the sender's contract transactions until `now` plus the suspension time,
        and evict those waiting (ready or pending); how many were evicted."""
        self._suspended.pop(sender_raw, None)
        self._suspended[sender_raw] = now + self.limits.fault_suspension_seconds
        while len(self._suspended) > self.limits.max_suspended_senders:
            self._suspended.popitem(last=False)
        evicted = [
            e
            for e in self._by_hash.values()
            if e.sender == sender_raw and e.tx.body.type in CONTRACT_TYPES
        ]
        for entry in evicted:
            self._remove(entry)
        return len(evicted)

    def suspended_until(self, sender_raw: bytes, now: int) -> int | None:
        """The chain second the sender's suspension ends, or None if it is not suspended."""
        until = self._suspended.get(sender_raw)
        if until is not None and now >= until:
            del self._suspended[sender_raw]
            return None
        return until

    @property
    def suspended_senders(self) -> int:
        """Entries in the suspension table (some may have ended and not been swept yet)."""
        return len(self._suspended)

    def _make_room(self, entry: PoolEntry) -> None:
        limits = self.limits
        while (
            len(self._by_hash) >= limits.max_transactions
            or self._bytes + entry.size > limits.max_bytes
        ):
            if not self._ready:
                raise PoolError(ErrorCode.POOL_FULL)
            lowest = self._ready[-1]
            if lowest.rank[0] <= entry.rank[0]:
                raise PoolError(
                    ErrorCode.POOL_FULL,
                    "pool is full and this fee per byte is not higher "
                    "than the lowest waiting; retry later or raise the fee",
                )
            self._remove(lowest)

    def _insert(self, entry: PoolEntry) -> None:
        self._by_hash[entry.tx_hash] = entry
        self._by_id[entry.tx_hash[:ID_RAW_LEN]] = entry
        if entry.pending_until is None:
            self._ready.add(entry)
        self._per_sender[entry.sender] = self._per_sender.get(entry.sender, 0) + 1
        self._bytes += entry.size

    def _remove(self, entry: PoolEntry) -> None:
        del self._by_hash[entry.tx_hash]
        del self._by_id[entry.tx_hash[:ID_RAW_LEN]]
        if entry.pending_until is None:
            self._ready.remove(entry)
        count = self._per_sender[entry.sender] - 1
        if count:
            self._per_sender[entry.sender] = count
        else:
            del self._per_sender[entry.sender]
        self._bytes -= entry.size

    # -- multisignature co-signatures -----------------------------------------------------

    def add_cosignatures(self, tx_hash: bytes, cosignatures: list[CoSignature]) -> bool:
        """Merge co-signatures into a waiting transaction; True when it became ready.
        Invalid co-signatures raise and change nothing."""
        entry = self._by_hash.get(tx_hash)
        if entry is None:
            raise PoolError(ErrorCode.BAD_ID, "no such transaction waiting in the pool")
        if entry.tx.body.type in OWN_COSIGNER_TYPES:  # their rules check their own
            raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_COSIGNATURES)
        updated = entry.tx.with_signatures(cosignatures)
        account = self.state.account_raw(entry.sender)
        if account is None or account.multisignature is None:
            raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_COSIGNATURES)
        message = updated.digest(self.network_id)[0]
        valid = count_cosignatures(updated, account.multisignature.keysgroup, message)
        self._remove(entry)
        ready = valid >= account.multisignature.min
        new_entry = PoolEntry(
            updated,
            tx_hash,
            len(updated.encode()),
            entry.sender,
            entry.received,
            entry.seq,
            None if ready else entry.pending_until,
        )
        self._insert(new_entry)
        return ready

    # -- block building and housekeeping --------------------------------------------------

    def ready(self) -> Iterator[Transaction]:
        """Ready transactions, highest fee per byte first (ties: first come)."""
        for entry in list(self._ready):
            yield entry.tx

    def remove(self, tx_hashes: list[bytes]) -> None:
        for tx_hash in tx_hashes:
            entry = self._by_hash.get(tx_hash)
            if entry is not None:
                self._remove(entry)

    def expire(self, now: int) -> int:
        """Drop transactions past the pool's TTL and pending ones past their lifetime."""
        ttl = self.limits.ttl_seconds
        stale = [
            e
            for e in self._by_hash.values()
            if now - e.tx.body.timestamp > ttl
            or (e.pending_until is not None and now > e.pending_until)
        ]
        for entry in stale:
            self._remove(entry)
        while self._suspended and now >= next(iter(self._suspended.values())):
            self._suspended.popitem(last=False)  # ended suspensions, oldest first
        return len(stale)

    def get(self, tx_hash: bytes) -> Transaction | None:
        entry = self._by_hash.get(tx_hash)
        return None if entry is None else entry.tx

    def fee_to_enter(self, size: int) -> int:
        """The smallest fee for a `size`-byte transaction that the pool admits now: 0 while
        it has room, else one step above the lowest fee per byte waiting (what eviction
        needs)."""
        limits = self.limits
        full = (
            len(self._by_hash) >= limits.max_transactions or self._bytes + size > limits.max_bytes
        )
        if not full or not self._ready:
            return 0
        lowest_scaled: int = -self._ready[-1].rank[0]
        return -(-(lowest_scaled + 1) * size // _FEE_SCALE)

    def count_from(self, sender_raw: bytes) -> int:
        """Transactions from this sender (raw address) waiting in the pool."""
        return self._per_sender.get(sender_raw, 0)

    def get_by_id(self, id_raw: bytes) -> Transaction | None:
        """The waiting transaction whose id (base58-decoded) is `id_raw`."""
        entry = self._by_id.get(id_raw)
        return None if entry is None else entry.tx

    def is_pending(self, tx_hash: bytes) -> bool:
        entry = self._by_hash.get(tx_hash)
        return entry is not None and entry.pending_until is not None


def drop_invalid(
    pool: Mempool, rejected: list[tuple[Transaction, InvalidTransaction]], now: int
) -> None:
    """Forget transactions a block builder found invalid against the head state; one whose
    timestamp is only ahead of the block stays, as it becomes valid with time. The sender
    of one the sandbox faulted on is suspended (`Mempool.suspend`) at chain second `now`."""
    pool.remove(
        [
            tx.hash(pool.network_id)
            for tx, exc in rejected
            if exc.code is not ErrorCode.TX_TIMESTAMP_IN_FUTURE
        ]
    )
    for tx, exc in rejected:
        if exc.code is ErrorCode.TX_SANDBOX_FAULT:
            pool.suspend(address_raw_from_public_key(tx.body.sender_public_key), now)
