"""The carbon module's API (docs/spec/rpc.md section 7): the audit trail's JSON-RPC
methods, each with its REST route under `/v1/carbon`, the retirement proof BSC's
RetirementRegistry takes, and the WebSocket topics `carbon` and `carbonRetirements`.

`ccoin.rpc.methods` mounts `RPC` (the catalog names it) and answers MODULE_NOT_ENABLED for
all of it on a network without the carbon section. Parameters are checked here with the
codes the rest of the API uses (BAD_ID, BAD_ADDRESS, BAD_JSON, OUT_OF_RANGE); the reads
are `queries`'. Loaded by the RPC server only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ccoin.bridge.proofs import RetirementProof, retirement_proof_from_leaves
from ccoin.bridge.signer import MAX_ANCHOR_RANGE
from ccoin.crypto.address import address_raw
from ccoin.errors import DecodeError, ErrorCode
from ccoin.modules.carbon import events
from ccoin.modules.carbon import queries as Q
from ccoin.modules.carbon import schemas as J
from ccoin.modules.carbon.wire import BATCH_ID_RE, CLASS_ID_RE, MAX_BENEFICIARY, PROJECT_ID_RE
from ccoin.rpc.table import Method, Param, Rest, RpcTable, Topic
from ccoin.types.codec import json_bigint, json_int, json_str

if TYPE_CHECKING:
    from ccoin.ledger.chain import Chain

T = TypeVar("T")
MAX_HEIGHT = 2**63 - 1


class Work(Protocol):
    async def run(self, fn: Callable[..., T], *args: object) -> T: ...


class NodeView(Protocol):
    """What the handlers use of the node."""

    @property
    def chain(self) -> Chain: ...

    @property
    def bridge_work(self) -> Work: ...


class ApiView(Protocol):
    """The RPC server's `Api`, as far as these handlers go."""

    @property
    def node(self) -> NodeView: ...


# -- parameters ------------------------------------------------------------------------


def _id(value: Any, name: str, pattern: re.Pattern[str], what: str) -> str:
    if type(value) is not str:
        raise DecodeError(ErrorCode.WRONG_TYPE, f"{name}: expected a string")
    if not pattern.match(value):
        raise DecodeError(ErrorCode.BAD_ID, f"{name}: {value[:40]!r} is not {what}")
    return value


def class_id(value: Any) -> str:
    return _id(value, "classId", CLASS_ID_RE, "a class id (1-8 of A-Z 0-9, a letter first)")


def project_id(value: Any) -> str:
    return _id(value, "projectId", PROJECT_ID_RE, "a project id (1-32 of A-Z 0-9 -)")


def batch_id(value: Any) -> str:
    return _id(value, "batchId", BATCH_ID_RE, "a batch id (PROJECT-NNN)")


def retirement_id(value: Any) -> str:
    """A retirement: its transaction's id, or that transaction's hash in hex (the id BSC
    records it under)."""
    if type(value) is not str:
        raise DecodeError(ErrorCode.BAD_ID, "id: expected a retirement (transaction) id string")
    return value


def limit(value: Any) -> int:
    return json_int(value, "limit", 1, Q.MAX_LIMIT)


def height(value: Any, name: str) -> int | None:
    return None if value is None else json_int(value, name, 0, MAX_HEIGHT)


def optional(value: Any, check: Callable[[Any], str]) -> str | None:
    return None if value is None else check(value)


# -- handlers --------------------------------------------------------------------------


async def carbon_classes(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.classes(api.node.chain)


async def carbon_issuers(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.issuers(api.node.chain)


async def carbon_projects(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.projects(api.node.chain, optional(p["classId"], class_id), limit(p["limit"]))


async def carbon_project(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.project(api.node.chain, project_id(p["projectId"]))


async def carbon_batches(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.batches(api.node.chain, optional(p["projectId"], project_id), limit(p["limit"]))


async def carbon_batch(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.batch(api.node.chain, batch_id(p["batchId"]))


async def carbon_holdings(api: ApiView, p: dict[str, Any]) -> Any:
    address = p["address"]
    address_raw(address)  # a clear BAD_ADDRESS
    return Q.holdings(api.node.chain, address, limit(p["limit"]))


async def carbon_serial_history(api: ApiView, p: dict[str, Any]) -> Any:
    batch = batch_id(p["batchId"])
    serial = json_bigint(p["serial"], "serial")
    return Q.serial_history(api.node.chain, batch, serial, limit(p["limit"]))


async def carbon_retirements(api: ApiView, p: dict[str, Any]) -> Any:
    beneficiary = p["beneficiary"]
    if beneficiary is not None:
        beneficiary = json_str(beneficiary, "beneficiary", max_len=MAX_BENEFICIARY)
    return Q.retirements(
        api.node.chain,
        beneficiary=beneficiary,
        project_id=optional(p["projectId"], project_id),
        from_height=height(p["fromHeight"], "fromHeight"),
        to_height=height(p["toHeight"], "toHeight"),
        limit=limit(p["limit"]),
    )


async def carbon_retirement(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.retirement_record(api.node.chain, retirement_id(p["id"])).to_json()


async def carbon_certificate(api: ApiView, p: dict[str, Any]) -> Any:
    return Q.certificate(api.node.chain, retirement_id(p["id"]))


async def get_retirement_proof(api: ApiView, p: dict[str, Any]) -> Any:
    rid = retirement_id(p["id"])
    start = json_int(p["fromHeight"], "fromHeight", 1, MAX_HEIGHT)
    end = json_int(p["toHeight"], "toHeight", start, start + MAX_ANCHOR_RANGE - 1)
    # Reads up to MAX_ANCHOR_RANGE headers: off the event loop, in the bridge's queue.
    proof = await api.node.bridge_work.run(retirement_proof, api.node.chain, rid, start, end)
    return proof.to_json()


def retirement_proof(chain: Q.ChainView, rid: str, start: int, end: int) -> RetirementProof:
    """Retirement `rid` under its block's retirementRoot, and that block under the range
    `start..end` (finalized here, holding the block): `RetirementRegistry.record`'s
    arguments."""
    record = Q.retirement_record(chain, rid)
    leaves = Q.retirement_leaves(chain, record.height)
    index = Q.leaf_index(chain, record)
    return retirement_proof_from_leaves(chain, record.height, leaves, index, start, end)


# -- the table ---------------------------------------------------------------------------

_LIMIT = Param("limit", 100, integer=True, doc=f"at most this many, 1-{Q.MAX_LIMIT} (100)")
_PROOF = "the anchored range holding the retirement's block (finalized on this node)"


def _m(
    name: str, params: tuple[Param, ...], handler: Any, path: str, summary: str, schema: Any
) -> Method:
    return Method(name, params, handler, Rest(path, summary, schema))


RPC = RpcTable(
    methods=(
        _m(
            "ccoin_carbonClasses",
            (),
            carbon_classes,
            "/v1/carbon/classes",
            "Credit classes (removed ones too: their credits remain)",
            J.array(J.CLASS),
        ),
        _m(
            "ccoin_carbonIssuers",
            (),
            carbon_issuers,
            "/v1/carbon/issuers",
            "Admitted issuers and their classes",
            J.array(J.ISSUER),
        ),
        _m(
            "ccoin_carbonProjects",
            (Param("classId", None, doc="only this class's"), _LIMIT),
            carbon_projects,
            "/v1/carbon/projects",
            "Projects",
            J.array(J.PROJECT),
        ),
        _m(
            "ccoin_carbonProject",
            (Param("projectId"),),
            carbon_project,
            "/v1/carbon/projects/{projectId}",
            "A project",
            J.PROJECT,
        ),
        _m(
            "ccoin_carbonBatches",
            (Param("projectId", None, doc="only this project's"), _LIMIT),
            carbon_batches,
            "/v1/carbon/batches",
            "Batches and their supply",
            J.array(J.BATCH),
        ),
        _m(
            "ccoin_carbonBatch",
            (Param("batchId"),),
            carbon_batch,
            "/v1/carbon/batches/{batchId}",
            "A batch: issued = tradable + retired + cancelled",
            J.BATCH,
        ),
        _m(
            "ccoin_carbonHoldings",
            (Param("address"), _LIMIT),
            carbon_holdings,
            "/v1/carbon/holdings/{address}",
            "An address's tradable credits, per batch, as serial ranges",
            J.HOLDINGS,
        ),
        _m(
            "ccoin_carbonSerialHistory",
            (Param("batchId"), Param("serial", doc="a serial of the batch"), _LIMIT),
            carbon_serial_history,
            "/v1/carbon/batches/{batchId}/serials/{serial}",
            "A serial's whole history, oldest first, and where it is now",
            J.SERIAL_HISTORY,
        ),
        _m(
            "ccoin_carbonRetirements",
            (
                Param("beneficiary", None, doc="retired for this beneficiary"),
                Param("projectId", None, doc="credits of this project"),
                Param("fromHeight", None, integer=True, doc="retired at or above this height"),
                Param("toHeight", None, integer=True, doc="retired at or below this height"),
                _LIMIT,
            ),
            carbon_retirements,
            "/v1/carbon/retirements",
            "Retirements in height order, filtered",
            J.array(J.RETIREMENT),
        ),
        _m(
            "ccoin_carbonRetirement",
            (Param("id"),),
            carbon_retirement,
            "/v1/carbon/retirements/{id}",
            "A retirement, by its transaction's id or hash (hex)",
            J.RETIREMENT,
        ),
        _m(
            "ccoin_carbonCertificate",
            (Param("id"),),
            carbon_certificate,
            "/v1/carbon/retirements/{id}/certificate",
            "A retirement's certificate (stable JSON: no wall clock)",
            J.CERTIFICATE,
        ),
        _m(
            "ccoin_getRetirementProof",
            (
                Param("id"),
                Param("fromHeight", integer=True, doc=f"first height of {_PROOF}"),
                Param("toHeight", integer=True, doc=f"last height of {_PROOF}"),
            ),
            get_retirement_proof,
            "/v1/carbon/retirements/{id}/proof",
            "What RetirementRegistry.record on BSC takes for a retirement",
            J.RETIREMENT_PROOF,
        ),
    ),
    topics=(
        Topic(
            "carbon",
            "head",
            events.block_events,
            "each carbon transaction of each block joining the head chain",
        ),
        Topic(
            "carbonRetirements",
            "finalized",
            events.finalized_retirements,
            "each retirement of each newly finalized block",
        ),
    ),
)
