"""Transaction rules against state (DESIGN sections 2-4, 6).

`TxExecutor.apply` checks one transaction against the overlay and writes its effects, or
raises `InvalidTransaction` and leaves the overlay exactly as it was (journal revert). The
rules for each type are small functions in `RULES`; the common part (replay, fee, sender
account, signatures, balance) runs first for every type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ccoin.consensus.schedule import slot_of
from ccoin.consensus.votes import Vote, conflicting
from ccoin.crypto.address import address_raw, address_raw_from_public_key
from ccoin.crypto.keys import verify
from ccoin.errors import CcoinError, ErrorCode, InvalidTransaction
from ccoin.ledger import bridge, contracts
from ccoin.ledger.context import BlockContext
from ccoin.ledger.contracts import ContractEngine, check_contract_body, required_fee
from ccoin.ledger.state import StateOverlay
from ccoin.modules.catalog import MODULE_OF_TYPE, TYPE_SPECS
from ccoin.storage import schema
from ccoin.types.account import Account, DelegateRecord, MultisigGroup
from ccoin.types.assets import (
    DelegateAsset,
    EvidenceAsset,
    GovernanceAsset,
    MultisignatureAsset,
    SecondSignatureAsset,
    TxType,
    VoteAsset,
)
from ccoin.types.block import BlockHeader
from ccoin.types.codec import MAX_BIGINT
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction, TxBody

MAX_FUTURE_SECONDS = 15
# Types whose state logic exists; the rest are rejected until their issues land.
ENABLED_TYPES = frozenset(
    {
        TxType.TRANSFER,
        TxType.SECOND_SIGNATURE,
        TxType.DELEGATE,
        TxType.VOTE,
        TxType.MULTISIGNATURE,
        TxType.CONTRACT_DEPLOY,
        TxType.CONTRACT_CALL,
        TxType.GOVERNANCE,
        TxType.EVIDENCE,
    }
)


BRIDGE_TYPES = frozenset({TxType.IN_TRANSFER, TxType.OUT_TRANSFER})
# Types whose rules check their own co-signatures (keysgroup members, attesting delegates)
# instead of the sender's multisignature group.
OWN_COSIGNER_TYPES = frozenset({TxType.MULTISIGNATURE, TxType.IN_TRANSFER})


def check_type_enabled(tx_type: int, genesis: GenesisConfig) -> None:
    """Known state logic, for the bridge types a network with a bridge, and for a module's
    types a network whose genesis has the module's section."""
    if tx_type in BRIDGE_TYPES and genesis.bridge is not None:
        return
    module = MODULE_OF_TYPE.get(tx_type)
    if module is not None:
        if module.enabled(genesis):
            return
        raise InvalidTransaction(
            ErrorCode.TX_TYPE_NOT_ENABLED,
            f"type {tx_type} ({TxType(tx_type).name.lower()}) needs the genesis's "
            f"{module.name!r} section, which this network does not have",
        )
    if tx_type not in ENABLED_TYPES:
        raise InvalidTransaction(
            ErrorCode.TX_TYPE_NOT_ENABLED,
            f"type {tx_type} ({TxType(tx_type).name.lower()}) is not enabled yet",
        )


def check_min_fee(body: TxBody, genesis: GenesisConfig) -> None:
    """The fee covers the type's minimum (and a contract call's gas limit); a contract
    body is within its own stateless limits (shared with the pool's admission)."""
    min_fee = required_fee(body, genesis)
    if body.fee < min_fee:
        raise InvalidTransaction(
            ErrorCode.TX_FEE_TOO_LOW, f"fee {body.fee} below the minimum {min_fee}"
        )
    check_contract_body(body)


class KeyReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


def check_admitted(state: KeyReader, sender_raw: bytes) -> None:
    """A delegate registration needs an admitted sender (shared with the pool, so a
    refusal comes at submission rather than at block building)."""
    if state.get(schema.admitted(sender_raw)) is None:
        raise InvalidTransaction(
            ErrorCode.TX_NOT_ADMITTED, "only admitted accounts can register as delegates"
        )


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


def count_cosignatures(tx: Transaction, keysgroup: tuple[bytes, ...], message: bytes) -> int:
    """Valid co-signatures from `keysgroup`; any co-signature from outside it, or one that
    does not verify, makes the transaction invalid (it was never signed as presented)."""
    members = set(keysgroup)
    for cosig in tx.signatures:
        if cosig.public_key not in members:
            raise InvalidTransaction(
                ErrorCode.TX_BAD_COSIGNATURE,
                f"co-signer {cosig.public_key.hex()[:16]}... is not in the keysgroup",
            )
        if not verify(cosig.public_key, message, cosig.signature):
            raise InvalidTransaction(
                ErrorCode.TX_BAD_COSIGNATURE,
                f"co-signature of {cosig.public_key.hex()[:16]}... does not verify",
            )
    return len(tx.signatures)


# -- rules per type ----------------------------------------------------------------------------

Rule = Callable[[TxExecutor, Transaction, bytes, Account], None]


def _transfer(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    recipient = tx.body.recipient_id
    assert recipient is not None  # TxBody requires it for transfers
    ex.credit(address_raw(recipient), tx.body.amount)


def _second_signature(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, SecondSignatureAsset)
    if sender.second_public_key is not None:
        raise InvalidTransaction(ErrorCode.TX_SECOND_KEY_EXISTS)
    ex.state.put_account(
        sender_raw,
        Account(
            sender.balance,
            sender.public_key,
            asset.public_key,
            sender.multisignature,
            sender.votes,
            sender.locked,
        ),
    )


def _delegate(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, DelegateAsset)
    key = tx.body.sender_public_key
    state = ex.state
    check_admitted(state, sender_raw)
    if state.get(schema.revoked_cert(asset.cert_fingerprint)) is not None:
        raise InvalidTransaction(ErrorCode.TX_CERT_REVOKED)
    if state.get(schema.delegate(key)) is not None:
        raise InvalidTransaction(ErrorCode.TX_DELEGATE_EXISTS)
    if state.get(schema.delegate_username(asset.username)) is not None:
        raise InvalidTransaction(ErrorCode.TX_USERNAME_TAKEN, f"{asset.username!r} is taken")
    if state.get(schema.bridge_address(asset.bridge_address)) is not None:
        raise InvalidTransaction(ErrorCode.TX_BRIDGE_ADDRESS_TAKEN)
    state.put_delegate(
        DelegateRecord(
            key, asset.username, asset.bridge_address, asset.cert_fingerprint, 0, ex.ctx.height
        )
    )
    state.put(schema.delegate_username(asset.username), key)
    state.put(schema.bridge_address(asset.bridge_address), key)


def _vote(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, VoteAsset)
    state = ex.state
    votes = list(sender.votes)
    for add, key in asset.changes:
        if add:
            if key in votes:
                raise InvalidTransaction(ErrorCode.TX_ALREADY_VOTED, f"+{key.hex()}")
            if state.get(schema.delegate(key)) is None:
                raise InvalidTransaction(ErrorCode.TX_NOT_A_DELEGATE, f"+{key.hex()}")
            votes.append(key)
            state.put(schema.vote(key, sender_raw), b"")
        else:
            if key not in votes:
                raise InvalidTransaction(ErrorCode.TX_NOT_VOTED, f"-{key.hex()}")
            votes.remove(key)
            state.delete(schema.vote(key, sender_raw))
    limit = ex.ctx.genesis.active_delegates
    if len(votes) > limit:
        raise InvalidTransaction(
            ErrorCode.TX_TOO_MANY_VOTES, f"{len(votes)} votes, the active set has {limit} seats"
        )
    old_share = sender.vote_share()
    for key in sender.votes:
        ex.add_weight(key, -old_share)
    updated = Account(
        sender.balance,
        sender.public_key,
        sender.second_public_key,
        sender.multisignature,
        tuple(sorted(votes)),
        sender.locked,
    )
    new_share = updated.vote_share()
    for key in updated.votes:
        ex.add_weight(key, new_share)
    state.put_account(sender_raw, updated)


def _multisignature(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, MultisignatureAsset)
    if sender.multisignature is not None:
        raise InvalidTransaction(ErrorCode.TX_MULTISIG_EXISTS)
    if tx.body.sender_public_key in asset.keysgroup:
        raise InvalidTransaction(
            ErrorCode.TX_BAD_ASSET, "asset.keysgroup: must not contain the sender's own key"
        )
    message = tx.digest(ex.ctx.network_id)[0]
    # Every member consents by co-signing the registration (as in Lisk).
    valid = count_cosignatures(tx, asset.keysgroup, message)
    if valid != len(asset.keysgroup):
        raise InvalidTransaction(
            ErrorCode.TX_NOT_ENOUGH_COSIGNATURES,
            f"every keysgroup member must co-sign the registration ({valid} of "
            f"{len(asset.keysgroup)})",
        )
    group = MultisigGroup(asset.min, asset.lifetime, asset.keysgroup)
    ex.state.put_account(
        sender_raw,
        Account(
            sender.balance,
            sender.public_key,
            sender.second_public_key,
            group,
            sender.votes,
            sender.locked,
        ),
    )


def _governance(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, GovernanceAsset)
    governance = ex.ctx.genesis.governance
    if not governance or address_raw(governance) != sender_raw:
        raise InvalidTransaction(ErrorCode.TX_NOT_GOVERNANCE)
    if asset.kind == "account":
        key = schema.admitted(address_raw(asset.subject))
        present_means = "admit"
    else:
        key = schema.revoked_cert(bytes.fromhex(asset.subject))
        present_means = "revoke"
    present = ex.state.get(key) is not None
    wanted = asset.action == present_means
    if present == wanted:
        raise InvalidTransaction(
            ErrorCode.TX_GOVERNANCE_NO_CHANGE, f"{asset.kind} {asset.subject} already so"
        )
    if wanted:
        ex.state.put(key, b"")
    else:
        ex.state.delete(key)


def _evidence(ex: TxExecutor, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, EvidenceAsset)
    offender = proven_offender(asset, ex.ctx.network_id, ex.ctx.genesis.block_time_ms)
    if ex.state.get(schema.delegate(offender)) is None:
        raise InvalidTransaction(ErrorCode.TX_BAD_EVIDENCE, "the signer is not a delegate")
    if ex.state.get(schema.jailed(offender)) is not None:
        raise InvalidTransaction(ErrorCode.TX_ALREADY_JAILED)
    ex.state.put(schema.jailed(offender), schema.u64(ex.ctx.height))


def proven_offender(asset: EvidenceAsset, network_id: bytes, block_time_ms: int) -> bytes:
    """The delegate whose two signed messages in `asset` break a rule, or TX_BAD_EVIDENCE."""

    def bad(why: str) -> InvalidTransaction:
        return InvalidTransaction(ErrorCode.TX_BAD_EVIDENCE, why)

    if asset.kind == "double-block":
        a, b = BlockHeader.decode(asset.first), BlockHeader.decode(asset.second)
        offender = a.generator_public_key
        if b.generator_public_key != offender:
            raise bad("the two headers have different generators")
        if slot_of(a.timestamp_ms, block_time_ms) != slot_of(b.timestamp_ms, block_time_ms):
            raise bad("the two headers are for different slots")
        if a.hash(network_id) == b.hash(network_id):
            raise bad("the two headers are the same block")
        for header in (a, b):
            if not verify(offender, header.signing_bytes(network_id), header.block_signature):
                raise bad("a header signature does not verify")
        return offender
    va, vb = Vote.decode(asset.first), Vote.decode(asset.second)
    if va.voter != vb.voter:
        raise bad("the two votes have different voters")
    if not conflicting(va.data, vb.data):
        raise bad("the two votes do not conflict")
    for v in (va, vb):
        if not verify(v.voter, v.data.signing_bytes(network_id), v.signature):
            raise bad("a vote signature does not verify")
    return va.voter


RULES: dict[int, Rule] = {
    TxType.TRANSFER: _transfer,
    TxType.SECOND_SIGNATURE: _second_signature,
    TxType.DELEGATE: _delegate,
    TxType.VOTE: _vote,
    TxType.MULTISIGNATURE: _multisignature,
    TxType.GOVERNANCE: _governance,
    TxType.EVIDENCE: _evidence,
    **contracts.RULES,
    **bridge.RULES,
    **{tx_type: spec.apply for tx_type, spec in TYPE_SPECS.items()},
}
