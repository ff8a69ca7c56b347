"""Signature ordering for the Anchor contract: strictly increasing signer, one each."""

from __future__ import annotations

from ccoin.bridge.digests import ordered, sorted_members


def test_signatures_are_ordered_by_signer_and_deduplicated() -> None:
    a, b, c = "0x" + "0a" * 20, "0x" + "0B" * 20, "0x" + "ff" * 20
    assert ordered([(c, b"3"), (a, b"1"), (b, b"2"), (a, b"1")]) == [b"1", b"2", b"3"]
    assert sorted_members([c, a, b, a]) == [a, b, c]
