"""Carbon record vectors (`docs/spec/vectors/carbon.json`): retirement records, their
canonical bytes, record hashes and leaves, and a block's retirementRoot with an audit path,
for an implementation in another language (and the BSC RetirementRegistry) to check.

    python -m ccoin.testing.carbon_vectors --out docs/spec/vectors/carbon.json
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ccoin.modules.carbon.records import RetirementRecord
from ccoin.testing.factories import key
from ccoin.testing.vectors import write_vectors
from ccoin.types.codec import packb
from ccoin.types.merkle import inclusion_proof, merkle_root


def records() -> list[RetirementRecord]:
    alice, bob = key("alice").address, key("bob").address
    return [
        RetirementRecord(
            hashlib.sha256(f"ccoin-test-vectors:retirement-{i}".encode()).digest(),
            holder,
            "VCS-1234-001",
            ranges,
            sum(last - first + 1 for first, last in ranges),
            beneficiary,
            jurisdiction,
            reason,
            1_000 + i,
        )
        for i, (holder, ranges, beneficiary, jurisdiction, reason) in enumerate(
            [
                (alice, ((1, 40),), "Acme Ltd", "GB-LND", "2025 operational emissions"),
                (bob, ((41, 41), (100, 199)), "Zürich Versicherung AG", "CH-ZH", ""),
                (bob, ((5_000_000, 14_999_999),), "市政府", "CN-11", "碳中和 2030"),
            ]
        )
    ]


def generate() -> dict[str, Any]:
    recs = records()
    leaves = [r.leaf() for r in recs]
    return {
        "description": "retirement records: canonical bytes = packb(record array), recordHash "
        "= SHA-256(canonical bytes), leaf = retirementId || recordHash || quantity (u64 "
        "big-endian); retirementRoot over the three leaves (RFC 6962 shape, ccoin.types."
        "merkle); leafPath proves leaf 1",
        "records": [
            {
                "record": r.to_json(),
                "canonicalBytes": packb(r.to_array()).hex(),
                "recordHash": r.record_hash().hex(),
                "leaf": r.leaf().hex(),
            }
            for r in recs
        ],
        "retirementRoot": merkle_root(leaves).hex(),
        "leafIndex": 1,
        "leafPath": [p.hex() for p in inclusion_proof(leaves, 1)],
    }


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return write_vectors(
        "python -m ccoin.testing.carbon_vectors",
        "Print the carbon record vectors as JSON.",
        render,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
