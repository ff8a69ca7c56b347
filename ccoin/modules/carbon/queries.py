"""The carbon audit trail, read-only (docs/spec/carbon.md section 6): classes, issuers,
projects and batches; a holder's holdings; a serial's whole history; retirements filtered by
beneficiary, project and heights; a retirement's certificate; a block's retirement leaves
(what its retirementRoot commits, for proofs on BSC).

Everything reads a `ChainView` (the node's `Chain` is one) and returns JSON-ready values.
Lists are bounded by `limit`; a query that names something missing raises `NOT_FOUND`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from ccoin.crypto.address import address_raw, id_from_hash, id_raw
from ccoin.errors import ErrorCode, RpcError
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon import state as S
from ccoin.modules.carbon.records import (
    BatchRecord,
    ClassRecord,
    Holding,
    IssuerRecord,
    ProjectRecord,
    RetirementRecord,
)
from ccoin.modules.carbon.wire import ranges_json
from ccoin.storage import schema
from ccoin.types.block import BlockHeader
from ccoin.types.codec import unpack_canonical

MAX_LIMIT = 1000
CERTIFICATE_FORMAT = "ccoin-carbon-retirement-certificate/1"


class Store(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iterate(
        self,
        prefix: bytes = b"",
        *,
        reverse: bool = False,
        start: bytes | None = None,
        stop: bytes | None = None,
    ) -> Iterator[tuple[bytes, bytes]]: ...


class ChainView(Protocol):
    """What the queries read of a chain (`ccoin.ledger.chain.Chain` has all of it)."""

    @property
    def store(self) -> Store: ...

    @property
    def network_id(self) -> bytes: ...

    @property
    def finalized_height(self) -> int: ...

    def header_at(self, height: int) -> BlockHeader | None: ...


def _missing(what: str) -> RpcError:
    return RpcError(ErrorCode.NOT_FOUND, what)


def _limit(limit: int) -> int:
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"limit: 1 to {MAX_LIMIT}")
    return limit


def _first(items: Iterator[Any], limit: int) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if len(out) >= limit:
            break
    return out


# -- registry records -------------------------------------------------------------------


def classes(chain: ChainView) -> list[dict[str, Any]]:
    return [ClassRecord.decode(v).to_json() for _k, v in chain.store.iterate(schema.CARBON_CLASS)]


def issuers(chain: ChainView) -> list[dict[str, Any]]:
    return [IssuerRecord.decode(v).to_json() for _k, v in chain.store.iterate(schema.CARBON_ISSUER)]


def project(chain: ChainView, project_id: str) -> dict[str, Any]:
    record = S.project(chain.store.get, project_id)
    if record is None:
        raise _missing(f"no carbon project {project_id!r}")
    return record.to_json()


def projects(
    chain: ChainView, class_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    records = (ProjectRecord.decode(v) for _k, v in chain.store.iterate(schema.CARBON_PROJECT))
    chosen = (r.to_json() for r in records if class_id is None or r.class_id == class_id)
    return _first(chosen, _limit(limit))


def batch(chain: ChainView, batch_id: str) -> dict[str, Any]:
    return _batch(chain, batch_id).to_json()


def _batch(chain: ChainView, batch_id: str) -> BatchRecord:
    record = S.batch(chain.store.get, batch_id)
    if record is None:
        raise _missing(f"no carbon batch {batch_id!r}")
    return record


def batches(
    chain: ChainView, project_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    records = (BatchRecord.decode(v) for _k, v in chain.store.iterate(schema.CARBON_BATCH))
    chosen = (r.to_json() for r in records if project_id is None or r.project_id == project_id)
    return _first(chosen, _limit(limit))


def holdings(chain: ChainView, address: str, limit: int = 100) -> dict[str, Any]:
    """The holder's tradable credits, per batch, as serial ranges."""
    limit = _limit(limit)
    prefix = schema.carbon_holding_prefix(address_raw(address))
    rows = []
    for key, value in chain.store.iterate(prefix):
        ranges = Holding.decode(value).ranges
        rows.append(
            {
                "batchId": key[len(prefix) + 1 :].decode("utf-8"),
                "quantity": str(R.size(ranges)),
                "ranges": ranges_json(ranges),
            }
        )
        if len(rows) >= limit:
            break
    return {"address": address, "holdings": rows}


# -- a serial's history ------------------------------------------------------------------


def serial_history(
    chain: ChainView, batch_id: str, serial: int, limit: int = 100
) -> dict[str, Any]:
    """Every event that moved `serial` of `batch_id`, oldest first (its issue, each
    transfer, its retirement or cancellation), and where it is now."""
    limit = _limit(limit)
    record = _batch(chain, batch_id)
    if not record.first <= serial <= record.last:
        raise RpcError(
            ErrorCode.RPC_INVALID_PARAMS,
            f"serial {serial} is not in batch {batch_id} [{record.first}, {record.last}]",
        )
    events: list[dict[str, Any]] = []
    holder: str | None = None
    status = "tradable"
    retirement: str | None = None
    prefix = schema.carbon_event_prefix(batch_id)
    for key, value in chain.store.iterate(prefix):
        kind, tx_id, sender, recipient, ranges, _quantity = unpack_canonical(
            value, max_size=1 << 20, what="carbon event"
        )
        pairs = tuple((first, last) for first, last in ranges)
        if not R.contains(pairs, serial):
            continue
        height = schema.read_u64(key[len(prefix) : len(prefix) + 8])
        events.append(
            {
                "kind": kind,
                "transactionId": id_from_hash(tx_id),
                "height": height,
                "from": sender,
                "to": recipient,
                "range": next([str(f), str(l_)] for f, l_ in pairs if f <= serial <= l_),
            }
        )
        if kind in ("issue", "transfer"):
            holder = recipient
        else:
            status = "retired" if kind == "retire" else "cancelled"
            retirement = id_from_hash(tx_id) if kind == "retire" else None
            holder = sender
        if len(events) >= limit:
            break
    return {
        "batchId": batch_id,
        "serial": str(serial),
        "status": status,
        "holder": holder,
        "retirementId": retirement,
        "events": events,
        "complete": len(events) < limit,
    }


# -- retirements -------------------------------------------------------------------------


def _heights(from_height: int | None, to_height: int | None) -> tuple[int, int]:
    low = 0 if from_height is None else from_height
    high = 2**63 - 1 if to_height is None else to_height
    if low > high:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "fromHeight is above toHeight")
    return low, high


def retirements(
    chain: ChainView,
    *,
    beneficiary: str | None = None,
    project_id: str | None = None,
    from_height: int | None = None,
    to_height: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Retirements in height order, by beneficiary and/or project, within the heights."""
    limit = _limit(limit)
    low, high = _heights(from_height, to_height)
    if beneficiary is not None:
        prefix = schema.carbon_retired_by_beneficiary_prefix(S.beneficiary_hash(beneficiary))
    elif project_id is not None:
        prefix = schema.carbon_retired_by_project_prefix(project_id)
    else:
        prefix = schema.CARBON_RETIRED_AT
    start = prefix + schema.u64(low)
    stop = prefix + schema.u64(high) + b"\xff" * 4 + b"\x00"
    out = []
    for _key, tx_id in chain.store.iterate(prefix, start=start, stop=stop):
        record = S.retirement(chain.store.get, tx_id)
        if record is None:
            raise RpcError(ErrorCode.CHAIN_CORRUPT, f"retirement index names missing {tx_id.hex()}")
        if beneficiary is not None and record.beneficiary != beneficiary:
            continue  # a 16-byte hash prefix shared with another beneficiary
        if project_id is not None and _project_of(chain, record) != project_id:
            continue
        out.append(record.to_json())
        if len(out) >= limit:
            break
    return out


def _project_of(chain: ChainView, record: RetirementRecord) -> str:
    return _batch(chain, record.batch_id).project_id


def retirement_record(chain: ChainView, retirement_id: str) -> RetirementRecord:
    """By the retiring transaction's id (base58) or its 32-byte hash in hex."""
    if len(retirement_id) == 64:
        try:
            raw = bytes.fromhex(retirement_id)[:14]
        except ValueError:
            raw = id_raw(retirement_id)
    else:
        raw = id_raw(retirement_id)
    record = S.retirement(chain.store.get, raw)
    if record is None:
        raise _missing(f"no carbon retirement {retirement_id}")
    return record


def retirement_leaves(chain: ChainView, height: int) -> list[bytes]:
    """Block `height`'s retirement leaves in block order: what its retirementRoot commits."""
    leaves = []
    for _key, tx_id in chain.store.iterate(schema.carbon_retired_at_prefix(height)):
        record = S.retirement(chain.store.get, tx_id)
        if record is None:
            raise RpcError(ErrorCode.CHAIN_CORRUPT, f"retirement index names missing {tx_id.hex()}")
        leaves.append(record.leaf())
    return leaves


def leaf_index(chain: ChainView, record: RetirementRecord) -> int:
    for key, tx_id in chain.store.iterate(schema.carbon_retired_at_prefix(record.height)):
        if tx_id == record.retirement_id[:14]:
            return int.from_bytes(key[-4:], "big")
    raise RpcError(ErrorCode.CHAIN_CORRUPT, "a retirement missing from its block's index")


def certificate(chain: ChainView, retirement_id: str) -> dict[str, Any]:
    """The retirement certificate: stable JSON (fixed keys, no wall clock) naming the
    retirement, its credits' batch and project, its transaction, its block and whether that
    block is final on this node."""
    record = retirement_record(chain, retirement_id)
    batch_record = _batch(chain, record.batch_id)
    project_record = S.project(chain.store.get, batch_record.project_id)
    assert project_record is not None  # a batch's project is never deleted
    header = chain.header_at(record.height)
    if header is None:
        raise RpcError(ErrorCode.CHAIN_CORRUPT, f"block {record.height} is missing")
    finalized = chain.finalized_height
    return {
        "format": CERTIFICATE_FORMAT,
        "networkId": chain.network_id.hex(),
        "retirement": record.to_json(),
        "leafIndex": leaf_index(chain, record),
        "batch": {
            "batchId": batch_record.batch_id,
            "classId": batch_record.class_id,
            "vintageStart": batch_record.vintage_start,
            "vintageEnd": batch_record.vintage_end,
            "origin": batch_record.origin,
            "issuer": batch_record.issuer,
        },
        "project": {
            "projectId": project_record.project_id,
            "name": project_record.name,
            "jurisdiction": project_record.jurisdiction,
            "methodology": project_record.methodology,
            "metadataHash": project_record.metadata_hash.hex(),
        },
        "transaction": {"id": id_from_hash(record.retirement_id), "height": record.height},
        "block": {
            "id": header.id(chain.network_id),
            "height": header.height,
            "hash": header.hash(chain.network_id).hex(),
            "timestampMs": header.timestamp_ms,
            "retirementRoot": header.retirement_root.hex(),
        },
        "finality": {"finalized": record.height <= finalized, "finalizedHeight": finalized},
    }
