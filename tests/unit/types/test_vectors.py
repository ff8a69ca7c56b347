"""The committed transaction test vectors (`docs/spec/vectors/transactions.json`).

Each vector is checked from its published fields alone (what an implementation in another
language would do), and the file as a whole against a fresh run of the generator, so the
code and the vectors cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import base58
import pytest

from ccoin.crypto.address import address_from_public_key
from ccoin.crypto.keys import verify
from ccoin.errors import DecodeError, ErrorCode
from ccoin.testing import vectors
from ccoin.types.transaction import Transaction, cosignatures_from_text

ROOT = Path(__file__).resolve().parents[3]
VECTORS_PATH = ROOT / "docs" / "spec" / "vectors" / "transactions.json"
ENTRY_FIELDS = {"description", "type", "networkId", "signingBytes", "hash", "tx", "bytes"}
OPTIONAL_FIELDS = {"secondPublicKey", "keysgroup", "min"}


def _load() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return data


ENTRIES = _load()


def _ids(entry: dict[str, Any]) -> str:
    return f"type{entry['type']}-{entry['tx']['id']}"


def test_committed_file_matches_a_fresh_run() -> None:
    assert VECTORS_PATH.read_text(encoding="utf-8") == vectors.render(), (
        "docs/spec/vectors/transactions.json is stale: regenerate it with "
        "`python -m ccoin.testing.vectors --out docs/spec/vectors/transactions.json`"
    )


def test_network_id_is_the_fixed_one() -> None:
    assert hashlib.sha256(b"ccoin-test-vectors").digest() == vectors.NETWORK_ID
    assert {e["networkId"] for e in ENTRIES} == {vectors.NETWORK_ID.hex()}


def test_coverage() -> None:
    assert {e["type"] for e in ENTRIES} == set(range(10)) | set(range(11, 17))
    assert any(e["tx"]["signSignature"] for e in ENTRIES)
    assert any(e["type"] == 0 and e["tx"]["signatures"] for e in ENTRIES)
    transfers = [e for e in ENTRIES if e["type"] == 0]
    assert any("data" in e["tx"]["asset"] for e in transfers)
    assert any("data" not in e["tx"]["asset"] for e in transfers)
    votes = next(e for e in ENTRIES if e["type"] == 3)["tx"]["asset"]["votes"]
    assert {v[0] for v in votes.split(",")} == {"+", "-"}
    multisig = next(e for e in ENTRIES if e["type"] == 4)["tx"]
    assert multisig["asset"]["min"] == 2 and len(multisig["asset"]["keysgroup"]) == 3
    cosigners = {c.public_key.hex() for c in cosignatures_from_text(multisig["signatures"])}
    assert cosigners == set(multisig["asset"]["keysgroup"])
    assert next(e for e in ENTRIES if e["type"] == 6)["tx"]["signatures"]
    governance = {
        (e["tx"]["asset"]["action"], e["tx"]["asset"]["kind"]) for e in ENTRIES if e["type"] == 9
    }
    assert {("admit", "account"), ("revoke", "node")} <= governance


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_vector(entry: dict[str, Any]) -> None:
    assert ENTRY_FIELDS <= set(entry) <= ENTRY_FIELDS | OPTIONAL_FIELDS
    network_id = bytes.fromhex(entry["networkId"])
    message = bytes.fromhex(entry["signingBytes"])
    tx_json = entry["tx"]

    tx = Transaction.from_json(tx_json, network_id)
    assert tx.type == entry["type"] == tx_json["type"]
    assert tx.body.signing_bytes(network_id).hex() == entry["signingBytes"]

    # hash and id, recomputed from the published bytes
    sign_signature = bytes.fromhex(tx_json["signSignature"] or "")
    signature = bytes.fromhex(tx_json["signature"])
    tx_hash = hashlib.sha256(message + signature + sign_signature).digest()
    assert tx_hash.hex() == entry["hash"] == tx.hash(network_id).hex()
    tx_id = base58.b58encode(tx_hash[:14]).decode("ascii")
    assert tx_id == tx_json["id"] == tx.id(network_id)
    assert len(tx_id) <= 20

    # wire bytes both ways, and the JSON form round-trips exactly
    assert tx.encode().hex() == entry["bytes"]
    assert Transaction.decode(bytes.fromhex(entry["bytes"])) == tx
    assert tx.to_json(network_id) == tx_json

    # senderId follows from senderPublicKey
    sender_key = bytes.fromhex(tx_json["senderPublicKey"])
    assert address_from_public_key(sender_key) == tx_json["senderId"]

    # signatures
    assert verify(sender_key, message, signature)
    if tx_json["signSignature"] is None:
        assert "secondPublicKey" not in entry
    else:
        second_key = bytes.fromhex(entry["secondPublicKey"])
        assert verify(second_key, message + signature, sign_signature)
        assert not verify(second_key, message, sign_signature)
    cosigs = cosignatures_from_text(tx_json["signatures"])
    assert cosigs == tx.signatures
    for cosig in cosigs:
        assert verify(cosig.public_key, message, cosig.signature)
    if "keysgroup" in entry:
        assert {c.public_key.hex() for c in cosigs} <= set(entry["keysgroup"])
        assert len(cosigs) >= entry["min"]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_vector_rejected_on_another_network(entry: dict[str, Any]) -> None:
    """The network id is inside the signing bytes: the same JSON on another chain has
    another id, so the claimed id no longer matches."""
    other = hashlib.sha256(b"another network").digest()
    with pytest.raises(DecodeError) as info:
        Transaction.from_json(entry["tx"], other)
    assert info.value.code is ErrorCode.BAD_ID


def test_generator_writes_out_file(tmp_path: Path) -> None:
    out = tmp_path / "transactions.json"
    assert vectors.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == vectors.render()
