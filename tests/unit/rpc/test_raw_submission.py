"""The binary submission path: `ccoin_sendRawTransactions` (canonical bytes as hex) and
`POST /v1/transactions` (a msgpack array of canonical bytes). Valid, malformed,
non-canonical, oversized, wrong-network and duplicate entries, each answered by its
documented error with the pool and balances as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.node.config import RpcConfig
from ccoin.types.transaction import MAX_TX_BYTES, Transaction
from tests.unit.rpc.conftest import (
    ALICE,
    BOB,
    CAROL,
    LOOPBACK,
    ApiClient,
    expect_error_body,
    open_api,
)

OTHER_NETWORK = bytes(range(32))
MSGPACK = {"content-type": "application/msgpack"}


async def send_raw(client: ApiClient, entries: list[Any]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = await client.result("ccoin_sendRawTransactions", [entries])
    assert len(answers) == len(entries)
    return answers


def expect_entry(answer: dict[str, Any], code: ErrorCode) -> dict[str, Any]:
    assert set(answer) == {"id", "error"}, answer
    return expect_error_body(answer["error"], code)


def non_canonical(tx: Transaction) -> bytes:
    """The same value with its 10-entry array header in the array16 form (fixarray is the
    shortest, so canonical, one)."""
    data = tx.encode()
    assert data[0] == 0x9A
    return b"\xdc\x00\x0a" + data[1:]


async def post_msgpack(
    client: ApiClient, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    response = await client.http.post("/v1/transactions", content=body, headers=headers or MSGPACK)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


async def test_valid_entries_are_admitted_with_their_ids(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    plain, prefixed = still.transfer(amount=11), still.transfer(BOB, amount=12)
    answers = await send_raw(still, [plain.encode().hex(), "0x" + prefixed.encode().hex()])
    assert answers == [{"id": plain.id(still.nid)}, {"id": prefixed.id(still.nid)}]
    assert len(still.node.pool) == 2
    status = await still.result("ccoin_getTransaction", [plain.id(still.nid)])
    assert status["status"] == "pending"
    assert status["transaction"]["signature"] == plain.signature.hex()
    # by name, as every method takes its parameters
    third = still.transfer(CAROL, amount=13)
    answer = await still.result(
        "ccoin_sendRawTransactions", {"transactions": [third.encode().hex()]}
    )
    assert answer == [{"id": third.id(still.nid)}]
    assert await send_raw(still, []) == []


def _malformed() -> list[tuple[str, Any, ErrorCode]]:
    return [
        ("not a string", 5, ErrorCode.BAD_JSON),
        ("null", None, ErrorCode.BAD_JSON),
        ("an object", {"type": 0}, ErrorCode.BAD_JSON),
        ("not hex", "zz", ErrorCode.BAD_JSON),
        ("odd length", "abc", ErrorCode.BAD_JSON),
        ("uppercase hex", "9A00", ErrorCode.BAD_JSON),
        ("empty", "", ErrorCode.DECODE_ERROR),
        ("not msgpack", "c1", ErrorCode.DECODE_ERROR),
        ("a number, not an array", "05", ErrorCode.WRONG_TYPE),
        ("an array too short", msgpack.packb([0, 1, 2]).hex(), ErrorCode.BAD_FIELD),
    ]


MALFORMED = _malformed()


@pytest.mark.parametrize(
    ("entry", "code"), [(e, c) for _, e, c in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_malformed_entries_are_refused_with_their_code(
    still: ApiClient, autojump_clock: trio.testing.MockClock, entry: Any, code: ErrorCode
) -> None:
    before = still.snapshot()
    good = still.transfer()
    answers = await send_raw(still, [entry, good.encode().hex()])
    assert answers[0]["id"] is None
    expect_entry(answers[0], code)
    assert answers[1] == {"id": good.id(still.nid)}  # the rest of the call goes on
    assert still.snapshot().pool_size == before.pool_size + 1
    await still.still_serves()


async def test_trailing_and_non_canonical_bytes_are_refused(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    tx = still.transfer()
    answers = await send_raw(still, [(tx.encode() + b"\x00").hex(), non_canonical(tx).hex()])
    expect_entry(answers[0], ErrorCode.TRAILING_BYTES)
    expect_entry(answers[1], ErrorCode.NON_CANONICAL)
    assert still.snapshot() == before
    # the canonical bytes of the same transaction are then admitted
    assert await send_raw(still, [tx.encode().hex()]) == [{"id": tx.id(still.nid)}]


async def test_an_oversized_entry_is_refused_before_decoding(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    huge = "00" * (MAX_TX_BYTES + 1)
    memo = still.transfer().encode().hex()  # a valid prefix does not help
    answers = await send_raw(still, [huge, memo + "00" * MAX_TX_BYTES])
    for answer in answers:
        error = expect_entry(answer, ErrorCode.TOO_LONG)
        assert str(MAX_TX_BYTES) in error["message"]
    assert still.snapshot() == before


async def test_an_entry_signed_for_another_network(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    rejected = still.metric("ccoin_transactions_rejected_total", {"code": "TX_BAD_SIGNATURE"})
    foreign = still.transfer(network_id=OTHER_NETWORK)
    [answer] = await send_raw(still, [foreign.encode().hex()])
    error = expect_entry(answer, ErrorCode.TX_BAD_SIGNATURE)
    assert "another network" in error["message"]
    assert answer["id"] == foreign.id(still.nid)  # parsed: its id under this network
    assert still.snapshot() == before
    after = still.metric("ccoin_transactions_rejected_total", {"code": "TX_BAD_SIGNATURE"})
    assert after == rejected + 1


async def test_duplicates_in_the_pool_and_in_one_call(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.transfer()
    raw = tx.encode().hex()
    answers = await send_raw(still, [raw, raw])
    assert answers[0] == {"id": tx.id(still.nid)}
    expect_entry(answers[1], ErrorCode.POOL_DUPLICATE)
    before = still.snapshot()
    # sent again, by either path: a duplicate, not a rejection of the original
    [again] = await send_raw(still, [raw])
    expect_entry(again, ErrorCode.POOL_DUPLICATE)
    await still.error("ccoin_sendTransaction", [still.tx_json(tx)], ErrorCode.POOL_DUPLICATE)
    assert still.snapshot() == before
    status = await still.result("ccoin_getTransaction", [tx.id(still.nid)])
    assert status["status"] == "pending"


async def test_an_included_transaction_sent_again_is_a_replay(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = api.transfer()
    await api.include(tx)
    balance = (await api.result("ccoin_getAccount", [ALICE.address]))["balance"]
    admitted = api.snapshot().admitted
    [answer] = await send_raw(api, [tx.encode().hex()])
    expect_entry(answer, ErrorCode.TX_ALREADY_INCLUDED)
    assert api.snapshot().admitted == admitted and len(api.node.pool) == 0
    assert (await api.result("ccoin_getAccount", [ALICE.address]))["balance"] == balance


@pytest.mark.parametrize("params", [["0011"], [5], [None], [{"transactions": []}], []])
async def test_params_that_are_not_a_list_of_entries(
    still: ApiClient, autojump_clock: trio.testing.MockClock, params: list[Any]
) -> None:
    before = still.snapshot()
    answer = await still.call("ccoin_sendRawTransactions", params)
    assert "result" not in answer
    assert answer["error"]["data"]["name"] in (
        ErrorCode.WRONG_TYPE.name,
        ErrorCode.RPC_INVALID_PARAMS.name,
    )
    assert still.snapshot() == before


@pytest.fixture
async def tight(tmp_path: Path) -> AsyncIterator[ApiClient]:
    rpc = RpcConfig(LOOPBACK, max_transactions_per_call=3, max_body_bytes=4096)
    async with open_api(tmp_path, rpc=rpc, run=False) as client:
        yield client


async def test_too_many_entries_in_one_call(
    tight: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = tight.snapshot()
    raws = [tight.transfer(amount=i + 1).encode() for i in range(4)]
    error = await tight.error(
        "ccoin_sendRawTransactions", [[r.hex() for r in raws]], ErrorCode.RPC_BATCH_TOO_LARGE
    )
    assert "at most 3" in error["message"]
    status, body = await post_msgpack(tight, msgpack.packb(raws))
    assert status == 413
    expect_error_body(body["error"], ErrorCode.RPC_BATCH_TOO_LARGE)
    status, body = await post_msgpack(tight, msgpack.packb([b"\0" * 5000]))
    assert status == 413
    expect_error_body(body["error"], ErrorCode.RPC_BODY_TOO_LARGE)
    assert tight.snapshot() == before


# -- POST /v1/transactions ----------------------------------------------------------------


async def test_rest_msgpack_admits_and_answers_each_entry(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    good, foreign = still.transfer(amount=21), still.transfer(BOB, network_id=OTHER_NETWORK)
    body = msgpack.packb([good.encode(), b"\xc1", foreign.encode(), good.encode(), "text"])
    status, answers = await post_msgpack(still, body)
    assert status == 200
    assert answers[0] == {"id": good.id(still.nid)}
    expected = [
        ErrorCode.DECODE_ERROR,
        ErrorCode.TX_BAD_SIGNATURE,
        ErrorCode.POOL_DUPLICATE,
        ErrorCode.WRONG_TYPE,
    ]
    for answer, code in zip(answers[1:], expected, strict=True):
        expect_entry(answer, code)
    assert len(still.node.pool) == 1
    for media in ("application/vnd.msgpack", "application/x-msgpack; charset=binary"):
        other = still.transfer(CAROL, amount=len(media))
        status, answers = await post_msgpack(
            still, msgpack.packb([other.encode()]), {"content-type": media}
        )
        assert (status, answers) == (200, [{"id": other.id(still.nid)}])


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"[]", {"content-type": "application/json"}, 415, ErrorCode.RPC_UNSUPPORTED_MEDIA_TYPE),
        (b"\x90", {}, 415, ErrorCode.RPC_UNSUPPORTED_MEDIA_TYPE),
        (b"\xc1", MSGPACK, 400, ErrorCode.DECODE_ERROR),
        (b"\x90\x90", MSGPACK, 400, ErrorCode.TRAILING_BYTES),
        (b"\xdc\x00\x00", MSGPACK, 400, ErrorCode.NON_CANONICAL),
        (msgpack.packb({"a": 1}), MSGPACK, 400, ErrorCode.WRONG_TYPE),
        (b"", MSGPACK, 400, ErrorCode.DECODE_ERROR),
    ],
    ids=["json", "no type", "not msgpack", "trailing", "non-canonical", "a map", "empty"],
)
async def test_rest_bodies_refused_as_a_whole(
    still: ApiClient,
    autojump_clock: trio.testing.MockClock,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: ErrorCode,
) -> None:
    before = still.snapshot()
    response = await still.http.post("/v1/transactions", content=body, headers=headers)
    assert response.status_code == status, response.text
    expect_error_body(response.json()["error"], code)
    assert still.snapshot() == before
    await still.still_serves()
