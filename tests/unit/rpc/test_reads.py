"""The read methods with valid and invalid input: status, blocks, accounts, delegates,
votes, fees and transactions. A bad value keeps its specific code."""

from __future__ import annotations

from typing import Any

import pytest
import trio.testing

from ccoin.crypto.address import id_from_hash
from ccoin.errors import ErrorCode
from ccoin.testing import factories as f
from ccoin.types.genesis import DEFAULT_MIN_FEES
from tests.unit.rpc.conftest import ALICE, BOB, GOVERNOR, NET, ApiClient

UNKNOWN_ID = id_from_hash(b"\x07" * 32)  # well formed, never used
DELEGATE = NET.delegates[0]


async def test_status_describes_the_node_and_chain(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    status = await api.result("ccoin_status")
    chain = api.node.chain
    assert status["networkId"] == api.nid.hex()
    assert status["chainName"] == NET.genesis.chain_name and status["name"] == "n0"
    assert 2 <= status["height"] <= chain.height
    assert 0 <= status["finalizedHeight"] <= status["height"]
    assert status["slot"] >= status["height"]
    assert status["headId"] == chain.header_at(status["height"]).id(api.nid)  # type: ignore[union-attr]
    assert status["peers"] == 0 and status["mempoolSize"] == 0
    assert status["genesisTime"] == NET.genesis.genesis_time and status["blockTimeMs"] == 1000


async def test_blocks_by_height_id_and_name(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = api.transfer(amount=77)
    tx_id = tx.id(api.nid)
    height = await api.include(tx)
    by_height = await api.result("ccoin_getBlock", [height, True])
    assert by_height["height"] == height
    [in_block] = by_height["transactions"]
    assert in_block["id"] == tx_id and in_block["amount"] == "77"
    assert in_block["blockId"] == by_height["id"] and "transactionIds" not in by_height
    by_id = await api.result("ccoin_getBlock", {"block": by_height["id"]})
    assert by_id["transactionIds"] == [tx_id] and "transactions" not in by_id
    assert by_id["hash"] == by_height["hash"] and by_id["numberOfTransactions"] == 1
    head = await api.result("ccoin_getBlock", ["head"])
    assert head["height"] >= height
    finalized = await api.result("ccoin_getBlock", ["finalized"])
    assert finalized["height"] <= head["height"]
    genesis = await api.result("ccoin_getBlock", [0])
    assert genesis["height"] == 0 and genesis["transactionIds"] == []


BAD_BLOCKS: list[tuple[Any, Any, ErrorCode]] = [
    (-1, False, ErrorCode.OUT_OF_RANGE),
    (2**63, False, ErrorCode.OUT_OF_RANGE),
    (1.5, False, ErrorCode.WRONG_TYPE),
    (True, False, ErrorCode.WRONG_TYPE),
    (None, False, ErrorCode.WRONG_TYPE),
    ([1], False, ErrorCode.WRONG_TYPE),
    ({"height": 1}, False, ErrorCode.WRONG_TYPE),
    ("latest", False, ErrorCode.BAD_ID),
    ("0OIl", False, ErrorCode.BAD_ID),
    (10**9, False, ErrorCode.NOT_FOUND),
    (UNKNOWN_ID, False, ErrorCode.NOT_FOUND),
    (0, "yes", ErrorCode.WRONG_TYPE),
    (0, 1, ErrorCode.WRONG_TYPE),
]


@pytest.mark.parametrize(("block", "include", "code"), BAD_BLOCKS)
async def test_bad_block_queries(
    still: ApiClient,
    autojump_clock: trio.testing.MockClock,
    block: Any,
    include: Any,
    code: ErrorCode,
) -> None:
    await still.error("ccoin_getBlock", [block, include], code)
    await still.still_serves()


async def test_accounts(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    alice = await still.result("ccoin_getAccount", [ALICE.address])
    assert alice["exists"] is True and alice["address"] == ALICE.address
    assert alice["balance"] == str(NET.genesis.accounts[0].balance)
    assert alice["delegate"] is None and alice["pending"] == 0 and alice["votes"] == []
    stranger = f.key("stranger").address
    nobody = await still.result("ccoin_getAccount", [stranger])
    assert nobody == {
        "address": stranger,
        "exists": False,
        "balance": "0",
        "publicKey": None,
        "secondPublicKey": None,
        "multisignature": None,
        "votes": [],
        "locked": False,
        "delegate": None,
        "pending": 0,
    }


BAD_ADDRESSES: list[Any] = [
    "nope",
    "",
    ALICE.address[:-1] + ("2" if ALICE.address[-1] != "2" else "3"),  # checksum
    "X" + ALICE.address[1:],
    ALICE.address + "1",
    5,
    None,
    [ALICE.address],
    {"address": ALICE.address},
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
async def test_bad_addresses(
    still: ApiClient, autojump_clock: trio.testing.MockClock, address: Any
) -> None:
    await still.error("ccoin_getAccount", [address], ErrorCode.BAD_ADDRESS)
    await still.error("ccoin_getVotes", [address], ErrorCode.BAD_ADDRESS)
    await still.still_serves()


async def test_delegates(api: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    result = await api.result("ccoin_getDelegates")
    assert result["standby"] == []
    [delegate] = result["active"]
    assert delegate["publicKey"] == DELEGATE.public_key.hex()
    assert delegate["address"] == DELEGATE.address
    assert delegate["rank"] == 1 and delegate["active"] is True and delegate["jailed"] is False
    assert delegate["producedBlocks"] >= 1 and delegate["missedBlocks"] >= 0
    await api.error("ccoin_getDelegates", [1], ErrorCode.RPC_INVALID_PARAMS)
    # a genesis delegate that never sent anything still shows its record by address
    genesis_delegate = await api.result("ccoin_getAccount", [DELEGATE.address])
    assert genesis_delegate["delegate"]["publicKey"] == DELEGATE.public_key.hex()

    # a newly registered delegate: standby (the active set has one seat), and its account
    # (whose key the registration bound) shows the record
    await api.include(f.govern(GOVERNOR, "admit", "account", BOB.address, api.nid))
    await api.include(f.register_delegate(BOB, "bob", api.nid, timestamp=api.now()))
    result = await api.result("ccoin_getDelegates")
    [bob] = result["standby"]
    assert bob["username"] == "bob" and bob["rank"] == 2 and bob["active"] is False
    account = await api.result("ccoin_getAccount", [BOB.address])
    assert account["delegate"]["username"] == "bob"
    assert account["delegate"]["publicKey"] == BOB.public_key.hex()


async def test_votes_list_the_asset_votes_records(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    empty = await api.result("ccoin_getVotes", [ALICE.address])
    assert empty == {"address": ALICE.address, "votes": [], "records": []}
    vote = f.vote(ALICE, [(True, DELEGATE.public_key)], api.nid, timestamp=api.now())
    vote_id = vote.id(api.nid)
    height = await api.include(vote)
    votes = await api.result("ccoin_getVotes", {"address": ALICE.address, "limit": 1})
    assert votes["votes"] == [DELEGATE.public_key.hex()]
    [record] = votes["records"]
    assert record["transactionId"] == vote_id
    assert record["votes"] == "+" + DELEGATE.public_key.hex()
    assert record["height"] == height and record["blockId"] == api.node.chain.block_at(
        height
    ).header.id(api.nid)  # type: ignore[union-attr]
    assert (await api.result("ccoin_getVotes", [BOB.address]))["records"] == []


@pytest.mark.parametrize(
    ("limit", "code"),
    [(0, ErrorCode.OUT_OF_RANGE), (1001, ErrorCode.OUT_OF_RANGE), ("5", ErrorCode.BAD_JSON)],
)
async def test_bad_vote_limits(
    still: ApiClient, autojump_clock: trio.testing.MockClock, limit: Any, code: ErrorCode
) -> None:
    await still.error("ccoin_getVotes", [ALICE.address, limit], code)


async def test_fee_estimates(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    for kind, minimum in DEFAULT_MIN_FEES.items():
        fee = await still.result("ccoin_estimateFee", {"type": int(kind)})
        assert fee == {
            "type": int(kind),
            "minFee": str(minimum),
            "fee": str(minimum),  # an empty pool asks for no more than the minimum
            "mempoolSize": 0,
        }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ([17], ErrorCode.TX_UNKNOWN_TYPE),
        ([11], ErrorCode.TX_TYPE_NOT_ENABLED),  # a carbon type, on a network without carbon
        ([255], ErrorCode.TX_UNKNOWN_TYPE),
        ([256], ErrorCode.OUT_OF_RANGE),
        ([-1], ErrorCode.OUT_OF_RANGE),
        (["0"], ErrorCode.BAD_JSON),
        ([0, 0], ErrorCode.OUT_OF_RANGE),
        ([0, 2**20 + 1], ErrorCode.OUT_OF_RANGE),
        ([0, 1.0], ErrorCode.BAD_JSON),
        ([], ErrorCode.RPC_INVALID_PARAMS),
    ],
)
async def test_bad_fee_queries(
    still: ApiClient, autojump_clock: trio.testing.MockClock, params: Any, code: ErrorCode
) -> None:
    await still.error("ccoin_estimateFee", params, code)


@pytest.mark.parametrize(
    ("tx_id", "code"),
    [
        (UNKNOWN_ID, ErrorCode.NOT_FOUND),
        ("not-an-id", ErrorCode.BAD_ID),
        ("1" * 21, ErrorCode.BAD_ID),
        ("", ErrorCode.BAD_ID),
        (5, ErrorCode.BAD_ID),
        (None, ErrorCode.BAD_ID),
        (["x"], ErrorCode.BAD_ID),
    ],
)
async def test_bad_transaction_queries(
    still: ApiClient, autojump_clock: trio.testing.MockClock, tx_id: Any, code: ErrorCode
) -> None:
    await still.error("ccoin_getTransaction", [tx_id], code)
    await still.still_serves()
