"""Types 11-16 on a chain: the walkthrough, every refusal with its code and no state change,
and the retirement leaves under the header's retirementRoot."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.crypto.address import address_raw
from ccoin.errors import CcoinError, ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.modules.carbon import state as S
from ccoin.modules.carbon.wire import RetireAsset
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import carbon as c
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet, make_testnet
from ccoin.types.block import ZERO_HASH
from ccoin.types.merkle import merkle_root
from ccoin.types.transaction import Transaction
from tests.unit.ledger.chain_helpers import block_with, rejected_code
from tests.unit.modules.carbon.conftest import BATCH, ORIGIN


def held(
    chain: Chain, net: LocalNet, account: int, batch: str = BATCH
) -> tuple[tuple[int, int], ...]:
    return S.holding(chain.store.get, address_raw(net.accounts[account].address), batch).ranges


def test_the_walkthrough_issue_transfer_retire(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    batch = S.batch(chain.store.get, BATCH)
    assert batch is not None and (batch.issued, batch.tradable) == (1_000_000, 1_000_000)
    assert held(chain, net, 2) == ((1, 1_000_000),)

    assert block_with(chain, net, c.transfer(a, b.address, BATCH, nid, quantity=250)).rejected == []
    assert held(chain, net, 2) == ((251, 1_000_000),)
    assert held(chain, net, 3) == ((1, 250),)

    retire = c.retire(b, BATCH, nid, quantity=40, beneficiary="Acme Ltd")
    execution = block_with(chain, net, retire)
    assert execution.rejected == []
    assert held(chain, net, 3) == ((41, 250),)
    batch = S.batch(chain.store.get, BATCH)
    assert batch is not None
    assert (batch.tradable, batch.retired, batch.cancelled) == (999_960, 40, 0)
    record = S.retirement(chain.store.get, retire.digest(nid)[1][:14])
    assert record is not None
    assert (record.ranges, record.quantity, record.beneficiary) == (((1, 40),), 40, "Acme Ltd")
    assert record.holder == b.address and record.height == chain.head.height
    # the header commits the block's one retirement leaf
    assert chain.head.retirement_root == merkle_root([record.leaf()]) != ZERO_HASH
    assert execution.retirement_root == chain.head.retirement_root
    leaf = record.leaf()
    assert leaf[:32] == retire.digest(nid)[1] and int.from_bytes(leaf[64:], "big") == 40


def test_explicit_ranges_move_exactly_those_serials(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    moved = ((10, 19), (500, 500))
    assert block_with(chain, net, c.transfer(a, b.address, BATCH, nid, ranges=moved)).rejected == []
    assert held(chain, net, 3) == moved
    assert held(chain, net, 2) == ((1, 9), (20, 499), (501, 1_000_000))
    # back again: the holding coalesces into one range
    assert block_with(chain, net, c.transfer(b, a.address, BATCH, nid, ranges=moved)).rejected == []
    assert held(chain, net, 2) == ((1, 1_000_000),) and held(chain, net, 3) == ()


def test_cancel_takes_credits_out_for_good(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a = net.accounts[2]
    tx = c.cancel(a, BATCH, nid, ranges=((1, 100),), reason="moved to another registry")
    assert block_with(chain, net, tx).rejected == []
    batch = S.batch(chain.store.get, BATCH)
    assert batch is not None and (batch.tradable, batch.cancelled) == (999_900, 100)
    record = S.cancellation(chain.store.get, tx.digest(chain.network_id)[1][:14])
    assert record is not None and record.ranges == ((1, 100),)
    # cancelled serials never move again
    again = c.transfer(a, net.accounts[3].address, BATCH, nid, ranges=((50, 60),))
    assert rejected_code(chain, net, again) == ErrorCode.TX_CARBON_NOT_HELD


def test_retired_serials_never_move_again(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    assert block_with(chain, net, c.retire(a, BATCH, nid, ranges=((1, 10),))).rejected == []
    for tx in (
        c.transfer(a, b.address, BATCH, nid, ranges=((5, 5),)),
        c.retire(a, BATCH, nid, ranges=((1, 10),), reason="again"),
        c.cancel(a, BATCH, nid, ranges=((10, 11),)),
    ):
        assert rejected_code(chain, net, tx) == ErrorCode.TX_CARBON_NOT_HELD


# -- hostile inputs: each refused with its code, the state unchanged ------------------------


def _cases(net: LocalNet, nid: bytes) -> dict[str, tuple[Transaction, ErrorCode]]:
    committee, issuer, a, b, stranger = net.accounts[0], net.accounts[1], *net.accounts[2:5]
    return {
        "overlapping serial block": (
            c.issue(issuer, "VCS-1234", 999_999, 2_000_000, "VCS-OTHER-1", a.address, nid),
            ErrorCode.TX_CARBON_SERIALS_OVERLAP,
        ),
        "overlapping block inside an existing one": (
            c.issue(issuer, "VCS-1234", 10, 20, "VCS-OTHER-2", a.address, nid),
            ErrorCode.TX_CARBON_SERIALS_OVERLAP,
        ),
        "a reused origin": (
            c.issue(issuer, "VCS-1234", 2_000_001, 2_000_100, ORIGIN, a.address, nid),
            ErrorCode.TX_CARBON_ORIGIN_USED,
        ),
        "retiring more than is held": (
            c.retire(b, BATCH, nid, quantity=1),
            ErrorCode.TX_CARBON_INSUFFICIENT,
        ),
        "transferring more than is held": (
            c.transfer(a, b.address, BATCH, nid, quantity=1_000_001),
            ErrorCode.TX_CARBON_INSUFFICIENT,
        ),
        "moving another holder's serials": (
            c.transfer(b, a.address, BATCH, nid, ranges=((1, 1),)),
            ErrorCode.TX_CARBON_INSUFFICIENT,
        ),
        "an issue by a non-issuer": (
            c.issue(stranger, "VCS-1234", 3_000_000, 3_000_100, "VCS-X-1", a.address, nid),
            ErrorCode.TX_CARBON_NOT_ISSUER,
        ),
        "a project outside the issuer's classes": (
            c.register_project(issuer, "GS-77", "GS", nid),
            ErrorCode.TX_CARBON_NOT_ISSUER,
        ),
        "a project in an unknown class": (
            c.register_project(issuer, "XX-1", "NOPE", nid),
            ErrorCode.TX_CARBON_CLASS_UNKNOWN,
        ),
        "an issue into an unknown project": (
            c.issue(issuer, "VCS-9", 3_000_000, 3_000_100, "VCS-X-2", a.address, nid),
            ErrorCode.TX_CARBON_PROJECT_UNKNOWN,
        ),
        "a committee decision by someone else": (
            c.admit_issuer(stranger, stranger.address, ("VCS",), nid),
            ErrorCode.TX_CARBON_NOT_COMMITTEE,
        ),
        "an issuer for an unknown class": (
            c.admit_issuer(committee, stranger.address, ("NOPE",), nid),
            ErrorCode.TX_CARBON_CLASS_UNKNOWN,
        ),
        "a class admitted twice": (
            c.admit_class(committee, "VCS", nid, timestamp=5),
            ErrorCode.TX_CARBON_NO_CHANGE,
        ),
        "a project registered twice": (
            c.register_project(issuer, "VCS-1234", "VCS", nid, timestamp=5),
            ErrorCode.TX_CARBON_PROJECT_EXISTS,
        ),
        "an unknown batch": (
            c.retire(a, "VCS-1234-002", nid, quantity=1),
            ErrorCode.TX_CARBON_BATCH_UNKNOWN,
        ),
        "a transfer to oneself": (
            c.transfer(a, a.address, BATCH, nid, quantity=1),
            ErrorCode.TX_CARBON_SELF_TRANSFER,
        ),
    }


CASES = list(_cases(make_testnet(), bytes(32)))


@pytest.mark.parametrize("case", CASES)
def test_hostile_transactions_are_refused_and_change_nothing(
    registry: Chain, net: LocalNet, case: str
) -> None:
    tx, code = _cases(net, registry.network_id)[case]
    assert rejected_code(registry, net, tx) == code


def test_a_removed_issuer_or_class_cannot_issue(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    committee, issuer, a = net.accounts[0], net.accounts[1], net.accounts[2]
    tx = c.issue(issuer, "VCS-1234", 2_000_001, 2_000_100, "VCS-NEW-1", a.address, nid)
    assert block_with(chain, net, c.remove_issuer(committee, issuer.address, nid)).rejected == []
    assert rejected_code(chain, net, tx) == ErrorCode.TX_CARBON_NOT_ISSUER
    readmit = c.admit_issuer(committee, issuer.address, ("VCS",), nid, timestamp=3)
    assert block_with(chain, net, readmit, c.remove_class(committee, "VCS", nid)).rejected == []
    assert rejected_code(chain, net, tx) == ErrorCode.TX_CARBON_CLASS_UNKNOWN
    # credits already issued stay valid and movable
    move = c.transfer(a, net.accounts[3].address, BATCH, nid, quantity=5)
    assert block_with(chain, net, move).rejected == []


def test_overlap_is_found_within_one_block(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    issuer, a = net.accounts[1], net.accounts[2]
    first = c.issue(issuer, "VCS-1234", 5_000_000, 5_000_999, "VCS-B-1", a.address, nid)
    second = c.issue(issuer, "VCS-1234", 5_000_500, 5_001_000, "VCS-B-2", a.address, nid)
    third = c.issue(issuer, "VCS-1234", 5_001_000, 5_001_000, "VCS-B-1", a.address, nid)
    fourth = c.issue(issuer, "VCS-1234", 4_000_000, 4_000_000, "VCS-B-3", a.address, nid)
    execution = block_with(chain, net, first, second, third, fourth)
    assert [tx for tx in execution.included] == [first, fourth]
    codes = [exc.code for _tx, exc in execution.rejected]
    assert codes == [ErrorCode.TX_CARBON_SERIALS_OVERLAP, ErrorCode.TX_CARBON_ORIGIN_USED]
    assert S.batch(chain.store.get, "VCS-1234-002") is not None
    assert S.batch(chain.store.get, "VCS-1234-003") is not None
    assert S.batch(chain.store.get, "VCS-1234-004") is None


def test_a_holding_past_its_range_bound_is_refused(net: LocalNet) -> None:
    small = c.carbon_testnet(accounts=8, max_holding_ranges=4)
    chain = Chain(MemoryStore(), small.genesis)
    nid = chain.network_id
    committee, issuer, a, b = small.accounts[0], small.accounts[1], *small.accounts[2:4]
    setup = [
        c.admit_class(committee, "VCS", nid),
        c.admit_issuer(committee, issuer.address, ("VCS",), nid),
        c.register_project(issuer, "VCS-1", "VCS", nid),
    ]
    assert block_with(chain, small, *setup).rejected == []
    issue = c.issue(issuer, "VCS-1", 1, 100, "O-1", a.address, nid)
    assert block_with(chain, small, issue).rejected == []
    moves = [c.transfer(a, b.address, "VCS-1-001", nid, ranges=((s, s),)) for s in (10, 20, 30)]
    assert block_with(chain, small, *moves).rejected == []  # a holds 4 ranges, b 3
    fourth = c.transfer(a, b.address, "VCS-1-001", nid, ranges=((40, 40),))
    assert rejected_code(chain, small, fourth) == ErrorCode.TX_CARBON_TOO_FRAGMENTED


def test_carbon_types_need_the_genesis_section() -> None:
    plain = make_testnet(accounts=4)
    chain = Chain(MemoryStore(), plain.genesis)
    tx = c.admit_class(plain.accounts[0], "VCS", chain.network_id)
    assert rejected_code(chain, plain, tx) == ErrorCode.TX_TYPE_NOT_ENABLED


def test_stateless_refusals_bad_jurisdiction_and_oversized_fields() -> None:
    with pytest.raises(CcoinError) as bad:
        RetireAsset("VCS-1-001", 1, (), "Acme Ltd", "XX-1", "")
    assert bad.value.code == ErrorCode.TX_BAD_JURISDICTION
    with pytest.raises(CcoinError) as bad:
        RetireAsset("VCS-1-001", 1, (), "Acme Ltd", "gb", "")
    assert bad.value.code == ErrorCode.TX_BAD_JURISDICTION
    with pytest.raises(CcoinError) as long:
        RetireAsset("VCS-1-001", 1, (), "A" * 129, "GB", "")
    assert long.value.code == ErrorCode.TOO_LONG
    with pytest.raises(CcoinError) as long:
        RetireAsset("VCS-1-001", 1, (), "Acme", "GB", "r" * 257)
    assert long.value.code == ErrorCode.TOO_LONG
    with pytest.raises(CcoinError) as both:
        RetireAsset("VCS-1-001", 5, ((1, 5),), "Acme", "GB", "")
    assert both.value.code == ErrorCode.TX_BAD_ASSET


def test_a_peer_block_with_a_forged_retirement_root_is_refused(
    registry: Chain, net: LocalNet
) -> None:
    source, nid = registry, registry.network_id
    replica = Chain(MemoryStore(), net.genesis)
    for height in range(1, source.head.height + 1):
        replica.apply_block(source.block_at(height))
    block, _ = source.build_block(
        [c.retire(net.accounts[2], BATCH, nid, quantity=3)],
        source.head.timestamp_ms + 1000,
        net.delegates[0],
    )
    forged_header = dataclasses.replace(block.header, retirement_root=ZERO_HASH).signed(
        net.delegates[0], nid
    )
    with pytest.raises(InvalidBlock, match="retirementRoot"):
        replica.apply_block(dataclasses.replace(block, header=forged_header))
    replica.apply_block(block)
    assert replica.head.state_root == source.head.state_root


def test_fees_are_paid_in_c(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a = net.accounts[2]
    before = chain.account(a.address)
    assert before is not None
    tx = c.retire(a, BATCH, nid, quantity=1)
    assert block_with(chain, net, tx).rejected == []
    after = chain.account(a.address)
    assert after is not None and after.balance == before.balance - tx.body.fee


def test_carbon_state_is_in_the_state_root_and_its_indexes_are_not() -> None:
    for key in (
        schema.carbon_class("VCS"),
        schema.carbon_batch(BATCH),
        schema.carbon_holding(b"\x00" * 14, BATCH),
        schema.carbon_retirement(b"\x00" * 14),
        schema.carbon_serial_block("VCS", 1),
    ):
        assert schema.is_state_key(key)
    for key in (schema.carbon_event(BATCH, 1, 0), schema.carbon_retired_at(1, 0)):
        assert not schema.is_state_key(key)


def test_a_rollback_undoes_carbon_state_and_its_indexes(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    before = dict(chain.store.iterate())
    height = chain.head.height
    block_with(chain, net, c.transfer(a, b.address, BATCH, nid, quantity=10))
    block_with(chain, net, c.retire(b, BATCH, nid, quantity=4), c.cancel(a, BATCH, nid, quantity=2))
    assert dict(chain.store.iterate(schema.CARBON_RETIRED_AT))
    chain.rollback_to(height)
    assert dict(chain.store.iterate()) == before


def test_a_multisignature_committee_decides_only_with_its_co_signatures(net: LocalNet) -> None:
    chain = Chain(MemoryStore(), net.genesis)
    nid = chain.network_id
    committee = net.accounts[0]
    members = [f.key("committee-member-1"), f.key("committee-member-2"), f.key("member-3")]
    group = f.register_multisig(committee, members, 2, nid)
    assert block_with(chain, net, group).rejected == []
    alone = c.admit_class(committee, "VCS", nid)
    assert rejected_code(chain, net, alone) == ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    one = alone.cosign(members[0], nid)
    assert rejected_code(chain, net, one) == ErrorCode.TX_NOT_ENOUGH_COSIGNATURES
    two = one.cosign(members[2], nid)
    assert block_with(chain, net, two).rejected == []
    assert S.credit_class(chain.store.get, "VCS") is not None
