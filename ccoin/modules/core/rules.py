"""The core types against state (DESIGN sections 2-4, 6): 0 transfer, 1 second signature,
2 delegate registration, 3 vote, 4 multisignature registration, 9 governance, 10
equivocation evidence. Their assets are `ccoin.types.assets` (the envelope's own, DESIGN
section 4's fixed bytes); everything else about them is here, in the module shape every
type has (ADR 0025).

May import what `ccoin.modules` may.
"""

from __future__ import annotations

from ccoin.consensus.schedule import slot_of
from ccoin.consensus.votes import Vote, conflicting
from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import verify
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.modules.base import KeyGet, TxScope
from ccoin.storage import schema
from ccoin.types.account import Account, DelegateRecord, MultisigGroup
from ccoin.types.assets import (
    DelegateAsset,
    EvidenceAsset,
    GovernanceAsset,
    MultisignatureAsset,
    SecondSignatureAsset,
    VoteAsset,
)
from ccoin.types.block import BlockHeader
from ccoin.types.genesis import GenesisConfig
from ccoin.types.transaction import Transaction


def check_admitted(get: KeyGet, sender_raw: bytes) -> None:
    """A delegate registration needs an admitted sender (shared with the pool, so a
    refusal comes at submission rather than at block building)."""
    if get(schema.admitted(sender_raw)) is None:
        raise InvalidTransaction(
            ErrorCode.TX_NOT_ADMITTED, "only admitted accounts can register as delegates"
        )


def admit_delegate(get: KeyGet, genesis: GenesisConfig, tx: Transaction) -> None:
    check_admitted(get, address_raw(tx.body.sender_id))


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


def apply_transfer(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    recipient = tx.body.recipient_id
    assert recipient is not None  # TxBody requires it for transfers
    ex.credit(address_raw(recipient), tx.body.amount)


def apply_second_signature(
    ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account
) -> None:
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


def apply_delegate(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
    asset = tx.body.asset
    assert isinstance(asset, DelegateAsset)
    key = tx.body.sender_public_key
    state = ex.state
    check_admitted(state.get, sender_raw)
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


def apply_vote(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
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


def apply_multisignature(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
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


def apply_governance(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
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


def apply_evidence(ex: TxScope, tx: Transaction, sender_raw: bytes, sender: Account) -> None:
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
