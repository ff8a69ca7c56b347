"""Contract values in JSON (`contract_value_json`): every value the contract encoding can
hold comes out exactly, as something any JSON parser reads without loss: safe integers
as numbers, larger ones as decimal strings, beyond 4,300 digits as "int:0x" hex (never
computing their decimal digits), bytes as 0x-hex, Decimals as strings; dicts keyed by
text; nesting as deep as msgpack allows without recursion. A receipt's values are read
(`stored_value`) without the contract runtime's limits, so every stored receipt has a JSON
form."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccoin.crypto.address import ADDRESS_RAW_LEN
from ccoin.modules.contracts.records import (
    EXT_BIG_INT,
    EXT_DECIMAL,
    MAX_DECIMAL_DIGITS,
    MAX_SAFE_JSON_INT,
    Receipt,
    contract_value_json,
    stored_value,
)
from ccoin.vm import api
from ccoin.vm.api import decode_value, encode_value

SAFE = 2**53 - 1
LONGEST_DECIMAL = 10**4300 - 1  # 4,300 nines
SHORTEST_HEX = 10**4300  # 4,301 digits


def int_back(text: Any) -> int:
    """The integer a JSON form stands for (the inverse of the documented rule)."""
    if type(text) is int:
        return text
    assert type(text) is str
    if text.startswith("int:-0x"):
        return -int(text[7:], 16)
    if text.startswith("int:0x"):
        return int(text[6:], 16)
    assert text.lstrip("-").isdigit() and not text.startswith("+")
    return int(text)


def test_the_documented_constants() -> None:
    assert MAX_SAFE_JSON_INT == SAFE == 9_007_199_254_740_991
    assert MAX_DECIMAL_DIGITS == 4300
    assert len(str(LONGEST_DECIMAL)) == 4300 and SHORTEST_HEX == LONGEST_DECIMAL + 1
    with pytest.raises(ValueError, match="4300"):  # the rule's bound is Python's own
        str(SHORTEST_HEX)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (SAFE, SAFE),
        (-SAFE, -SAFE),
        (SAFE + 1, "9007199254740992"),
        (-SAFE - 1, "-9007199254740992"),
        (1 << 100, "1267650600228229401496703205376"),
        (-(1 << 100), "-1267650600228229401496703205376"),
        (2**64, "18446744073709551616"),
    ],
)
def test_integers_are_numbers_only_while_every_parser_reads_them_exactly(
    value: int, expected: Any
) -> None:
    out = contract_value_json(value)
    assert out == expected and type(out) is type(expected)
    assert json.loads(orjson.dumps(out)) == expected


def test_integers_of_4300_digits_are_decimal_and_of_4301_hex() -> None:
    assert contract_value_json(LONGEST_DECIMAL) == "9" * 4300
    assert contract_value_json(-LONGEST_DECIMAL) == "-" + "9" * 4300
    assert contract_value_json(SHORTEST_HEX) == "int:0x" + format(SHORTEST_HEX, "x")
    assert contract_value_json(-SHORTEST_HEX) == "int:-0x" + format(SHORTEST_HEX, "x")
    for value in (LONGEST_DECIMAL, -LONGEST_DECIMAL, SHORTEST_HEX, -SHORTEST_HEX):
        assert int_back(contract_value_json(value)) == value


def test_a_huge_integer_is_never_turned_into_decimal_digits() -> None:
    # str() of it would raise (Python's 4,300-digit limit) and take quadratic time.
    huge = -(1 << 3_400_000)  # over a million digits
    with pytest.raises(ValueError, match="4300"):
        str(huge)
    out = contract_value_json(huge)
    assert out == "int:-0x1" + "0" * (3_400_000 // 4)
    assert int_back(out) == huge


@given(
    st.one_of(
        st.integers(),
        st.integers(min_value=-(2**200), max_value=2**200),
        st.integers(min_value=0, max_value=40_000).map(lambda bits: (1 << bits) - 1),
        st.integers(min_value=0, max_value=40_000).map(lambda bits: -(1 << bits)),
    )
)
def test_every_integer_comes_back_exactly(value: int) -> None:
    out = contract_value_json(value)
    assert int_back(out) == value
    if type(out) is int:
        assert -SAFE <= out <= SAFE
    assert json.loads(orjson.dumps(out)) == out


def test_the_other_scalars() -> None:
    assert contract_value_json(None) is None
    assert contract_value_json(True) is True and contract_value_json(False) is False
    assert contract_value_json("héllo") == "héllo"
    assert contract_value_json(b"") == "0x"
    assert contract_value_json(b"\x00\xff") == "0x00ff"
    assert contract_value_json(Decimal("1.50")) == "1.50"
    assert contract_value_json(Decimal("-1E+30")) == "-1E+30"
    assert contract_value_json(Decimal("NaN")) == "NaN"


def test_containers_and_dict_keys_as_text() -> None:
    value = {
        "name": [1, b"\x01", Decimal("2.5"), None, [SAFE + 1]],
        1: "one",
        SAFE + 1: "big",
        SHORTEST_HEX: "huge",
        -SHORTEST_HEX: "negative huge",
        b"\xab": "bytes",
        Decimal("0.1"): "decimal",
        None: "null",
        False: {"inner": {SAFE + 2: [(), {}]}},
    }
    hexed = format(SHORTEST_HEX, "x")
    assert contract_value_json(value) == {
        "name": [1, "0x01", "2.5", None, ["9007199254740992"]],
        "1": "one",
        "9007199254740992": "big",
        "int:0x" + hexed: "huge",
        "int:-0x" + hexed: "negative huge",
        "0xab": "bytes",
        "0.1": "decimal",
        "null": "null",
        "false": {"inner": {"9007199254740993": [[], {}]}},
    }
    assert list(contract_value_json(value))[:3] == ["name", "1", "9007199254740992"]  # in order
    assert contract_value_json({True: 1}) == {"true": 1}
    assert contract_value_json((1, (2, [3]))) == [1, [2, [3]]]  # tuples encode as arrays


def test_keys_that_write_the_same_text_keep_the_last_value() -> None:
    assert contract_value_json({1: "int", "1": "str"}) == {"1": "str"}
    assert contract_value_json({"0x00": "str", b"\x00": "bytes"}) == {"0x00": "bytes"}


def test_decoded_values_round_trip_through_json() -> None:
    value = {"a": [1 << 100, {-5: -(1 << 2000)}, b"\x01\x02", Decimal("3.14")], "b": None}
    out = contract_value_json(decode_value(encode_value(value)))
    assert json.loads(orjson.dumps(out)) == out
    assert int_back(out["a"][0]) == 1 << 100
    assert out["a"][1] == {"-5": str(-(1 << 2000))} and int_back(out["a"][1]["-5"]) == -(1 << 2000)
    assert out["a"][2:] == ["0x0102", "3.14"] and out["b"] is None


def test_nesting_as_deep_as_msgpack_allows_needs_no_recursion() -> None:
    depth = 1000  # msgpack decodes up to 1,023 levels
    data = b"\x91" * depth + b"\x81\xa1k" + b"\x91" * 10 + b"\xc0"  # lists, then a dict
    value = decode_value(data)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # far below the nesting: a recursive walk would fail
    try:
        out = contract_value_json(value)
    finally:
        sys.setrecursionlimit(limit)
    for _ in range(depth):
        assert type(out) is list and len(out) == 1
        out = out[0]
    assert list(out) == ["k"]
    out = out["k"]
    for _ in range(10):
        out = out[0]
    assert out is None


@pytest.mark.parametrize("value", [1.5, {1, 2}, object(), [1, [2, 1.0]], {"k": frozenset()}])
def test_a_type_the_encoding_cannot_produce_is_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="has no JSON form"):
        contract_value_json(value)


def big_int(value: int) -> msgpack.ExtType:
    """An int as the contract encoding writes it past 64 bits, whatever its size."""
    return msgpack.ExtType(
        EXT_BIG_INT, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    )


def test_stored_values_read_as_the_contract_encoding_writes_them() -> None:
    assert (EXT_BIG_INT, EXT_DECIMAL) == (api.EXT_BIG_INT, api.EXT_DECIMAL)
    value = {"a": [1, -(1 << 100), b"\x00", Decimal("-2.50"), None, True], 7: {"b": "c"}}
    assert stored_value(encode_value(value)) == decode_value(encode_value(value)) == value


def test_stored_values_have_no_limit_but_their_size() -> None:
    # Whatever the contract runtime allows a contract to make now, a receipt written
    # earlier holds what it holds: an int of 20,000 bits, a Decimal of 5,000 digits.
    long_decimal = "1." + "3" * 5000
    data = msgpack.packb(
        [
            big_int(1 << 20000),
            big_int(-(1 << 20000)),
            msgpack.ExtType(EXT_DECIMAL, long_decimal.encode()),
        ],
        use_bin_type=True,
    )
    assert stored_value(data) == [1 << 20000, -(1 << 20000), Decimal(long_decimal)]
    hexed = "1" + "0" * 5000
    assert contract_value_json(stored_value(data)) == [
        "int:0x" + hexed,
        "int:-0x" + hexed,
        long_decimal,
    ]
    with pytest.raises(ValueError, match="unknown ext type 9"):
        stored_value(msgpack.packb(msgpack.ExtType(9, b"")))


def test_a_receipt_with_big_values_is_json_any_parser_reads() -> None:
    receipt = Receipt(
        ok=True,
        gas_limit=100,
        gas_used=10,
        contract=b"\x01" * ADDRESS_RAW_LEN,
        value=msgpack.packb({big_int(1 << 20000): big_int(1 << 100)}),
        events=(("C1", "Big", encode_value({"n": -(1 << 64), "raw": b"\x07"})),),
    )
    out = json.loads(orjson.dumps(Receipt.decode(receipt.encode()).to_json()))
    [(key, value)] = out["value"].items()
    assert int_back(key) == 1 << 20000 and value == str(1 << 100)
    assert out["events"][0]["fields"] == {"n": str(-(1 << 64)), "raw": "0x07"}
