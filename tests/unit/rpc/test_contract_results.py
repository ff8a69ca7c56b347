"""Contract results the API must always be able to answer: receipts whose values JSON
writers refuse as they are (ints past 64 bits, past 4,300 digits, nesting past orjson's
255 levels) over JSON-RPC, REST and WebSocket; and a view whose sandbox faults, which
answers SANDBOX_FAULT with one log line. Never an HTTP 500, never a traceback.

Values a contract can make come from real calls. Those the contract rules refuse now or
may refuse later (ints of 20,000 bits, 1,000 levels of nesting), but a receipt written
before may hold, are written into state over a real receipt."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
import trio
import trio.testing

from ccoin.crypto.address import id_raw
from ccoin.errors import ErrorCode
from ccoin.modules.contracts.records import EXT_BIG_INT, Receipt
from ccoin.modules.contracts.rules import ContractEngine, deploy_address
from ccoin.storage import schema
from ccoin.testing import factories as f
from ccoin.testing.vm import TOKEN
from ccoin.testing.waits import within_blocks
from ccoin.types.transaction import Transaction
from ccoin.vm.runner import CallResult, ContractCall, ContractHost, WorkerFault
from tests.unit.rpc.asgi_ws import open_websocket
from tests.unit.rpc.conftest import ALICE, BOB, ApiClient

BIG = """
@export
def big():
    return 1 << 100


@export
def big_dict():
    return {7: 1 << 2000, "neg": -(1 << 100)}


@export
def shout():
    emit("Big", n=-(1 << 70), raw=b"\\x01", nested={-1: [1 << 60, 1 << 2000]})
"""
DIGITS_2000 = str(1 << 2000)  # 603 digits
HUGE = "int:0x1" + "0" * 5000  # 1 << 20000: 20,001 bits, 6,021 decimal digits
DEPTH = 1000  # about what msgpack decodes (1,023 levels); orjson writes at most 255


def big_int(value: int) -> msgpack.ExtType:
    """An int as the contract encoding writes it past 64 bits, whatever its size."""
    size = value.bit_length() // 8 + 1
    return msgpack.ExtType(EXT_BIG_INT, value.to_bytes(size, "big", signed=True))


class FaultingViews(ContractEngine):
    """A view sandbox that fails every call as a dead worker does, after the retry."""

    def __init__(self, reason: str) -> None:
        super().__init__()  # its own sandbox, never started
        self.reason = reason
        self.calls: list[ContractCall] = []

    def call(self, call: ContractCall, host: ContractHost) -> CallResult:
        self.calls.append(call)
        raise WorkerFault(self.reason)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The node's log records; after the test, none may carry a traceback or report an
    internal error."""
    caplog.set_level(logging.DEBUG, logger="ccoin")
    yield caplog
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or r.stack_info]
    assert not tracebacks
    assert "rpc_internal_error" not in [r.getMessage() for r in caplog.records]


async def include_all(api: ApiClient, txs: list[Transaction]) -> list[str]:
    """Submit every transaction, wait until blocks hold them all; their ids."""
    ids = [tx.id(api.nid) for tx in txs]
    for tx in txs:
        await api.result("ccoin_sendTransaction", [api.tx_json(tx)])

    async def included() -> None:
        while any(api.node.chain.transaction(i) is None for i in ids):
            await api.node.wait_for_change()

    await within_blocks(api.node, 8, included)
    return ids


async def receipt_everywhere(api: ApiClient, tx_id: str) -> dict[str, Any]:
    """The receipt of `tx_id` from ccoin_getTransaction, the same over REST and in a
    WebSocket transaction subscription's first notification."""
    status = await api.result("ccoin_getTransaction", [tx_id])
    receipt: dict[str, Any] = status["receipt"]
    assert receipt is not None
    rest = await api.http.get(f"/v1/transactions/{tx_id}")
    assert rest.status_code == 200, rest.text
    assert rest.json()["receipt"] == receipt
    async with open_websocket(api.app) as ws:
        await ws.request(1, "ccoin_subscribe", ["transaction", tx_id])
        note = ws.pending.pop(0) if ws.pending else await ws.receive_json()
        assert note["params"]["result"]["receipt"] == receipt
    return receipt


async def deployed(api: ApiClient, name: str, code: str) -> tuple[str, str]:
    """Deploy `code`; (the deploy's id, the contract's address)."""
    tx = f.deploy(ALICE, name, code, api.nid, timestamp=api.now())
    await api.include(tx)
    return tx.id(api.nid), deploy_address(tx, api.nid)


async def test_receipts_with_big_integers_answer_on_every_route(
    api: ApiClient, logs: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    _, big = await deployed(api, "big", BIG)
    calls = [
        f.call_contract(ALICE, big, method, (), api.nid, timestamp=api.now())
        for method in ("big", "big_dict", "shout")
    ]
    ids = await include_all(api, calls)

    value = await receipt_everywhere(api, ids[0])
    assert value["ok"] is True and value["value"] == "1267650600228229401496703205376"
    big_dict = await receipt_everywhere(api, ids[1])
    assert big_dict["ok"] is True
    assert big_dict["value"] == {"7": DIGITS_2000, "neg": str(-(1 << 100))}
    emitted = await receipt_everywhere(api, ids[2])
    assert emitted["ok"] is True
    fields = {"n": str(-(1 << 70)), "raw": "0x01", "nested": {"-1": [str(1 << 60), DIGITS_2000]}}
    assert emitted["events"] == [{"contract": big, "name": "Big", "fields": fields}]

    view = await api.result("ccoin_callContract", [big, "big"])
    assert view["ok"] is True and view["value"] == str(1 << 100)
    await api.still_serves()


async def test_receipts_beyond_what_contracts_may_make_still_answer(
    api: ApiClient, logs: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    deploy_id, _ = await deployed(api, "token", TOKEN)
    stored = api.node.chain.receipt(deploy_id)
    assert stored is not None
    deep_value = b"\x91" * DEPTH + b"\x07"  # msgpack: DEPTH arrays of one, then 7
    deep_fields = b"\x81\xa1k" + b"\x91" * DEPTH + b"\xc0"  # {"k": [[...[None]...]]}
    huge = msgpack.packb({big_int(1 << 20000): 1, "neg": big_int(-(1 << 20000)), "big": 1})
    forged = {
        "value": Receipt(
            ok=True,
            gas_limit=stored.gas_limit,
            gas_used=stored.gas_used,
            contract=stored.contract,
            value=huge,
        ),
        "deep": Receipt(
            ok=True,
            gas_limit=stored.gas_limit,
            gas_used=stored.gas_used,
            contract=stored.contract,
            value=deep_value,
            events=(("C1", "Deep", deep_fields),),
        ),
    }

    def store(receipt: Receipt) -> None:
        with api.node.store.atomic_batch() as batch:
            batch.put(schema.receipt(id_raw(deploy_id)), receipt.encode())

    store(forged["value"])
    receipt = await receipt_everywhere(api, deploy_id)
    assert receipt["value"] == {HUGE: 1, "neg": "int:-" + HUGE[4:], "big": 1}

    store(forged["deep"])
    receipt = await receipt_everywhere(api, deploy_id)
    value = receipt["value"]
    for _ in range(DEPTH):
        assert type(value) is list and len(value) == 1
        value = value[0]
    assert value == 7
    field = receipt["events"][0]["fields"]["k"]
    for _ in range(DEPTH):
        assert type(field) is list and len(field) == 1
        field = field[0]
    assert field is None
    await api.still_serves()


async def test_a_view_whose_sandbox_faults_answers_sandbox_fault(
    api: ApiClient, logs: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    _, token = await deployed(api, "token", TOKEN)
    working = api.node.views.engine
    faulting = FaultingViews("worker died: killed by SIGSYS")
    api.node.views.engine = faulting
    try:
        logs.clear()
        params = {"contract": token, "method": "total", "sender": BOB.address}
        error = await api.error("ccoin_callContract", params, ErrorCode.SANDBOX_FAULT)
        assert error["code"] == 5007 and error["data"]["retryable"] is False
        assert "killed by SIGSYS" in error["message"]
        assert "total" in error["message"] and token in error["message"]
        assert [c.function for c in faulting.calls] == ["total"]

        [line] = [r for r in logs.records if r.getMessage() == "contract_fault"]
        assert line.levelno == logging.WARNING
        assert line.fields == {  # type: ignore[attr-defined]
            "phase": "view",
            "contract": token,
            "method": "total",
            "reason": "worker died: killed by SIGSYS",
        }
        labels = {"method": "ccoin_callContract", "outcome": "SANDBOX_FAULT"}
        assert api.metric("ccoin_rpc_requests_total", labels) == 1.0
        assert api.metric("ccoin_contract_faults_total", {"phase": "view"}) == 1.0
        await api.still_serves()
    finally:
        api.node.views.engine = working
        faulting.close()
    # the next view runs in a working sandbox again: the fault was that call's
    total = await api.result("ccoin_callContract", [token, "total"])
    assert total["ok"] is True and total["value"] == 0


async def test_a_view_fault_in_a_batch_is_that_requests_error_only(
    api: ApiClient, logs: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    _, token = await deployed(api, "token", TOKEN)
    working = api.node.views.engine
    faulting = FaultingViews("call exceeded the wall timeout of 10.0 s")
    api.node.views.engine = faulting
    try:
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "ccoin_callContract", "params": [token, "total"]},
            {"jsonrpc": "2.0", "id": 2, "method": "ccoin_status"},
        ]
        response = await api.post(batch)
        assert response.status_code == 200
        first, second = response.json()
        assert first["id"] == 1 and first["error"]["code"] == ErrorCode.SANDBOX_FAULT.number
        assert "wall timeout" in first["error"]["message"]
        assert second["id"] == 2 and second["result"]["networkId"] == api.nid.hex()
    finally:
        api.node.views.engine = working
        faulting.close()
