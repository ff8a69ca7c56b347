"""The common part of applying a transaction (DESIGN sections 2-4, 6), and the dispatch to
the type's module (ADR 0025).

`TxExecutor.apply` checks one transaction against the overlay and writes its effects, or
raises `InvalidTransaction` and leaves the overlay exactly as it was (journal revert). The
common part (type enabled, timestamp, fee, replay, sender account, signatures, balance) runs
first for every type; then the rule of the module that declares the type
(`ccoin.modules.catalog`). The executor is the rules' `TxScope`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ccoin.crypto.address import address_raw_from_public_key
from ccoin.crypto.keys import verify
from ccoin.errors import CcoinError, ErrorCode, InvalidTransaction
from ccoin.ledger.context import BlockContext
from ccoin.ledger.state import StateOverlay
from ccoin.modules.base import Rule
from ccoin.modules.catalog import MODULE_OF_TYPE, TYPE_SPECS
from ccoin.modules.contracts.rules import ContractEngine
from ccoin.modules.core.rules import count_cosignatures
from ccoin.storage import schema
from ccoin.types.account import Account, DelegateRecord
from ccoin.types.assets import TxType
from ccoin.types.codec import MAX_BIGINT
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody

MAX_FUTURE_SECONDS = 15
# Types whose rules check their own co-signatures (keysgroup members, attesting delegates)
# instead of the sender's multisignature group.
OWN_COSIGNER_TYPES = frozenset({TxType.MULTISIGNATURE, TxType.IN_TRANSFER})


def check_type_enabled(tx_type: int, genesis: GenesisConfig) -> None:
    """A module declares the type, and this network's genesis turns that module on (the
    bridge's types need the `bridge` section, carbon's the `carbon` section)."""
    module = MODULE_OF_TYPE.get(tx_type)
    if module is None:
        raise InvalidTransaction(ErrorCode.TX_UNKNOWN_TYPE, f"unknown transaction type {tx_type}")
    if not module.enabled(genesis):
        raise InvalidTransaction(
            ErrorCode.TX_TYPE_NOT_ENABLED,
            f"type {tx_type} ({TxType(tx_type).name.lower()}) needs the genesis's "
            f"{module.name!r} section, which this network does not have",
        )


def required_fee(body: TxBody, genesis: GenesisConfig) -> int:
    """The type's minimum fee, plus what its module adds (a contract call's gas)."""
    spec = TYPE_SPECS[body.type]
    extra = spec.extra_fee(body) if spec.extra_fee is not None else 0
    return genesis.min_fee(body.type) + extra


def check_min_fee(body: TxBody, genesis: GenesisConfig) -> None:
    """The fee covers the type's minimum; the body passes its module's stateless checks
    (a deploy's code lints). Shared with the pool's admission."""
    min_fee = required_fee(body, genesis)
    if body.fee < min_fee:
        raise InvalidTransaction(
            ErrorCode.TX_FEE_TOO_LOW, f"fee {body.fee} below the minimum {min_fee}"
        )
    check_body = TYPE_SPECS[body.type].check_body
    if check_body is not None:
        check_body(body)


def transaction_cost(body: TxBody) -> int:
    """What the sender pays: amount and fee (a deposit's amount comes from the escrow)."""
    return body.fee if body.type == TxType.IN_TRANSFER else body.amount + body.fee


def check_sender(body: TxBody, account: Account | None) -> Account:
    """The sender account may send this body: it exists, is not locked, and its bound key
    (if any) is the body's. Shared by the pool's admission and block execution."""
    if account is None:
        raise InvalidTransaction(
            ErrorCode.TX_SENDER_UNKNOWN, f"account {body.sender_id} has never received C"
        )
    if account.locked:
        raise InvalidTransaction(ErrorCode.TX_ACCOUNT_LOCKED, f"{body.sender_id} is locked")
    if account.public_key is not None and account.public_key != body.sender_public_key:
        raise InvalidTransaction(ErrorCode.TX_SENDER_KEY_MISMATCH)
    return account


@dataclass
class TxExecutor:
    """Applies transactions of one block, in order, to one overlay."""

    state: StateOverlay
    ctx: BlockContext
    # Hashes of transactions whose primary signature was already checked on this node
    # (in the pool); each transaction is verified once per node.
    preverified: Callable[[bytes], bool] = lambda _h: False
    # Runs contract code (types 5 and 8); the chain owns it and its sandbox.
    contracts: ContractEngine = field(default_factory=ContractEngine)
    included_ids: set[bytes] = field(default_factory=set)
    # Withdrawal leaves (type 7) in block order: their root is the header's withdrawalRoot.
    withdrawals: list[bytes] = field(default_factory=list)
    # Carbon retirement leaves in block order: their root is the header's retirementRoot.
    retirements: list[bytes] = field(default_factory=list)
    total_amount: int = 0
    total_fee: int = 0

    def apply(self, tx: Transaction) -> bytes:
        """Apply `tx`; return its raw id. On failure nothing is written and the error raised."""
        mark = self.state.mark()
        try:
            return self._apply(tx)
        except CcoinError as exc:
            self.state.revert(mark)
            if isinstance(exc, InvalidTransaction):
                raise
            raise InvalidTransaction(exc.code, exc.message) from None

    def _apply(self, tx: Transaction) -> bytes:
        body = tx.body
        ctx = self.ctx
        tx_type = body.type
        check_type_enabled(tx_type, ctx.genesis)
        if body.timestamp * 1000 > ctx.timestamp_ms + MAX_FUTURE_SECONDS * 1000:
            raise InvalidTransaction(
                ErrorCode.TX_TIMESTAMP_IN_FUTURE,
                f"timestamp {body.timestamp} is more than {MAX_FUTURE_SECONDS} s after the "
                f"block's {ctx.timestamp_ms / 1000:g}",
            )
        check_min_fee(body, ctx.genesis)
        message, tx_hash = tx.digest(ctx.network_id)
        id_raw = tx_hash[:14]
        if id_raw in self.included_ids or self.state.get(schema.transaction(id_raw)) is not None:
            raise InvalidTransaction(ErrorCode.TX_ALREADY_INCLUDED)

        sender_raw = address_raw_from_public_key(body.sender_public_key)
        sender = check_sender(body, self.state.account(sender_raw))
        self._check_signatures(tx, sender, message, tx_hash)

        cost = transaction_cost(body)
        if cost > sender.balance:
            raise InvalidTransaction(
                ErrorCode.TX_INSUFFICIENT_BALANCE,
                f"balance {sender.balance} < amount {body.amount} + fee {body.fee}",
            )
        total_amount = self.total_amount + body.amount
        total_fee = self.total_fee + body.fee
        if total_amount > MAX_BIGINT or total_fee > MAX_BIGINT:
            raise InvalidTransaction(ErrorCode.TX_BALANCE_OVERFLOW, "block totals overflow")

        if sender.public_key is None:
            sender = Account(
                sender.balance,
                body.sender_public_key,
                sender.second_public_key,
                sender.multisignature,
                sender.votes,
                sender.locked,
            )
        sender = self.set_balance(sender_raw, sender, sender.balance - cost)
        RULES[tx_type](self, tx, sender_raw, sender)
        self.included_ids.add(id_raw)
        self.total_amount = total_amount
        self.total_fee = total_fee
        return id_raw

    # -- signatures -----------------------------------------------------------------------

    def _check_signatures(
        self, tx: Transaction, sender: Account, message: bytes, tx_hash: bytes
    ) -> None:
        body = tx.body
        if not self.preverified(tx_hash) and not verify(
            body.sender_public_key, message, tx.signature
        ):
            raise InvalidTransaction(ErrorCode.TX_BAD_SIGNATURE)
        second = sender.second_public_key
        if second is None:
            if tx.sign_signature is not None:
                raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_SECOND_SIGNATURE)
        elif tx.sign_signature is None:
            raise InvalidTransaction(ErrorCode.TX_MISSING_SECOND_SIGNATURE)
        elif not verify(second, message + tx.signature, tx.sign_signature):
            raise InvalidTransaction(ErrorCode.TX_BAD_SECOND_SIGNATURE)

        group = sender.multisignature
        if body.type in OWN_COSIGNER_TYPES:
            return
        if group is None:
            if tx.signatures:
                raise InvalidTransaction(ErrorCode.TX_UNEXPECTED_COSIGNATURES)
            return
        valid = count_cosignatures(tx, group.keysgroup, message)
        if valid < group.min:
            raise InvalidTransaction(
                ErrorCode.TX_NOT_ENOUGH_COSIGNATURES, f"{valid} of {group.min} co-signatures"
            )

    # -- balances and vote weight ---------------------------------------------------------

    def set_balance(self, address_raw: bytes, account: Account, balance: int) -> Account:
        """Write `account` with `balance`, moving its vote weight with it."""
        if not 0 <= balance <= MAX_BIGINT:
            raise InvalidTransaction(ErrorCode.TX_BALANCE_OVERFLOW)
        if account.votes:
            old_share = account.vote_share()
            new_share = balance // len(account.votes)
            if new_share != old_share:
                for delegate_key in account.votes:
                    self.add_weight(delegate_key, new_share - old_share)
        updated = Account(
            balance,
            account.public_key,
            account.second_public_key,
            account.multisignature,
            account.votes,
            account.locked,
        )
        self.state.put_account(address_raw, updated)
        return updated

    def credit(self, address_raw: bytes, amount: int) -> None:
        account = self.state.account(address_raw) or Account()
        self.set_balance(address_raw, account, account.balance + amount)

    def add_weight(self, delegate_key: bytes, delta: int) -> None:
        record = self.state.delegate(delegate_key)
        if record is None:  # a vote always points at a registered delegate
            raise InvalidTransaction(ErrorCode.CHAIN_CORRUPT, "vote for a missing delegate")
        self.state.put_delegate(
            DelegateRecord(
                record.public_key,
                record.username,
                record.bridge_address,
                record.cert_fingerprint,
                record.vote_weight + delta,
                record.registered_height,
            )
        )


RULES: dict[int, Rule] = {tx_type: spec.apply for tx_type, spec in TYPE_SPECS.items()}
