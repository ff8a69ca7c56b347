"""A transaction's status as ccoin_getTransaction tells it: pending, included, finalized;
or rejected, with the error that rejected it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
import trio.testing

from ccoin.consensus import machine as m
from ccoin.errors import ErrorCode
from tests.unit.rpc.conftest import CAROL, NET, ApiClient, expect_error_body, open_api

MAX_BLOCKS = 12  # a transfer is finalized a few blocks after submission; bound the wait


async def statuses_until(api: ApiClient, tx_id: str, last: str) -> list[dict[str, Any]]:
    """Each distinct status of `tx_id`, read after every change of the node's head or
    finality, until `last` (at most MAX_BLOCKS blocks)."""
    seen = [await api.result("ccoin_getTransaction", [tx_id])]
    limit = api.node.chain.height + MAX_BLOCKS
    while seen[-1]["status"] != last:
        assert api.node.chain.height < limit, f"no {last!r} after {MAX_BLOCKS} blocks: {seen}"
        await api.node.wait_for_change()
        now = await api.result("ccoin_getTransaction", [tx_id])
        if now["status"] != seen[-1]["status"]:
            seen.append(now)
    return seen


async def test_pending_then_included_then_finalized(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    """The test plays the clock: slot by slot, the node's own consensus path produces,
    votes and finalizes, and the status is read after each slot."""
    tx = still.transfer(amount=4_242)
    tx_id = tx.id(still.nid)
    await still.result("ccoin_sendTransaction", [still.tx_json(tx)])
    pending = await still.result("ccoin_getTransaction", {"id": tx_id})
    assert pending == {
        "id": tx_id,
        "status": "pending",
        "blockId": None,
        "height": None,
        "confirmations": None,
        "error": None,
        "transaction": still.tx_json(tx),
        "receipt": None,
    }
    seen = [pending]
    for slot in range(1, MAX_BLOCKS):
        await still.node.handle(m.Tick(slot))
        now = await still.result("ccoin_getTransaction", [tx_id])
        if now["status"] != seen[-1]["status"]:
            seen.append(now)
        if now["status"] == "finalized":
            break
    assert [s["status"] for s in seen] == ["pending", "included", "finalized"]
    included, finalized = seen[1], seen[2]
    assert included["height"] == finalized["height"] == 1
    assert included["blockId"] == finalized["blockId"]
    assert included["confirmations"] == 1
    assert finalized["confirmations"] > included["confirmations"]
    assert finalized["transaction"] == {**still.tx_json(tx), "blockId": included["blockId"]}
    block = await still.result("ccoin_getBlock", [included["height"]])
    assert block["id"] == included["blockId"] and block["transactionIds"] == [tx_id]
    assert still.node.chain.finalized_height >= finalized["height"]


async def test_a_running_node_shows_included_before_finalized(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # The node starts only after the submission, so "pending" is seen for certain.
    async with open_api(tmp_path, run=False) as api, trio.open_nursery() as nursery:
        tx = api.transfer(amount=4_242)
        tx_id = tx.id(api.nid)
        await api.result("ccoin_sendTransaction", [api.tx_json(tx)])
        await nursery.start(api.node.run)
        seen = await statuses_until(api, tx_id, "finalized")
        nursery.cancel_scope.cancel()
    assert [s["status"] for s in seen] == ["pending", "included", "finalized"]


async def test_a_transaction_the_block_builder_refuses_is_rejected(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Two spends that each fit the balance enter the pool; the block takes the first and
    refuses the second, which then reports `rejected` with its reason."""
    async with open_api(tmp_path, run=False) as api, trio.open_nursery() as nursery:
        balance = NET.genesis.accounts[2].balance
        spends = [api.transfer(CAROL, amount=balance * 6 // 10 + i) for i in range(2)]
        answers = await api.result("ccoin_sendTransactions", [[api.tx_json(t) for t in spends]])
        assert [a.get("error") for a in answers] == [None, None]
        first, second = (t.id(api.nid) for t in spends)
        await nursery.start(api.node.run)
        seen = await statuses_until(api, second, "rejected")
        assert [s["status"] for s in seen] == ["pending", "rejected"]
        rejected = seen[-1]
        expect_error_body(rejected["error"], ErrorCode.TX_INSUFFICIENT_BALANCE)
        assert rejected["blockId"] is None and rejected["height"] is None
        assert rejected["transaction"]["id"] == second
        assert (await api.result("ccoin_getTransaction", [first]))["status"] in (
            "included",
            "finalized",
        )
        assert len(api.node.pool) == 0
        nursery.cancel_scope.cancel()


async def test_a_bad_signature_is_remembered_as_rejected(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.tx_json(still.transfer())
    forged = {k: v for k, v in tx.items() if k != "id"} | {"signature": "11" * 64}
    [answer] = await still.result("ccoin_sendTransactions", [[forged]])
    expect_error_body(answer["error"], ErrorCode.TX_BAD_SIGNATURE)
    status = await still.result("ccoin_getTransaction", [answer["id"]])
    assert status["status"] == "rejected"
    expect_error_body(status["error"], ErrorCode.TX_BAD_SIGNATURE)
    assert status["transaction"]["signature"] == "11" * 64
    # the genuine transaction is another id, never seen: not found, not rejected
    await still.error("ccoin_getTransaction", [tx["id"]], ErrorCode.NOT_FOUND)
    # and sending the genuine one now is fine
    assert await still.result("ccoin_sendTransaction", [tx]) == {"id": tx["id"]}
