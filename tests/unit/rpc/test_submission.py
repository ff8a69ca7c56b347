"""ccoin_sendTransaction / ccoin_sendTransactions: what is admitted, and every way a
submission is refused, each with its code and with the pool and balances as they were."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.node.config import RpcConfig
from ccoin.node.mempool import PoolLimits
from ccoin.testing import factories as f
from ccoin.types.asset_base import TxType
from ccoin.types.genesis import DEFAULT_MIN_FEES
from tests.unit.rpc.conftest import (
    ALICE,
    BOB,
    CAROL,
    LOOPBACK,
    NET,
    ApiClient,
    open_api,
)

OTHER_NETWORK = bytes(range(32))


def without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in names}


async def test_a_valid_transfer_is_admitted_and_pending(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.transfer(amount=12_345)
    result = await still.result("ccoin_sendTransaction", [still.tx_json(tx)])
    assert result == {"id": tx.id(still.nid)}
    assert len(still.node.pool) == 1
    account = await still.result("ccoin_getAccount", [ALICE.address])
    assert account["pending"] == 1
    # the minimal JSON form (no id, senderId, signSignature...) is accepted too
    other = still.transfer(CAROL, amount=7)
    minimal = without(still.tx_json(other), "id", "senderId", "signSignature", "signatures")
    assert await still.result("ccoin_sendTransaction", {"transaction": minimal}) == {
        "id": other.id(still.nid)
    }


# (what to change in a valid transfer's JSON, the expected code). `id` is dropped first so
# that a changed body reaches the check under test instead of the id comparison.
MALFORMED: list[tuple[str, dict[str, Any], ErrorCode]] = [
    ("amount over BIGINT", {"amount": 2**63}, ErrorCode.OUT_OF_RANGE),
    ("amount over BIGINT as text", {"amount": str(2**63)}, ErrorCode.OUT_OF_RANGE),
    ("amount past u64", {"amount": 2**64}, ErrorCode.BAD_JSON),
    ("negative amount", {"amount": -1}, ErrorCode.OUT_OF_RANGE),
    ("fractional amount", {"amount": 1.5}, ErrorCode.BAD_JSON),
    ("amount as hex text", {"amount": "0x10"}, ErrorCode.BAD_JSON),
    ("fee as a list", {"fee": [1000]}, ErrorCode.BAD_JSON),
    ("timestamp as text", {"timestamp": "3"}, ErrorCode.BAD_JSON),
    ("timestamp past INT", {"timestamp": 2**31}, ErrorCode.OUT_OF_RANGE),
    ("type as text", {"type": "0"}, ErrorCode.BAD_JSON),
    ("unknown type", {"type": 42}, ErrorCode.TX_UNKNOWN_TYPE),
    ("type past TINYINT", {"type": 256}, ErrorCode.OUT_OF_RANGE),
    ("short public key", {"senderPublicKey": "ab" * 31}, ErrorCode.BAD_FIELD),
    ("uppercase hex key", {"senderPublicKey": "AB" * 32}, ErrorCode.BAD_JSON),
    ("short signature", {"signature": "00" * 63}, ErrorCode.BAD_FIELD),
    ("signature as a number", {"signature": 5}, ErrorCode.BAD_JSON),
    ("senderId of another key", {"senderId": BOB.address}, ErrorCode.BAD_ADDRESS),
    ("recipient not an address", {"recipientId": "Cnope"}, ErrorCode.BAD_ADDRESS),
    ("recipient as a number", {"recipientId": 5}, ErrorCode.BAD_JSON),
    ("unknown field", {"nonce": 1}, ErrorCode.BAD_JSON),
    ("memo too long", {"asset": {"data": "00" * 65}}, ErrorCode.TOO_LONG),
    ("asset not an object", {"asset": [1]}, ErrorCode.BAD_JSON),
    ("asset with a stray field", {"asset": {"data": "", "x": 1}}, ErrorCode.BAD_JSON),
]


@pytest.mark.parametrize(
    ("change", "code"), [(c, code) for _, c, code in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_malformed_transactions_are_refused_with_their_code(
    still: ApiClient,
    autojump_clock: trio.testing.MockClock,
    change: dict[str, Any],
    code: ErrorCode,
) -> None:
    before = still.snapshot()
    tx = {**without(still.tx_json(still.transfer()), "id"), **change}
    await still.error("ccoin_sendTransaction", [tx], code)
    assert still.snapshot() == before
    await still.still_serves()


@pytest.mark.parametrize("missing", ["type", "timestamp", "senderPublicKey", "amount", "fee"])
async def test_a_missing_required_field_is_bad_json(
    still: ApiClient, autojump_clock: trio.testing.MockClock, missing: str
) -> None:
    before = still.snapshot()
    tx = without(still.tx_json(still.transfer()), missing)
    error = await still.error("ccoin_sendTransaction", [tx], ErrorCode.BAD_JSON)
    assert missing in error["message"]
    assert still.snapshot() == before


@pytest.mark.parametrize("value", ["tx", 5, None, [], True])
async def test_a_transaction_that_is_not_an_object(
    still: ApiClient, autojump_clock: trio.testing.MockClock, value: Any
) -> None:
    before = still.snapshot()
    await still.error("ccoin_sendTransaction", [value], ErrorCode.BAD_JSON)
    [answer] = await still.result("ccoin_sendTransactions", [[value]])
    assert answer["id"] is None and answer["error"]["name"] == ErrorCode.BAD_JSON.name
    if value != []:
        await still.error("ccoin_sendTransactions", [value], ErrorCode.WRONG_TYPE)
    assert still.snapshot() == before
    await still.still_serves()


async def test_a_bad_signature(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    before = still.snapshot()
    rejected = still.metric("ccoin_transactions_rejected_total", {"code": "TX_BAD_SIGNATURE"})
    tx = still.tx_json(still.transfer())
    signature = bytearray.fromhex(tx["signature"])
    signature[0] ^= 1
    forged = {**without(tx, "id"), "signature": signature.hex()}
    await still.error("ccoin_sendTransaction", [forged], ErrorCode.TX_BAD_SIGNATURE)
    # a changed amount under the old signature: the claimed id no longer matches...
    await still.error("ccoin_sendTransaction", [{**tx, "amount": "999"}], ErrorCode.BAD_ID)
    # ...and without the id it is the signature that fails
    changed = {**without(tx, "id"), "amount": "999"}
    await still.error("ccoin_sendTransaction", [changed], ErrorCode.TX_BAD_SIGNATURE)
    assert still.snapshot() == before
    after = still.metric("ccoin_transactions_rejected_total", {"code": "TX_BAD_SIGNATURE"})
    assert after == rejected + 2
    await still.still_serves()


async def test_a_transaction_signed_for_another_network(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    foreign = still.transfer(network_id=OTHER_NETWORK)
    as_sent = foreign.to_json(OTHER_NETWORK)  # its id is the other network's
    error = await still.error("ccoin_sendTransaction", [as_sent], ErrorCode.BAD_ID)
    assert "another network" in error["message"]
    await still.error("ccoin_sendTransaction", [without(as_sent, "id")], ErrorCode.TX_BAD_SIGNATURE)
    assert still.snapshot() == before
    await still.still_serves()


async def test_state_checks_refuse_what_the_ledger_would(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = still.snapshot()
    cases = [
        (still.transfer(amount=NET.genesis.accounts[0].balance), ErrorCode.TX_INSUFFICIENT_BALANCE),
        (still.transfer(fee=1), ErrorCode.TX_FEE_TOO_LOW),
        (still.transfer(timestamp=still.now() + 100), ErrorCode.TX_TIMESTAMP_IN_FUTURE),
        (still.transfer(f.key("stranger")), ErrorCode.TX_SENDER_UNKNOWN),
    ]
    for tx, code in cases:
        await still.error("ccoin_sendTransaction", [still.tx_json(tx)], code)
    assert still.snapshot() == before


async def test_a_pooled_transaction_sent_again_is_a_duplicate(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.tx_json(still.transfer())
    await still.result("ccoin_sendTransaction", [tx])
    before = still.snapshot()
    error = await still.error("ccoin_sendTransaction", [tx], ErrorCode.POOL_DUPLICATE)
    assert error["data"]["retryable"] is False
    assert still.snapshot() == before
    status = await still.result("ccoin_getTransaction", [tx["id"]])
    assert status["status"] == "pending"  # a duplicate is not a rejection of the original


async def test_an_included_transaction_sent_again_is_a_replay(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = api.transfer()
    tx_id = tx.id(api.nid)
    await api.include(tx)
    balance = (await api.result("ccoin_getAccount", [ALICE.address]))["balance"]
    admitted = api.snapshot().admitted
    await api.error("ccoin_sendTransaction", [api.tx_json(tx)], ErrorCode.TX_ALREADY_INCLUDED)
    assert api.snapshot().admitted == admitted and len(api.node.pool) == 0
    assert (await api.result("ccoin_getAccount", [ALICE.address]))["balance"] == balance
    status = await api.result("ccoin_getTransaction", [tx_id])
    assert status["status"] in ("included", "finalized")


async def test_send_transactions_answers_each_entry_in_order(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    good = [still.transfer(k, amount=10 + i) for i, k in enumerate((ALICE, BOB))]
    forged = {**without(still.tx_json(still.transfer(CAROL)), "id"), "signature": "00" * 64}
    entries = [
        still.tx_json(good[0]),
        {"type": 0},
        forged,
        still.tx_json(good[1]),
        still.tx_json(good[0]),
    ]
    answers = await still.result("ccoin_sendTransactions", [entries])
    assert [a["id"] for a in answers[:2]] == [good[0].id(still.nid), None]
    assert answers[3] == {"id": good[1].id(still.nid)} and "error" not in answers[0]
    expected = [
        None,
        ErrorCode.BAD_JSON,
        ErrorCode.TX_BAD_SIGNATURE,
        None,
        ErrorCode.POOL_DUPLICATE,
    ]
    for answer, code in zip(answers, expected, strict=True):
        if code is None:
            assert "error" not in answer
        else:
            assert answer["error"]["code"] == code.number
            assert answer["error"]["name"] == code.name
    assert answers[2]["id"] is not None  # a parsed but forged entry still has its id
    assert len(still.node.pool) == 2
    assert await still.result("ccoin_sendTransactions", [[]]) == []


@pytest.fixture
async def tight(tmp_path: Path) -> AsyncIterator[ApiClient]:
    rpc = RpcConfig(LOOPBACK, max_transactions_per_call=3, max_verifying=2)
    pool = PoolLimits(max_transactions=2)
    async with open_api(tmp_path, rpc=rpc, pool=pool, run=False) as client:
        yield client


async def test_too_many_transactions_in_one_call(
    tight: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = tight.snapshot()
    txs = [tight.tx_json(tight.transfer(amount=i + 1)) for i in range(4)]
    error = await tight.error("ccoin_sendTransactions", [txs], ErrorCode.RPC_BATCH_TOO_LARGE)
    assert "at most 3" in error["message"]
    assert tight.snapshot() == before
    await tight.still_serves()


async def test_a_backlog_of_checks_is_busy_and_retryable(
    tight: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    before = tight.snapshot()
    txs = [tight.tx_json(tight.transfer(amount=i + 1)) for i in range(3)]
    error = await tight.error("ccoin_sendTransactions", [txs], ErrorCode.RPC_BUSY)
    assert error["data"]["retryable"] is True
    assert tight.snapshot() == before
    verified = tight.metric("ccoin_transactions_verified_total")
    assert verified == 0  # refused before any signature check
    assert await tight.result("ccoin_sendTransactions", [txs[:2]]) == [
        {"id": txs[0]["id"]},
        {"id": txs[1]["id"]},
    ]


async def test_a_full_pool_answers_at_once_and_retryable(
    tight: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    fee = 2 * DEFAULT_MIN_FEES[TxType.TRANSFER]
    first = [tight.tx_json(tight.transfer(k, fee=fee)) for k in (ALICE, BOB)]
    assert len(await tight.result("ccoin_sendTransactions", [first])) == 2
    before = tight.snapshot()
    cheaper = tight.tx_json(tight.transfer(CAROL))
    error = await tight.error("ccoin_sendTransaction", [cheaper], ErrorCode.POOL_FULL)
    assert error["data"]["retryable"] is True
    assert tight.snapshot() == before
    fee_now = await tight.result("ccoin_estimateFee", [0, 200])
    assert int(fee_now["fee"]) > int(fee_now["minFee"])  # the price of a place, when full
    assert fee_now["mempoolSize"] == 2
