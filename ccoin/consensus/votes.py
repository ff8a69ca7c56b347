"""Finality votes and the rules a voter keeps so that it can never help finalize two
conflicting blocks (Casper FFG's two slashing conditions, as BSC fast finality uses them).

Vote signing bytes: packb(["CCOIN-VOTE", network_id, sourceHeight, sourceHash,
targetHeight, targetHash]). Vote wire form: [sourceHeight, sourceHash, targetHeight,
targetHash, voter, signature].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccoin.types.codec import field_bytes, field_int, field_list, packb, unpack_canonical

VOTE_DOMAIN = "CCOIN-VOTE"
MAX_HEIGHT = 2**63 - 1


@dataclass(frozen=True)
class VoteData:
    source_height: int
    source_hash: bytes
    target_height: int
    target_hash: bytes

    def signing_bytes(self, network_id: bytes) -> bytes:
        return packb(
            [
                VOTE_DOMAIN,
                network_id,
                self.source_height,
                self.source_hash,
                self.target_height,
                self.target_hash,
            ]
        )


@dataclass(frozen=True)
class Vote:
    data: VoteData
    voter: bytes
    signature: bytes

    def encode(self) -> bytes:
        d = self.data
        return packb(
            [
                d.source_height,
                d.source_hash,
                d.target_height,
                d.target_hash,
                self.voter,
                self.signature,
            ]
        )

    @classmethod
    def decode(cls, raw: bytes) -> Vote:
        arr = unpack_canonical(raw, max_size=512, what="vote")
        sh, shash, th, thash, voter, sig = field_list(arr, "vote", size=6)
        return cls(
            VoteData(
                field_int(sh, "vote.sourceHeight", 0, MAX_HEIGHT),
                field_bytes(shash, "vote.sourceHash", size=32),
                field_int(th, "vote.targetHeight", 0, MAX_HEIGHT),
                field_bytes(thash, "vote.targetHash", size=32),
            ),
            field_bytes(voter, "vote.voter", size=32),
            field_bytes(sig, "vote.signature", size=64),
        )

    def to_json(self) -> dict[str, Any]:
        d = self.data
        return {
            "sourceHeight": d.source_height,
            "sourceHash": d.source_hash.hex(),
            "targetHeight": d.target_height,
            "targetHash": d.target_hash.hex(),
            "voter": self.voter.hex(),
            "signature": self.signature.hex(),
        }


@dataclass(frozen=True)
class VoterRecord:
    """What a voter must remember (persisted before a vote is sent): the highest target it
    voted for and the highest source. Voting only with a higher target and a source no lower
    than any earlier one rules out both a double vote (two votes for one target height) and
    a surround vote (s1 < s2 < t2 < t1)."""

    last_target: int = -1
    max_source: int = -1

    def allows(self, data: VoteData) -> bool:
        return data.target_height > self.last_target and data.source_height >= self.max_source

    def after(self, data: VoteData) -> VoterRecord:
        return VoterRecord(data.target_height, max(self.max_source, data.source_height))


def conflicting(a: VoteData, b: VoteData) -> bool:
    """True when one voter signing both `a` and `b` broke a safety rule: two different
    votes for one target height, or one vote surrounding the other."""
    if a == b:
        return False
    if a.target_height == b.target_height:
        return True
    return (a.source_height < b.source_height and b.target_height < a.target_height) or (
        b.source_height < a.source_height and a.target_height < b.target_height
    )
