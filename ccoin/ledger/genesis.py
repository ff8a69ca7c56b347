"""The genesis block and state, and the network id that follows from them.

network_id = SHA-256(genesis header bytes); the header's payloadHash is SHA-256 of the
canonical genesis config and its stateRoot commits to the initial accounts and delegates,
so the network id pins every genesis parameter and allocation.
"""

from __future__ import annotations

import hashlib

from ccoin.consensus.schedule import elect
from ccoin.crypto.address import address_raw, address_raw_from_public_key
from ccoin.ledger.rounds import encode_round
from ccoin.ledger.state import next_state_root
from ccoin.storage import schema
from ccoin.types.account import Account, DelegateRecord
from ccoin.types.block import BLOCK_VERSION, ZERO_HASH, BlockHeader
from ccoin.types.codec import packb
from ccoin.types.genesis import GenesisConfig


def genesis_state(genesis: GenesisConfig) -> dict[bytes, bytes | None]:
    writes: dict[bytes, bytes | None] = {}
    for acc in genesis.accounts:
        account = Account(acc.balance, acc.public_key, None, None, (), acc.locked)
        writes[schema.account(address_raw(acc.address))] = account.encode()
    for d in genesis.delegates:
        record = DelegateRecord(
            d.public_key, d.asset.username, d.asset.bridge_address, d.asset.cert_fingerprint, 0, 0
        )
        writes[schema.delegate(d.public_key)] = record.encode()
        writes[schema.delegate_username(d.asset.username)] = d.public_key
        writes[schema.bridge_address(d.asset.bridge_address)] = d.public_key
        writes[schema.admitted(address_raw_from_public_key(d.public_key))] = b""
    elected = elect([(d.public_key, 0) for d in genesis.delegates], genesis.active_delegates)
    writes[schema.ROUND] = encode_round(0, elected, None)
    return writes


def genesis_header(genesis: GenesisConfig, writes: dict[bytes, bytes | None]) -> BlockHeader:
    return BlockHeader(
        version=BLOCK_VERSION,
        height=0,
        previous_block_hash=ZERO_HASH,
        timestamp_ms=0,
        generator_public_key=bytes(32),
        payload_hash=hashlib.sha256(packb(genesis.to_array())).digest(),
        number_of_transactions=0,
        total_amount=0,
        total_fee=0,
        reward=0,
        state_root=next_state_root(ZERO_HASH, writes),
        withdrawal_root=ZERO_HASH,
        attestation=None,
    )


def network_id_of(genesis: GenesisConfig) -> bytes:
    header = genesis_header(genesis, genesis_state(genesis))
    return hashlib.sha256(header.encode()).digest()
