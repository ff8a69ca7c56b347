"""Typed access to the carbon tables, over anything with `get` (a store, an overlay) for
reads and over a `StateOverlay` for writes. Keys come from `ccoin.storage.schema`."""

from __future__ import annotations

import hashlib
from typing import Any

from ccoin.ledger.state import StateOverlay
from ccoin.modules.base import KeyGet
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon.records import (
    BatchRecord,
    CancellationRecord,
    ClassRecord,
    Holding,
    IssuerRecord,
    ProjectRecord,
    RetirementRecord,
)
from ccoin.modules.carbon.wire import ranges_array
from ccoin.storage import schema
from ccoin.types.codec import packb, unpack_canonical


def origin_hash(origin: str) -> bytes:
    return hashlib.sha256(origin.encode("ascii")).digest()


def beneficiary_hash(beneficiary: str) -> bytes:
    return hashlib.sha256(beneficiary.encode("utf-8")).digest()


def _load(get: KeyGet, key: bytes, cls: Any) -> Any:
    data = get(key)
    return None if data is None else cls.decode(data)


def credit_class(get: KeyGet, class_id: str) -> ClassRecord | None:
    record: ClassRecord | None = _load(get, schema.carbon_class(class_id), ClassRecord)
    return record


def issuer(get: KeyGet, address_raw: bytes) -> IssuerRecord | None:
    record: IssuerRecord | None = _load(get, schema.carbon_issuer(address_raw), IssuerRecord)
    return record


def project(get: KeyGet, project_id: str) -> ProjectRecord | None:
    record: ProjectRecord | None = _load(get, schema.carbon_project(project_id), ProjectRecord)
    return record


def batch(get: KeyGet, batch_id: str) -> BatchRecord | None:
    record: BatchRecord | None = _load(get, schema.carbon_batch(batch_id), BatchRecord)
    return record


def holding(get: KeyGet, address_raw: bytes, batch_id: str) -> Holding:
    found: Holding | None = _load(get, schema.carbon_holding(address_raw, batch_id), Holding)
    return found if found is not None else Holding(())


def retirement(get: KeyGet, tx_id_raw: bytes) -> RetirementRecord | None:
    record: RetirementRecord | None = _load(
        get, schema.carbon_retirement(tx_id_raw), RetirementRecord
    )
    return record


def cancellation(get: KeyGet, tx_id_raw: bytes) -> CancellationRecord | None:
    record: CancellationRecord | None = _load(
        get, schema.carbon_cancellation(tx_id_raw), CancellationRecord
    )
    return record


def put_holding(state: StateOverlay, address_raw: bytes, batch_id: str, ranges: R.Ranges) -> None:
    key = schema.carbon_holding(address_raw, batch_id)
    if ranges:
        state.put(key, Holding(ranges).encode())
    else:
        state.delete(key)


def overlapping_block(
    state: StateOverlay, class_id: str, first: int, last: int
) -> tuple[int, int, str] | None:
    """The batch serial block of `class_id` that overlaps [first, last], if any: blocks are
    disjoint, so only the one with the greatest first <= last can."""
    found = state.floor(
        schema.carbon_serial_block_prefix(class_id), schema.carbon_serial_block(class_id, last)
    )
    if found is None:
        return None
    key, value = found
    block_first = schema.read_u64(key[-8:])
    block_last, batch_id = unpack_canonical(value, max_size=256, what="serial block")
    if block_last < first:
        return None
    return block_first, block_last, batch_id


def put_serial_block(state: StateOverlay, record: BatchRecord) -> None:
    state.put_ordered(
        schema.carbon_serial_block(record.class_id, record.first),
        packb([record.last, record.batch_id]),
    )


# -- the audit trail (chain tables) ---------------------------------------------------------

EVENT_KINDS = ("issue", "transfer", "retire", "cancel")


def put_event(
    state: StateOverlay,
    batch_id: str,
    height: int,
    index: int,
    kind: str,
    tx_id_raw: bytes,
    sender: str | None,
    recipient: str | None,
    ranges: R.Ranges,
) -> None:
    state.put(
        schema.carbon_event(batch_id, height, index),
        packb([kind, tx_id_raw, sender, recipient, ranges_array(ranges), R.size(ranges)]),
    )
