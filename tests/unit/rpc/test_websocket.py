"""WebSocket subscriptions at /ws: blocks and finalized blocks in height order, a
transaction's status changes, unsubscribing, refusals, and plain calls over the socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio.testing

from ccoin.consensus import machine as m
from ccoin.errors import ErrorCode
from ccoin.node.config import RpcConfig
from tests.unit.rpc.asgi_ws import AsgiWebSocket, Closed, open_websocket
from tests.unit.rpc.conftest import LOOPBACK, ApiClient, expect_error, open_api

LIFECYCLE = ["pending", "included", "finalized"]


async def next_notification(ws: AsgiWebSocket) -> dict[str, Any]:
    """The next subscription notification's params: {subscription, topic, result}."""
    message = ws.pending.pop(0) if ws.pending else await ws.receive_json()
    assert message["method"] == "ccoin_subscription", message
    assert set(message["params"]) == {"subscription", "topic", "result"}
    return message["params"]  # type: ignore[no-any-return]


async def test_new_and_finalized_blocks_arrive_in_height_order(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(api.app) as ws:
        new = (await ws.request(1, "ccoin_subscribe", ["newBlocks"]))["result"]
        final = (await ws.request(2, "ccoin_subscribe", ["finalizedBlocks"]))["result"]
        assert new != final and {new, final} <= {"s1", "s2"}
        heights: dict[str, list[int]] = {new: [], final: []}
        while len(heights[final]) < 4:
            note = await next_notification(ws)
            sid, header = note["subscription"], note["result"]
            assert note["topic"] == ("newBlocks" if sid == new else "finalizedBlocks")
            heights[sid].append(header["height"])
            stored = api.node.chain.header_at(header["height"])
            assert stored is not None and header["id"] == stored.id(api.nid)
        for sid in (new, final):
            seen = heights[sid]
            assert seen == list(range(seen[0], seen[0] + len(seen))), (sid, seen)
        assert heights[new][0] > heights[final][0]  # finality trails the head
        assert max(heights[final]) <= api.node.chain.finalized_height


async def test_finalized_blocks_can_carry_their_transaction_ids(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    txs = [still.transfer(amount=40 + i) for i in range(3)]
    async with open_websocket(still.app) as ws:
        for i, tx in enumerate(txs):
            await ws.request(i, "ccoin_sendTransaction", [still.tx_json(tx)])
        with_ids = ["finalizedBlocks", {"transactionIds": True}]
        sid = (await ws.request(10, "ccoin_subscribe", with_ids))["result"]
        plain = (await ws.request(11, "ccoin_subscribe", ["finalizedBlocks"]))["result"]
        off = ["finalizedBlocks", {"transactionIds": False}]
        plain_too = (await ws.request(12, "ccoin_subscribe", off))["result"]
        seen: dict[str, list[dict[str, Any]]] = {sid: [], plain: [], plain_too: []}
        slot = 0
        while not seen[sid] or seen[sid][-1]["height"] < 2:
            slot += 1
            await still.node.handle(m.Tick(slot))
            await ws.request(20 + slot, "ccoin_status")  # every push so far is in
            for note in ws.pending:
                seen[note["params"]["subscription"]].append(note["params"]["result"])
            ws.pending.clear()
        ids = [tx.id(still.nid) for tx in txs]
        for result in seen[sid]:
            summary = still.node.chain.block_summary(result["height"])
            assert summary is not None and result["transactionIds"] == summary[1]
        assert sorted(i for r in seen[sid] for i in r["transactionIds"]) == sorted(ids)
        for other in (plain, plain_too):
            assert [r["height"] for r in seen[other]] == [r["height"] for r in seen[sid]]
            assert all("transactionIds" not in r for r in seen[other])
            assert [{**r, "transactionIds": []} for r in seen[other]] == [
                {**r, "transactionIds": []} for r in seen[sid]
            ]


async def test_a_transaction_subscription_follows_its_status_and_ends(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.transfer(amount=31)
    tx_id = tx.id(still.nid)
    async with open_websocket(still.app) as ws:
        await ws.request(1, "ccoin_sendTransaction", [still.tx_json(tx)])
        # a subscription starts with the status now
        sid = (await ws.request(2, "ccoin_subscribe", ["transaction", tx_id]))["result"]
        statuses: list[str] = []
        for slot in range(1, 8):  # the test plays the clock, one slot at a time
            if statuses[-1:] == ["finalized"]:
                break
            await still.node.handle(m.Tick(slot))
            answer = await ws.request(10 + slot, "ccoin_status")  # every push so far is in
            assert answer["result"]["height"] == slot
            for note in ws.pending:
                assert note["params"]["subscription"] == sid
                assert note["params"]["topic"] == "transaction"
                result = note["params"]["result"]
                assert result["id"] == tx_id
                statuses.append(result["status"])
            ws.pending.clear()
        # in lifecycle order, each once
        assert statuses == LIFECYCLE, statuses
        # a finalized transaction's subscription has ended itself
        assert (await ws.request(99, "ccoin_unsubscribe", [sid]))["result"] is False


async def test_a_subscription_taken_before_sending_sees_pending(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.transfer(amount=32)
    tx_id = tx.id(still.nid)
    async with open_websocket(still.app) as ws:
        sid = (await ws.request(1, "ccoin_subscribe", ["transaction", tx_id]))["result"]
        await ws.request(2, "ccoin_sendTransaction", [still.tx_json(tx)])
        with trio.fail_after(60):  # mock time: nothing else would ever wake the push
            note = await next_notification(ws)
        assert note["subscription"] == sid and note["result"]["status"] == "pending"
        await ws.send_json({"jsonrpc": "1.0", "id": 3, "method": "ccoin_subscribe"})
        bad = await ws.receive_json()
        assert bad["id"] == 3
        expect_error(bad["error"], ErrorCode.RPC_INVALID_REQUEST)


async def test_unsubscribe_stops_notifications(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(api.app) as ws:
        gone = (await ws.request(1, "ccoin_subscribe", ["newBlocks"]))["result"]
        kept = (await ws.request(2, "ccoin_subscribe", ["newBlocks"]))["result"]
        await next_notification(ws)
        assert (await ws.request(3, "ccoin_unsubscribe", [gone]))["result"] is True
        cut = api.node.chain.height  # nothing above this may come for `gone`
        ws.pending = [n for n in ws.pending if n["params"]["result"]["height"] <= cut]
        late = []
        while True:
            note = await next_notification(ws)
            late.append(note)
            if note["subscription"] == kept and note["result"]["height"] >= cut + 3:
                break
        assert all(n["result"]["height"] <= cut for n in late if n["subscription"] == gone)
        assert (await ws.request(4, "ccoin_unsubscribe", [gone]))["result"] is False


BAD_SUBSCRIPTIONS: list[tuple[str, Any, ErrorCode]] = [
    ("ccoin_subscribe", ["nope"], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", [], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", "newBlocks", ErrorCode.RPC_INVALID_REQUEST),  # params not structured
    ("ccoin_subscribe", {"topic": "newBlocks"}, ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", [5], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["newBlocks", 1], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["finalizedBlocks", {"transactionIds": 1}], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["finalizedBlocks", {"ids": True}], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["finalizedBlocks", [True]], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["newBlocks", {}, {}], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["transaction"], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_subscribe", ["transaction", "not-an-id"], ErrorCode.BAD_ID),
    ("ccoin_subscribe", ["transaction", 5], ErrorCode.BAD_ID),
    ("ccoin_unsubscribe", [], ErrorCode.RPC_INVALID_PARAMS),
    ("ccoin_unsubscribe", [1], ErrorCode.RPC_INVALID_PARAMS),
]


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[ApiClient]:
    rpc = RpcConfig(LOOPBACK, max_subscriptions=2, max_websockets=1, max_body_bytes=1024)
    async with open_api(tmp_path, rpc=rpc, run=False) as client:
        yield client


async def test_bad_subscriptions_are_refused(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(small.app) as ws:
        for i, (method, params, code) in enumerate(BAD_SUBSCRIPTIONS):
            answer = await ws.request(i, method, params)
            assert "result" not in answer
            expect_error(answer["error"], code)
        assert (await ws.request(50, "ccoin_unsubscribe", ["s404"]))["result"] is False
        assert (await ws.request(51, "ccoin_subscribe", ["newBlocks"]))["result"]
        assert (await ws.request(52, "ccoin_subscribe", ["finalizedBlocks"]))["result"]
        full = await ws.request(53, "ccoin_subscribe", ["newBlocks"])
        assert "at most 2" in expect_error(full["error"], ErrorCode.RPC_INVALID_PARAMS)["message"]
        assert (await ws.request(54, "ccoin_status"))["result"]["height"] == 0


async def test_a_refused_block_option_changes_nothing(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(small.app) as ws:
        for i, options in enumerate(({"transactionIds": "yes"}, {"x": True}, None, [])):
            answer = await ws.request(i, "ccoin_subscribe", ["finalizedBlocks", options])
            message = expect_error(answer["error"], ErrorCode.RPC_INVALID_PARAMS)["message"]
            assert "transactionIds" in message
        # no subscription was made and no id taken; the limit of 2 still has both seats
        assert (await ws.request(10, "ccoin_unsubscribe", ["s1"]))["result"] is False
        with_ids = ["newBlocks", {"transactionIds": True}]
        assert (await ws.request(11, "ccoin_subscribe", with_ids))["result"] == "s1"
        assert (await ws.request(12, "ccoin_subscribe", ["finalizedBlocks"]))["result"] == "s2"
        assert ws.pending == []


async def test_subscription_calls_follow_the_request_rules(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    """A subscription asked as a notification is ignored (nobody would learn its id); one
    with an id of the wrong type or an unknown member is an invalid request, id null."""
    async with open_websocket(small.app) as ws:
        await ws.send_json({"jsonrpc": "2.0", "method": "ccoin_subscribe", "params": ["newBlocks"]})
        for bad in (
            {
                "jsonrpc": "2.0",
                "id": {"a": 1},
                "method": "ccoin_subscribe",
                "params": ["newBlocks"],
            },
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "ccoin_subscribe",
                "params": ["newBlocks"],
                "x": 1,
            },
        ):
            await ws.send_json(bad)
            answer = await ws.receive_json()  # the notification got no answer: this is next
            assert answer["id"] is None or answer["id"] == 7
            expect_error(answer["error"], ErrorCode.RPC_INVALID_REQUEST)
        first = await ws.request(8, "ccoin_subscribe", ["newBlocks"])
        assert first["result"] == "s1"  # neither the notification nor the bad ones subscribed


async def test_ordinary_calls_over_the_socket(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(small.app) as ws:
        status = await ws.request("a", "ccoin_status")
        assert status["result"]["networkId"] == small.nid.hex()
        await ws.send_json({"jsonrpc": "2.0", "method": "ccoin_status"})  # notification
        await ws.send_json(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "ccoin_getBlock", "params": [0]},
                {"jsonrpc": "2.0", "id": 2, "method": "ccoin_nope"},
            ]
        )
        batch = await ws.receive_json()  # the notification got no answer: the batch is next
        assert [a["id"] for a in batch] == [1, 2]
        expect_error(batch[1]["error"], ErrorCode.RPC_METHOD_NOT_FOUND)
        await ws.send_text("{oops")
        expect_error((await ws.receive_json())["error"], ErrorCode.RPC_PARSE_ERROR)
        await ws.send_text(orjson.dumps({"jsonrpc": "2.0", "id": 3, "x": "y" * 2000}).decode())
        expect_error((await ws.receive_json())["error"], ErrorCode.RPC_BODY_TOO_LARGE)
        await ws.send_bytes(b'{"jsonrpc": "2.0", "id": 4, "method": "ccoin_status"}')
        assert (await ws.receive_json())["id"] == 4  # a binary frame holding JSON works too
        assert (await ws.request(5, "ccoin_getAccount", ["nope"]))["error"]["code"] == (
            ErrorCode.BAD_ADDRESS.number
        )
    assert small.app.websockets == 0  # the handler ended cleanly on disconnect


async def test_connections_over_the_limit_are_closed(
    small: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_websocket(small.app) as first:
        with pytest.raises(Closed) as refused:
            async with open_websocket(small.app, client=("10.0.0.3", 5000)):
                pass
        assert refused.value.code == 1013
        assert (await first.request(1, "ccoin_status"))["result"]["height"] == 0
    async with open_websocket(small.app) as again:  # the seat is free once closed
        assert (await again.request(1, "ccoin_status"))["result"]["height"] == 0
