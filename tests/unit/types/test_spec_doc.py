"""`docs/spec/transactions.md` must not fall behind the code it documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccoin.errors import ErrorCode
from ccoin.testing.vectors import NETWORK_ID

SPEC = Path(__file__).resolve().parents[3] / "docs" / "spec" / "transactions.md"
TEXT = SPEC.read_text(encoding="utf-8")


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_error_code_is_in_the_table(code: ErrorCode) -> None:
    row = f"| `{code.name}` | {code.number} | {code.description} |"
    assert row in TEXT, f"add this row to the error table of {SPEC.name}: {row}"


def test_no_stale_error_codes_in_the_table() -> None:
    names = set(re.findall(r"^\| `([A-Z0-9_]+)` \| -?\d+ \|", TEXT, flags=re.MULTILINE))
    assert names == {c.name for c in ErrorCode}


def test_network_id_of_the_vectors_is_documented() -> None:
    assert NETWORK_ID.hex() in TEXT
