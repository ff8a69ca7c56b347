"""The REST view under /v1 (the same reads as JSON-RPC, with HTTP statuses) and the
OpenAPI document, served and committed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio.testing

from ccoin.crypto.address import id_from_hash
from ccoin.errors import ErrorCode
from ccoin.rpc.openapi import openapi_document
from tests.unit.rpc.conftest import ALICE, ApiClient, expect_error_body

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.json"
REGENERATE = (
    '.venv/bin/python -c "import json; from ccoin.rpc.openapi import openapi_document as d; '
    "open('docs/api/openapi.json', 'w').write(json.dumps(d(), indent=2, sort_keys=True) + "
    "'\\n')\""
)


async def get(api: ApiClient, path: str, status: int = 200) -> Any:
    response = await api.http.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_rest_reads_match_json_rpc(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    tx = still.transfer()
    tx_id = tx.id(still.nid)
    await still.result("ccoin_sendTransaction", [still.tx_json(tx)])
    pairs: list[tuple[str, str, Any]] = [
        ("/v1/status", "ccoin_status", None),
        (f"/v1/transactions/{tx_id}", "ccoin_getTransaction", [tx_id]),
        ("/v1/blocks/0", "ccoin_getBlock", [0]),
        ("/v1/blocks/head?transactions=true", "ccoin_getBlock", ["head", True]),
        ("/v1/blocks/finalized?transactions=false", "ccoin_getBlock", ["finalized"]),
        (f"/v1/accounts/{ALICE.address}", "ccoin_getAccount", [ALICE.address]),
        (f"/v1/accounts/{ALICE.address}/votes?limit=5", "ccoin_getVotes", [ALICE.address, 5]),
        ("/v1/delegates", "ccoin_getDelegates", None),
        ("/v1/fees/3", "ccoin_estimateFee", [3]),
        ("/v1/fees/0?size=500", "ccoin_estimateFee", [0, 500]),
    ]
    for path, method, params in pairs:
        assert await get(still, path) == await still.result(method, params), path
    genesis = await get(still, "/v1/blocks/0")
    assert await get(still, f"/v1/blocks/{genesis['id']}") == genesis


ERRORS: list[tuple[str, int, ErrorCode]] = [
    (f"/v1/transactions/{id_from_hash(bytes(32))}", 404, ErrorCode.NOT_FOUND),
    ("/v1/transactions/not-an-id", 400, ErrorCode.BAD_ID),
    ("/v1/blocks/999999", 404, ErrorCode.NOT_FOUND),
    (f"/v1/blocks/{id_from_hash(bytes(32))}", 404, ErrorCode.NOT_FOUND),
    ("/v1/blocks/latest", 400, ErrorCode.BAD_ID),
    ("/v1/blocks/-1", 400, ErrorCode.BAD_ID),
    ("/v1/blocks/99999999999999999999", 400, ErrorCode.BAD_ID),
    ("/v1/blocks/9223372036854775808", 400, ErrorCode.OUT_OF_RANGE),
    ("/v1/blocks/\u00b2", 400, ErrorCode.BAD_ID),  # a Unicode digit, not an ASCII one
    ("/v1/blocks/\u0661", 400, ErrorCode.BAD_ID),
    ("/v1/blocks/0?transactions=yes", 400, ErrorCode.RPC_INVALID_PARAMS),
    ("/v1/accounts/nope", 400, ErrorCode.BAD_ADDRESS),
    ("/v1/accounts/nope/votes", 400, ErrorCode.BAD_ADDRESS),
    (f"/v1/accounts/{ALICE.address}/votes?limit=0", 400, ErrorCode.OUT_OF_RANGE),
    (f"/v1/accounts/{ALICE.address}/votes?limit=ten", 400, ErrorCode.RPC_INVALID_PARAMS),
    (f"/v1/accounts/{ALICE.address}/votes?limit=-1", 400, ErrorCode.RPC_INVALID_PARAMS),
    (f"/v1/accounts/{ALICE.address}/votes?limit=\u00b9", 400, ErrorCode.RPC_INVALID_PARAMS),
    ("/v1/fees/17", 400, ErrorCode.TX_UNKNOWN_TYPE),
    ("/v1/fees/256", 400, ErrorCode.OUT_OF_RANGE),
    ("/v1/fees/transfer", 400, ErrorCode.RPC_INVALID_PARAMS),
    ("/v1/fees/\u00b2", 400, ErrorCode.RPC_INVALID_PARAMS),
    ("/v1/fees/0?size=0", 400, ErrorCode.OUT_OF_RANGE),
    ("/v1/fees/0?size=big", 400, ErrorCode.RPC_INVALID_PARAMS),
]


@pytest.mark.parametrize(("path", "status", "code"), ERRORS)
async def test_rest_errors_carry_status_and_code(
    still: ApiClient,
    autojump_clock: trio.testing.MockClock,
    path: str,
    status: int,
    code: ErrorCode,
) -> None:
    before = still.snapshot()
    body = await get(still, path, status)
    assert set(body) == {"error"}
    expect_error_body(body["error"], code)
    assert still.snapshot() == before
    assert (await get(still, "/v1/status"))["height"] == 0


async def test_rest_is_read_only_and_unknown_paths_are_404(
    still: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    assert (await still.http.post("/v1/status")).status_code == 405
    assert (await still.http.get("/v1/nothing")).status_code == 404
    assert (await still.http.get("/v1/accounts")).status_code == 404


async def test_openapi_is_served(still: ApiClient, autojump_clock: trio.testing.MockClock) -> None:
    response = await still.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi_document()


def test_the_committed_openapi_document_is_current() -> None:
    expected = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    assert COMMITTED.exists(), f"docs/api/openapi.json is missing; write it with:\n{REGENERATE}"
    assert COMMITTED.read_text() == expected, (
        "docs/api/openapi.json differs from ccoin.rpc.openapi.openapi_document(); "
        f"after changing the API, regenerate it with:\n{REGENERATE}"
    )


def test_the_document_lists_every_route_and_method() -> None:
    from ccoin.rpc.methods import METHODS

    doc = openapi_document()
    module_routes = {m.rest.path for m in METHODS.values() if m.rest is not None}
    assert "/v1/carbon/retirements/{id}/proof" in module_routes  # the modules' own
    assert set(doc["paths"]) == module_routes | {
        "/rpc",
        "/v1/status",
        "/v1/transactions",
        "/v1/transactions/{id}",
        "/v1/blocks/{block}",
        "/v1/accounts/{address}",
        "/v1/accounts/{address}/votes",
        "/v1/delegates",
        "/v1/fees/{type}",
        "/v1/contracts/{address}",
    }
    summary = doc["paths"]["/rpc"]["post"]["summary"]
    assert all(name in summary for name in METHODS)
    names = doc["components"]["schemas"]["ErrorBody"]["properties"]["name"]["enum"]
    assert names == [c.name for c in ErrorCode]
    orjson.dumps(doc)  # serialisable as the app serves it
