"""Property tests for the canonical wire forms (DESIGN section 3).

For every type with `encode()/decode()` (Transaction, BlockHeader, Block, Account,
DelegateRecord) and every transaction asset (its canonical array through `packb` /
`unpack_canonical`):

1. decode(encode(x)) == x, and the bytes match an independent reference encoder;
2. encode(decode(b)) == b;
3. non-canonical bytes (a longer integer / string / bin / array header) and wrong types
   (bin as str, str as bin, array as map, float for int) are rejected with a CcoinError;
   so are trailing bytes and fixed-size arrays with an extra or a missing element;
4. every truncation is rejected;
5. input above the type's size limit is rejected with TOO_LONG before it is parsed;
6. JSON forms round-trip, and a wrong `id` / `senderId` or an unknown field is rejected.

Then deterministic checks of the signing bytes, hash, id, address and Merkle rules.

The bytes under test are built by hand from the decoded value tree: `_Raw` nodes splice
hand-written encodings into an otherwise canonical re-encoding (`_mp`).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import base58
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccoin.crypto.address import (
    address_from_public_key,
    address_raw,
    address_raw_from_public_key,
    id_from_hash,
    id_raw,
)
from ccoin.crypto.keys import KeyPair, verify
from ccoin.errors import CcoinError, ErrorCode
from ccoin.testing import strategies as S
from ccoin.types.account import MAX_RECORD_BYTES, Account, DelegateRecord
from ccoin.types.assets import (
    MAX_ARGS_DEPTH,
    MAX_CONTRACT_ASSET_BYTES,
    MAX_CONTRACT_CODE,
    MAX_MULTISIG_KEYS,
    ContractCallAsset,
    ContractDeployAsset,
    DelegateAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
    asset_from_array,
    asset_from_json,
)
from ccoin.types.block import MAX_BLOCK_BYTES, Block, BlockHeader, payload_hash
from ccoin.types.codec import packb, unpack_canonical
from ccoin.types.merkle import EMPTY_ROOT, leaf_hash, merkle_root, merkle_root_recursive
from ccoin.types.transaction import (
    MAX_TX_BYTES,
    CoSignature,
    Transaction,
    TxBody,
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
    if tree[12] is not None:
        paths.append((*at, 12))
        paths += [(*at, 12, 4, i) for i in range(len(tree[12][4]))]
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


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_record_roundtrip(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_roundtrip(wire, data.draw(wire.strategy, label=name))


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_record_rejects_noncanonical(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_noncanonical(wire, data.draw(wire.strategy, label=name), data)


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_record_rejects_wrong_types(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_wrong_type(wire, data.draw(wire.strategy, label=name), data)


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_record_rejects_bad_shape(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_shape(wire, data.draw(wire.strategy, label=name), data)


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_record_rejects_truncations(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_truncations(wire, data.draw(wire.strategy, label=name))


@pytest.mark.parametrize("name", [*RECORDS, "block"])
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_oversized_rejected_before_parsing(name: str, data: st.DataObject) -> None:
    wire = WIRES[name]
    _check_oversized(wire, data.draw(wire.strategy, label=name))


@settings(max_examples=15, deadline=None)
@given(block=S.blocks(max_transactions=3))
def test_block_roundtrip(block: Block) -> None:
    _check_roundtrip(WIRES["block"], block)
    assert block.header.payload_hash == block.payload_hash()


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_block_rejects_malformed(data: st.DataObject) -> None:
    wire = WIRES["block"]
    block = data.draw(wire.strategy, label="block")
    _check_noncanonical(wire, block, data)
    _check_wrong_type(wire, block, data)
    _check_shape(wire, block, data)


@settings(max_examples=5, deadline=None)
@given(block=S.blocks(max_transactions=2))
def test_block_rejects_truncations(block: Block) -> None:
    _check_truncations(WIRES["block"], block)


# -- assets --------------------------------------------------------------------------------


@pytest.mark.parametrize("tx_type", list(TxType), ids=lambda t: t.name.lower())
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_asset_bytes(tx_type: TxType, data: st.DataObject) -> None:
    wire = ASSET_WIRES[tx_type]
    asset = data.draw(wire.strategy, label="asset")
    _check_roundtrip(wire, asset)
    _check_noncanonical(wire, asset, data)
    _check_wrong_type(wire, asset, data)
    _check_shape(wire, asset, data)


@pytest.mark.parametrize("tx_type", list(TxType), ids=lambda t: t.name.lower())
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_asset_truncations(tx_type: TxType, data: st.DataObject) -> None:
    wire = ASSET_WIRES[tx_type]
    _check_truncations(wire, data.draw(wire.strategy, label="asset"))


@pytest.mark.parametrize("tx_type", list(TxType), ids=lambda t: t.name.lower())
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_asset_json(tx_type: TxType, data: st.DataObject) -> None:
    asset = data.draw(S.assets(tx_type), label="asset")
    obj = json.loads(json.dumps(asset.to_json()))
    again = asset_from_json(tx_type, obj)
    assert again == asset
    assert packb(again.to_array()) == packb(asset.to_array())
    unknown = data.draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in obj))
    with pytest.raises(CcoinError) as info:
        asset_from_json(tx_type, {**obj, unknown: 1})
    assert info.value.code is ErrorCode.BAD_JSON


# Field-level limits inside an asset (the assets have no message-size limit of their own).
@pytest.mark.parametrize(
    ("tx_type", "array", "code"),
    [
        (0, [bytes(65)], ErrorCode.TOO_LONG),
        (1, [bytes(31)], ErrorCode.BAD_FIELD),
        (1, [bytes(33)], ErrorCode.BAD_FIELD),
        (2, ["a" * 21, b"\x01" * 20, bytes(32)], ErrorCode.TOO_LONG),
        (2, ["", b"\x01" * 20, bytes(32)], ErrorCode.TX_BAD_ASSET),
        (2, ["Upper", b"\x01" * 20, bytes(32)], ErrorCode.TX_BAD_ASSET),
        (2, ["ok", bytes(20), bytes(32)], ErrorCode.TX_BAD_ASSET),
        (3, [",".join("+" + f"{i:064x}" for i in range(34))], ErrorCode.TOO_LONG),
        (3, ["+" + "00" * 32 + ",-" + "00" * 32], ErrorCode.TX_BAD_ASSET),
        (3, ["+" + "AA" * 32], ErrorCode.TX_BAD_ASSET),
        (4, [1, 1, [bytes([i]) * 32 for i in range(17)]], ErrorCode.TOO_LONG),
        (4, [3, 1, [bytes([1]) * 32, bytes([2]) * 32]], ErrorCode.TX_BAD_ASSET),
        (4, [1, 1, [bytes(32), bytes(32)]], ErrorCode.TX_BAD_ASSET),
        (4, [1, 73, [bytes(32)]], ErrorCode.OUT_OF_RANGE),
        (4, [0, 1, [bytes(32)]], ErrorCode.OUT_OF_RANGE),
        (5, ["x", "c" * (MAX_CONTRACT_CODE + 1), [], None], ErrorCode.TOO_LONG),
        (5, ["x", "", [], None], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", [1.5], None], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", [b"bytes"], None], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", [{"k": 1}], None], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", [], "Cnot-an-address"], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", [], "C" + "1" * 30], ErrorCode.TOO_LONG),
        (5, ["x", "c", [1], "CeedFYJrYES6wbsoVGAY"], ErrorCode.TX_BAD_ASSET),
        (5, ["x", "c", []], ErrorCode.BAD_FIELD),
        (4, [2**64 - 1, 1, [bytes(32)]], ErrorCode.OUT_OF_RANGE),
        (6, [0, bytes(20), 0, bytes(32)], ErrorCode.OUT_OF_RANGE),
        (7, [bytes(20)], ErrorCode.TX_BAD_ASSET),
        (8, ["C1", "m", [], 1], ErrorCode.TX_BAD_ASSET),
        (9, ["admit", "node", "AB" * 32], ErrorCode.TX_BAD_ASSET),
        (9, ["grant", "node", "ab" * 32], ErrorCode.TX_BAD_ASSET),
    ],
)
def test_asset_field_limits(tx_type: int, array: list[Any], code: ErrorCode) -> None:
    data = msgpack.packb(array, use_bin_type=True)  # may hold a map, which packb refuses
    with pytest.raises(CcoinError) as info:
        asset_from_array(tx_type, unpack_canonical(data, max_size=MAX_TX_BYTES, what="asset"))
    assert info.value.code is code


def test_asset_limits_are_inclusive() -> None:
    wire = ASSET_WIRES[TxType.VOTE]
    _check_roundtrip(wire, VoteAsset(",".join("-" + f"{i:064x}" for i in range(33))))
    keys = tuple(bytes([i]) * 32 for i in range(16))
    _check_roundtrip(ASSET_WIRES[TxType.MULTISIGNATURE], MultisignatureAsset(16, 72, keys))
    _check_roundtrip(ASSET_WIRES[TxType.TRANSFER], TransferAsset(bytes(64)))
    _check_roundtrip(ASSET_WIRES[TxType.DELEGATE], DelegateAsset("z" * 20, b"\x01" * 20, bytes(32)))
    code = "\u00e9" * (MAX_CONTRACT_CODE // 2)  # 64 KiB of UTF-8 in half as many characters
    _check_roundtrip(ASSET_WIRES[TxType.CONTRACT_DEPLOY], ContractDeployAsset("x", code))
    with pytest.raises(CcoinError) as info:
        ContractDeployAsset("x", code + "c")
    assert info.value.code is ErrorCode.TX_BAD_ASSET


def test_contract_args_depth_limit() -> None:
    def nest(depth: int) -> Any:
        value: Any = 1
        for _ in range(depth):
            value = (value,)
        return value

    deepest = (nest(MAX_ARGS_DEPTH - 1),)
    ContractDeployAsset("x", "c", deepest)
    with pytest.raises(CcoinError) as info:
        ContractDeployAsset("x", "c", (nest(MAX_ARGS_DEPTH),))
    assert info.value.code is ErrorCode.TX_BAD_ASSET
    wire = ASSET_WIRES[TxType.CONTRACT_DEPLOY]
    _check_roundtrip(wire, ContractDeployAsset("x", "c", deepest))


# -- transaction JSON ----------------------------------------------------------------------

TX_JSON_FIELDS = {
    "id",
    "type",
    "timestamp",
    "senderId",
    "recipientId",
    "amount",
    "fee",
    "signature",
    "signSignature",
    "signatures",
    "senderPublicKey",
    "asset",
}


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_transaction_json_roundtrip(data: st.DataObject) -> None:
    nid = data.draw(S.network_ids(), label="network id")
    tx = data.draw(S.transactions(nid), label="tx")
    obj = tx.to_json(nid)
    assert set(obj) == TX_JSON_FIELDS
    text = json.dumps(obj)
    again = Transaction.from_json(json.loads(text), nid)
    assert again == tx
    assert again.encode() == tx.encode()
    with_block = tx.to_json(nid, block_id="1111")
    assert set(with_block) == TX_JSON_FIELDS | {"blockId"}
    assert Transaction.from_json(with_block, nid) == tx
    # Without the derived fields it parses to the same transaction.
    bare = {k: v for k, v in obj.items() if k not in ("id", "senderId")}
    assert Transaction.from_json(bare, nid) == tx


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_transaction_json_rejects_mismatches(data: st.DataObject) -> None:
    tx = data.draw(S.transactions(), label="tx")
    obj = tx.to_json(NID)

    other_id = data.draw(st.binary(min_size=14, max_size=14).map(id_from_hash))
    if other_id != obj["id"]:
        with pytest.raises(CcoinError) as info:
            Transaction.from_json({**obj, "id": other_id}, NID)
        assert info.value.code is ErrorCode.BAD_ID
    # The right id for another network is the wrong id here.
    with pytest.raises(CcoinError) as info:
        Transaction.from_json(obj, OTHER_NID)
    assert info.value.code is ErrorCode.BAD_ID

    other_sender = data.draw(S.addresses().filter(lambda a: a != obj["senderId"]))
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, "senderId": other_sender}, NID)
    assert info.value.code is ErrorCode.BAD_ADDRESS

    unknown = data.draw(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in obj and k not in obj["asset"])
    )
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, unknown: None}, NID)
    assert info.value.code is ErrorCode.BAD_JSON
    with pytest.raises(CcoinError) as info:
        Transaction.from_json({**obj, "asset": {**obj["asset"], unknown: None}}, NID)
    assert info.value.code is ErrorCode.BAD_JSON


# -- signing bytes, hash, id ---------------------------------------------------------------

SENDER = KeyPair(bytes(range(32)))
SECOND = KeyPair(bytes(range(1, 33)))
COSIGNERS = [KeyPair(bytes([200 + i]) * 32) for i in range(3)]
RECIPIENT = address_from_public_key(bytes(32))


def _transfer_body() -> TxBody:
    return TxBody(
        type=TxType.TRANSFER,
        timestamp=1000,
        sender_public_key=SENDER.public_key,
        recipient_id=RECIPIENT,
        amount=300,
        fee=10,
        asset=TransferAsset(b"hi"),
    )


def test_signing_bytes_layout_by_hand() -> None:
    body = _transfer_body()
    recipient = RECIPIENT.encode()
    expected = (
        b"\x99"  # array of 9
        + b"\xa8CCOIN-TX"
        + b"\xc4\x20"
        + NID
        + b"\x00"  # type
        + b"\xcd\x03\xe8"  # timestamp 1000
        + b"\xc4\x20"
        + SENDER.public_key
        + bytes([0xA0 | len(recipient)])
        + recipient
        + b"\xcd\x01\x2c"  # amount 300
        + b"\x0a"  # fee 10
        + b"\x91\xc4\x02hi"  # asset [data]
    )
    assert body.signing_bytes(NID) == expected
    assert expected == packb(
        ["CCOIN-TX", NID, 0, 1000, SENDER.public_key, RECIPIENT, 300, 10, [b"hi"]]
    )
    # No recipient: nil in its place.
    vote = TxBody(3, 0, SENDER.public_key, None, 0, 0, VoteAsset("+" + "ab" * 32))
    assert vote.signing_bytes(NID) == packb(
        ["CCOIN-TX", NID, 3, 0, SENDER.public_key, None, 0, 0, ["+" + "ab" * 32]]
    )
    prefix = b"\x99\xa8CCOIN-TX\xc4\x20" + NID + b"\x03\x00\xc4\x20" + SENDER.public_key
    # recipientId nil, amount 0, fee 0, asset [str8 of 65 characters]
    assert vote.signing_bytes(NID) == prefix + b"\xc0\x00\x00\x91\xd9\x41+" + b"ab" * 32


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_signing_bytes_hash_and_id(data: st.DataObject) -> None:
    nid = data.draw(S.network_ids(), label="network id")
    tx = data.draw(S.transactions(nid), label="tx")
    body = tx.body
    message = packb(
        [
            "CCOIN-TX",
            nid,
            body.type,
            body.timestamp,
            body.sender_public_key,
            body.recipient_id,
            body.amount,
            body.fee,
            body.asset.to_array(),
        ]
    )
    assert body.signing_bytes(nid) == message
    assert verify(body.sender_public_key, message, tx.signature)
    for cosig in tx.signatures:
        assert verify(cosig.public_key, message, cosig.signature)
    expected = hashlib.sha256(message + tx.signature + (tx.sign_signature or b"")).digest()
    assert tx.hash(nid) == expected
    tx_id = tx.id(nid)
    assert tx_id == base58.b58encode(expected[:14]).decode()
    assert 1 <= len(tx_id) <= 20
    assert id_raw(tx_id) == expected[:14]
    # Cached digests are per network id.
    assert tx.hash(OTHER_NID if nid != OTHER_NID else NID) != expected


def test_hash_covers_both_signatures() -> None:
    body = _transfer_body()
    one = body.sign(SENDER, NID)
    two = body.sign(SENDER, NID, second_key=SECOND)
    assert two.sign_signature is not None
    message = body.signing_bytes(NID)
    assert verify(SECOND.public_key, message + two.signature, two.sign_signature)
    assert one.hash(NID) == hashlib.sha256(message + one.signature).digest()
    assert two.hash(NID) == hashlib.sha256(message + two.signature + two.sign_signature).digest()
    assert one.hash(NID) != two.hash(NID)
    assert one.id(NID) == id_from_hash(one.hash(NID))
    assert len(one.id(NID)) <= 20


def test_cosignatures_do_not_change_hash_or_id() -> None:
    tx = _transfer_body().sign(SENDER, NID, second_key=SECOND)
    cosigned = tx
    for key in COSIGNERS:
        cosigned = cosigned.cosign(key, NID)
        assert cosigned.hash(NID) == tx.hash(NID)
        assert cosigned.id(NID) == tx.id(NID)
    assert len(cosigned.signatures) == 3
    keys = [c.public_key for c in cosigned.signatures]
    assert keys == sorted(keys)
    assert cosigned.encode() != tx.encode()
    # Re-adding a signer's co-signature keeps one entry per key.
    assert cosigned.cosign(COSIGNERS[0], NID).signatures == cosigned.signatures


def test_unsorted_or_duplicate_cosignatures_rejected() -> None:
    tx = _transfer_body().sign(SENDER, NID)
    message = tx.body.signing_bytes(NID)
    sigs = sorted(CoSignature(k.public_key, k.sign(message)) for k in COSIGNERS)
    for bad in (sigs[::-1], [sigs[0], sigs[0]]):
        tree = msgpack.unpackb(tx.encode(), raw=False)
        tree[9] = [[c.public_key, c.signature] for c in bad]
        with pytest.raises(CcoinError) as info:
            Transaction.decode(_mp(tree))
        assert info.value.code is ErrorCode.NON_CANONICAL


def test_largest_contract_asset_fits_in_a_transaction() -> None:
    """A contract asset is capped (MAX_CONTRACT_ASSET_BYTES) so that every valid transaction,
    with the most co-signatures, encodes under MAX_TX_BYTES; one byte more is refused when
    the asset is built, not later when the bytes fail to decode."""
    args = tuple("a" * 4096 for _ in range(4))

    def asset(code_len: int) -> ContractDeployAsset:
        return ContractDeployAsset("big", "c" * code_len, args)

    probe = len(packb(asset(40_000).to_array()))
    largest = asset(40_000 + MAX_CONTRACT_ASSET_BYTES - probe)
    assert len(packb(largest.to_array())) == MAX_CONTRACT_ASSET_BYTES
    tx = TxBody(5, 0, SENDER.public_key, None, 0, 0, largest).sign(SENDER, NID)
    for i in range(MAX_MULTISIG_KEYS):
        tx = tx.cosign(KeyPair(bytes([i + 1]) * 32), NID)
    assert len(tx.encode()) < MAX_TX_BYTES
    assert Transaction.decode(tx.encode()) == tx
    with pytest.raises(CcoinError) as info:
        asset(40_001 + MAX_CONTRACT_ASSET_BYTES - probe)
    assert info.value.code is ErrorCode.TX_BAD_ASSET


# -- addresses -----------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(public_key=S.public_keys())
def test_address_form(public_key: bytes) -> None:
    address = address_from_public_key(public_key)
    assert address.startswith("C")
    assert 2 <= len(address) <= 21
    raw = address_raw(address)
    assert raw == address_raw_from_public_key(public_key)
    assert raw[:12] == hashlib.sha256(public_key).digest()[:12]
    assert raw[12:] == hashlib.sha256(raw[:12]).digest()[:2]


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def test_address_typo_rejected() -> None:
    # Deterministic: a 16-bit checksum lets about 1 in 65536 random typos through, so the
    # sample is fixed (and checked once) rather than drawn anew on every run.
    for i in range(12):
        address = address_from_public_key(hashlib.sha256(b"typo%d" % i).digest())
        for pos in range(1, len(address)):
            for shift in (1, 17, 40):
                char = _B58[(_B58.index(address[pos]) + shift) % 58]
                typo = address[:pos] + char + address[pos + 1 :]
                with pytest.raises(CcoinError) as info:
                    address_raw(typo)
                assert info.value.code is ErrorCode.BAD_ADDRESS, typo
    good = address_from_public_key(bytes(32))
    for bad in ("c" + good[1:], "D" + good[1:], good + "1", good[:-1], good[:5] + "0" + good[6:]):
        with pytest.raises(CcoinError) as info:
            address_raw(bad)
        assert info.value.code is ErrorCode.BAD_ADDRESS


def test_transaction_with_bad_recipient_rejected() -> None:
    tx = _transfer_body().sign(SENDER, NID)
    tree = msgpack.unpackb(tx.encode(), raw=False)
    tree[3] = RECIPIENT[:-1] + ("2" if RECIPIENT[-1] != "2" else "3")
    with pytest.raises(CcoinError) as info:
        Transaction.decode(_mp(tree))
    assert info.value.code is ErrorCode.BAD_ADDRESS


# -- Merkle root and payloadHash -----------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(leaves=st.lists(st.binary(max_size=40), max_size=70))
def test_merkle_root_matches_rfc6962_reference(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == merkle_root_recursive(leaves)


def test_merkle_root_small_cases() -> None:
    assert merkle_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert merkle_root([b"a"]) == leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle_root([b"a", b"b"]) == ab
    assert merkle_root([b"a", b"b", b"c"]) == hashlib.sha256(b"\x01" + ab + c).digest()
    # Leaf and inner-node prefixes differ: an inner node is not a leaf.
    assert merkle_root([a + b]) != merkle_root([b"a", b"b"])
    sizes = range(1, 40)
    for n in sizes:
        leaves = [bytes([i]) for i in range(n)]
        assert merkle_root(leaves) == merkle_root_recursive(leaves)


def test_payload_hash_commits_to_cosignatures() -> None:
    plain = _transfer_body().sign(SENDER, NID)
    first = plain.cosign(COSIGNERS[0], NID)
    other = plain.cosign(COSIGNERS[1], NID)
    more = first.cosign(COSIGNERS[1], NID)
    assert first.id(NID) == other.id(NID) == more.id(NID) == plain.id(NID)
    roots = {payload_hash([tx]) for tx in (plain, first, other, more)}
    assert len(roots) == 4
    # A co-signature with a different signature value also changes the root.
    cosig = first.signatures[0]
    forged = replace(first, signatures=(CoSignature(cosig.public_key, bytes(64)),))
    assert payload_hash([forged]) != payload_hash([first])
    assert payload_hash([plain, first]) != payload_hash([first, plain])
    assert payload_hash([plain]) == merkle_root([plain.encode()])


@pytest.mark.parametrize(
    "obj",
    [
        {"type": 5, "asset": {"name": "x", "code": "\ud800"}},
        {"type": 5, "asset": {"name": "x", "code": "c", "initArgs": ["\udfff"]}},
    ],
)
def test_json_lone_surrogate_rejected(obj: dict[str, Any]) -> None:
    body = {
        "timestamp": 0,
        "senderPublicKey": SENDER.public_key.hex(),
        "amount": "0",
        "fee": "0",
        "signature": "00" * 64,
        **obj,
    }
    text = json.dumps(body)  # escapes the surrogate as \ud800, as an RPC client may
    with pytest.raises(CcoinError) as info:
        Transaction.from_json(json.loads(text), NID)
    assert info.value.code is ErrorCode.BAD_FIELD
    # In bytes, a surrogate's UTF-8-like encoding is not UTF-8: msgpack refuses it.
    raw = b"\xed\xa0\x80"
    data = _mp(["x", _Raw(bytes([0xA0 | len(raw)]) + raw), [], None])
    with pytest.raises(CcoinError) as info:
        asset_from_array(5, unpack_canonical(data, max_size=MAX_TX_BYTES, what="asset"))
    assert info.value.code is ErrorCode.DECODE_ERROR


def test_constructed_values_are_checked() -> None:
    """Constructors run the same checks as decoding (spot checks of the strategies' rules)."""
    pk = SENDER.public_key
    cases: list[Callable[[], object]] = [
        lambda: TxBody(0, 0, pk, None, 1, 0, TransferAsset()),  # recipient required
        lambda: TxBody(1, 0, pk, RECIPIENT, 0, 0, SecondSignatureAsset(pk)),  # forbidden
        lambda: TxBody(1, 0, pk, None, 1, 0, SecondSignatureAsset(pk)),  # amount must be 0
        # A bridge transfer moves amount > 0.
        lambda: TxBody(7, 0, pk, None, 0, 0, OutTransferAsset(b"\x01" * 20)),
        lambda: TxBody(0, -1, pk, RECIPIENT, 0, 0, TransferAsset()),
        lambda: TxBody(0, 0, pk, RECIPIENT, 2**63, 0, TransferAsset()),
        lambda: TxBody(0, 0, pk, RECIPIENT, 0, 0, SecondSignatureAsset(pk)),  # wrong asset
        lambda: TxBody(10, 0, pk, None, 0, 0, TransferAsset()),  # unknown type
        lambda: MultisignatureAsset(2, 1, (pk,)),
        lambda: DelegateAsset("a" * 21, b"\x01" * 20, bytes(32)),
        lambda: ContractCallAsset("C" + "1" * 19, "m", (), 1),
    ]
    for case in cases:
        with pytest.raises(CcoinError):
            case()


# -- regressions ------------------------------------------------------------------------------


def test_txbody_rejects_bool_type() -> None:
    with pytest.raises(CcoinError):
        asset = SecondSignatureAsset(bytes(32))
        TxBody(True, 0, SENDER.public_key, None, 0, 0, asset)
