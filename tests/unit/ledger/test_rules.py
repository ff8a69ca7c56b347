"""State rules per transaction type: each valid case changes exactly what it should, each
invalid case is rejected with its stable code and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ccoin.crypto.address import address_raw
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.ledger.chain import Chain
from ccoin.ledger.execute import TxExecutor
from ccoin.ledger.state import StateOverlay
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.assets import (
    InTransferAsset,
    OutTransferAsset,
    TxType,
)
from ccoin.types.codec import MAX_BIGINT
from ccoin.types.genesis import DEFAULT_MIN_FEES, UNIT
from ccoin.types.transaction import Transaction, TxBody
from tests.unit.ledger.chain_helpers import balance, block_with, rejected_code

FEE = DEFAULT_MIN_FEES[TxType.TRANSFER]


def test_transfer_moves_amount_and_pays_fee_to_producer(chain: Chain, net: LocalNet) -> None:
    a, b = net.accounts[1], net.accounts[2]
    producer = net.delegates[0].address
    before_a, before_b = balance(chain, a.address), balance(chain, b.address)
    tx = f.transfer(a, b.address, 5 * UNIT, chain.network_id, data=b"memo")
    execution = block_with(chain, net, tx)
    assert execution.included == [tx]
    assert balance(chain, a.address) == before_a - 5 * UNIT - FEE
    assert balance(chain, b.address) == before_b + 5 * UNIT
    assert balance(chain, producer) == FEE
    account = chain.account(a.address)
    assert account is not None and account.public_key == a.public_key  # bound on first use
    located = chain.transaction(tx.id(chain.network_id))
    assert located is not None and located.height == chain.height
    assert located.block_id == chain.head.id(chain.network_id)
    assert chain.asset_record(0, tx.id(chain.network_id)) == [b"memo"]


def test_transfer_to_new_account_creates_it(chain: Chain, net: LocalNet) -> None:
    fresh = f.key("fresh")
    block_with(chain, net, f.transfer(net.accounts[1], fresh.address, 7, chain.network_id))
    assert balance(chain, fresh.address) == 7


def test_replay_is_rejected_forever(chain: Chain, net: LocalNet) -> None:
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, chain.network_id)
    assert block_with(chain, net, tx).included == [tx]
    assert rejected_code(chain, net, tx) is ErrorCode.TX_ALREADY_INCLUDED


def test_same_transaction_twice_in_one_block(chain: Chain, net: LocalNet) -> None:
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, chain.network_id)
    execution = block_with(chain, net, tx, tx)
    assert execution.included == [tx]
    assert execution.rejected[0][1].code is ErrorCode.TX_ALREADY_INCLUDED


def test_wrong_network_signature_is_rejected(chain: Chain, net: LocalNet) -> None:
    other = bytes(32)
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, other)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_BAD_SIGNATURE


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": 10**6 * UNIT + 1}, ErrorCode.TX_INSUFFICIENT_BALANCE),
        ({"amount": 10**6 * UNIT - FEE + 1}, ErrorCode.TX_INSUFFICIENT_BALANCE),
        ({"amount": 1, "fee": FEE - 1}, ErrorCode.TX_FEE_TOO_LOW),
        ({"amount": 1, "timestamp": 10_000}, ErrorCode.TX_TIMESTAMP_IN_FUTURE),
        ({"amount": MAX_BIGINT, "fee": MAX_BIGINT}, ErrorCode.TX_INSUFFICIENT_BALANCE),
    ],
)
def test_transfer_rejections(chain: Chain, net: LocalNet, kwargs: Any, code: ErrorCode) -> None:
    tx = f.transfer(net.accounts[1], net.accounts[2].address, network_id=chain.network_id, **kwargs)
    assert rejected_code(chain, net, tx) is code


def test_credit_past_bigint_is_rejected(chain: Chain, net: LocalNet) -> None:
    """A valid genesis keeps the supply within BIGINT, so no transfer can overflow a balance;
    the executor still refuses to write one."""
    overlay = StateOverlay(chain.store)
    ctx = chain.context(chain.height + 1, 1, net.delegates[0].public_key)
    executor = TxExecutor(overlay, ctx)
    with pytest.raises(InvalidTransaction) as info:
        executor.credit(address_raw(net.accounts[1].address), MAX_BIGINT)
    assert info.value.code is ErrorCode.TX_BALANCE_OVERFLOW


def test_unknown_sender_and_locked_account(chain: Chain, net: LocalNet) -> None:
    nobody = f.key("nobody")
    tx = f.transfer(nobody, net.accounts[1].address, 1, chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_SENDER_UNKNOWN
    locked = net.accounts[0]  # make_testnet(locked=1) locks the first account
    tx = f.transfer(locked, net.accounts[1].address, 1, chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_ACCOUNT_LOCKED
    # A locked account still receives.
    before = balance(chain, locked.address)
    block_with(chain, net, f.transfer(net.accounts[1], locked.address, 3, chain.network_id))
    assert balance(chain, locked.address) == before + 3


def test_out_transfer_not_enabled(chain: Chain, net: LocalNet) -> None:
    asset = OutTransferAsset(b"\x01" * 20)
    amount = 1
    body = TxBody(asset.TYPE, 0, net.accounts[1].public_key, None, amount, 10 * UNIT, asset)
    tx = body.sign(net.accounts[1], chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_TYPE_NOT_ENABLED


def test_in_transfer_not_enabled(chain: Chain, net: LocalNet) -> None:
    asset = InTransferAsset(97, b"\x02" * 20, 1, b"\x03" * 32)
    body = TxBody(6, 0, net.accounts[1].public_key, net.accounts[2].address, 5, 0, asset)
    tx = body.sign(net.accounts[1], chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_TYPE_NOT_ENABLED


# -- second signature -----------------------------------------------------------------------


def test_second_signature_registration_and_use(chain: Chain, net: LocalNet) -> None:
    a, second = net.accounts[1], f.key("second")
    nid = chain.network_id
    assert block_with(chain, net, f.second_signature(a, second, nid)).rejected == []
    account = chain.account(a.address)
    assert account is not None and account.second_public_key == second.public_key

    plain = f.transfer(a, net.accounts[2].address, 1, nid)
    assert rejected_code(chain, net, plain) is ErrorCode.TX_MISSING_SECOND_SIGNATURE
    wrong = f.transfer(a, net.accounts[2].address, 2, nid, second=f.key("wrong"))
    assert rejected_code(chain, net, wrong) is ErrorCode.TX_BAD_SECOND_SIGNATURE
    good = f.transfer(a, net.accounts[2].address, 3, nid, second=second)
    assert block_with(chain, net, good).included == [good]
    again = f.second_signature(a, f.key("third"), nid, timestamp=1)
    signed = Transaction(
        again.body, again.signature, second.sign(again.digest(nid)[0] + again.signature)
    )
    assert rejected_code(chain, net, signed) is ErrorCode.TX_SECOND_KEY_EXISTS


def test_unexpected_second_signature(chain: Chain, net: LocalNet) -> None:
    tx = f.transfer(
        net.accounts[1], net.accounts[2].address, 1, chain.network_id, second=f.key("second")
    )
    assert rejected_code(chain, net, tx) is ErrorCode.TX_UNEXPECTED_SECOND_SIGNATURE


# -- delegates and votes ----------------------------------------------------------------------


def admit(chain: Chain, net: LocalNet, who: KeyPair) -> None:
    tx = f.govern(net.accounts[-1], "admit", "account", who.address, chain.network_id)
    assert block_with(chain, net, tx).included == [tx]


def test_delegate_registration(chain: Chain, net: LocalNet) -> None:
    a = net.accounts[1]
    nid = chain.network_id
    assert rejected_code(chain, net, f.register_delegate(a, "alice", nid)) is (
        ErrorCode.TX_NOT_ADMITTED
    )
    admit(chain, net, a)
    admit(chain, net, net.accounts[2])
    tx = f.register_delegate(a, "alice", nid, timestamp=1)
    assert block_with(chain, net, tx).included == [tx]
    record = chain.delegate(a.public_key)
    assert record is not None and record.username == "alice" and record.vote_weight == 0
    assert rejected_code(chain, net, f.register_delegate(a, "alice2", nid, timestamp=2)) is (
        ErrorCode.TX_DELEGATE_EXISTS
    )
    assert rejected_code(chain, net, f.register_delegate(net.accounts[2], "alice", nid)) is (
        ErrorCode.TX_USERNAME_TAKEN
    )


def test_votes_split_balance_across_delegates(chain: Chain, net: LocalNet) -> None:
    voter = net.accounts[1]
    nid = chain.network_id
    d0, d1 = net.delegates[0].public_key, net.delegates[1].public_key
    vote_fee = DEFAULT_MIN_FEES[TxType.VOTE]
    tx = f.vote(voter, [(True, d0), (True, d1)], nid)
    assert block_with(chain, net, tx).included == [tx]
    remaining = 10**6 * UNIT - vote_fee
    for d in (d0, d1):
        record = chain.delegate(d)
        assert record is not None and record.vote_weight == remaining // 2
    assert chain.asset_record(3, tx.id(nid)) == [tx.body.asset.to_array()[0]]  # Asset_Votes

    # A transfer moves the voter's weight with its balance.
    out = f.transfer(voter, net.accounts[2].address, 1000, nid)
    block_with(chain, net, out)
    remaining -= 1000 + FEE
    record0 = chain.delegate(d0)
    assert record0 is not None and record0.vote_weight == remaining // 2

    # Unvote one: the full balance now goes to the other.
    tx2 = f.vote(voter, [(False, d1)], nid, timestamp=1)
    block_with(chain, net, tx2)
    remaining -= vote_fee
    record0, record1 = chain.delegate(d0), chain.delegate(d1)
    assert record0 is not None and record0.vote_weight == remaining
    assert record1 is not None and record1.vote_weight == 0


def test_vote_rejections(chain: Chain, net: LocalNet) -> None:
    voter = net.accounts[1]
    nid = chain.network_id
    d0, d1, d2 = (d.public_key for d in net.delegates)
    not_delegate = f.key("nd").public_key
    assert rejected_code(chain, net, f.vote(voter, [(True, not_delegate)], nid)) is (
        ErrorCode.TX_NOT_A_DELEGATE
    )
    assert rejected_code(chain, net, f.vote(voter, [(False, d0)], nid)) is ErrorCode.TX_NOT_VOTED
    block_with(chain, net, f.vote(voter, [(True, d0)], nid))
    assert rejected_code(chain, net, f.vote(voter, [(True, d0)], nid, timestamp=2)) is (
        ErrorCode.TX_ALREADY_VOTED
    )
    # activeDelegates is 3: a fourth vote is one too many.
    extra = net.accounts[2]
    admit(chain, net, extra)
    block_with(chain, net, f.register_delegate(extra, "extra", nid))
    block_with(chain, net, f.vote(voter, [(True, d1), (True, d2)], nid, timestamp=3))
    assert rejected_code(chain, net, f.vote(voter, [(True, extra.public_key)], nid)) is (
        ErrorCode.TX_TOO_MANY_VOTES
    )


# -- multisignature ---------------------------------------------------------------------------


def test_multisignature_registration_and_cosigned_transfer(chain: Chain, net: LocalNet) -> None:
    owner = net.accounts[1]
    members = [f.key("m1"), f.key("m2"), f.key("m3")]
    nid = chain.network_id
    reg = f.register_multisig(owner, members, 2, nid)
    assert block_with(chain, net, reg).included == [reg]
    account = chain.account(owner.address)
    assert account is not None and account.multisignature is not None
    assert account.multisignature.min == 2

    tx = f.transfer(owner, net.accounts[2].address, 100, nid)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    one = tx.cosign(members[0], nid)
    assert rejected_code(chain, net, one) is ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    outsider = one.cosign(f.key("outsider"), nid)
    assert rejected_code(chain, net, outsider) is ErrorCode.TX_BAD_COSIGNATURE
    two = one.cosign(members[2], nid)
    assert two.id(nid) == tx.id(nid)  # co-signatures do not change the id
    assert block_with(chain, net, two).included == [two]


def test_multisignature_registration_needs_every_member(chain: Chain, net: LocalNet) -> None:
    owner = net.accounts[1]
    members = [f.key("m1"), f.key("m2")]
    nid = chain.network_id
    full = f.register_multisig(owner, members, 1, nid)
    partial = Transaction(full.body, full.signature, None, full.signatures[:1])
    assert rejected_code(chain, net, partial) is ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    own = f.register_multisig(owner, [owner, members[0]], 1, nid)
    assert rejected_code(chain, net, own) is ErrorCode.TX_BAD_ASSET
    assert block_with(chain, net, full).included == [full]
    again = f.register_multisig(owner, members, 2, nid)
    again = again.cosign(members[0], nid)
    assert rejected_code(chain, net, again) is ErrorCode.TX_MULTISIG_EXISTS


def test_cosignatures_on_plain_account_rejected(chain: Chain, net: LocalNet) -> None:
    tx = f.transfer(net.accounts[1], net.accounts[2].address, 1, chain.network_id)
    tx = tx.cosign(f.key("x"), chain.network_id)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_UNEXPECTED_COSIGNATURES


# -- governance (type 9) ----------------------------------------------------------------------


def test_only_governance_admits_and_revokes(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    outsider = net.accounts[1]
    target = f.key("newcomer").address
    tx = f.govern(outsider, "admit", "account", target, nid)
    assert rejected_code(chain, net, tx) is ErrorCode.TX_NOT_GOVERNANCE
    gov = net.accounts[-1]
    admit_tx = f.govern(gov, "admit", "account", target, nid)
    assert block_with(chain, net, admit_tx).included == [admit_tx]
    again = f.govern(gov, "admit", "account", target, nid, timestamp=1)
    assert rejected_code(chain, net, again) is ErrorCode.TX_GOVERNANCE_NO_CHANGE
    revoke = f.govern(gov, "revoke", "account", target, nid, timestamp=2)
    assert block_with(chain, net, revoke).included == [revoke]
    assert chain.asset_record(9, revoke.id(nid)) == ["revoke", "account", target]


def test_revoked_certificate_cannot_register(chain: Chain, net: LocalNet) -> None:
    nid = chain.network_id
    gov, candidate = net.accounts[-1], net.accounts[1]
    fingerprint = f.delegate_asset(candidate, "x").cert_fingerprint.hex()
    for tx in (
        f.govern(gov, "admit", "account", candidate.address, nid),
        f.govern(gov, "revoke", "node", fingerprint, nid),
    ):
        assert block_with(chain, net, tx).included == [tx]
    assert rejected_code(chain, net, f.register_delegate(candidate, "cand", nid)) is (
        ErrorCode.TX_CERT_REVOKED
    )
    unrevoke = f.govern(gov, "admit", "node", fingerprint, nid)
    assert block_with(chain, net, unrevoke).included == [unrevoke]
    assert (
        block_with(chain, net, f.register_delegate(candidate, "cand", nid, timestamp=1)).rejected
        == []
    )


def test_revoking_a_delegate_account_removes_it_from_the_active_set(
    chain: Chain, net: LocalNet
) -> None:
    from ccoin.node.consensus_state import active_set

    assert net.delegates[2].public_key in active_set(chain)
    tx = f.govern(net.accounts[-1], "revoke", "account", net.delegates[2].address, chain.network_id)
    assert block_with(chain, net, tx).included == [tx]
    assert net.delegates[2].public_key not in active_set(chain)
