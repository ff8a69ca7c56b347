"""Wire forms, continued: JSON round trips and mismatches, the signing bytes, hash and id
laid out by hand, co-signatures, addresses and their checksums, Merkle roots against the
RFC 6962 reference, surrogates, and constructors that check like decoding."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import base58
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccoin.crypto.address import (
    address_from_public_key,
    address_raw,
    address_raw_from_public_key,
    id_from_hash,
    id_raw,
)
from ccoin.crypto.keys import KeyPair, verify
from ccoin.errors import CcoinError, ErrorCode
from ccoin.testing import strategies as S
from ccoin.types.assets import (
    MAX_CONTRACT_ASSET_BYTES,
    MAX_MULTISIG_KEYS,
    ContractCallAsset,
    ContractDeployAsset,
    DelegateAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
    asset_from_array,
)
from ccoin.types.block import payload_hash
from ccoin.types.codec import packb, unpack_canonical
from ccoin.types.merkle import EMPTY_ROOT, leaf_hash, merkle_root, merkle_root_recursive
from ccoin.types.transaction import (
    MAX_TX_BYTES,
    CoSignature,
    Transaction,
    TxBody,
)
from tests.unit.types.wire_support import (
    NID,
    OTHER_NID,
    _mp,
    _Raw,
)

TX_JSON_FIELDS = {
    "id",
    "type",
    "timestamp",
    "senderId",
    "recipientId",
    "amount",
    "fee",
    "signature",
    "signSignature",
    "signatures",
    "senderPublicKey",
    "asset",
}


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_transaction_json_roundtrip(data: st.DataObject) -> None:
    nid = data.draw(S.network_ids(), label="network id")
    tx = data.draw(S.transactions(nid), label="tx")
    obj = tx.to_json(nid)
    assert set(obj) == TX_JSON_FIELDS
    text = json.dumps(obj)
    again = Transaction.from_json(json.loads(text), nid)
    assert again == tx
    assert again.encode() == tx.encode()
    with_block = tx.to_json(nid, block_id="1111")
    assert set(with_block) == TX_JSON_FIELDS | {"blockId"}
    assert Transaction.from_json(with_block, nid) == tx
    # Without the derived fields it parses to the same transaction.
    bare = {k: v for k, v in obj.items() if k not in ("id", "senderId")}
    assert Transaction.from_json(bare, nid) == tx


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_transaction_json_rejects_mismatches(data: st.DataObject) -> None:
    tx = data.draw(S.transactions(), label="tx")
    obj = tx.to_json(NID)

    other_id = data.draw(st.binary(min_size=14, max_size=14).map(id_from_hash))
    if other_id != obj["id"]:
        with pytest.raises(CcoinError) as info:
            Transaction.from_json({**obj, "id": other_id}, NID)
        assert info.value.code is ErrorCode.BAD_ID
    # The right id for another network is the wrong id here.
    with pytest.raises(CcoinError) as info:
        Transaction.from_json(obj, OTHER_NID)
    assert info.value.code is ErrorCode.BAD_ID

    other_sender = data.draw(S.addresses().filter(lambda a: a != obj["senderId"]))
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, "senderId": other_sender}, NID)
    assert info.value.code is ErrorCode.BAD_ADDRESS

    unknown = data.draw(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in obj and k not in obj["asset"])
    )
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, unknown: None}, NID)
    assert info.value.code is ErrorCode.BAD_JSON
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, "asset": {**obj["asset"], unknown: None}}, NID)
    assert info.value.code is ErrorCode.BAD_JSON


# -- signing bytes, hash, id ---------------------------------------------------------------

SENDER = KeyPair(bytes(range(32)))
SECOND = KeyPair(bytes(range(1, 33)))
COSIGNERS = [KeyPair(bytes([200 + i]) * 32) for i in range(3)]
RECIPIENT = address_from_public_key(bytes(32))


def _transfer_body() -> TxBody:
    return TxBody(
        type=TxType.TRANSFER,
        timestamp=1000,
        sender_public_key=SENDER.public_key,
        recipient_id=RECIPIENT,
        amount=300,
        fee=10,
        asset=TransferAsset(b"hi"),
    )


def test_signing_bytes_layout_by_hand() -> None:
    body = _transfer_body()
    recipient = RECIPIENT.encode()
    expected = (
        b"\x99"  # array of 9
        + b"\xa8CCOIN-TX"
        + b"\xc4\x20"
        + NID
        + b"\x00"  # type
        + b"\xcd\x03\xe8"  # timestamp 1000
        + b"\xc4\x20"
        + SENDER.public_key
        + bytes([0xA0 | len(recipient)])
        + recipient
        + b"\xcd\x01\x2c"  # amount 300
        + b"\x0a"  # fee 10
        + b"\x91\xc4\x02hi"  # asset [data]
    )
    assert body.signing_bytes(NID) == expected
    assert expected == packb(
        ["CCOIN-TX", NID, 0, 1000, SENDER.public_key, RECIPIENT, 300, 10, [b"hi"]]
    )
    # No recipient: nil in its place.
    vote = TxBody(3, 0, SENDER.public_key, None, 0, 0, VoteAsset("+" + "ab" * 32))
    assert vote.signing_bytes(NID) == packb(
        ["CCOIN-TX", NID, 3, 0, SENDER.public_key, None, 0, 0, ["+" + "ab" * 32]]
    )
    prefix = b"\x99\xa8CCOIN-TX\xc4\x20" + NID + b"\x03\x00\xc4\x20" + SENDER.public_key
    # recipientId nil, amount 0, fee 0, asset [str8 of 65 characters]
    assert vote.signing_bytes(NID) == prefix + b"\xc0\x00\x00\x91\xd9\x41+" + b"ab" * 32


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_signing_bytes_hash_and_id(data: st.DataObject) -> None:
    nid = data.draw(S.network_ids(), label="network id")
    tx = data.draw(S.transactions(nid), label="tx")
    body = tx.body
    message = packb(
        [
            "CCOIN-TX",
            nid,
            body.type,
            body.timestamp,
            body.sender_public_key,
            body.recipient_id,
            body.amount,
            body.fee,
            body.asset.to_array(),
        ]
    )
    assert body.signing_bytes(nid) == message
    assert verify(body.sender_public_key, message, tx.signature)
    for cosig in tx.signatures:
        assert verify(cosig.public_key, message, cosig.signature)
    expected = hashlib.sha256(message + tx.signature + (tx.sign_signature or b"")).digest()
    assert tx.hash(nid) == expected
    tx_id = tx.id(nid)
    assert tx_id == base58.b58encode(expected[:14]).decode()
    assert 1 <= len(tx_id) <= 20
    assert id_raw(tx_id) == expected[:14]
    # Cached digests are per network id.
    assert tx.hash(OTHER_NID if nid != OTHER_NID else NID) != expected


def test_hash_covers_both_signatures() -> None:
    body = _transfer_body()
    one = body.sign(SENDER, NID)
    two = body.sign(SENDER, NID, second_key=SECOND)
    assert two.sign_signature is not None
    message = body.signing_bytes(NID)
    assert verify(SECOND.public_key, message + two.signature, two.sign_signature)
    assert one.hash(NID) == hashlib.sha256(message + one.signature).digest()
    assert two.hash(NID) == hashlib.sha256(message + two.signature + two.sign_signature).digest()
    assert one.hash(NID) != two.hash(NID)
    assert one.id(NID) == id_from_hash(one.hash(NID))
    assert len(one.id(NID)) <= 20


def test_cosignatures_do_not_change_hash_or_id() -> None:
    tx = _transfer_body().sign(SENDER, NID, second_key=SECOND)
    cosigned = tx
    for key in COSIGNERS:
        cosigned = cosigned.cosign(key, NID)
        assert cosigned.hash(NID) == tx.hash(NID)
        assert cosigned.id(NID) == tx.id(NID)
    assert len(cosigned.signatures) == 3
    keys = [c.public_key for c in cosigned.signatures]
    assert keys == sorted(keys)
    assert cosigned.encode() != tx.encode()
    # Re-adding a signer's co-signature keeps one entry per key.
    assert cosigned.cosign(COSIGNERS[0], NID).signatures == cosigned.signatures


def test_unsorted_or_duplicate_cosignatures_rejected() -> None:
    tx = _transfer_body().sign(SENDER, NID)
    message = tx.body.signing_bytes(NID)
    sigs = sorted(CoSignature(k.public_key, k.sign(message)) for k in COSIGNERS)
    for bad in (sigs[::-1], [sigs[0], sigs[0]]):
        tree = msgpack.unpackb(tx.encode(), raw=False)
        tree[9] = [[c.public_key, c.signature] for c in bad]
        with pytest.raises(CcoinError) as info:
            Transaction.decode(_mp(tree))
        assert info.value.code is ErrorCode.NON_CANONICAL


def test_largest_contract_asset_fits_in_a_transaction() -> None:
    """A contract asset is capped (MAX_CONTRACT_ASSET_BYTES) so that every valid transaction,
    with the most co-signatures, encodes under MAX_TX_BYTES; one byte more is refused when
    the asset is built, not later when the bytes fail to decode."""
    args = tuple("a" * 4096 for _ in range(4))

    def asset(code_len: int) -> ContractDeployAsset:
        return ContractDeployAsset("big", "c" * code_len, args)

    probe = len(packb(asset(40_000).to_array()))
    largest = asset(40_000 + MAX_CONTRACT_ASSET_BYTES - probe)
    assert len(packb(largest.to_array())) == MAX_CONTRACT_ASSET_BYTES
    tx = TxBody(5, 0, SENDER.public_key, None, 0, 0, largest).sign(SENDER, NID)
    for i in range(MAX_MULTISIG_KEYS):
        tx = tx.cosign(KeyPair(bytes([i + 1]) * 32), NID)
    assert len(tx.encode()) < MAX_TX_BYTES
    assert Transaction.decode(tx.encode()) == tx
    with pytest.raises(CcoinError) as info:
        asset(40_001 + MAX_CONTRACT_ASSET_BYTES - probe)
    assert info.value.code is ErrorCode.TX_BAD_ASSET


# -- addresses -----------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(public_key=S.public_keys())
def test_address_form(public_key: bytes) -> None:
    address = address_from_public_key(public_key)
    assert address.startswith("C")
    assert 2 <= len(address) <= 21
    raw = address_raw(address)
    assert raw == address_raw_from_public_key(public_key)
    assert raw[:12] == hashlib.sha256(public_key).digest()[:12]
    assert raw[12:] == hashlib.sha256(raw[:12]).digest()[:2]


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def test_address_typo_rejected() -> None:
    # Deterministic: a 16-bit checksum lets about 1 in 65536 random typos through, so the
    # sample is fixed (and checked once) rather than drawn anew on every run.
    for i in range(12):
        address = address_from_public_key(hashlib.sha256(b"typo%d" % i).digest())
        for pos in range(1, len(address)):
            for shift in (1, 17, 40):
                char = _B58[(_B58.index(address[pos]) + shift) % 58]
                typo = address[:pos] + char + address[pos + 1 :]
                with pytest.raises(CcoinError) as info:
                    address_raw(typo)
                assert info.value.code is ErrorCode.BAD_ADDRESS, typo
    good = address_from_public_key(bytes(32))
    for bad in ("c" + good[1:], "D" + good[1:], good + "1", good[:-1], good[:5] + "0" + good[6:]):
        with pytest.raises(CcoinError) as info:
            address_raw(bad)
        assert info.value.code is ErrorCode.BAD_ADDRESS


def test_transaction_with_bad_recipient_rejected() -> None:
    tx = _transfer_body().sign(SENDER, NID)
    tree = msgpack.unpackb(tx.encode(), raw=False)
    tree[3] = RECIPIENT[:-1] + ("2" if RECIPIENT[-1] != "2" else "3")
    with pytest.raises(CcoinError) as info:
        Transaction.decode(_mp(tree))
    assert info.value.code is ErrorCode.BAD_ADDRESS


# -- Merkle root and payloadHash -----------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(leaves=st.lists(st.binary(max_size=40), max_size=70))
def test_merkle_root_matches_rfc6962_reference(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == merkle_root_recursive(leaves)


def test_merkle_root_small_cases() -> None:
    assert merkle_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert merkle_root([b"a"]) == leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle_root([b"a", b"b"]) == ab
    assert merkle_root([b"a", b"b", b"c"]) == hashlib.sha256(b"\x01" + ab + c).digest()
    # Leaf and inner-node prefixes differ: an inner node is not a leaf.
    assert merkle_root([a + b]) != merkle_root([b"a", b"b"])
    sizes = range(1, 40)
    for n in sizes:
        leaves = [bytes([i]) for i in range(n)]
        assert merkle_root(leaves) == merkle_root_recursive(leaves)


def test_payload_hash_commits_to_cosignatures() -> None:
    plain = _transfer_body().sign(SENDER, NID)
    first = plain.cosign(COSIGNERS[0], NID)
    other = plain.cosign(COSIGNERS[1], NID)
    more = first.cosign(COSIGNERS[1], NID)
    assert first.id(NID) == other.id(NID) == more.id(NID) == plain.id(NID)
    roots = {payload_hash([tx]) for tx in (plain, first, other, more)}
    assert len(roots) == 4
    # A co-signature with a different signature value also changes the root.
    cosig = first.signatures[0]
    forged = replace(first, signatures=(CoSignature(cosig.public_key, bytes(64)),))
    assert payload_hash([forged]) != payload_hash([first])
    assert payload_hash([plain, first]) != payload_hash([first, plain])
    assert payload_hash([plain]) == merkle_root([plain.encode()])


@pytest.mark.parametrize(
    "obj",
    [
        {"type": 5, "asset": {"name": "x", "code": "\ud800"}},
        {"type": 5, "asset": {"name": "x", "code": "c", "initArgs": ["\udfff"]}},
    ],
)
def test_json_lone_surrogate_rejected(obj: dict[str, Any]) -> None:
    body = {
        "timestamp": 0,
        "senderPublicKey": SENDER.public_key.hex(),
        "amount": "0",
        "fee": "0",
        "signature": "00" * 64,
        **obj,
    }
    text = json.dumps(body)  # escapes the surrogate as \ud800, as an RPC client may
    with pytest.raises(CcoinError) as info:
        Transaction.from_json(json.loads(text), NID)
    assert info.value.code is ErrorCode.BAD_FIELD
    # In bytes, a surrogate's UTF-8-like encoding is not UTF-8: msgpack refuses it.
    raw = b"\xed\xa0\x80"
    data = _mp(["x", _Raw(bytes([0xA0 | len(raw)]) + raw), [], None])
    with pytest.raises(CcoinError) as info:
        asset_from_array(5, unpack_canonical(data, max_size=MAX_TX_BYTES, what="asset"))
    assert info.value.code is ErrorCode.DECODE_ERROR


def test_constructed_values_are_checked() -> None:
    """Constructors run the same checks as decoding (spot checks of the strategies' rules)."""
    pk = SENDER.public_key
    cases: list[Callable[[], object]] = [
        lambda: TxBody(0, 0, pk, None, 1, 0, TransferAsset()),  # recipient required
        lambda: TxBody(1, 0, pk, RECIPIENT, 0, 0, SecondSignatureAsset(pk)),  # forbidden
        lambda: TxBody(1, 0, pk, None, 1, 0, SecondSignatureAsset(pk)),  # amount must be 0
        # A bridge transfer moves amount > 0.
        lambda: TxBody(7, 0, pk, None, 0, 0, OutTransferAsset(b"\x01" * 20)),
        lambda: TxBody(0, -1, pk, RECIPIENT, 0, 0, TransferAsset()),
        lambda: TxBody(0, 0, pk, RECIPIENT, 2**63, 0, TransferAsset()),
        lambda: TxBody(0, 0, pk, RECIPIENT, 0, 0, SecondSignatureAsset(pk)),  # wrong asset
        lambda: TxBody(10, 0, pk, None, 0, 0, TransferAsset()),  # unknown type
        lambda: MultisignatureAsset(2, 1, (pk,)),
        lambda: DelegateAsset("a" * 21, b"\x01" * 20, bytes(32)),
        lambda: ContractCallAsset("C" + "1" * 19, "m", (), 1),
    ]
    for case in cases:
        with pytest.raises(CcoinError):
            case()


# -- regressions ------------------------------------------------------------------------------


def test_txbody_rejects_bool_type() -> None:
    with pytest.raises(CcoinError):
        asset = SecondSignatureAsset(bytes(32))
        TxBody(True, 0, SENDER.public_key, None, 0, 0, asset)
