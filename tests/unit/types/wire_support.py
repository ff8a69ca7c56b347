"""Shared by the wire-form property tests: an independent msgpack reference writer that
can splice hand-made (non-canonical, wrong-type) encodings into a value tree, the wire
types under test, and the checks each test runs."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
from hypothesis import strategies as st

from ccoin.errors import CcoinError, ErrorCode
from ccoin.testing import strategies as S
from ccoin.types.account import MAX_RECORD_BYTES, Account, DelegateRecord
from ccoin.types.assets import (
    TxType,
    asset_from_array,
)
from ccoin.types.block import MAX_BLOCK_BYTES, Block, BlockHeader
from ccoin.types.codec import packb, unpack_canonical
from ccoin.types.transaction import (
    MAX_TX_BYTES,
    Transaction,
)

MAX_HEADER_BYTES = 64 * 1024  # BlockHeader.decode's limit
NID = S.TEST_NETWORK_ID
OTHER_NID = bytes.fromhex("0d" * 32)

Path = tuple[int, ...]

# -- a reference msgpack writer that can splice hand-made encodings into a value tree -------


@dataclass(frozen=True)
class _Raw:
    """Bytes written verbatim in place of a node."""

    data: bytes


def _head(n: int, fix: int | None, fix_limit: int, tags: tuple[int, int, int]) -> bytes:
    """A length header: the fix form when `fix` is given and n fits, else 8/16/32-bit."""
    if fix is not None and n < fix_limit:
        return bytes([fix | n])
    tag8, tag16, tag32 = tags
    if tag8 and n < 2**8:
        return bytes([tag8, n])
    if n < 2**16:
        return bytes([tag16]) + struct.pack(">H", n)
    return bytes([tag32]) + struct.pack(">I", n)


_STR_TAGS = (0xD9, 0xDA, 0xDB)
_BIN_TAGS = (0xC4, 0xC5, 0xC6)
_ARRAY_TAGS = (0, 0xDC, 0xDD)
_MAP_TAGS = (0, 0xDE, 0xDF)

# (tag, struct format, min, max) of every sized integer form.
_INT_FORMS = (
    (0xCC, ">B", 0, 2**8 - 1),
    (0xCD, ">H", 0, 2**16 - 1),
    (0xCE, ">I", 0, 2**32 - 1),
    (0xCF, ">Q", 0, 2**64 - 1),
    (0xD0, ">b", -(2**7), 2**7 - 1),
    (0xD1, ">h", -(2**15), 2**15 - 1),
    (0xD2, ">i", -(2**31), 2**31 - 1),
    (0xD3, ">q", -(2**63), 2**63 - 1),
)


def _int_forms(v: int) -> list[bytes]:
    """Every msgpack encoding of `v`, the canonical (shortest) one first: a fixint when it
    fits, else the smallest unsigned form for v >= 0 and the smallest signed one for v < 0."""
    forms = []
    if 0 <= v < 128:
        forms.append(bytes([v]))
    if -32 <= v < 0:
        forms.append(struct.pack(">b", v))
    unsigned = [f for f in _INT_FORMS if f[0] < 0xD0]
    signed = [f for f in _INT_FORMS if f[0] >= 0xD0]
    for tag, fmt, lo, hi in (unsigned + signed) if v >= 0 else signed:
        if lo <= v <= hi:
            forms.append(bytes([tag]) + struct.pack(fmt, v))
    return forms


def _mp(v: Any) -> bytes:
    """Canonical msgpack (DESIGN section 3), written independently of the msgpack library."""
    if isinstance(v, _Raw):
        return v.data
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if type(v) is int:
        return _int_forms(v)[0]
    if type(v) is str:
        raw = v.encode("utf-8")
        return _head(len(raw), 0xA0, 32, _STR_TAGS) + raw
    if type(v) is bytes:
        return _head(len(v), None, 0, _BIN_TAGS) + v
    if type(v) in (list, tuple):
        return _head(len(v), 0x90, 16, _ARRAY_TAGS) + b"".join(_mp(i) for i in v)
    raise TypeError(f"no canonical form for {type(v).__name__}")


def _longer_forms(node: Any) -> list[bytes]:
    """Encodings of `node` that decode to the same value but are not the shortest."""
    if type(node) is int:
        return _int_forms(node)[1:]
    if type(node) is str:
        raw = node.encode("utf-8")
        heads = [bytes([0xD9, len(raw)])] if len(raw) < 2**8 else []
        heads += [b"\xda" + struct.pack(">H", len(raw)), b"\xdb" + struct.pack(">I", len(raw))]
        return [h + raw for h in heads if h + raw != _mp(node)]
    if type(node) is bytes:
        heads = [b"\xc5" + struct.pack(">H", len(node)), b"\xc6" + struct.pack(">I", len(node))]
        return [h + node for h in heads if h + node != _mp(node)]
    if type(node) is list:
        body = b"".join(_mp(i) for i in node)
        heads = [b"\xdc" + struct.pack(">H", len(node)), b"\xdd" + struct.pack(">I", len(node))]
        return [h + body for h in heads if h + body != _mp(node)]
    return []


def _wrong_type_forms(node: Any) -> list[bytes]:
    """Encodings of `node` as another msgpack type: float for int, str for bin, bin for
    str, map for array (string keys, which survive the canonical check, and int keys)."""
    if type(node) is int:
        return [b"\xcb" + struct.pack(">d", float(node))]
    if type(node) is bytes:
        return [_head(len(node), 0xA0, 32, _STR_TAGS) + node]
    if type(node) is str:
        raw = node.encode("utf-8")
        return [_head(len(raw), None, 0, _BIN_TAGS) + raw]
    if type(node) is list:
        head = _head(len(node), 0x80, 16, _MAP_TAGS)
        return [
            head + b"".join(_mp(str(i)) + _mp(item) for i, item in enumerate(node)),
            head + b"".join(_mp(i) + _mp(item) for i, item in enumerate(node)),
        ]
    return []


def _nodes(tree: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, tree
    if type(tree) is list:
        for i, item in enumerate(tree):
            yield from _nodes(item, (*path, i))


def _get(tree: Any, path: Path) -> Any:
    for i in path:
        tree = tree[i]
    return tree


def _replace(tree: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    copy = list(tree)
    copy[path[0]] = _replace(tree[path[0]], path[1:], new)
    return copy


# -- the types under test ------------------------------------------------------------------


def _tx_fixed(tree: Any, at: Path = ()) -> list[Path]:
    return [at, (*at, 6)] + [(*at, 9, i) for i in range(len(tree[9]))]


def _header_fixed(tree: Any, at: Path = ()) -> list[Path]:
    paths = [at]
    if tree[13] is not None:  # the attestation
        paths.append((*at, 13))
        paths += [(*at, 13, 4, i) for i in range(len(tree[13][4]))]
    return paths


def _block_fixed(tree: Any) -> list[Path]:
    paths: list[Path] = [(), *_header_fixed(tree[0], (0,))]
    for i, tx in enumerate(tree[1]):
        paths += _tx_fixed(tx, (1, i))
    return paths


def _account_fixed(tree: Any) -> list[Path]:
    return [()] if tree[3] is None else [(), (3,)]


@dataclass(frozen=True)
class Wire:
    name: str
    strategy: st.SearchStrategy[Any]
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    max_size: int | None
    fixed_arrays: Callable[[Any], list[Path]]  # fixed-size arrays in the decoded tree


def _asset_wire(tx_type: int) -> Wire:
    def decode(data: bytes) -> Any:
        return asset_from_array(
            tx_type, unpack_canonical(data, max_size=MAX_TX_BYTES, what="asset")
        )

    return Wire(
        f"asset{tx_type}",
        S.assets(tx_type),
        lambda a: packb(a.to_array()),
        decode,
        None,
        lambda tree: [()],
    )


WIRES = {
    "transaction": Wire(
        "transaction", S.transactions(), Transaction.encode, Transaction.decode, MAX_TX_BYTES,
        _tx_fixed,
    ),
    "block_header": Wire(
        "block_header", S.block_headers(), BlockHeader.encode, BlockHeader.decode,
        MAX_HEADER_BYTES, _header_fixed,
    ),
    "account": Wire(
        "account", S.accounts(), Account.encode, Account.decode, MAX_RECORD_BYTES,
        _account_fixed,
    ),
    "delegate": Wire(
        "delegate", S.delegate_records(), DelegateRecord.encode, DelegateRecord.decode,
        MAX_RECORD_BYTES, lambda tree: [()],
    ),
    "block": Wire(
        "block", S.blocks(max_transactions=2), Block.encode, Block.decode, MAX_BLOCK_BYTES,
        _block_fixed,
    ),
}  # fmt: skip
ASSET_WIRES = {t: _asset_wire(t) for t in TxType}
RECORDS = ["transaction", "block_header", "account", "delegate"]

NONCANONICAL_CODES = {ErrorCode.NON_CANONICAL}
# A msgpack value of the wrong type: the type check (WRONG_TYPE), a contract-argument check
# (TX_BAD_ASSET), or msgpack itself (DECODE_ERROR: a bin as str that is not UTF-8, an int
# map key).
WRONG_TYPE_CODES = {ErrorCode.WRONG_TYPE, ErrorCode.TX_BAD_ASSET, ErrorCode.DECODE_ERROR}


def _rejected(decode: Callable[[bytes], Any], data: bytes, codes: set[ErrorCode]) -> None:
    with pytest.raises(CcoinError) as info:
        decode(data)
    assert info.value.code in codes, f"{info.value!r} for {data.hex()}"


# -- the properties ------------------------------------------------------------------------


def _check_roundtrip(wire: Wire, value: Any) -> None:
    data = wire.encode(value)
    decoded = wire.decode(data)
    assert decoded == value
    # Equality of contract arguments conflates True and 1, so compare the bytes as well.
    assert wire.encode(decoded) == data
    assert _mp(msgpack.unpackb(data, raw=False)) == data  # shortest forms, by the rules


def _check_noncanonical(wire: Wire, value: Any, data: st.DataObject) -> None:
    tree = msgpack.unpackb(wire.encode(value), raw=False)
    paths = [p for p, node in _nodes(tree) if _longer_forms(node)]
    path = data.draw(st.sampled_from(paths), label="path")
    form = data.draw(st.sampled_from(_longer_forms(_get(tree, path))), label="form")
    _rejected(wire.decode, _mp(_replace(tree, path, _Raw(form))), NONCANONICAL_CODES)


def _check_wrong_type(wire: Wire, value: Any, data: st.DataObject) -> None:
    tree = msgpack.unpackb(wire.encode(value), raw=False)
    paths = [p for p, node in _nodes(tree) if _wrong_type_forms(node)]
    path = data.draw(st.sampled_from(paths), label="path")
    form = data.draw(st.sampled_from(_wrong_type_forms(_get(tree, path))), label="form")
    _rejected(wire.decode, _mp(_replace(tree, path, _Raw(form))), WRONG_TYPE_CODES)


def _check_shape(wire: Wire, value: Any, data: st.DataObject) -> None:
    encoded = wire.encode(value)
    extra = data.draw(st.integers(0, 255), label="trailing byte")
    _rejected(wire.decode, encoded + bytes([extra]), {ErrorCode.TRAILING_BYTES})
    tree = msgpack.unpackb(encoded, raw=False)
    path = data.draw(st.sampled_from(wire.fixed_arrays(tree)), label="array")
    array = _get(tree, path)
    filler = data.draw(st.sampled_from([None, 0, b"", "", [], array[-1]]), label="extra")
    _rejected(wire.decode, _mp(_replace(tree, path, [*array, filler])), {ErrorCode.BAD_FIELD})
    _rejected(wire.decode, _mp(_replace(tree, path, array[:-1])), {ErrorCode.BAD_FIELD})


def _check_truncations(wire: Wire, value: Any) -> None:
    encoded = wire.encode(value)
    step = max(1, len(encoded) // 300)  # every prefix of small values, a sample of big ones
    cuts = {*range(0, len(encoded), step), *range(max(0, len(encoded) - 40), len(encoded))}
    for cut in sorted(cuts):
        _rejected(wire.decode, encoded[:cut], {ErrorCode.DECODE_ERROR})


def _check_oversized(wire: Wire, value: Any) -> None:
    assert wire.max_size is not None
    encoded = wire.encode(value)
    # Exactly at the limit: parsed, and refused only for the padding after the value.
    at_limit = encoded + bytes(wire.max_size - len(encoded))
    _rejected(wire.decode, at_limit, {ErrorCode.TRAILING_BYTES})
    # One byte more: refused by size before msgpack runs (else this would be TRAILING_BYTES).
    _rejected(wire.decode, at_limit + b"\x00", {ErrorCode.TOO_LONG})
    _rejected(wire.decode, b"\xc1" * (wire.max_size + 1), {ErrorCode.TOO_LONG})


# -- records: Transaction, BlockHeader, Account, DelegateRecord (and Block, fewer examples) -
