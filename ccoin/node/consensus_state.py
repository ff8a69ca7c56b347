"""Loading and saving what the consensus machine must remember across restarts.

The root of the fork tree is the last finalized block, with the round seed and justified
checkpoint it had on its branch (stored beside the finalized pointer, in the same batch);
the voter record is stored (synced) before each vote leaves the node.
"""

from __future__ import annotations

from ccoin.consensus import machine as m
from ccoin.consensus.schedule import elect
from ccoin.consensus.tree import Checkpoint, TreeBlock
from ccoin.consensus.votes import VoterRecord
from ccoin.crypto.address import address_raw_from_public_key
from ccoin.errors import ChainError, ErrorCode
from ccoin.ledger.chain import Chain
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
        return m.root_block(header, block_hash, chain.genesis.block_time)
    seed, jh, jhash = unpack_canonical(raw, max_size=128, what="finalized consensus record")
    return m.root_block(header, block_hash, chain.genesis.block_time, seed, Checkpoint(jh, jhash))


def active_set(chain: Chain) -> tuple[bytes, ...]:
    """Top delegates by weight among those still admitted and not jailed."""
    store = chain.store
    weights = [
        (d.public_key, d.vote_weight)
        for d in chain.delegates()
        if store.get(schema.admitted(address_raw_from_public_key(d.public_key))) is not None
        and store.get(schema.jailed(d.public_key)) is None
    ]
    return elect(weights, chain.genesis.active_delegates)
