"""Every database key, built here and nowhere else.

A key is a one-byte table prefix followed by fixed-width parts; heights are 8-byte
big-endian so that iterating a table walks it in height order. Ids are stored raw (the
14 bytes behind the base58 text), addresses raw (14 bytes), public keys raw (32 bytes).

Tables are split in two families. *State* tables (0x10-0x1f) are what the stateRoot commits
to; *chain* tables (0x01-0x0f, 0x20-0x2f) hold blocks, the Transaction records, the asset
tables and indexes, which the payloadHash and block hash already commit to. `is_state_key`
tells them apart; both families are written in the same atomic batch and both are undone by
a rollback. The full table list is in `docs/spec/storage.md`.
"""

from __future__ import annotations

import struct

from ccoin.types.assets import TxType

SCHEMA_VERSION = 4  # 3: headers carry timestampMs (ADR 0023); 4: and retirementRoot

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")

# -- chain tables --------------------------------------------------------------------------
META = b"\x00"
BLOCK_BY_HEIGHT = b"\x01"  # height -> [header, [tx id raw, ...]]
BLOCK_HEIGHT_BY_ID = b"\x02"  # block id raw (14) -> height
TRANSACTION = b"\x03"  # tx id raw (14) -> Transaction record
ACCOUNT_HISTORY = b"\x04"  # address raw + height + index -> tx id raw
UNDO = b"\x05"  # height -> undo record [[key, old value | nil], ...]

# Asset tables, one per type, keyed by transaction id (the whitepaper's Asset_* tables).
ASSET_TABLE_PREFIX = {
    TxType.TRANSFER: b"\x06",  # Asset_Transfers (memo)
    TxType.SECOND_SIGNATURE: b"\x07",  # Asset_Signatures
    TxType.DELEGATE: b"\x08",  # Asset_Delegates
    TxType.VOTE: b"\x09",  # Asset_Votes
    TxType.MULTISIGNATURE: b"\x0a",  # Asset_Multisignatures
    TxType.CONTRACT_DEPLOY: b"\x0b",  # Asset_Contracts
    TxType.IN_TRANSFER: b"\x0c",  # Asset_InTransfer
    TxType.OUT_TRANSFER: b"\x0d",  # Asset_OutTransfer
    TxType.CONTRACT_CALL: b"\x0e",  # Asset_ContractCalls
    TxType.GOVERNANCE: b"\x0f",  # Asset_Governance
    TxType.EVIDENCE: b"\x20",  # Asset_Evidence (0x10-0x1f are state tables)
    TxType.CARBON_COMMITTEE: b"\x21",  # Asset_CarbonCommittee
    TxType.CARBON_PROJECT: b"\x22",  # Asset_CarbonProjects
    TxType.CARBON_ISSUE: b"\x23",  # Asset_CarbonIssues
    TxType.CARBON_TRANSFER: b"\x24",  # Asset_CarbonTransfers
    TxType.CARBON_RETIRE: b"\x25",  # Asset_CarbonRetirements
    TxType.CARBON_CANCEL: b"\x26",  # Asset_CarbonCancellations
}
ASSET_TABLE_NAME = {
    TxType.TRANSFER: "Asset_Transfers",
    TxType.SECOND_SIGNATURE: "Asset_Signatures",
    TxType.DELEGATE: "Asset_Delegates",
    TxType.VOTE: "Asset_Votes",
    TxType.MULTISIGNATURE: "Asset_Multisignatures",
    TxType.CONTRACT_DEPLOY: "Asset_Contracts",
    TxType.IN_TRANSFER: "Asset_InTransfer",
    TxType.OUT_TRANSFER: "Asset_OutTransfer",
    TxType.CONTRACT_CALL: "Asset_ContractCalls",
    TxType.GOVERNANCE: "Asset_Governance",
    TxType.EVIDENCE: "Asset_Evidence",
    TxType.CARBON_COMMITTEE: "Asset_CarbonCommittee",
    TxType.CARBON_PROJECT: "Asset_CarbonProjects",
    TxType.CARBON_ISSUE: "Asset_CarbonIssues",
    TxType.CARBON_TRANSFER: "Asset_CarbonTransfers",
    TxType.CARBON_RETIRE: "Asset_CarbonRetirements",
    TxType.CARBON_CANCEL: "Asset_CarbonCancellations",
}

# Chain tables of the carbon module: its audit-trail indexes (derived from the transactions
# and the state they met; not in the stateRoot).
CARBON_EVENT = b"\x27"  # batch + height + index -> [kind, tx id, from, to, ranges, quantity]
CARBON_RETIRED_AT = b"\x28"  # height + index -> tx id raw (block order = leaf order)
CARBON_RETIRED_BY_BENEFICIARY = b"\x29"  # SHA-256(beneficiary)[:16] + height + index -> tx id
CARBON_RETIRED_BY_PROJECT = b"\x2a"  # project + height + index -> tx id raw

# -- state tables (committed to by stateRoot) -----------------------------------------------
ACCOUNT = b"\x10"  # address raw (14) -> Account
DELEGATE = b"\x11"  # public key (32) -> DelegateRecord
DELEGATE_USERNAME = b"\x12"  # username utf-8 -> public key
VOTE = b"\x13"  # delegate public key + voter address raw -> b""
BRIDGE_ADDRESS = b"\x14"  # delegate bridge address (20) -> public key
CONTRACT_CODE = b"\x15"  # contract address raw -> ContractRecord
CONTRACT_STORAGE = b"\x16"  # contract address raw + contract's own key -> value
DEPOSIT_CONSUMED = b"\x17"  # u64 bsc chain id + bridge (20) + u64 nonce -> tx id raw
WITHDRAWAL = b"\x18"  # withdrawal id (the type-7 tx hash, 32) -> [recipient, amount, height]
ADMITTED = b"\x19"  # address raw -> b"": accounts admitted to the permissioned network
REVOKED_CERT = b"\x1a"  # node certificate fingerprint (32) -> b""
JAILED = b"\x1b"  # delegate public key -> u64 height jailed at (proven equivocation)
ROUND = b"\x1c"  # the current round: [round, [public keys], seed | nil]
DELEGATE_STATS = b"\x1d"  # delegate public key -> [blocks produced, slots missed]
RECEIPT = b"\x1e"  # tx id raw (14) -> Receipt of a contract deploy or call
# State tables of the modules (0x30-0x4f). Strings in keys are length-prefixed (`_name`), so
# no id is a prefix of another's key.
CARBON_CLASS = b"\x30"  # class id -> ClassRecord
CARBON_ISSUER = b"\x31"  # issuer address raw -> IssuerRecord
CARBON_PROJECT = b"\x32"  # project id -> ProjectRecord
CARBON_BATCH = b"\x33"  # batch id -> BatchRecord
CARBON_ORIGIN = b"\x34"  # SHA-256(origin reference) -> batch id: each origin once, ever
CARBON_SERIAL_BLOCK = b"\x35"  # class id + u64 first -> [last, batch id] (ordered lookups)
CARBON_HOLDING = b"\x36"  # holder address raw + batch id -> Holding (serial ranges)
CARBON_RETIREMENT = b"\x37"  # retirement id (the tx id raw, 14) -> RetirementRecord
CARBON_CANCELLATION = b"\x38"  # tx id raw (14) -> CancellationRecord


# -- meta keys ------------------------------------------------------------------------------
META_SCHEMA_VERSION = META + b"schema_version"
META_NETWORK_ID = META + b"network_id"
META_HEAD = META + b"head"  # u64 height of the head block
META_FINALIZED = META + b"finalized"  # u64 height of the last finalized block
META_GENESIS = META + b"genesis"  # canonical genesis config bytes
# Consensus memory (node-local, never part of the stateRoot):
META_VOTER = META + b"voter"  # [last target height, max source height], synced before a vote
META_FINALIZED_CONSENSUS = META + b"finalized_consensus"  # [seed, justified height, hash]
# The finality certificate (ccoin.consensus.finality) of the finalized block, when the votes
# held rather than the headers made it final; gone once the headers show it.
META_FINALITY_CERTIFICATE = META + b"finality_certificate"


def is_state_key(key: bytes) -> bool:
    first = key[0]
    return 0x10 <= first <= 0x1F or 0x30 <= first <= 0x4F


def u64(value: int) -> bytes:
    return _U64.pack(value)


def read_u64(data: bytes) -> int:
    value: int = _U64.unpack(data)[0]
    return value


def block_by_height(height: int) -> bytes:
    return BLOCK_BY_HEIGHT + _U64.pack(height)


def height_from_block_key(key: bytes) -> int:
    return read_u64(key[1:9])


def block_height_by_id(block_id_raw: bytes) -> bytes:
    return BLOCK_HEIGHT_BY_ID + block_id_raw


def transaction(tx_id_raw: bytes) -> bytes:
    return TRANSACTION + tx_id_raw


def asset(tx_type: int, tx_id_raw: bytes) -> bytes:
    return ASSET_TABLE_PREFIX[TxType(tx_type)] + tx_id_raw


def account_history(address_raw: bytes, height: int, index: int) -> bytes:
    return ACCOUNT_HISTORY + address_raw + _U64.pack(height) + _U32.pack(index)


def account_history_prefix(address_raw: bytes) -> bytes:
    return ACCOUNT_HISTORY + address_raw


def undo(height: int) -> bytes:
    return UNDO + _U64.pack(height)


def account(address_raw: bytes) -> bytes:
    return ACCOUNT + address_raw


def delegate(public_key: bytes) -> bytes:
    return DELEGATE + public_key


def delegate_username(username: str) -> bytes:
    return DELEGATE_USERNAME + username.encode("utf-8")


def bridge_address(address: bytes) -> bytes:
    return BRIDGE_ADDRESS + address


def admitted(address_raw: bytes) -> bytes:
    return ADMITTED + address_raw


def jailed(public_key: bytes) -> bytes:
    return JAILED + public_key


def delegate_stats(public_key: bytes) -> bytes:
    return DELEGATE_STATS + public_key


def revoked_cert(fingerprint: bytes) -> bytes:
    return REVOKED_CERT + fingerprint


def vote(delegate_public_key: bytes, voter_address_raw: bytes) -> bytes:
    return VOTE + delegate_public_key + voter_address_raw


def voters_prefix(delegate_public_key: bytes) -> bytes:
    return VOTE + delegate_public_key


def contract(address_raw: bytes) -> bytes:
    return CONTRACT_CODE + address_raw


def contract_storage(address_raw: bytes, key: bytes) -> bytes:
    return CONTRACT_STORAGE + address_raw + key


def receipt(tx_id_raw: bytes) -> bytes:
    return RECEIPT + tx_id_raw


def deposit_consumed(bsc_chain_id: int, bridge: bytes, nonce: int) -> bytes:
    return DEPOSIT_CONSUMED + _U64.pack(bsc_chain_id) + bridge + _U64.pack(nonce)


def withdrawal(withdrawal_id: bytes) -> bytes:
    return WITHDRAWAL + withdrawal_id


# -- the carbon module ------------------------------------------------------------------


def _name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([len(raw)]) + raw


def carbon_class(class_id: str) -> bytes:
    return CARBON_CLASS + _name(class_id)


def carbon_issuer(address_raw: bytes) -> bytes:
    return CARBON_ISSUER + address_raw


def carbon_project(project_id: str) -> bytes:
    return CARBON_PROJECT + _name(project_id)


def carbon_batch(batch_id: str) -> bytes:
    return CARBON_BATCH + _name(batch_id)


def carbon_origin(origin_hash: bytes) -> bytes:
    return CARBON_ORIGIN + origin_hash


def carbon_serial_block_prefix(class_id: str) -> bytes:
    return CARBON_SERIAL_BLOCK + _name(class_id)


def carbon_serial_block(class_id: str, first: int) -> bytes:
    return carbon_serial_block_prefix(class_id) + _U64.pack(first)


def carbon_holding_prefix(address_raw: bytes) -> bytes:
    return CARBON_HOLDING + address_raw


def carbon_holding(address_raw: bytes, batch_id: str) -> bytes:
    return CARBON_HOLDING + address_raw + _name(batch_id)


def carbon_retirement(tx_id_raw: bytes) -> bytes:
    return CARBON_RETIREMENT + tx_id_raw


def carbon_cancellation(tx_id_raw: bytes) -> bytes:
    return CARBON_CANCELLATION + tx_id_raw


def carbon_event_prefix(batch_id: str) -> bytes:
    return CARBON_EVENT + _name(batch_id)


def carbon_event(batch_id: str, height: int, index: int) -> bytes:
    return carbon_event_prefix(batch_id) + _U64.pack(height) + _U32.pack(index)


def carbon_retired_at_prefix(height: int) -> bytes:
    return CARBON_RETIRED_AT + _U64.pack(height)


def carbon_retired_at(height: int, index: int) -> bytes:
    return carbon_retired_at_prefix(height) + _U32.pack(index)


def carbon_retired_by_beneficiary_prefix(beneficiary_hash: bytes) -> bytes:
    return CARBON_RETIRED_BY_BENEFICIARY + beneficiary_hash[:16]


def carbon_retired_by_beneficiary(beneficiary_hash: bytes, height: int, index: int) -> bytes:
    return (
        carbon_retired_by_beneficiary_prefix(beneficiary_hash)
        + _U64.pack(height)
        + _U32.pack(index)
    )


def carbon_retired_by_project_prefix(project_id: str) -> bytes:
    return CARBON_RETIRED_BY_PROJECT + _name(project_id)


def carbon_retired_by_project(project_id: str, height: int, index: int) -> bytes:
    return carbon_retired_by_project_prefix(project_id) + _U64.pack(height) + _U32.pack(index)
