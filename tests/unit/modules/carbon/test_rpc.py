"""The carbon methods over JSON-RPC and their REST routes (ccoin.modules.carbon.rpc,
mounted by ccoin.rpc.methods and ccoin.rpc.app): answers equal to the audit trail's, the
retirement proof verifying as RetirementRegistry.record will check it, every bad
parameter refused with its code, and a network without the carbon section refusing all of
it with MODULE_NOT_ENABLED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema_rs  # schemathesis's validator (a test dependency)
import pytest
import trio.testing

from ccoin.bridge.anchors import block_leaf, range_root
from ccoin.errors import ErrorCode
from ccoin.modules.carbon import queries as Q
from ccoin.rpc.methods import METHODS, NODE_METHODS
from ccoin.types.merkle import leaf_hash, verify_inclusion
from tests.unit.cli.test_main import loaded_by
from tests.unit.modules.carbon.api_scenario import (
    BATCH,
    CARBON,
    HOLDER,
    ISSUED,
    ISSUER,
    OTHER,
    PROJECT,
    Registry,
    build_registry,
)
from tests.unit.rpc.conftest import ApiClient, expect_error_body, open_api

CARBON_METHODS = sorted(set(METHODS) - set(NODE_METHODS))


@pytest.fixture
async def carbon(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> AsyncIterator[ApiClient]:
    """A still node of a carbon network (blocks come only from the test)."""
    async with open_api(tmp_path, genesis=CARBON, run=False) as client:
        yield client


@pytest.fixture
async def plain(tmp_path: Path, autojump_clock: trio.testing.MockClock) -> AsyncIterator[ApiClient]:
    """A still node of a network without the carbon section."""
    async with open_api(tmp_path, run=False) as client:
        yield client


@pytest.fixture
def registry(carbon: ApiClient) -> Registry:
    return build_registry(carbon.node.chain)


async def test_reads_answer_the_audit_trail(
    carbon: ApiClient, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    chain, nid = carbon.node.chain, carbon.nid
    classes = await carbon.result("ccoin_carbonClasses")
    assert [c["classId"] for c in classes] == ["GS", "VCS"] and classes == Q.classes(chain)
    [issuer] = await carbon.result("ccoin_carbonIssuers")
    assert issuer["issuer"] == ISSUER.address and issuer["classes"] == ["VCS"]
    assert [p["projectId"] for p in await carbon.result("ccoin_carbonProjects")] == [PROJECT]
    assert await carbon.result("ccoin_carbonProjects", {"classId": "GS"}) == []
    project = await carbon.result("ccoin_carbonProject", [PROJECT])
    assert project["batches"] == 1 and project["issuer"] == ISSUER.address

    batch = await carbon.result("ccoin_carbonBatch", {"batchId": BATCH})
    assert batch["transactionId"] == registry.issue.id(nid)
    # Quantities are decimal strings; issued = tradable + retired + cancelled.
    assert (batch["issued"], batch["retired"], batch["cancelled"]) == (str(ISSUED), "11", "10")
    assert int(batch["tradable"]) == ISSUED - 21
    assert await carbon.result("ccoin_carbonBatches", {"projectId": PROJECT}) == [batch]
    assert await carbon.result("ccoin_carbonBatches", {"limit": 1}) == [batch]

    held = await carbon.result("ccoin_carbonHoldings", [OTHER.address])
    assert held["holdings"] == [
        {"batchId": BATCH, "quantity": "244", "ranges": [["1", "39"], ["46", "250"]]}
    ]
    history = await carbon.result("ccoin_carbonSerialHistory", [BATCH, "42"])
    assert [e["kind"] for e in history["events"]] == ["issue", "transfer", "retire"]
    assert history["retirementId"] == registry.acme.id(nid)
    assert history == await carbon.result("ccoin_carbonSerialHistory", [BATCH, 42, 100])

    by_acme = await carbon.result("ccoin_carbonRetirements", {"beneficiary": "Acme Ltd"})
    assert [r["retirementId"] for r in by_acme] == [registry.acme.id(nid)]
    assert by_acme[0]["ranges"] == [["40", "45"]] and by_acme[0]["quantity"] == "6"
    at = {"fromHeight": registry.retired_at, "toHeight": registry.retired_at}
    assert len(await carbon.result("ccoin_carbonRetirements", at)) == 2
    before = {"toHeight": registry.retired_at - 1, "projectId": PROJECT}
    assert await carbon.result("ccoin_carbonRetirements", before) == []
    one = await carbon.result("ccoin_carbonRetirement", [registry.other.id(nid)])
    assert one["ranges"] == [["251", "255"]] and one["holder"] == HOLDER.address
    by_hash = registry.other.digest(nid)[1].hex()
    assert await carbon.result("ccoin_carbonRetirement", [by_hash]) == one

    certificate = await carbon.result("ccoin_carbonCertificate", [registry.acme.id(nid)])
    assert certificate == Q.certificate(chain, registry.acme.id(nid))
    assert certificate["finality"]["finalized"] is True
    assert certificate["retirement"]["beneficiary"] == "Acme Ltd"


async def test_the_retirement_proof_verifies_as_the_registry_checks_it(
    carbon: ApiClient, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    chain, nid = carbon.node.chain, carbon.nid
    end = registry.finalized
    for tx in (registry.acme, registry.other):
        proof = await carbon.result(
            "ccoin_getRetirementProof", {"id": tx.id(nid), "fromHeight": 1, "toHeight": end}
        )
        record = Q.retirement_record(chain, tx.id(nid))
        assert proof["retirementId"] == tx.digest(nid)[1].hex()
        assert proof["quantity"] == str(record.quantity) and proof["leafCount"] == 2
        root = bytes.fromhex(proof["retirementRoot"])
        header = chain.header_at(registry.retired_at)
        assert header is not None and root == header.retirement_root
        path = [bytes.fromhex(p) for p in proof["leafPath"]]
        assert verify_inclusion(record.leaf(), proof["leafIndex"], 2, path, root)
        block = block_leaf(
            registry.retired_at,
            bytes.fromhex(proof["blockHash"]),
            bytes.fromhex(proof["withdrawalRoot"]),
            root,
        )
        headers = [h for h in (chain.header_at(i) for i in range(1, end + 1)) if h is not None]
        assert bytes.fromhex(proof["rangeRoot"]) == range_root(headers, nid)
        block_path = [bytes.fromhex(p) for p in proof["blockPath"]]
        assert verify_inclusion(
            block, registry.retired_at - 1, end, block_path, bytes.fromhex(proof["rangeRoot"])
        )
        assert leaf_hash(record.leaf()) != leaf_hash(block)  # two trees, two leaf kinds
    rest = await carbon.http.get(
        f"/v1/carbon/retirements/{registry.acme.id(nid)}/proof?fromHeight=1&toHeight={end}"
    )
    assert rest.status_code == 200
    route = METHODS["ccoin_getRetirementProof"].rest
    assert route is not None
    jsonschema_rs.validate(route.schema, rest.json())
    assert rest.json() == await carbon.result(
        "ccoin_getRetirementProof", [registry.acme.id(nid), 1, end]
    )


def bad_params(registry: Registry, nid: bytes) -> list[tuple[str, Any, ErrorCode]]:
    acme = registry.acme.id(nid)
    end, after = registry.finalized, registry.retired_at + 1
    return [
        ("ccoin_carbonProject", ["vcs-1234"], ErrorCode.BAD_ID),
        ("ccoin_carbonProject", [1234], ErrorCode.WRONG_TYPE),
        ("ccoin_carbonProject", ["VCS-9999"], ErrorCode.NOT_FOUND),
        ("ccoin_carbonProject", [], ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_carbonProject", {"project": PROJECT}, ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_carbonProjects", {"classId": "vcs"}, ErrorCode.BAD_ID),
        ("ccoin_carbonProjects", {"limit": 0}, ErrorCode.OUT_OF_RANGE),
        ("ccoin_carbonProjects", {"limit": 1001}, ErrorCode.OUT_OF_RANGE),
        ("ccoin_carbonProjects", {"limit": "10"}, ErrorCode.BAD_JSON),
        ("ccoin_carbonBatches", {"projectId": "x y"}, ErrorCode.BAD_ID),
        ("ccoin_carbonBatch", ["VCS1234"], ErrorCode.BAD_ID),
        ("ccoin_carbonBatch", ["VCS-1234-002"], ErrorCode.NOT_FOUND),
        ("ccoin_carbonHoldings", ["nope"], ErrorCode.BAD_ADDRESS),
        ("ccoin_carbonHoldings", [HOLDER.address, -1], ErrorCode.OUT_OF_RANGE),
        ("ccoin_carbonSerialHistory", [BATCH, str(ISSUED + 1)], ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_carbonSerialHistory", [BATCH, "0x10"], ErrorCode.BAD_JSON),
        ("ccoin_carbonSerialHistory", [BATCH, -5], ErrorCode.OUT_OF_RANGE),
        ("ccoin_carbonSerialHistory", ["VCS-1234-009", 1], ErrorCode.NOT_FOUND),
        ("ccoin_carbonRetirements", {"fromHeight": 5, "toHeight": 4}, ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_carbonRetirements", {"fromHeight": -1}, ErrorCode.OUT_OF_RANGE),
        ("ccoin_carbonRetirements", {"beneficiary": "x" * 129}, ErrorCode.TOO_LONG),
        ("ccoin_carbonRetirements", {"beneficiary": 7}, ErrorCode.BAD_JSON),
        ("ccoin_carbonRetirement", [registry.transfer.id(nid)], ErrorCode.NOT_FOUND),
        ("ccoin_carbonRetirement", ["not an id!"], ErrorCode.BAD_ID),
        ("ccoin_carbonRetirement", [{"id": acme}], ErrorCode.BAD_ID),
        ("ccoin_carbonCertificate", ["00" * 32], ErrorCode.NOT_FOUND),
        ("ccoin_getRetirementProof", [acme, 1, end + 1], ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_getRetirementProof", [acme, after, end], ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_getRetirementProof", [acme, 1, 20_000], ErrorCode.OUT_OF_RANGE),
        ("ccoin_getRetirementProof", [acme, 5, 4], ErrorCode.OUT_OF_RANGE),
        ("ccoin_getRetirementProof", [acme, 1], ErrorCode.RPC_INVALID_PARAMS),
        ("ccoin_getRetirementProof", [registry.issue.id(nid), 1, end], ErrorCode.NOT_FOUND),
    ]  # fmt: skip


async def test_bad_params_get_their_codes_and_change_nothing(
    carbon: ApiClient, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    before = carbon.snapshot()
    for method, params, code in bad_params(registry, carbon.nid):
        await carbon.error(method, params, code)
    assert carbon.snapshot() == before
    await carbon.still_serves()


async def get(api: ApiClient, path: str, status: int = 200) -> Any:
    response = await api.http.get(path)
    assert response.status_code == status, (path, response.text)
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_rest_routes_answer_as_json_rpc(
    carbon: ApiClient, registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    acme = registry.acme.id(carbon.nid)
    pairs: list[tuple[str, str, Any]] = [
        ("/v1/carbon/classes", "ccoin_carbonClasses", None),
        ("/v1/carbon/issuers", "ccoin_carbonIssuers", None),
        ("/v1/carbon/projects", "ccoin_carbonProjects", None),
        ("/v1/carbon/projects?classId=VCS&limit=1", "ccoin_carbonProjects", ["VCS", 1]),
        (f"/v1/carbon/projects/{PROJECT}", "ccoin_carbonProject", [PROJECT]),
        ("/v1/carbon/batches", "ccoin_carbonBatches", None),
        (f"/v1/carbon/batches?projectId={PROJECT}", "ccoin_carbonBatches", [PROJECT]),
        (f"/v1/carbon/batches/{BATCH}", "ccoin_carbonBatch", [BATCH]),
        (f"/v1/carbon/batches/{BATCH}/serials/42", "ccoin_carbonSerialHistory", [BATCH, 42]),
        (
            f"/v1/carbon/batches/{BATCH}/serials/42?limit=2",
            "ccoin_carbonSerialHistory",
            [BATCH, 42, 2],
        ),
        (f"/v1/carbon/holdings/{OTHER.address}", "ccoin_carbonHoldings", [OTHER.address]),
        ("/v1/carbon/retirements", "ccoin_carbonRetirements", None),
        (
            "/v1/carbon/retirements?beneficiary=Acme%20Ltd&fromHeight=1&toHeight=99",
            "ccoin_carbonRetirements",
            {"beneficiary": "Acme Ltd", "fromHeight": 1, "toHeight": 99},
        ),
        (f"/v1/carbon/retirements/{acme}", "ccoin_carbonRetirement", [acme]),
        (f"/v1/carbon/retirements/{acme}/certificate", "ccoin_carbonCertificate", [acme]),
    ]
    for path, method, params in pairs:
        body = await get(carbon, path)
        assert body == await carbon.result(method, params), path
        rest = METHODS[method].rest
        assert rest is not None
        jsonschema_rs.validate(rest.schema, body)  # what the OpenAPI document promises
    errors = [
        ("/v1/carbon/projects/VCS-9999", 404, ErrorCode.NOT_FOUND),
        ("/v1/carbon/projects?limit=0", 400, ErrorCode.OUT_OF_RANGE),
        ("/v1/carbon/projects?limit=ten", 400, ErrorCode.RPC_INVALID_PARAMS),
        ("/v1/carbon/projects?class=VCS", 400, ErrorCode.RPC_INVALID_PARAMS),
        ("/v1/carbon/batches/nope", 400, ErrorCode.BAD_ID),
        (f"/v1/carbon/batches/{BATCH}/serials/0", 400, ErrorCode.RPC_INVALID_PARAMS),
        (f"/v1/carbon/batches/{BATCH}/serials/x", 400, ErrorCode.BAD_JSON),
        ("/v1/carbon/holdings/nope", 400, ErrorCode.BAD_ADDRESS),
        ("/v1/carbon/retirements?fromHeight=-1", 400, ErrorCode.RPC_INVALID_PARAMS),
        (f"/v1/carbon/retirements/{acme}/proof", 400, ErrorCode.RPC_INVALID_PARAMS),
        (f"/v1/carbon/retirements/{acme}/proof?fromHeight=1&toHeight=99", 400,
         ErrorCode.RPC_INVALID_PARAMS),
        ("/v1/carbon/retirements/" + "00" * 32, 404, ErrorCode.NOT_FOUND),
    ]  # fmt: skip
    for path, status, code in errors:
        body = await get(carbon, path, status)
        assert set(body) == {"error"}
        expect_error_body(body["error"], code)
    assert (
        carbon.metric(
            "ccoin_rpc_requests_total", {"method": "rest_ccoin_carbonBatch", "outcome": "ok"}
        )
        == 1
    )


async def test_a_network_without_carbon_refuses_all_of_it(
    plain: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    assert len(CARBON_METHODS) == 12
    for method in CARBON_METHODS:  # parameters are not looked at: the module is off
        error = await plain.error(method, {}, ErrorCode.MODULE_NOT_ENABLED)
        assert "'carbon' section" in error["message"]
    for path in ("/v1/carbon/classes", f"/v1/carbon/batches/{BATCH}"):
        body = await get(plain, path, 404)
        expect_error_body(body["error"], ErrorCode.MODULE_NOT_ENABLED)
    await plain.still_serves()


def test_the_ledger_loads_none_of_the_interfaces() -> None:
    """The catalog names the API table and the CLI group as strings: the chain and the pool
    never import them (nor the server they mount into)."""
    interfaces = ("ccoin.rpc", "ccoin.client", "ccoin.cli", "ccoin.modules.carbon.rpc",
                  "ccoin.modules.carbon.cli", "ccoin.modules.carbon.metrics")  # fmt: skip
    assert loaded_by("import ccoin.ledger.chain, ccoin.node.mempool", interfaces) == []
