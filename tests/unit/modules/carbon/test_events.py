"""The carbon events (ccoin.modules.carbon.events) and their WebSocket topics: one event per
carbon transaction of each block joining the head chain (`carbon`), naming the serials that
actually moved, and each retirement once its block is final (`carbonRetirements`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio.testing

from ccoin.errors import ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.modules.carbon import events
from ccoin.testing import carbon as c
from ccoin.testing.factories import LocalNet
from tests.unit.ledger.chain_helpers import block_with
from tests.unit.modules.carbon.api_scenario import (
    BATCH,
    CARBON,
    COMMITTEE,
    HOLDER,
    ISSUER,
    OTHER,
    PROJECT,
)
from tests.unit.modules.carbon.conftest import BATCH as CONFTEST_BATCH
from tests.unit.rpc.asgi_ws import AsgiWebSocket, open_websocket
from tests.unit.rpc.conftest import expect_error, open_api


def test_block_events_name_the_serials_that_moved(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b = net.accounts[2], net.accounts[3]
    send = c.transfer(a, b.address, CONFTEST_BATCH, nid, quantity=250)
    gone = c.retire(b, CONFTEST_BATCH, nid, ranges=((7, 9),), beneficiary="Acme Ltd")
    explicit_send = c.transfer(a, b.address, CONFTEST_BATCH, nid, ranges=((900, 999),))
    assert block_with(chain, net, send).rejected == []
    assert block_with(chain, net, explicit_send, gone).rejected == []
    [moved] = events.block_events(chain, chain.height - 1)
    assert moved["kind"] == "transfer" and moved["type"] == 14
    assert (moved["from"], moved["to"], moved["sender"]) == (a.address, b.address, a.address)
    assert (moved["quantity"], moved["ranges"]) == ("250", [["1", "250"]])  # lowest serials
    assert moved["transactionId"] == send.id(nid) and moved["index"] == 0
    assert moved["asset"] == {"batchId": CONFTEST_BATCH, "quantity": "250"}
    explicit, retired = events.block_events(chain, chain.height)
    assert explicit["ranges"] == [["900", "999"]] and explicit["quantity"] == "100"
    assert (retired["kind"], retired["from"], retired["to"]) == ("retire", b.address, None)
    assert retired["index"] == 1 and retired["ranges"] == [["7", "9"]]
    header = chain.header_at(chain.height)
    assert header is not None and retired["blockId"] == header.id(nid)

    [issued] = events.block_events(chain, 2)  # the fixture's issue
    assert issued["kind"] == "issue" and issued["batchId"] == CONFTEST_BATCH
    assert (issued["from"], issued["to"]) == (None, a.address)
    assert issued["ranges"] == [["1", "1000000"]]
    setup = events.block_events(chain, 1)
    assert [e["kind"] for e in setup] == ["committee"] * 3 + ["project"]
    assert all(e["batchId"] is None and e["quantity"] is None for e in setup)
    assert setup[2]["asset"]["action"] == "admit-issuer"

    [record] = events.finalized_retirements(chain, chain.height)
    assert record["retirementId"] == gone.id(nid) and record["leafIndex"] == 0
    assert record["blockId"] == header.id(nid) and record["beneficiary"] == "Acme Ltd"
    assert events.finalized_retirements(chain, 1) == []
    assert events.block_events(chain, chain.height + 1) == []


async def notifications(ws: AsgiWebSocket, count: int) -> list[dict[str, Any]]:
    """The next `count` subscription notifications' params."""
    out = []
    while len(out) < count:
        message = ws.pending.pop(0) if ws.pending else await ws.receive_json()
        assert message["method"] == "ccoin_subscription", message
        out.append(message["params"])
    return out


async def test_the_carbon_topics_follow_the_chain(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, genesis=CARBON) as api, open_websocket(api.app) as ws:
        moves = (await ws.request(1, "ccoin_subscribe", ["carbon"]))["result"]
        final = (await ws.request(2, "ccoin_subscribe", ["carbonRetirements"]))["result"]
        nid, now = api.nid, api.now()
        txs = [
            c.admit_class(COMMITTEE, "VCS", nid, timestamp=now),
            c.admit_issuer(COMMITTEE, ISSUER.address, ("VCS",), nid, timestamp=now),
            c.register_project(ISSUER, PROJECT, "VCS", nid, timestamp=now),
            c.issue(ISSUER, PROJECT, 1, 1000, "O-1", HOLDER.address, nid, timestamp=now),
            c.transfer(HOLDER, OTHER.address, BATCH, nid, quantity=300, timestamp=now),
            c.retire(OTHER, BATCH, nid, ranges=((40, 45),), timestamp=now),
            c.cancel(HOLDER, BATCH, nid, quantity=10, timestamp=now),
        ]
        heights = [await api.include(tx) for tx in txs]  # in turn: each needs the one before
        by_topic: dict[str, list[dict[str, Any]]] = {moves: [], final: []}
        while len(by_topic[moves]) < len(txs) or not by_topic[final]:
            [note] = await notifications(ws, 1)  # the topics interleave as blocks finalize
            expected = "carbon" if note["subscription"] == moves else "carbonRetirements"
            assert note["topic"] == expected
            if expected == "carbonRetirements":  # pushed once its block is final
                assert api.node.chain.finalized_height >= note["result"]["height"]
            by_topic[note["subscription"]].append(note["result"])
        results = by_topic[moves]
        assert [r["transactionId"] for r in results] == [tx.id(nid) for tx in txs]
        assert [r["height"] for r in results] == heights
        issued, moved, retired, cancelled = results[3:]
        assert (issued["batchId"], issued["quantity"]) == (BATCH, "1000")
        assert issued["to"] == HOLDER.address
        assert (moved["ranges"], moved["to"]) == ([["1", "300"]], OTHER.address)
        assert (retired["ranges"], retired["from"]) == ([["40", "45"]], OTHER.address)
        assert (cancelled["ranges"], cancelled["quantity"]) == ([["301", "310"]], "10")

        [record] = by_topic[final]  # once the retirement's block is final
        assert record["retirementId"] == txs[5].id(nid) and record["height"] == heights[5]
        assert record["ranges"] == [["40", "45"]] and record["leafIndex"] == 0

        assert (await ws.request(3, "ccoin_unsubscribe", [moves]))["result"] is True
        refused = await ws.request(4, "ccoin_subscribe", ["carbon", {"batchId": BATCH}])
        expect_error(refused["error"], ErrorCode.RPC_INVALID_PARAMS)


async def test_a_network_without_carbon_refuses_its_topics(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, run=False) as still, open_websocket(still.app) as ws:
        for rid, topic in enumerate(("carbon", "carbonRetirements")):
            answer = await ws.request(rid, "ccoin_subscribe", [topic])
            expect_error(answer["error"], ErrorCode.MODULE_NOT_ENABLED)
        unknown = await ws.request(9, "ccoin_subscribe", ["carbons"])
        error = expect_error(unknown["error"], ErrorCode.RPC_INVALID_PARAMS)
        assert "carbonRetirements" in error["message"]  # the topics are listed
