"""JSON-RPC 2.0 to the letter: each example of the specification's section 7, on this
node's methods, and what is a notification and what is not (section 4.1 and 5): only a
valid Request object without an `id` goes unanswered; any other object is answered with
Invalid Request, its `id` null unless the object carries a valid one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio.testing

from ccoin.errors import ErrorCode
from tests.unit.rpc.asgi_ws import open_websocket
from tests.unit.rpc.conftest import ALICE, ApiClient, expect_error


def success(answer: Any, rid: Any) -> Any:
    """A success response: exactly `jsonrpc`, `id` and `result`; the result."""
    assert type(answer) is dict and set(answer) == {"jsonrpc", "id", "result"}, answer
    assert answer["jsonrpc"] == "2.0" and answer["id"] == rid and type(answer["id"]) is type(rid)
    return answer["result"]


def failure(answer: Any, rid: Any, code: ErrorCode) -> dict[str, Any]:
    """An error response: exactly `jsonrpc`, `id` and `error` (`code`, `message`, `data`)."""
    assert type(answer) is dict and set(answer) == {"jsonrpc", "id", "error"}, answer
    assert answer["jsonrpc"] == "2.0" and answer["id"] == rid and type(answer["id"]) is type(rid)
    error = answer["error"]
    assert set(error) == {"code", "message", "data"} and type(error["code"]) is int, error
    return expect_error(error, code)


def one_answer(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def no_answer(response: httpx.Response) -> None:
    """Nothing to say (notifications only): HTTP 204 and an empty body."""
    assert response.status_code == 204, response.text
    assert response.content == b""


# -- section 7, example by example ----------------------------------------------------------


async def test_rpc_call_with_positional_parameters(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(
        await still.post({"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0], "id": 1})
    )
    assert success(answer, 1)["height"] == 0
    answer = one_answer(
        await still.post(
            {"jsonrpc": "2.0", "method": "ccoin_getAccount", "params": [ALICE.address], "id": 2}
        )
    )
    assert success(answer, 2)["address"] == ALICE.address


async def test_rpc_call_with_named_parameters(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    by_position = success(
        one_answer(
            await still.post(
                {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0, True], "id": 3}
            )
        ),
        3,
    )
    for params in (
        {"includeTransactions": True, "block": 0},
        {"block": 0, "includeTransactions": True},
    ):
        request = {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": params, "id": 4}
        assert success(one_answer(await still.post(request)), 4) == by_position
    assert by_position["height"] == 0 and "transactions" in by_position


@pytest.mark.parametrize(
    "request_",
    [
        {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0, False]},
        {"jsonrpc": "2.0", "method": "ccoin_status"},
        {"jsonrpc": "2.0", "method": "foobar"},  # even a failing notification is not answered
    ],
)
async def test_a_notification(
    still: ApiClient, autojump_clock: trio.testing.MockClock, request_: dict[str, Any]
) -> None:
    no_answer(await still.post(request_))


async def test_rpc_call_of_a_non_existent_method(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "2.0", "method": "foobar", "id": "1"}))
    failure(answer, "1", ErrorCode.RPC_METHOD_NOT_FOUND)


async def test_rpc_call_with_invalid_json(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    body = b'{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'
    failure(one_answer(await still.post(body)), None, ErrorCode.RPC_PARSE_ERROR)


async def test_rpc_call_with_an_invalid_request_object(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "2.0", "method": 1, "params": "bar"}))
    failure(answer, None, ErrorCode.RPC_INVALID_REQUEST)


async def test_rpc_call_batch_with_invalid_json(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    body = (
        b'[{"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0], "id": "1"},'
        b'{"jsonrpc": "2.0", "method"]'
    )
    failure(one_answer(await still.post(body)), None, ErrorCode.RPC_PARSE_ERROR)


async def test_rpc_call_with_an_empty_array(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    # one response object, not an array
    failure(one_answer(await still.post(b"[]")), None, ErrorCode.RPC_INVALID_REQUEST)


async def test_rpc_call_with_an_invalid_batch_of_one(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answers = one_answer(await still.post(b"[1]"))
    assert type(answers) is list and len(answers) == 1
    failure(answers[0], None, ErrorCode.RPC_INVALID_REQUEST)


async def test_rpc_call_with_an_invalid_batch(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answers = one_answer(await still.post(b"[1,2,3]"))
    assert type(answers) is list and len(answers) == 3
    for answer in answers:
        failure(answer, None, ErrorCode.RPC_INVALID_REQUEST)


async def test_rpc_call_batch(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    answers = one_answer(
        await still.post(
            [
                {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0], "id": "1"},
                {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0]},
                {
                    "jsonrpc": "2.0",
                    "method": "ccoin_getAccount",
                    "params": [ALICE.address],
                    "id": "2",
                },
                {"foo": "boo"},
                {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                {"jsonrpc": "2.0", "method": "ccoin_status", "id": "9"},
            ]
        )
    )
    # this server answers in the batch's order (the specification allows any order)
    assert type(answers) is list and len(answers) == 5, answers
    assert success(answers[0], "1")["height"] == 0
    assert success(answers[1], "2")["address"] == ALICE.address
    failure(answers[2], None, ErrorCode.RPC_INVALID_REQUEST)
    failure(answers[3], "5", ErrorCode.RPC_METHOD_NOT_FOUND)
    assert success(answers[4], "9")["networkId"] == still.nid.hex()


async def test_rpc_call_batch_of_notifications_only(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    no_answer(
        await still.post(
            [
                {"jsonrpc": "2.0", "method": "ccoin_getBlock", "params": [0]},
                {"jsonrpc": "2.0", "method": "ccoin_getAccount", "params": [ALICE.address]},
            ]
        )
    )


# -- invalid request objects are never notifications (issue 13, finding 4) ------------------


async def test_an_empty_object_is_answered(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    failure(one_answer(await still.post({})), None, ErrorCode.RPC_INVALID_REQUEST)


async def test_a_number_as_method_is_answered(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "2.0", "method": 1}))
    assert "method" in failure(answer, None, ErrorCode.RPC_INVALID_REQUEST)["message"]


async def test_a_foreign_object_in_a_batch_is_answered(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answers = one_answer(
        await still.post([{"foo": "boo"}, {"jsonrpc": "2.0", "method": "ccoin_status"}])
    )
    assert type(answers) is list and len(answers) == 1, answers
    failure(answers[0], None, ErrorCode.RPC_INVALID_REQUEST)


@pytest.mark.parametrize(
    "request_",
    [
        {"method": "ccoin_status"},
        {"jsonrpc": "1.0", "method": "ccoin_status"},
        {"jsonrpc": 2.0, "method": "ccoin_status"},
        {"jsonrpc": "2.0"},
        {"jsonrpc": "2.0", "method": None},
        {"jsonrpc": "2.0", "method": ["ccoin_status"]},
        {"jsonrpc": "2.0", "method": "ccoin_status", "extra": True},
        {"jsonrpc": "2.0", "method": "ccoin_status", "id": {"a": 1}},
        {"jsonrpc": "2.0", "method": "ccoin_status", "id": [1]},
        {"jsonrpc": "2.0", "method": "ccoin_status", "id": 1.5},
        {"jsonrpc": "2.0", "method": "ccoin_status", "id": True},
        {"jsonrpc": "1.0", "method": "ccoin_status", "id": {"a": 1}},
    ],
)
async def test_invalid_requests_without_a_valid_id_are_answered_with_a_null_id(
    still: ApiClient, autojump_clock: trio.testing.MockClock, request_: dict[str, Any]
) -> None:
    failure(one_answer(await still.post(request_)), None, ErrorCode.RPC_INVALID_REQUEST)
    # the same inside a batch: one answer each, none dropped
    answers = one_answer(await still.post([request_, request_]))
    assert type(answers) is list and len(answers) == 2, answers
    for answer in answers:
        failure(answer, None, ErrorCode.RPC_INVALID_REQUEST)


@pytest.mark.parametrize("rid", ["7", 7, None])
async def test_an_invalid_request_with_a_valid_id_is_answered_with_that_id(
    still: ApiClient, autojump_clock: trio.testing.MockClock, rid: Any
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "1.0", "method": "ccoin_status", "id": rid}))
    failure(answer, rid, ErrorCode.RPC_INVALID_REQUEST)


async def test_a_null_id_is_a_request_not_a_notification(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "2.0", "method": "ccoin_status", "id": None}))
    assert success(answer, None)["networkId"] == still.nid.hex()


async def test_reserved_rpc_methods_are_not_found(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    answer = one_answer(await still.post({"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}))
    failure(answer, 1, ErrorCode.RPC_METHOD_NOT_FOUND)


async def test_params_must_be_structured_even_when_null(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    for params in (None, 7, "head"):  # section 4: params, when present, is structured
        request = {"jsonrpc": "2.0", "method": "ccoin_status", "params": params, "id": 1}
        failure(one_answer(await still.post(request)), 1, ErrorCode.RPC_INVALID_REQUEST)
    request.pop("params")
    assert success(one_answer(await still.post(request)), 1)["networkId"] == still.nid.hex()


async def test_invalid_requests_without_an_id_are_answered_over_the_websocket(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    after = {"jsonrpc": "2.0", "method": "ccoin_status", "id": "after"}
    async with open_websocket(still.app) as ws:
        # each invalid object is followed by a call: its answer must not come first
        await ws.send_json({"jsonrpc": "2.0", "method": "ccoin_status"})  # no answer
        await ws.send_json({})
        await ws.send_json(after)
        failure(await ws.receive_json(), None, ErrorCode.RPC_INVALID_REQUEST)
        assert success(await ws.receive_json(), "after")["networkId"] == still.nid.hex()
        await ws.send_json([{"foo": "boo"}])
        await ws.send_json(after)
        answers = await ws.receive_json()
        assert type(answers) is list and len(answers) == 1, answers
        failure(answers[0], None, ErrorCode.RPC_INVALID_REQUEST)
        assert success(await ws.receive_json(), "after")["networkId"] == still.nid.hex()
