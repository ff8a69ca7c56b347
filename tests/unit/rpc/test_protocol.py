"""JSON-RPC 2.0 itself: envelopes, ids, params binding, batches, notifications and the
whole-request limits. Every refusal is its documented code and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.node.config import RpcConfig
from tests.unit.rpc.conftest import ALICE, LOOPBACK, ApiClient, expect_error, open_api


async def test_positional_and_named_params_give_the_same_answer(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    by_position = await still.result("ccoin_getAccount", [ALICE.address])
    by_name = await still.result("ccoin_getAccount", {"address": ALICE.address})
    assert by_position == by_name
    assert by_position["address"] == ALICE.address and by_position["exists"] is True
    # an optional parameter may be left out either way
    assert await still.result("ccoin_getBlock", [0]) == await still.result(
        "ccoin_getBlock", {"block": 0, "includeTransactions": False}
    )


@pytest.mark.parametrize(
    ("method", "params", "needle"),
    [
        ("ccoin_getAccount", {"address": ALICE.address, "extra": 1}, "unknown parameter 'extra'"),
        ("ccoin_getAccount", {}, "missing address"),
        ("ccoin_getAccount", [], "missing address"),
        ("ccoin_getAccount", [ALICE.address, 2], "at most 1 parameters"),
        ("ccoin_status", [1], "at most 0 parameters"),
        ("ccoin_status", {"verbose": True}, "unknown parameter"),
    ],
)
async def test_params_that_do_not_bind_are_invalid_params(
    still: ApiClient,
    autojump_clock: trio.testing.MockClock,
    method: str,
    params: Any,
    needle: str,
) -> None:
    before = still.snapshot()
    error = await still.error(method, params, ErrorCode.RPC_INVALID_PARAMS)
    assert needle in error["message"]
    assert still.snapshot() == before
    await still.still_serves()


async def test_unknown_method(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    error = await still.error("ccoin_mint", [], ErrorCode.RPC_METHOD_NOT_FOUND)
    assert "ccoin_mint" in error["message"]
    await still.still_serves()


@pytest.mark.parametrize(
    "request_",
    [
        {"jsonrpc": "1.0", "id": 1, "method": "ccoin_status"},
        {"id": 1, "method": "ccoin_status"},
        {"jsonrpc": 2.0, "id": 1, "method": "ccoin_status"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": 1, "method": ["ccoin_status"]},
        {"jsonrpc": "2.0", "id": 1, "method": {"name": "ccoin_status"}},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "id": 1, "method": "ccoin_status", "extra": True},
    ],
)
async def test_malformed_envelopes_are_invalid_requests(
    still: ApiClient, autojump_clock: trio.testing.MockClock, request_: dict[str, Any]
) -> None:
    response = await still.post(request_)
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] == 1 and "result" not in answer
    expect_error(answer["error"], ErrorCode.RPC_INVALID_REQUEST)
    await still.still_serves()


@pytest.mark.parametrize("rid", [1.5, True, [1], {"a": 1}, "x" * 257])
async def test_bad_request_ids_are_answered_with_a_null_id(
    still: ApiClient, autojump_clock: trio.testing.MockClock, rid: Any
) -> None:
    response = await still.post({"jsonrpc": "2.0", "id": rid, "method": "ccoin_status"})
    answer = response.json()
    assert answer["id"] is None
    expect_error(answer["error"], ErrorCode.RPC_INVALID_REQUEST)


@pytest.mark.parametrize("rid", ["abc", 0, -7, 2**53, None])
async def test_ids_come_back_unchanged(
    still: ApiClient, autojump_clock: trio.testing.MockClock, rid: Any
) -> None:
    answer = await still.call("ccoin_status", rid=rid)
    assert answer["id"] == rid and "result" in answer


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", ErrorCode.RPC_PARSE_ERROR),
        (b"", ErrorCode.RPC_PARSE_ERROR),
        (b'"a string"', ErrorCode.RPC_INVALID_REQUEST),
        (b"[]", ErrorCode.RPC_INVALID_REQUEST),
        (b"42", ErrorCode.RPC_INVALID_REQUEST),
    ],
)
async def test_bodies_that_are_not_requests(
    still: ApiClient, autojump_clock: trio.testing.MockClock, body: bytes, code: ErrorCode
) -> None:
    response = await still.post(body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["id"] is None
    expect_error(answer["error"], code)
    await still.still_serves()


async def test_notifications_get_no_answer(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    ok = await still.post({"jsonrpc": "2.0", "method": "ccoin_status"})
    failing = await still.post({"jsonrpc": "2.0", "method": "ccoin_nope", "params": [1]})
    for response in (ok, failing):
        assert response.status_code == 204 and response.content == b""
    batch = await still.post(
        [{"jsonrpc": "2.0", "method": "ccoin_status"}, {"jsonrpc": "2.0", "method": "x"}]
    )
    assert batch.status_code == 204 and batch.content == b""
    assert still.snapshot() == before
    await still.still_serves()


async def test_a_notification_still_runs(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    """No answer does not mean no effect: a notified transaction is admitted."""
    tx = still.transfer()
    response = await still.post(
        {"jsonrpc": "2.0", "method": "ccoin_sendTransaction", "params": [still.tx_json(tx)]}
    )
    assert response.status_code == 204
    found = await still.result("ccoin_getTransaction", [tx.id(still.nid)])
    assert found["status"] == "pending"


async def test_a_batch_answers_each_request_in_order_and_skips_notifications(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    response = await still.post(
        [
            {"jsonrpc": "2.0", "id": "a", "method": "ccoin_getBlock", "params": [0]},
            {"jsonrpc": "2.0", "method": "ccoin_status"},
            {"jsonrpc": "2.0", "id": "b", "method": "ccoin_nope"},
            7,
            {"jsonrpc": "2.0", "id": "c", "method": "ccoin_getAccount", "params": ["nope"]},
        ]
    )
    assert response.status_code == 200
    answers = response.json()
    assert [a["id"] for a in answers] == ["a", "b", None, "c"]
    assert answers[0]["result"]["height"] == 0
    expect_error(answers[1]["error"], ErrorCode.RPC_METHOD_NOT_FOUND)
    expect_error(answers[2]["error"], ErrorCode.RPC_INVALID_REQUEST)
    expect_error(answers[3]["error"], ErrorCode.BAD_ADDRESS)


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[ApiClient]:
    limits = RpcConfig(LOOPBACK, max_body_bytes=2048, max_batch=3)
    async with open_api(tmp_path, rpc=limits, run=False) as client:
        yield client


async def test_an_oversized_batch_is_refused_whole(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = small.snapshot()
    tx = small.transfer()
    send = {"jsonrpc": "2.0", "method": "ccoin_sendTransaction", "params": [small.tx_json(tx)]}
    response = await small.post([{**send, "id": i} for i in range(4)])
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] is None
    expect_error(answer["error"], ErrorCode.RPC_BATCH_TOO_LARGE)
    assert small.snapshot() == before  # not even the first request ran
    batch = await small.post(
        [{"jsonrpc": "2.0", "id": i, "method": "ccoin_status"} for i in (1, 2)]
    )
    assert [a["id"] for a in batch.json()] == [1, 2]


async def test_an_oversized_body_is_413(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = small.snapshot()
    tx = small.tx_json(small.transfer())
    tx["asset"] = {"data": "ab" * 1500}  # over the 2048-byte body limit, whatever it says
    body = {"jsonrpc": "2.0", "id": 1, "method": "ccoin_sendTransaction", "params": [tx]}
    response = await small.post(body)
    assert response.status_code == 413
    expect_error(response.json()["error"], ErrorCode.RPC_BODY_TOO_LARGE)
    assert small.snapshot() == before
    await small.still_serves()


async def test_an_oversized_body_without_a_length_is_cut_off_while_read(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 1024

    response = await small.http.post("/rpc", content=chunks())
    assert response.status_code == 413
    expect_error(response.json()["error"], ErrorCode.RPC_BODY_TOO_LARGE)
    assert "content-length" not in response.request.headers
    assert len(sent) < 100  # refused before the whole body came in
    await small.still_serves()


async def test_a_bad_content_length_is_an_invalid_request(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    response = await small.http.post(
        "/rpc", content=b'{"jsonrpc":"2.0","id":1,"method":"ccoin_status"}'
    )
    assert response.status_code == 200
    request = small.http.build_request("POST", "/rpc", content=b"{}")
    request.headers["content-length"] = "twelve"
    refused = await small.http.send(request)
    expect_error(refused.json()["error"], ErrorCode.RPC_INVALID_REQUEST)


async def test_rpc_is_post_only(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    response = await still.http.get("/rpc")
    assert response.status_code == 405


async def test_deep_nesting_is_refused_not_crashed(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    too_deep = await still.post(b"[" * 100_000)
    expect_error(too_deep.json()["error"], ErrorCode.RPC_PARSE_ERROR)
    deep = "[" * 1000 + "1" + "]" * 1000  # within the parser's limit, past every field's
    tx = {k: v for k, v in still.tx_json(still.transfer()).items() if k != "id"}
    tx.update(type=8, recipientId=None, amount="0")
    tx["asset"] = {"contract": "x", "method": "m", "args": "DEEP", "gasLimit": 1}
    cases = [
        ("ccoin_sendTransaction", [tx], ErrorCode.TX_BAD_ASSET),
        ("ccoin_getBlock", ["DEEP"], ErrorCode.WRONG_TYPE),
        ("ccoin_getAccount", ["DEEP"], ErrorCode.BAD_ADDRESS),
    ]
    for method, params, code in cases:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        raw = orjson.dumps(body).decode().replace('"DEEP"', deep).encode()
        expect_error((await still.post(raw)).json()["error"], code)
    await still.still_serves()
