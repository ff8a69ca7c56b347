"""A delegate node's bridge signer: signs for BSC only what its own chain shows (ADR 0015).

- An anchor: only for heights its chain has finalized; the root is recomputed here from its
  own headers, so a relayer cannot slip in another root.
- A set change: only to the bridge addresses of the active set its chain elected for the
  current round, and only once that round's election is finalized.

Every refusal is a `BridgeRefusal` with a stable code; nothing is signed then.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ccoin.bridge.anchors import range_root
from ccoin.bridge.digests import anchor_digest, set_digest, sign_digest, sorted_members
from ccoin.consensus.schedule import round_of, slot_of
from ccoin.errors import CcoinError, ErrorCode
from ccoin.ledger.chain import Chain

MAX_ANCHOR_RANGE = 10_000  # heights in one anchor (the root costs a header read each)


class BridgeRefusal(CcoinError):
    """The node will not sign this."""


@dataclass(frozen=True)
class SignedAnchor:
    root: bytes
    signer: str
    signature: bytes


@dataclass(frozen=True)
class SignedSet:
    members: tuple[str, ...]
    signer: str
    signature: bytes


class BridgeSigner:
    """Signs anchors and set changes for one BSC `Anchor` contract with one bridge key."""

    def __init__(self, chain: Chain, key: LocalAccount, bsc_chain_id: int, anchor: str) -> None:
        self.chain = chain
        self.key = key
        self.bsc_chain_id = bsc_chain_id
        self.anchor = to_checksum_address(anchor)

    def _check_target(self, bsc_chain_id: int, anchor: str) -> None:
        if bsc_chain_id != self.bsc_chain_id or to_checksum_address(anchor) != self.anchor:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_REFUSED, "not this node's BSC chain and Anchor contract"
            )

    def sign_anchor(
        self, bsc_chain_id: int, anchor: str, set_id: int, from_height: int, to_height: int
    ) -> SignedAnchor:
        self._check_target(bsc_chain_id, anchor)
        if not 1 <= from_height <= to_height or to_height - from_height >= MAX_ANCHOR_RANGE:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_REFUSED,
                f"a range is 1 to {MAX_ANCHOR_RANGE} heights from 1: {from_height}-{to_height}",
            )
        finalized = self.chain.finalized_height
        if to_height > finalized:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_NOT_FINAL, f"height {to_height} is not finalized (at {finalized})"
            )
        headers = [self.chain.header_at(h) for h in range(from_height, to_height + 1)]
        present = [h for h in headers if h is not None]
        if len(present) != len(headers):
            raise BridgeRefusal(ErrorCode.CHAIN_CORRUPT, "a finalized header is missing")
        root = range_root(present, self.chain.network_id)
        digest = anchor_digest(
            self.bsc_chain_id,
            self.anchor,
            self.chain.network_id,
            set_id,
            from_height,
            to_height,
            root,
        )
        return SignedAnchor(root, self.key.address, sign_digest(self.key, digest))

    def elected_members(self) -> tuple[str, ...]:
        """The bridge addresses of the current round's active set, once its election is
        finalized (the round of the finalized block is the current one)."""
        chain = self.chain
        number, active = chain.round_record()
        final = chain.header_at(chain.finalized_height)
        genesis = chain.genesis
        final_round = (
            round_of(slot_of(final.timestamp_ms, genesis.block_time_ms), genesis.active_delegates)
            if final is not None and final.height > 0
            else -1
        )
        if final_round != number:
            raise BridgeRefusal(
                ErrorCode.BRIDGE_NOT_FINAL, f"round {number}'s election is not finalized yet"
            )
        addresses = []
        for public_key in active:
            record = chain.delegate(public_key)
            if record is None:
                raise BridgeRefusal(ErrorCode.CHAIN_CORRUPT, "an active delegate has no record")
            addresses.append(to_checksum_address(record.bridge_address))
        return tuple(sorted_members(addresses))

    def sign_set(self, bsc_chain_id: int, anchor: str, set_id: int) -> SignedSet:
        self._check_target(bsc_chain_id, anchor)
        members = self.elected_members()
        digest = set_digest(self.bsc_chain_id, self.anchor, self.chain.network_id, set_id, members)
        return SignedSet(members, self.key.address, sign_digest(self.key, digest))
