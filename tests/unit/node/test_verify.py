"""Batched verification: groups (a credit's attestations) stop at their first bad signature,
on one thread or spread over several, and answer in order."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.node.verify import Item, SignatureVerifier, attestation_check, attestation_items
from ccoin.testing import factories as f
from ccoin.types.transaction import CoSignature

NID = b"n" * 32
NET = f.make_testnet(accounts=2, delegates=3)


def items(good: int, bad_at: int | None = None) -> list[Item]:
    message = b"m%d" % good
    out = [(k.public_key, message, k.sign(message)) for k in NET.delegates[:good]]
    if bad_at is not None:
        pk, msg, _sig = out[bad_at]
        out[bad_at] = (pk, msg, bytes(64))
    return out


@pytest.mark.parametrize(("threads", "processes"), [(1, False), (2, False), (2, True)])
def test_each_group_stops_at_its_first_bad_signature(threads: int, processes: bool) -> None:
    verifier = SignatureVerifier(threads, processes=processes, min_chunk=1)
    try:
        groups = [items(3), items(3, bad_at=0), items(3, bad_at=1), [], items(2)]
        assert verifier.verify_groups(groups) == [
            [True, True, True],
            [False],
            [True, False],
            [],
            [True, True],
        ]
    finally:
        verifier.close()


def test_an_attestation_not_in_the_results_is_verified_on_the_spot() -> None:
    tx = f.deposit(NET.accounts[0], NET.accounts[1].address, 1, 1, NID, NET.delegates[:2])
    group = attestation_items(tx, NID)
    valid = attestation_check(tx, NID, group, [True])  # only the first was verified
    assert [valid(c) for c in tx.signatures] == [True, True]
    forged = dataclasses.replace(tx.signatures[1], signature=bytes(64))
    assert isinstance(forged, CoSignature) and not valid(forged)


def test_worker_processes_answer_a_batch_in_order() -> None:
    verifier = SignatureVerifier(2, processes=True, min_chunk=1)
    try:
        verifier.warm_up()
        batch = items(3, bad_at=1) + items(2) + items(3, bad_at=2)
        assert verifier.verify_batch(batch) == [True, False, True, True, True, True, True, False]
        assert verifier.verify_batch([]) == []
    finally:
        verifier.close()
