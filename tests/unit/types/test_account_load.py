"""`Account.load` (the trusted hot-path read of the node's own records) agrees with the
validating `decode` on every valid record."""

from __future__ import annotations

from hypothesis import given, settings

from ccoin.testing import strategies as S
from ccoin.types.account import Account


@settings(max_examples=100, deadline=None)
@given(S.accounts())
def test_load_equals_decode(account: Account) -> None:
    data = account.encode()
    assert Account.load(data) == Account.decode(data) == account
    assert Account.load(data).encode() == data
