"""A change of the sidechain's active delegate set is handed over on BSC (a real anvil, an
in-process sidechain): a vote moves a fourth delegate into the active set at a round
boundary; until that round's election is final the relayer anchors but does not hand over;
once it is final the old set signs the new one into `Anchor`, the new set anchors the
following ranges, and the old set can no longer anchor."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest
from eth_utils.crypto import keccak

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge import digests
from ccoin.bridge.anchors import range_root
from ccoin.bridge.attester import DepositAttester
from ccoin.bridge.digests import ordered, sorted_members
from ccoin.bridge.evm import Contract, EvmClient, EvmReverted, create_address, deploy, new_account
from ccoin.bridge.relayer import Relayer
from ccoin.bridge.signer import BridgeSigner
from ccoin.bridge.solidity import load_artifact
from ccoin.consensus.schedule import producer_for, round_of, round_order, slot_of
from ccoin.crypto.keys import KeyPair
from ccoin.ledger.chain import Chain
from ccoin.ledger.rounds import elect_active, read_round_record
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.testing import factories as f
from ccoin.testing.bridge import LocalDelegate, LocalSidechain, bridged_testnet
from ccoin.types.transaction import Transaction

BSC_CHAIN_ID = 97
SUPPLY = 10**12
SEATS = 3  # active set size (and slots per round); four delegates are registered


@pytest.fixture(scope="module")
def chain() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=4) as node, EvmClient(node.url) as client:
        yield client


def produce(
    sidechain: Chain, delegates: dict[bytes, KeyPair], txs: Sequence[Transaction] = ()
) -> None:
    """The next block, one slot after the head, by the delegate the schedule names for that
    slot (the set and seed of the slot's round: a new round's set is elected from the head
    state, its seed is the head's hash)."""
    genesis = sidechain.genesis
    timestamp = sidechain.head.timestamp_ms + 1000
    slot = slot_of(timestamp, genesis.block_time_ms)
    number = round_of(slot, genesis.active_delegates)
    record = read_round_record(sidechain.store)
    if number > record.number:
        members = elect_active(sidechain.store, genesis.active_delegates)
        seed = sidechain.head.hash(sidechain.network_id)
    else:
        members, seed = record.members, record.seed or sidechain.genesis_hash
    producer = producer_for(round_order(members, seed), slot)
    _block, execution = sidechain.build_block(txs, timestamp, delegates[producer])
    assert execution.included == list(txs), execution.rejected
    assert sidechain.round_record() == (number, members)


def members_of(anchor: Contract, client: EvmClient) -> list[str]:
    return [m.lower() for m in anchor.read(client, "members")]


def lowered(addresses: Sequence[str]) -> list[str]:
    return [a.lower() for a in addresses]


def test_a_new_active_set_is_handed_over_and_the_old_one_cannot_anchor(chain: EvmClient) -> None:
    owner = new_account(dev_accounts(1)[0].key)
    keys = [new_account(keccak(b"handover-bridge-%d" % i)) for i in range(4)]
    nonce = int(chain.rpc("eth_getTransactionCount", owner.address, "pending"), 16)
    bridge_address = create_address(owner.address, nonce + 2)  # token, anchor, then bridge
    config = BridgeConfig(
        f.key("acct3").address, BSC_CHAIN_ID, bytes.fromhex(bridge_address[2:]), 1
    )
    # Four registered delegates, three seats.
    net, sidechain = bridged_testnet(keys, active_delegates=SEATS, bridge=config)
    assert net.genesis.bridge == config and net.accounts[3].address == config.escrow
    nid = sidechain.network_id
    by_key = {d.public_key: d for d in net.delegates}
    bridge_key = {d.public_key: k for d, k in zip(net.delegates, keys, strict=True)}

    # Genesis: every weight is 0, so the three lowest public keys hold the seats.
    ranked = sorted(by_key)
    old_set, outsider, leaver = ranked[:3], ranked[3], ranked[2]
    new_set = [outsider, *ranked[:2]]
    assert sidechain.round_record() == (0, tuple(old_set))
    old_members = sorted_members(bridge_key[pk].address for pk in old_set)
    new_members = sorted_members(bridge_key[pk].address for pk in new_set)
    assert old_members != new_members

    # Round 0 (slots 1 and 2): a rich account votes for the fourth delegate.
    voter = net.accounts[0]
    produce(sidechain, by_key, [f.vote(voter, [(True, outsider)], nid)])
    record = sidechain.delegate(outsider)
    assert record is not None and record.vote_weight > 0
    produce(sidechain, by_key)
    assert sidechain.round_record() == (0, tuple(old_set))  # the running round keeps its set
    sidechain.set_finalized(1)
    probe = BridgeSigner(sidechain, keys[0], BSC_CHAIN_ID, "0x" + "00" * 20)
    assert list(probe.elected_members()) == old_members  # round 0's election is final

    # BSC: the Anchor starts with the genesis active set.
    token = deploy(chain, owner, load_artifact("CarbonCoin"), SUPPLY)
    anchor = deploy(chain, owner, load_artifact("Anchor"), nid, list(probe.elected_members()), 1)
    bridge = deploy(
        chain, owner, load_artifact("Bridge"), token.address, anchor.address, owner.address
    )
    assert bridge.address == bridge_address
    assert members_of(anchor, chain) == lowered(old_members)
    assert anchor.read(chain, "setId") == 0 and anchor.read(chain, "quorum") == 3

    signers = {
        pk: BridgeSigner(sidechain, bridge_key[pk], BSC_CHAIN_ID, anchor.address) for pk in by_key
    }
    delegates = [
        LocalDelegate(signers[pk], DepositAttester(by_key[pk], config, nid, chain)) for pk in ranked
    ]
    port = LocalSidechain(sidechain, lambda txs: produce(sidechain, by_key, txs))
    relayer = Relayer(chain, owner, anchor, bridge, port, delegates, net.accounts[1], BSC_CHAIN_ID)

    def anchored(count: int) -> tuple[int, int]:
        assert anchor.read(chain, "rangeCount") == count
        from_height, to_height, root = anchor.read(chain, "range", count - 1)
        headers = [sidechain.header_at(h) for h in range(from_height, to_height + 1)]
        present = [h for h in headers if h is not None]
        assert len(present) == len(headers) and root == range_root(present, nid)
        return from_height, to_height

    # The set is unchanged: the relayer anchors and hands nothing over.
    first = relayer.run_round()
    assert (first.anchored_to, first.handed_over, first.refusals) == (1, False, [])
    assert anchored(1) == (1, 1)

    # Slot 3 opens round 1: the vote puts the fourth delegate in, the third lowest key out.
    produce(sidechain, by_key)
    assert set(sidechain.round_record()[1]) == set(new_set)
    assert sidechain.round_record()[0] == 1
    produce(sidechain, by_key)  # slot 4
    sidechain.set_finalized(2)  # the last block of round 0: round 1's election is not final
    waiting = relayer.run_round()
    assert waiting.anchored_to == 2 and not waiting.handed_over
    assert len(waiting.refusals) == 4
    assert all("election is not finalized" in r for r in waiting.refusals)
    assert anchor.read(chain, "setId") == 0 and members_of(anchor, chain) == lowered(old_members)
    assert anchored(2) == (2, 2)

    # Height 3 (slot 3, round 1) is final: the old set hands over, then the new one anchors.
    sidechain.set_finalized(3)
    assert list(signers[outsider].elected_members()) == new_members
    handover = relayer.run_round()
    assert handover.handed_over and handover.refusals == []
    assert anchor.read(chain, "setId") == 1
    assert members_of(anchor, chain) == lowered(new_members)
    assert anchor.read(chain, "isMember", bridge_key[outsider].address)
    assert not anchor.read(chain, "isMember", bridge_key[leaver].address)
    assert handover.anchored_to == 3 and anchored(3) == (3, 3)  # under set 1: the new set

    produce(sidechain, by_key)  # slot 5
    sidechain.set_finalized(5)
    after = relayer.run_round()
    assert (after.anchored_to, after.handed_over, after.refusals) == (5, False, [])
    assert anchored(4) == (4, 5) and anchor.read(chain, "nextHeight") == 6

    # The old set can no longer anchor the next range (height 6, slot 6 opens round 2).
    produce(sidechain, by_key)
    sidechain.set_finalized(6)
    old_signed = [signers[pk].sign_anchor(BSC_CHAIN_ID, anchor.address, 1, 6, 6) for pk in old_set]
    root = old_signed[0].root
    assert {s.root for s in old_signed} == {root}
    digest = digests.anchor_digest(BSC_CHAIN_ID, anchor.address, nid, 1, 6, 6, root)
    assert anchor.read(chain, "anchorDigest", 6, 6, root) == digest
    old_quorum = ordered((s.signer, s.signature) for s in old_signed)
    with pytest.raises(EvmReverted, match="not in the current set"):  # the leaver's signature
        anchor.send(chain, owner, "submitAnchor", 6, 6, root, old_quorum)
    gone = [s for s, pk in zip(old_signed, old_set, strict=True) if pk not in new_set]
    assert [s.signer for s in gone] == [bridge_key[leaver].address]
    with pytest.raises(EvmReverted, match="too few signatures"):  # the old-only part: 1 of 3
        anchor.send(chain, owner, "submitAnchor", 6, 6, root, [gone[0].signature])
    stale = [signers[pk].sign_anchor(BSC_CHAIN_ID, anchor.address, 0, 6, 6) for pk in old_set]
    stale_quorum = ordered((s.signer, s.signature) for s in stale)
    with pytest.raises(EvmReverted, match="not in the current set"):  # under the old set id
        anchor.send(chain, owner, "submitAnchor", 6, 6, root, stale_quorum)
    old_delegates = [d for d, pk in zip(delegates, ranked, strict=True) if pk in old_set]
    old_only = dataclasses.replace(relayer, signers=old_delegates)
    refused = old_only.run_round()
    assert refused.anchored_to is None and not refused.handed_over
    assert refused.refusals == ["anchor 6-6: 2 signatures"]  # the leaver's does not count
    assert anchor.read(chain, "nextHeight") == 6

    # The range was open all along: the new set anchors it.
    last = relayer.run_round()
    assert (last.anchored_to, last.handed_over, last.refusals) == (6, False, [])
    assert anchored(5) == (6, 6) and anchor.read(chain, "setId") == 1
