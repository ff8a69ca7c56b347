"""The committed carbon record vectors, checked from their published fields alone and
against a fresh run of the generator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ccoin.testing import carbon_vectors
from ccoin.types.merkle import verify_inclusion

PATH = Path(__file__).resolve().parents[4] / "docs" / "spec" / "vectors" / "carbon.json"


def test_the_committed_file_matches_a_fresh_run() -> None:
    assert PATH.read_text(encoding="utf-8") == carbon_vectors.render(), (
        "docs/spec/vectors/carbon.json is stale: regenerate it with "
        "`python -m ccoin.testing.carbon_vectors --out docs/spec/vectors/carbon.json`"
    )


def test_each_vector_checks_from_its_published_fields() -> None:
    data = json.loads(PATH.read_text(encoding="utf-8"))
    leaves = []
    for entry in data["records"]:
        canonical = bytes.fromhex(entry["canonicalBytes"])
        assert hashlib.sha256(canonical).hexdigest() == entry["recordHash"]
        record = entry["record"]
        leaf = (
            bytes.fromhex(record["retirementHash"])
            + bytes.fromhex(entry["recordHash"])
            + int(record["quantity"]).to_bytes(8, "big")
        )
        assert leaf.hex() == entry["leaf"] and len(leaf) == 72
        assert record["beneficiary"].encode("utf-8") in canonical  # UTF-8, as msgpack str
        leaves.append(leaf)
    index = data["leafIndex"]
    path = [bytes.fromhex(p) for p in data["leafPath"]]
    root = bytes.fromhex(data["retirementRoot"])
    assert verify_inclusion(leaves[index], index, len(leaves), path, root)
    assert not verify_inclusion(leaves[0], index, len(leaves), path, root)
