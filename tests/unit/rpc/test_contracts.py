"""Contracts over the API: deploy and call as transactions (receipts in
ccoin_getTransaction), ccoin_getContract, and read-only ccoin_callContract within its gas
cap, which changes nothing."""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.modules.contracts.rules import deploy_address
from ccoin.storage import schema
from ccoin.testing import factories as f
from ccoin.testing.vm import TOKEN
from tests.unit.rpc.conftest import ALICE, BOB, ApiClient, expect_error_body


async def deploy_token(api: ApiClient) -> str:
    tx = f.deploy(ALICE, "token", TOKEN, api.nid, timestamp=api.now())
    await api.include(tx)
    status = await api.result("ccoin_getTransaction", [tx.id(api.nid)])
    receipt = status["receipt"]
    address = deploy_address(tx, api.nid)
    assert receipt["ok"] is True and receipt["contract"] == address
    assert status["transaction"]["asset"]["name"] == "token"
    return address


def contract_state(api: ApiClient) -> dict[bytes, bytes]:
    prefixes = (schema.CONTRACT_STORAGE, schema.CONTRACT_CODE, schema.ACCOUNT)
    return {k: v for k, v in api.node.store.iterate() if k[:1] in prefixes}


async def test_deploy_call_and_read_back(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    token = await deploy_token(api)
    contract = await api.result("ccoin_getContract", [token])
    assert contract["owner"] == ALICE.address and contract["version"] == 1
    assert "code" not in contract and contract["balance"] == "0"
    with_code = await api.result("ccoin_getContract", {"address": token, "includeCode": True})
    assert with_code["code"] == TOKEN
    rest = await api.http.get(f"/v1/contracts/{token}")
    assert rest.status_code == 200 and rest.json() == contract
    stranger = f.deploy(BOB, "token", TOKEN, api.nid, upgrade=token, timestamp=api.now())
    await api.error(
        "ccoin_sendTransaction", [api.tx_json(stranger)], ErrorCode.TX_NOT_CONTRACT_OWNER
    )

    mint = f.call_contract(ALICE, token, "mint", (BOB.address, 500), api.nid, timestamp=api.now())
    await api.include(mint)
    receipt = (await api.result("ccoin_getTransaction", [mint.id(api.nid)]))["receipt"]
    assert receipt["ok"] is True and receipt["errorCode"] is None
    assert receipt["events"] == [
        {"contract": token, "name": "Mint", "fields": {"to": BOB.address, "amount": 500}}
    ]
    assert 0 < receipt["gasUsed"] <= receipt["gasLimit"] == 100_000

    fail = f.call_contract(
        ALICE, token, "fail_after_write", (BOB.address,), api.nid, timestamp=api.now()
    )
    await api.include(fail)
    failed = (await api.result("ccoin_getTransaction", [fail.id(api.nid)]))["receipt"]
    assert failed["ok"] is False and failed["errorName"] == "CONTRACT_FAILED"
    assert failed["error"] == "ContractError: no" and failed["events"] == []


async def test_views_answer_and_change_nothing(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    token = await deploy_token(api)
    mint = f.call_contract(ALICE, token, "mint", (ALICE.address, 70), api.nid, timestamp=api.now())
    await api.include(mint)
    total = await api.result("ccoin_callContract", {"contract": token, "method": "total"})
    assert total["ok"] is True and total["value"] == 70 and total["gasUsed"] > 0

    before = contract_state(api)
    sent = await api.result(
        "ccoin_callContract",
        {
            "contract": token,
            "method": "transfer",
            "args": [BOB.address, 20],
            "sender": ALICE.address,
        },
    )
    assert sent["ok"] is True and sent["value"] == 20
    assert sent["events"][0]["fields"] == {"sender": ALICE.address, "to": BOB.address, "amount": 20}
    refused = await api.result(
        "ccoin_callContract",
        {"contract": token, "method": "transfer", "args": [BOB.address, 20], "sender": BOB.address},
    )
    assert refused["ok"] is False and refused["error"] == "ContractError: insufficient balance"
    assert contract_state(api) == before  # views apply nothing
    total = await api.result("ccoin_callContract", [token, "total"])
    assert total["value"] == 70


SPIN = "@export\ndef spin():\n    while True:\n        pass\n"


async def test_a_view_stops_at_its_gas_cap(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = f.deploy(ALICE, "spin", SPIN, api.nid, timestamp=api.now())
    await api.include(tx)
    spin = deploy_address(tx, api.nid)
    capped = await api.result("ccoin_callContract", {"contract": spin, "method": "spin"})
    assert capped["ok"] is False and capped["errorName"] == "CONTRACT_OUT_OF_GAS"
    assert capped["gasLimit"] == api.app.config.max_view_gas
    small = await api.result(
        "ccoin_callContract", {"contract": spin, "method": "spin", "gasLimit": 1000}
    )
    assert small["gasLimit"] == 1000 and small["errorCode"] == ErrorCode.CONTRACT_OUT_OF_GAS.number


async def test_bad_contract_requests_get_their_errors(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    nobody = f.key("nobody").address
    call = "ccoin_callContract"
    base = {"contract": nobody, "method": "t"}
    cases: list[tuple[str, Any, ErrorCode]] = [
        (call, {**base, "method": "total"}, ErrorCode.TX_CONTRACT_UNKNOWN),
        (call, {**base, "contract": "Cbad"}, ErrorCode.TX_BAD_ASSET),
        (call, {**base, "method": "Total"}, ErrorCode.TX_BAD_ASSET),
        (call, {**base, "args": [1.5]}, ErrorCode.TX_BAD_ASSET),
        (call, {**base, "args": "x"}, ErrorCode.TX_BAD_ASSET),
        (call, {**base, "gasLimit": 10**9}, ErrorCode.OUT_OF_RANGE),
        (call, {**base, "gasLimit": "1"}, ErrorCode.BAD_JSON),
        (call, {**base, "value": "-1"}, ErrorCode.BAD_JSON),
        (call, {**base, "sender": 5}, ErrorCode.BAD_ADDRESS),
        (call, {"method": "t"}, ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_getContract", [nobody], ErrorCode.NOT_FOUND),
        ("ccoin_getContract", ["nope"], ErrorCode.BAD_ADDRESS),
        ("ccoin_getContract", {"address": nobody, "includeCode": 1}, ErrorCode.RPC_INVALID_PARAMS),
    ]
    stray = f.call_contract(ALICE, nobody, "total", (), still.nid, timestamp=still.now())
    upgrade = f.deploy(ALICE, "x", TOKEN, still.nid, upgrade=nobody, timestamp=still.now())
    for tx in (stray, upgrade):  # refused at submission, not left to fail in a block
        cases.append(("ccoin_sendTransaction", [still.tx_json(tx)], ErrorCode.TX_CONTRACT_UNKNOWN))
    cheap = f.call_contract(ALICE, nobody, "t", (), still.nid, fee=1000, timestamp=still.now())
    cases.append(("ccoin_sendTransaction", [still.tx_json(cheap)], ErrorCode.TX_FEE_TOO_LOW))
    before = still.snapshot()
    for method, params, code in cases:
        answer = await still.call(method, params)
        assert "error" in answer, (method, params, answer)
        assert answer["error"]["code"] == code.number, (params, answer["error"])
    assert still.snapshot() == before
    await still.still_serves()
    missing = await still.http.get(f"/v1/contracts/{nobody}")
    assert missing.status_code == 404
    expect_error_body(missing.json()["error"], ErrorCode.NOT_FOUND)
