"""The audit trail: holdings, a serial's history, retirements by beneficiary, project and
heights, the certificate, a block's retirement leaves."""

from __future__ import annotations

import pytest

from ccoin.errors import ErrorCode, RpcError
from ccoin.ledger.chain import Chain
from ccoin.modules.carbon import queries as Q
from ccoin.testing import carbon as c
from ccoin.testing.factories import LocalNet
from ccoin.types.merkle import merkle_root
from tests.unit.ledger.chain_helpers import block_with
from tests.unit.modules.carbon.conftest import BATCH


def test_history_holdings_retirements_and_certificate(registry: Chain, net: LocalNet) -> None:
    chain, nid = registry, registry.network_id
    a, b, d = net.accounts[2], net.accounts[3], net.accounts[4]
    send = c.transfer(a, b.address, BATCH, nid, quantity=250)
    assert block_with(chain, net, send).rejected == []
    on = c.transfer(b, d.address, BATCH, nid, ranges=((30, 50),))
    assert block_with(chain, net, on).rejected == []
    acme = c.retire(d, BATCH, nid, ranges=((40, 45),), beneficiary="Acme Ltd")
    other = c.retire(b, BATCH, nid, quantity=5, beneficiary="Other plc")
    assert block_with(chain, net, acme, other).rejected == []

    history = Q.serial_history(chain, BATCH, 42)
    assert [e["kind"] for e in history["events"]] == ["issue", "transfer", "transfer", "retire"]
    assert [e["to"] for e in history["events"][:3]] == [a.address, b.address, d.address]
    assert history["events"][3]["transactionId"] == acme.id(nid)
    assert (history["status"], history["retirementId"]) == ("retired", acme.id(nid))
    untouched = Q.serial_history(chain, BATCH, 999_999)
    assert [e["kind"] for e in untouched["events"]] == ["issue"]
    assert (untouched["status"], untouched["holder"]) == ("tradable", a.address)

    held = Q.holdings(chain, d.address)["holdings"]
    assert held == [{"batchId": BATCH, "quantity": "15", "ranges": [["30", "39"], ["46", "50"]]}]

    by_acme = Q.retirements(chain, beneficiary="Acme Ltd")
    assert [r["retirementId"] for r in by_acme] == [acme.id(nid)]
    assert len(Q.retirements(chain, project_id="VCS-1234")) == 2
    height = chain.head.height
    assert len(Q.retirements(chain, from_height=height, to_height=height)) == 2
    assert Q.retirements(chain, to_height=height - 1) == []
    assert Q.retirements(chain, beneficiary="Nobody") == []

    leaves = Q.retirement_leaves(chain, height)
    assert merkle_root(leaves) == chain.head.retirement_root and len(leaves) == 2

    cert = Q.certificate(chain, acme.id(nid))
    assert cert["format"] == Q.CERTIFICATE_FORMAT
    assert cert["retirement"]["beneficiary"] == "Acme Ltd"
    assert cert["retirement"]["ranges"] == [["40", "45"]]
    assert cert["batch"]["origin"].startswith("VCS-1234")
    assert cert["block"]["height"] == height and cert["leafIndex"] == 0
    assert cert["finality"]["finalized"] is False  # nothing is finalized in this test
    chain.set_finalized(height)
    assert Q.certificate(chain, acme.id(nid))["finality"]["finalized"] is True
    by_hash = Q.certificate(chain, acme.digest(nid)[1].hex())
    assert by_hash["retirement"] == cert["retirement"]


def test_queries_answer_not_found_and_bad_params(registry: Chain) -> None:
    with pytest.raises(RpcError) as missing:
        Q.batch(registry, "VCS-1234-009")
    assert missing.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(RpcError) as outside:
        Q.serial_history(registry, BATCH, 1_000_001)
    assert outside.value.code == ErrorCode.RPC_INVALID_PARAMS
    with pytest.raises(RpcError) as limit:
        Q.batches(registry, limit=0)
    assert limit.value.code == ErrorCode.RPC_INVALID_PARAMS
    with pytest.raises(RpcError) as heights:
        Q.retirements(registry, from_height=5, to_height=4)
    assert heights.value.code == ErrorCode.RPC_INVALID_PARAMS
    assert [p["projectId"] for p in Q.projects(registry)] == ["VCS-1234"]
    assert [x["classId"] for x in Q.classes(registry)] == ["GS", "VCS"]
