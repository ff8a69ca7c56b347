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

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccoin.errors import CcoinError, ErrorCode
from ccoin.testing import strategies as S
from ccoin.types.assets import (
    MAX_ARGS_DEPTH,
    MAX_CONTRACT_CODE,
    ContractDeployAsset,
    DelegateAsset,
    MultisignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
    asset_from_array,
    asset_from_json,
)
from ccoin.types.block import Block
from ccoin.types.codec import packb, unpack_canonical
from ccoin.types.transaction import (
    MAX_TX_BYTES,
)
from tests.unit.types.wire_support import (
    ASSET_WIRES,
    RECORDS,
    WIRES,
    _check_noncanonical,
    _check_oversized,
    _check_roundtrip,
    _check_shape,
    _check_truncations,
    _check_wrong_type,
)


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
    # "x-" keeps the key off every asset's field names, optional ones a given asset leaves
    # out of its JSON included (a carbon move gives "quantity" or "ranges").
    unknown = data.draw(st.text(min_size=1, max_size=10).map(lambda k: "x-" + k))
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
