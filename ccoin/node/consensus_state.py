"""Loading and saving what the consensus machine must remember across restarts.

The root of the fork tree is the last finalized block, with the round seed and justified
checkpoint it had on its branch (stored beside the finalized pointer, in the same batch);
the voter record is stored (synced) before each vote leaves the node.
"""

from __future__ import annotations

from dataclasses import replace

from ccoin.consensus import machine as m
from ccoin.consensus.tree import Checkpoint, TreeBlock
from ccoin.consensus.votes import VoterRecord
from ccoin.errors import ChainError, ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.ledger.rounds import elect_active
from ccoin.storage import schema
from ccoin.types.codec import packb, unpack_canonical


def encode_voter(record: VoterRecord) -> bytes:
    return packb([record.last_target, record.max_source])


def load_voter(chain: Chain) -> VoterRecord:
    raw = chain.store.get(schema.META_VOTER)
    if raw is None:
        return VoterRecord()
    last, top = unpack_canonical(raw, max_size=64, what="voter record")
    return VoterRecord(last, top)


def encode_root(block: TreeBlock) -> bytes:
    return packb([block.seed, block.justified.height, block.justified.hash])


def load_root(chain: Chain) -> TreeBlock:
    height = chain.finalized_height
    header = chain.header_at(height)
    if header is None:
        raise ChainError(ErrorCode.CHAIN_CORRUPT, "no finalized block")
    block_hash = header.hash(chain.network_id)
    raw = chain.store.get(schema.META_FINALIZED_CONSENSUS)
    if height == 0 or raw is None:
        return m.root_block(header, block_hash, chain.genesis.block_time_ms)
    seed, jh, jhash = unpack_canonical(raw, max_size=128, what="finalized consensus record")
    return m.root_block(
        header, block_hash, chain.genesis.block_time_ms, seed, Checkpoint(jh, jhash)
    )


def active_set(chain: Chain) -> tuple[bytes, ...]:
    """The set the next round would get if it opened on the current head."""
    return elect_active(chain.store, chain.genesis.active_delegates)


def consensus_config(chain: Chain, base: m.Config) -> m.Config:
    """`base` with the active sets the head's branch implies: the recorded set for the
    current round and, for any later round, the set elected from the head's state (what the
    ledger will record when a block on top of the head opens that round)."""
    current, members = chain.round_record()
    upcoming = active_set(chain)
    return replace(
        base,
        active=members,
        round_length=chain.genesis.active_delegates,
        round_sets=((current, members), (current + 1, upcoming)),
    )
