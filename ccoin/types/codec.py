"""Canonical msgpack: the one place bytes are packed and unpacked.

Canonical means: arrays in a fixed field order (never maps in signed or hashed bytes),
`use_bin_type=True`, integers in their shortest form, no floats. msgpack's packer already
writes the shortest form, so a byte string is canonical exactly when re-packing its decoded
value gives it back; `unpack_canonical` checks that, which rejects over-long integers,
strings and arrays, float32 and trailing bytes in one rule. Maps and float64 re-pack to
the same bytes; the typed `field_*` readers reject them (WRONG_TYPE).

The `field_*` readers check one decoded field and name it in the error, so a caller learns
which field was wrong, not just that something was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgpack

from ccoin.errors import ConfigError, DecodeError, ErrorCode

MAX_BIGINT = 2**63 - 1
UNIT = 10**4  # base units per C
UNIT_DECIMALS = len(str(UNIT)) - 1
MIN_BIGINT = -(2**63)
MAX_UINT64 = 2**64 - 1

_DECIMAL_RE = re.compile(r"\A(?:0|[1-9][0-9]{0,19})\Z")


def packb(value: Any) -> bytes:
    """Pack `value` canonically. Callers pass arrays (lists or tuples), never maps."""
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


def unpack_canonical(data: bytes, *, max_size: int, what: str) -> Any:
    """Unpack `data`, rejecting oversized, malformed, trailing or non-canonical bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{what}: expected bytes")
    data = bytes(data)
    if len(data) > max_size:
        raise DecodeError(ErrorCode.TOO_LONG, f"{what}: {len(data)} bytes, limit {max_size}")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
        )
    except msgpack.ExtraData:
        raise DecodeError(ErrorCode.TRAILING_BYTES, f"{what}: trailing bytes") from None
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise DecodeError(ErrorCode.DECODE_ERROR, f"{what}: {exc.__class__.__name__}") from None
    try:
        again = packb(value)
    except Exception:
        raise DecodeError(ErrorCode.NON_CANONICAL, f"{what}: value cannot be re-packed") from None
    if again != data:
        raise DecodeError(ErrorCode.NON_CANONICAL, f"{what}: bytes are not canonical")
    return value


def field_int(value: Any, name: str, lo: int = 0, hi: int = MAX_BIGINT) -> int:
    if type(value) is not int:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected an integer")
    if not lo <= value <= hi:
        raise DecodeError(ErrorCode.OUT_OF_RANGE, f"{name}: {value} is outside [{lo}, {hi}]")
    return value


def field_bytes(value: Any, name: str, *, size: int | None = None, max_size: int = 0) -> bytes:
    if type(value) is not bytes:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected bytes")
    if size is not None and len(value) != size:
        raise DecodeError(ErrorCode.BAD_FIELD, f"{name}: expected {size} bytes, got {len(value)}")
    if max_size and len(value) > max_size:
        raise DecodeError(ErrorCode.TOO_LONG, f"{name}: {len(value)} bytes, limit {max_size}")
    return value


def field_str(value: Any, name: str, *, max_len: int) -> str:
    if type(value) is not str:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected a string")
    if len(value) > max_len:
        raise DecodeError(ErrorCode.TOO_LONG, f"{name}: {len(value)} characters, limit {max_len}")
    if not value.isascii():
        check_utf8(value, name)
    return value


def check_utf8(value: str, name: str) -> None:
    """Reject strings msgpack cannot pack (lone surrogates arrive through JSON escapes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(ErrorCode.BAD_FIELD, f"{name}: not valid Unicode text") from None


def field_list(value: Any, name: str, *, size: int | None = None, max_len: int = 0) -> list[Any]:
    if type(value) is not list:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected an array")
    if size is not None and len(value) != size:
        raise DecodeError(
            ErrorCode.BAD_FIELD, f"{name}: expected {size} elements, got {len(value)}"
        )
    if max_len and len(value) > max_len:
        raise DecodeError(ErrorCode.TOO_LONG, f"{name}: {len(value)} elements, limit {max_len}")
    return value


# JSON helpers: JSON forms carry bytes as lowercase hex and BIGINTs as decimal strings
# (JavaScript numbers lose precision past 2**53); integers are also accepted on input.


def json_hex(value: Any, name: str, *, size: int | None = None, max_size: int = 0) -> bytes:
    if type(value) is not str:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: expected a lowercase hex string")
    # fromhex then hex: one canonical spelling (lowercase, no spaces, whole bytes), checked
    # in C (a regex over the string cost ~3 us a transaction on the submission path)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = None
    if raw is None or raw.hex() != value:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: not lowercase hex of whole bytes")
    return field_bytes(raw, name, size=size, max_size=max_size)


def json_bigint(value: Any, name: str, hi: int = MAX_BIGINT) -> int:
    """A non-negative integer given as a JSON number or as its decimal string."""
    if type(value) is int:
        return field_int(value, name, 0, hi)
    if type(value) is str and _DECIMAL_RE.match(value):
        return field_int(int(value), name, 0, hi)
    raise DecodeError(
        ErrorCode.BAD_JSON, f"{name}: expected a non-negative integer or its decimal string"
    )


def json_int(value: Any, name: str, lo: int = 0, hi: int = MAX_BIGINT) -> int:
    if type(value) is not int:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: expected an integer")
    return field_int(value, name, lo, hi)


def json_str(value: Any, name: str, *, max_len: int) -> str:
    if type(value) is not str:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: expected a string")
    return field_str(value, name, max_len=max_len)


def json_object(value: Any, name: str, allowed: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: expected an object")
    if allowed.issuperset(value):
        return value
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise DecodeError(ErrorCode.BAD_JSON, f"{name}: unknown field(s) {', '.join(unknown)}")
    return value


def json_evm_address(value: Any, name: str) -> str:
    """A 0x-prefixed 20-byte EVM (BSC) address, as given (any hex case)."""
    text = json_str(value, name, max_len=42)
    try:
        valid = len(text) == 42 and text.startswith("0x") and len(bytes.fromhex(text[2:])) == 20
    except ValueError:
        valid = False
    if not valid:
        raise DecodeError(ErrorCode.BAD_FIELD, f"{name}: a 0x-prefixed 20-byte address")
    return text


def read_json_file(path: Path, max_bytes: int, code: ErrorCode) -> Any:
    """A JSON file's value (a config, a genesis), or `ConfigError(code)` naming the file:
    unreadable, larger than `max_bytes`, or not JSON."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(code, f"{path}: {size} bytes, larger than {max_bytes}")
        return json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(code, f"{path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(code, f"{path}: not JSON ({exc})") from None


def format_amount(units: int | str) -> str:
    """Base units (a decimal string or int) as C, e.g. 1234567 -> '123.4567 C'."""
    value = int(str(units))
    whole, frac = divmod(value, UNIT)
    return f"{whole:,}.{frac:0{UNIT_DECIMALS}d} C"
