"""Hypothesis strategies for every wire type (test-only helper; imports hypothesis).

Every strategy generates only *valid* values: values whose constructors accept them and whose
canonical bytes decode back to them. Transactions and block headers are signed with real
Ed25519 keys derived from drawn 32-byte seeds; co-signatures are real signatures over the
signing bytes, sorted by public key.

Sizes are kept small by default so property tests stay fast; the parameters raise them.
"""

from __future__ import annotations

import hashlib
import string
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from ccoin.crypto.address import address_from_public_key, address_from_raw
from ccoin.crypto.keys import KeyPair
from ccoin.modules.contracts.wire import MAX_CONTRACT_NAME, MAX_GAS_LIMIT, MAX_METHOD_NAME
from ccoin.testing.carbon_strategies import CARBON_ASSET_STRATEGIES
from ccoin.types.account import Account, DelegateRecord, MultisigGroup
from ccoin.types.assets import (
    AMOUNT_TYPES,
    BRIDGE_ADDRESS_LEN,
    FINGERPRINT_LEN,
    MAX_ARGS_DEPTH,
    MAX_MULTISIG_KEYS,
    MAX_MULTISIG_LIFETIME_HOURS,
    MAX_TRANSFER_DATA,
    MAX_VOTES_PER_TX,
    POSITIVE_AMOUNT_TYPES,
    PUBLIC_KEY_LEN,
    RECIPIENT_REQUIRED_TYPES,
    Asset,
    ContractCallAsset,
    ContractDeployAsset,
    ContractValue,
    DelegateAsset,
    EvidenceAsset,
    GovernanceAsset,
    InTransferAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
)
from ccoin.types.block import (
    HASH_LEN,
    MAX_BLOCK_TRANSACTIONS,
    MAX_HEIGHT,
    MAX_TIMESTAMP_MS,
    Attestation,
    Block,
    BlockHeader,
    payload_hash,
)
from ccoin.types.codec import MAX_BIGINT, MAX_UINT64, MIN_BIGINT
from ccoin.types.network_assets import GOVERNANCE_ACTIONS
from ccoin.types.transaction import (
    MAX_COSIGNATURES,
    MAX_TIMESTAMP,
    NETWORK_ID_LEN,
    CoSignature,
    Transaction,
    TxBody,
)

__all__ = [
    "TEST_NETWORK_ID",
    "accounts",
    "addresses",
    "assets",
    "attestations",
    "block_headers",
    "blocks",
    "contract_args",
    "contract_call_assets",
    "contract_deploy_assets",
    "contract_names",
    "cosignatures",
    "delegate_assets",
    "delegate_records",
    "governance_assets",
    "hashes",
    "in_transfer_assets",
    "key_pairs",
    "method_names",
    "multisig_groups",
    "multisignature_assets",
    "network_ids",
    "out_transfer_assets",
    "public_keys",
    "second_signature_assets",
    "seeds",
    "signature_bytes",
    "transactions",
    "transfer_assets",
    "tx_bodies",
    "tx_types",
    "usernames",
    "vote_assets",
]

TEST_NETWORK_ID = bytes.fromhex("c0" * NETWORK_ID_LEN)

_USERNAME_ALPHABET = string.ascii_lowercase + string.digits + "!@$&_."
_CONTRACT_NAME_ALPHABET = string.ascii_letters + string.digits + "_.-"
_METHOD_FIRST = string.ascii_lowercase
_METHOD_REST = string.ascii_lowercase + string.digits + "_"
_HEX = "0123456789abcdef"

# The envelope's rules per type (from the asset classes).
_RECIPIENT_REQUIRED = RECIPIENT_REQUIRED_TYPES
_AMOUNT_ALLOWED = AMOUNT_TYPES
_AMOUNT_POSITIVE = POSITIVE_AMOUNT_TYPES


# -- primitives ----------------------------------------------------------------------------


def _fixed_bytes(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


def seeds() -> st.SearchStrategy[bytes]:
    return _fixed_bytes(32)


@lru_cache(maxsize=4096)
def _key_pair(seed: bytes) -> KeyPair:
    return KeyPair(seed)


def key_pairs() -> st.SearchStrategy[KeyPair]:
    """Ed25519 key pairs derived from drawn seeds (cached: hypothesis replays seeds often)."""
    return seeds().map(_key_pair)


def public_keys() -> st.SearchStrategy[bytes]:
    """32 arbitrary bytes in the public-key position (wire types never check the curve)."""
    return _fixed_bytes(PUBLIC_KEY_LEN)


def hashes() -> st.SearchStrategy[bytes]:
    return _fixed_bytes(HASH_LEN)


def network_ids() -> st.SearchStrategy[bytes]:
    return _fixed_bytes(NETWORK_ID_LEN)


def signature_bytes() -> st.SearchStrategy[bytes]:
    return _fixed_bytes(64)


def _nonzero(size: int) -> st.SearchStrategy[bytes]:
    # Mapped rather than filtered: hypothesis draws all-zero bytes often, and a filter would
    # discard those examples (and starve the types that need a non-zero address).
    return _fixed_bytes(size).map(lambda b: b if any(b) else b[:-1] + b"\x01")


def addresses() -> st.SearchStrategy[str]:
    """Valid addresses: from a public key, or from 12 arbitrary body bytes (checksummed)."""
    from_raw = _fixed_bytes(12).map(lambda body: address_from_raw(body + _address_checksum(body)))
    return st.one_of(public_keys().map(address_from_public_key), from_raw)


def _address_checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()[:2]


def usernames() -> st.SearchStrategy[str]:
    return st.text(alphabet=_USERNAME_ALPHABET, min_size=1, max_size=20)


def tx_types() -> st.SearchStrategy[int]:
    return st.sampled_from([int(t) for t in TxType])


def _bigints(lo: int = 0, hi: int = MAX_BIGINT) -> st.SearchStrategy[int]:
    return st.integers(min_value=lo, max_value=hi)


# -- contract arguments --------------------------------------------------------------------


def _contract_leaves(max_str: int) -> st.SearchStrategy[ContractValue]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=MIN_BIGINT, max_value=MAX_UINT64),
        st.text(max_size=max_str),
    )


def _contract_value(depth: int, max_items: int, max_str: int) -> st.SearchStrategy[ContractValue]:
    leaves = _contract_leaves(max_str)
    if depth <= 0:
        return leaves
    inner = _contract_value(depth - 1, max_items, max_str)
    return st.one_of(leaves, st.lists(inner, max_size=max_items).map(tuple))


def contract_args(
    *, max_depth: int = 2, max_items: int = 4, max_str: int = 16
) -> st.SearchStrategy[tuple[ContractValue, ...]]:
    """Contract arguments: null, booleans, integers, strings and nested arrays.

    `max_depth` counts nested arrays below the top-level one; the codec allows up to
    MAX_ARGS_DEPTH - 1.
    """
    if not 0 <= max_depth < MAX_ARGS_DEPTH:
        raise ValueError(f"max_depth must be in [0, {MAX_ARGS_DEPTH - 1}]")
    return st.lists(_contract_value(max_depth, max_items, max_str), max_size=max_items).map(tuple)


# -- assets --------------------------------------------------------------------------------


def transfer_assets() -> st.SearchStrategy[TransferAsset]:
    return st.builds(TransferAsset, st.binary(max_size=MAX_TRANSFER_DATA))


def second_signature_assets() -> st.SearchStrategy[SecondSignatureAsset]:
    return st.builds(SecondSignatureAsset, public_keys())


def delegate_assets() -> st.SearchStrategy[DelegateAsset]:
    return st.builds(
        DelegateAsset, usernames(), _nonzero(BRIDGE_ADDRESS_LEN), _fixed_bytes(FINGERPRINT_LEN)
    )


@st.composite
def vote_assets(draw: st.DrawFn, max_votes: int = MAX_VOTES_PER_TX) -> VoteAsset:
    keys = draw(st.lists(public_keys(), min_size=1, max_size=max_votes, unique=True))
    signs = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    votes = ",".join(("+" if add else "-") + k.hex() for add, k in zip(signs, keys, strict=True))
    return VoteAsset(votes)


@st.composite
def multisignature_assets(
    draw: st.DrawFn, max_keys: int = MAX_MULTISIG_KEYS
) -> MultisignatureAsset:
    keys = draw(st.lists(public_keys(), min_size=1, max_size=max_keys, unique=True))
    minimum = draw(st.integers(min_value=1, max_value=len(keys)))
    lifetime = draw(st.integers(min_value=1, max_value=MAX_MULTISIG_LIFETIME_HOURS))
    return MultisignatureAsset(minimum, lifetime, tuple(keys))


def contract_names() -> st.SearchStrategy[str]:
    return st.text(alphabet=_CONTRACT_NAME_ALPHABET, min_size=1, max_size=MAX_CONTRACT_NAME)


def method_names() -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(_METHOD_FIRST),
        st.text(alphabet=_METHOD_REST, max_size=MAX_METHOD_NAME - 1),
    )


def contract_deploy_assets(*, max_code: int = 200) -> st.SearchStrategy[ContractDeployAsset]:
    # st.text never draws lone surrogates, so the code always encodes as UTF-8.
    return st.builds(
        ContractDeployAsset,
        contract_names(),
        st.text(min_size=1, max_size=max_code),
        contract_args(),
    )


def in_transfer_assets() -> st.SearchStrategy[InTransferAsset]:
    return st.builds(
        InTransferAsset,
        st.integers(min_value=1, max_value=MAX_UINT64),
        _fixed_bytes(BRIDGE_ADDRESS_LEN),
        st.integers(min_value=0, max_value=MAX_UINT64),
        hashes(),
    )


def out_transfer_assets() -> st.SearchStrategy[OutTransferAsset]:
    return st.builds(OutTransferAsset, _nonzero(BRIDGE_ADDRESS_LEN))


def contract_call_assets() -> st.SearchStrategy[ContractCallAsset]:
    return st.builds(
        ContractCallAsset,
        addresses(),
        method_names(),
        contract_args(),
        st.integers(min_value=1, max_value=MAX_GAS_LIMIT),
    )


def governance_assets() -> st.SearchStrategy[GovernanceAsset]:
    account = st.builds(
        GovernanceAsset, st.sampled_from(GOVERNANCE_ACTIONS), st.just("account"), addresses()
    )
    node = st.builds(
        GovernanceAsset,
        st.sampled_from(GOVERNANCE_ACTIONS),
        st.just("node"),
        st.text(alphabet=_HEX, min_size=64, max_size=64),
    )
    return st.one_of(account, node)


_ASSET_STRATEGIES: dict[int, Any] = {
    TxType.TRANSFER: transfer_assets,
    TxType.SECOND_SIGNATURE: second_signature_assets,
    TxType.DELEGATE: delegate_assets,
    TxType.VOTE: vote_assets,
    TxType.MULTISIGNATURE: multisignature_assets,
    TxType.CONTRACT_DEPLOY: contract_deploy_assets,
    TxType.IN_TRANSFER: in_transfer_assets,
    TxType.OUT_TRANSFER: out_transfer_assets,
    TxType.CONTRACT_CALL: contract_call_assets,
    TxType.GOVERNANCE: governance_assets,
    TxType.EVIDENCE: lambda: st.builds(
        EvidenceAsset,
        st.sampled_from(["double-block", "double-vote"]),
        st.binary(min_size=1, max_size=64),
        st.binary(min_size=65, max_size=128),
    ),
    **CARBON_ASSET_STRATEGIES,
}


def assets(tx_type: int | None = None) -> st.SearchStrategy[Asset]:
    """A valid asset of `tx_type`, or of any type when None."""
    if tx_type is None:
        return tx_types().flatmap(assets)
    strategy: st.SearchStrategy[Asset] = _ASSET_STRATEGIES[tx_type]()
    return strategy


# -- transactions --------------------------------------------------------------------------


@st.composite
def tx_bodies(
    draw: st.DrawFn,
    *,
    tx_type: int | None = None,
    sender: KeyPair | None = None,
    max_amount: int = MAX_BIGINT,
    max_fee: int = MAX_BIGINT,
) -> TxBody:
    """A valid unsigned body; the sender key is drawn unless given."""
    kind = draw(tx_types()) if tx_type is None else tx_type
    key = sender if sender is not None else draw(key_pairs())
    recipient = draw(addresses()) if kind in _RECIPIENT_REQUIRED else None
    if kind in _AMOUNT_ALLOWED:
        lo = 1 if kind in _AMOUNT_POSITIVE else 0
        amount = draw(st.integers(min_value=lo, max_value=max(lo, max_amount)))
    else:
        amount = 0
    return TxBody(
        type=kind,
        timestamp=draw(st.integers(min_value=0, max_value=MAX_TIMESTAMP)),
        sender_public_key=key.public_key,
        recipient_id=recipient,
        amount=amount,
        fee=draw(st.integers(min_value=0, max_value=max_fee)),
        asset=draw(assets(kind)),
    )


@st.composite
def cosignatures(
    draw: st.DrawFn, message: bytes, *, min_size: int = 0, max_size: int = 3
) -> tuple[CoSignature, ...]:
    """Real co-signatures of `message` by distinct drawn keys, sorted by public key."""
    keys = draw(
        st.lists(
            key_pairs(),
            min_size=min_size,
            max_size=max_size,
            unique_by=lambda k: k.public_key,
        )
    )
    return tuple(sorted(CoSignature(k.public_key, k.sign(message)) for k in keys))


@st.composite
def transactions(
    draw: st.DrawFn,
    network_id: bytes = TEST_NETWORK_ID,
    *,
    tx_type: int | None = None,
    max_cosignatures: int = 3,
    max_amount: int = MAX_BIGINT,
    max_fee: int = MAX_BIGINT,
) -> Transaction:
    """A transaction signed for `network_id` with real keys: optional second signature and
    optional co-signatures (at most `max_cosignatures`, never above the type's limit)."""
    key = draw(key_pairs())
    body = draw(tx_bodies(tx_type=tx_type, sender=key, max_amount=max_amount, max_fee=max_fee))
    second = draw(st.none() | key_pairs())
    tx = body.sign(key, network_id, second_key=second)
    limit = min(max_cosignatures, MAX_COSIGNATURES)
    if body.type not in (TxType.MULTISIGNATURE, TxType.IN_TRANSFER):
        limit = min(limit, MAX_MULTISIG_KEYS)
    cosigs = draw(cosignatures(body.signing_bytes(network_id), max_size=limit))
    return Transaction(tx.body, tx.signature, tx.sign_signature, cosigs)


# -- blocks --------------------------------------------------------------------------------


@st.composite
def attestations(draw: st.DrawFn, *, max_votes: int = 4) -> Attestation:
    """An attestation with 1..max_votes votes sorted by key (vote bytes are opaque here)."""
    keys = draw(st.lists(public_keys(), min_size=1, max_size=max_votes, unique=True))
    votes = tuple(CoSignature(k, draw(signature_bytes())) for k in sorted(keys))
    target = draw(st.integers(min_value=0, max_value=MAX_HEIGHT))
    return Attestation(
        source_height=draw(st.integers(min_value=0, max_value=target)),
        source_hash=draw(hashes()),
        target_height=target,
        target_hash=draw(hashes()),
        votes=votes,
    )


@st.composite
def block_headers(
    draw: st.DrawFn,
    network_id: bytes = TEST_NETWORK_ID,
    *,
    payload: bytes | None = None,
    number_of_transactions: int | None = None,
    total_amount: int | None = None,
    total_fee: int | None = None,
    max_attestation_votes: int = 4,
) -> BlockHeader:
    """A header signed by a drawn generator key; the payload fields are drawn unless given."""
    key = draw(key_pairs())
    header = BlockHeader(
        version=draw(st.integers(min_value=0, max_value=255)),
        height=draw(st.integers(min_value=0, max_value=MAX_HEIGHT)),
        previous_block_hash=draw(hashes()),
        timestamp_ms=draw(st.integers(min_value=0, max_value=MAX_TIMESTAMP_MS)),
        generator_public_key=key.public_key,
        payload_hash=draw(hashes()) if payload is None else payload,
        number_of_transactions=(
            draw(st.integers(min_value=0, max_value=MAX_BLOCK_TRANSACTIONS))
            if number_of_transactions is None
            else number_of_transactions
        ),
        total_amount=draw(_bigints()) if total_amount is None else total_amount,
        total_fee=draw(_bigints()) if total_fee is None else total_fee,
        reward=draw(_bigints()),
        state_root=draw(hashes()),
        withdrawal_root=draw(hashes()),
        attestation=draw(st.none() | attestations(max_votes=max_attestation_votes)),
        retirement_root=draw(hashes()),
    )
    return header.signed(key, network_id)


@st.composite
def blocks(
    draw: st.DrawFn,
    network_id: bytes = TEST_NETWORK_ID,
    *,
    max_transactions: int = 3,
) -> Block:
    """A block whose header agrees with its transactions (payloadHash, count, totals)."""
    share = MAX_BIGINT // max(1, max_transactions)
    txs = tuple(
        draw(
            st.lists(
                transactions(network_id, max_amount=share, max_fee=share),
                max_size=max_transactions,
            )
        )
    )
    header = draw(
        block_headers(
            network_id,
            payload=payload_hash(txs),
            number_of_transactions=len(txs),
            total_amount=sum(tx.body.amount for tx in txs),
            total_fee=sum(tx.body.fee for tx in txs),
        )
    )
    return Block(header, txs)


# -- state records -------------------------------------------------------------------------


@st.composite
def multisig_groups(draw: st.DrawFn) -> MultisigGroup:
    asset = draw(multisignature_assets())
    return MultisigGroup(asset.min, asset.lifetime, asset.keysgroup)


@st.composite
def accounts(draw: st.DrawFn, *, max_votes: int = 5) -> Account:
    return Account(
        balance=draw(_bigints()),
        public_key=draw(st.none() | public_keys()),
        second_public_key=draw(st.none() | public_keys()),
        multisignature=draw(st.none() | multisig_groups()),
        votes=tuple(draw(st.lists(public_keys(), max_size=max_votes, unique=True))),
        locked=draw(st.booleans()),
    )


def delegate_records() -> st.SearchStrategy[DelegateRecord]:
    return st.builds(
        DelegateRecord,
        public_key=public_keys(),
        username=usernames(),
        bridge_address=_nonzero(BRIDGE_ADDRESS_LEN),
        cert_fingerprint=_fixed_bytes(FINGERPRINT_LEN),
        vote_weight=_bigints(),
        registered_height=_bigints(),
    )
