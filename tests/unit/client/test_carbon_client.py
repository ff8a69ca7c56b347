"""`client.carbon` on both clients: the carbon transactions built, signed (fees from the
node's minimum per type) and submitted, the reads one call each; refusals before anything is
sent for what the asset would refuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from ccoin.client import AsyncClient, Client
from ccoin.client.carbon import canonical_ranges
from ccoin.errors import CcoinError, ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.modules.carbon.genesis import DEFAULT_FEES
from ccoin.node.clock import ChainClock
from ccoin.node.config import NodeConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.storage.leveldb import LevelDBStore
from ccoin.types.asset_base import TxType
from ccoin.types.merkle import verify_inclusion
from tests.unit.client.conftest import URL, Recorder, asgi_app
from tests.unit.client.test_sync_client import IntoTrio, canned, ok
from tests.unit.modules.carbon.api_scenario import (
    BATCH,
    CARBON,
    COMMITTEE,
    HOLDER,
    ISSUER,
    NET,
    OTHER,
    PROJECT,
    build_registry,
)

WAIT = 3600.0  # mock seconds (see test_async_client)
METADATA = "ab" * 32


def carbon_node(tmp_path: Path) -> Node:
    config = NodeConfig("n0", tmp_path / "data", tmp_path / "g.json", None, None, PoolLimits())
    clock = ChainClock(unix_at_start=CARBON.genesis_time)
    return Node(config, CARBON, NET.delegates[0], clock=clock)


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[Node, AsyncClient, Recorder]]:
    node = carbon_node(tmp_path)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            transport = Recorder(httpx.ASGITransport(app=asgi_app(node)))  # type: ignore[arg-type]
            async with AsyncClient(URL, transport=transport, clock=node.clock.now) as client:
                yield node, client, transport
            nursery.cancel_scope.cancel()
    finally:
        node.close()


async def test_the_async_client_runs_a_credit_through_its_life(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as (node, client, transport):
        carbon = client.carbon

        async def included(tx_id: str) -> dict[str, Any]:
            return await client.wait_for(tx_id, "included", timeout=WAIT)

        await included(await carbon.admit_class(COMMITTEE, "VCS", "Verified Carbon Unit"))
        await included(await carbon.admit_class(COMMITTEE, "GS", "Gold Standard"))
        await included(await carbon.admit_issuer(COMMITTEE, ISSUER.address, ["VCS", "GS", "VCS"]))
        first = ["ccoin_status", "ccoin_estimateFee", "ccoin_sendRawTransactions"]
        assert transport.methods[:3] == first
        assert transport.methods.count("ccoin_estimateFee") == 1  # type 11's minimum, once
        project = await carbon.register_project(
            ISSUER, PROJECT, "VCS", "Kasigau", "KE", "VM0009", METADATA
        )
        found = await included(project)
        assert found["transaction"]["fee"] == str(DEFAULT_FEES[TxType.CARBON_PROJECT])
        issued = await carbon.issue(
            ISSUER, PROJECT, 1, 1000, "O-1", HOLDER.address,
            vintage=(20240101, 20241231), metadata_hash=bytes.fromhex(METADATA),
        )  # fmt: skip
        await included(issued)
        sent = await carbon.transfer(
            HOLDER, OTHER.address, BATCH, ranges=[(11, 20), (1, 10), (500, 500)]
        )
        found = await included(sent)
        assert found["transaction"]["asset"]["ranges"] == [["1", "20"], ["500", "500"]]
        retired = await carbon.retire(
            OTHER, BATCH, quantity=5, beneficiary="Acme Ltd", jurisdiction="GB"
        )
        await included(retired)
        await included(await carbon.cancel(HOLDER, BATCH, quantity=3, reason="moved"))
        await included(await carbon.remove_issuer(COMMITTEE, ISSUER.address))
        await included(await carbon.remove_class(COMMITTEE, "GS"))

        assert [c["active"] for c in await carbon.classes()] == [False, True]  # GS, VCS
        assert await carbon.issuers() == []
        assert [p["projectId"] for p in await carbon.projects("VCS")] == [PROJECT]
        assert (await carbon.project(PROJECT))["metadataHash"] == METADATA
        [batch] = await carbon.batches(PROJECT)
        assert batch == await carbon.batch(BATCH) and batch["transactionId"] == issued
        assert (batch["tradable"], batch["retired"], batch["cancelled"]) == ("992", "5", "3")
        held = await carbon.holdings(OTHER.address)
        assert held["holdings"][0]["ranges"] == [["6", "20"], ["500", "500"]]
        history = await carbon.serial_history(BATCH, 3)
        assert history["status"] == "retired" and history["retirementId"] == retired
        [record] = await carbon.retirements(beneficiary="Acme Ltd", project_id=PROJECT)
        assert record == await carbon.retirement(retired)
        assert await carbon.retirements(from_height=record["height"] + 1) == []

        final = await client.wait_for(retired, "finalized", timeout=WAIT)
        certificate = await carbon.certificate(retired)
        assert certificate["finality"]["finalized"] is True
        end = node.chain.finalized_height
        proof = await carbon.retirement_proof(retired, final["height"], end)
        assert proof["rangeFrom"] == final["height"] and proof["quantity"] == "5"
        path = [bytes.fromhex(p) for p in proof["leafPath"]]
        leaf = bytes.fromhex(proof["retirementId"] + proof["recordHash"]) + (5).to_bytes(8, "big")
        root = bytes.fromhex(proof["retirementRoot"])
        assert verify_inclusion(leaf, proof["leafIndex"], proof["leafCount"], path, root)


async def test_the_sync_client_reads_and_submits(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    store = LevelDBStore(str(tmp_path / "data"))  # the registry on disk, then the node on it
    chain = Chain(store, CARBON)
    registry = build_registry(chain)
    chain.close()
    store.close()
    node = carbon_node(tmp_path)

    def script() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        clock = lambda: trio.from_thread.run_sync(node.clock.now)  # noqa: E731
        with Client(URL, transport=IntoTrio(asgi_app(node)), clock=clock) as client:
            tx_id = client.carbon.retire(
                HOLDER, BATCH, ranges=[(900, 905)], beneficiary="Beta GmbH",
                jurisdiction="DE-BY", reason="2025",
            )  # fmt: skip
            client.wait_for(tx_id, "included", timeout=30)  # real seconds
            return (
                client.carbon.retirements(beneficiary="Beta GmbH"),
                client.carbon.certificate(registry.acme.id(node.network_id)),
                client.carbon.holdings(HOLDER.address, limit=1),
            )

    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            [beta], certificate, held = await trio.to_thread.run_sync(script)
            nursery.cancel_scope.cancel()
        assert beta["ranges"] == [["900", "905"]] and beta["jurisdiction"] == "DE-BY"
        assert certificate["retirement"]["beneficiary"] == "Acme Ltd"
        assert len(held["holdings"]) == 1
    finally:
        node.close()


def test_reads_send_only_the_parameters_given() -> None:
    seen: list[dict[str, Any]] = []
    with Client(URL, transport=canned([ok([]), ok({}), ok([])], seen)) as client:
        client.carbon.projects()
        client.carbon.serial_history(BATCH, 42, limit=7)
        client.carbon.retirements(to_height=9)
    assert [(r["method"], r["params"]) for r in seen] == [
        ("ccoin_carbonProjects", {"limit": 100}),
        ("ccoin_carbonSerialHistory", {"batchId": BATCH, "serial": "42", "limit": 7}),
        ("ccoin_carbonRetirements", {"toHeight": 9, "limit": 100}),
    ]


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda c: c.transfer(HOLDER, OTHER.address, BATCH, ranges=[(1, 10), (5, 20)]),
         ErrorCode.TX_BAD_ASSET),  # a serial twice
        (lambda c: c.transfer(HOLDER, OTHER.address, BATCH, quantity=3, ranges=[(1, 2)]),
         ErrorCode.TX_BAD_ASSET),  # both
        (lambda c: c.retire(HOLDER, BATCH, quantity=1, beneficiary="A", jurisdiction="XX-"),
         ErrorCode.TX_BAD_JURISDICTION),
        (lambda c: c.register_project(ISSUER, PROJECT, "VCS", "n", "KE", "m", "abc"),
         ErrorCode.BAD_JSON),
        (lambda c: c.issue(ISSUER, PROJECT, 10, 5, "O", HOLDER.address,
                           vintage=(20240101, 20241231), metadata_hash=METADATA),
         ErrorCode.TX_BAD_ASSET),  # last below first
        (lambda c: c.admit_issuer(COMMITTEE, ISSUER.address, []), ErrorCode.TX_BAD_ASSET),
        (lambda c: c.cancel(HOLDER, "nope", quantity=1, reason="r"), ErrorCode.TX_BAD_ASSET),
    ],
)  # fmt: skip
def test_what_the_asset_refuses_is_refused_before_sending(build: Any, code: ErrorCode) -> None:
    seen: list[dict[str, Any]] = []
    with Client(URL, transport=canned([], seen)) as client, pytest.raises(CcoinError) as refused:
        build(client.carbon)
    assert refused.value.code is code
    assert seen == []  # not even ccoin_status


def test_canonical_ranges_sort_and_merge() -> None:
    assert canonical_ranges([(20, 30), (1, 9), (10, 19)]) == ((1, 30),)
    assert canonical_ranges([]) == ()
