"""The carbon module's state records, each with its one canonical encoding
(docs/spec/carbon.md sections 4-5, docs/spec/storage.md). Part of the wire layer: it imports
only `ccoin.types`, `ccoin.crypto`, `ccoin.errors` and this module's wire files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ccoin.crypto.address import id_from_hash
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon.wire import RETIREMENT_DOMAIN, ranges_array, ranges_json
from ccoin.types.codec import field_list, packb, unpack_canonical


def _record(data: bytes, what: str, size: int) -> list[Any]:
    return field_list(unpack_canonical(data, max_size=1 << 20, what=what), what, size=size)


@dataclass(frozen=True)
class ClassRecord:
    class_id: str
    name: str
    admitted_height: int
    removed_height: int | None = None  # removed classes keep their record: credits remain

    def encode(self) -> bytes:
        return packb([self.class_id, self.name, self.admitted_height, self.removed_height])

    @classmethod
    def decode(cls, data: bytes) -> ClassRecord:
        return cls(*_record(data, "carbon class", 4))

    def to_json(self) -> dict[str, Any]:
        return {
            "classId": self.class_id,
            "name": self.name,
            "admittedHeight": self.admitted_height,
            "removedHeight": self.removed_height,
            "active": self.removed_height is None,
        }


@dataclass(frozen=True)
class IssuerRecord:
    issuer: str
    classes: tuple[str, ...]
    admitted_height: int

    def encode(self) -> bytes:
        return packb([self.issuer, list(self.classes), self.admitted_height])

    @classmethod
    def decode(cls, data: bytes) -> IssuerRecord:
        issuer, classes, height = _record(data, "carbon issuer", 3)
        return cls(issuer, tuple(classes), height)

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "classes": list(self.classes),
            "admittedHeight": self.admitted_height,
        }


@dataclass(frozen=True)
class ProjectRecord:
    project_id: str
    class_id: str
    name: str
    jurisdiction: str
    methodology: str
    metadata_hash: bytes
    issuer: str
    height: int
    batches: int  # batches issued so far; the next batch id is PROJECT-(batches + 1)

    def encode(self) -> bytes:
        return packb(
            [
                self.project_id,
                self.class_id,
                self.name,
                self.jurisdiction,
                self.methodology,
                self.metadata_hash,
                self.issuer,
                self.height,
                self.batches,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> ProjectRecord:
        return cls(*_record(data, "carbon project", 9))

    def to_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "classId": self.class_id,
            "name": self.name,
            "jurisdiction": self.jurisdiction,
            "methodology": self.methodology,
            "metadataHash": self.metadata_hash.hex(),
            "issuer": self.issuer,
            "height": self.height,
            "batches": self.batches,
        }


@dataclass(frozen=True)
class BatchRecord:
    """A batch and its supply: issued (= last - first + 1) = tradable + retired +
    cancelled, always (every rule moves credits between these three counts)."""

    batch_id: str
    project_id: str
    class_id: str
    vintage_start: int
    vintage_end: int
    first: int
    last: int
    origin: str
    metadata_hash: bytes
    issuer: str
    height: int
    tx_id: bytes  # raw 14-byte id of the issue transaction
    tradable: int
    retired: int
    cancelled: int

    @property
    def issued(self) -> int:
        return self.last - self.first + 1

    def encode(self) -> bytes:
        return packb(
            [
                self.batch_id,
                self.project_id,
                self.class_id,
                self.vintage_start,
                self.vintage_end,
                self.first,
                self.last,
                self.origin,
                self.metadata_hash,
                self.issuer,
                self.height,
                self.tx_id,
                self.tradable,
                self.retired,
                self.cancelled,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> BatchRecord:
        return cls(*_record(data, "carbon batch", 15))

    def to_json(self) -> dict[str, Any]:
        return {
            "batchId": self.batch_id,
            "projectId": self.project_id,
            "classId": self.class_id,
            "vintageStart": self.vintage_start,
            "vintageEnd": self.vintage_end,
            "first": str(self.first),
            "last": str(self.last),
            "origin": self.origin,
            "metadataHash": self.metadata_hash.hex(),
            "issuer": self.issuer,
            "height": self.height,
            "transactionId": id_from_hash(self.tx_id),
            "issued": str(self.issued),
            "tradable": str(self.tradable),
            "retired": str(self.retired),
            "cancelled": str(self.cancelled),
        }


@dataclass(frozen=True)
class Holding:
    """A holder's tradable credits of one batch: canonical serial ranges, bounded in number
    (the genesis `maxHoldingRanges`)."""

    ranges: R.Ranges

    @property
    def quantity(self) -> int:
        return R.size(self.ranges)

    def encode(self) -> bytes:
        return packb(ranges_array(self.ranges))

    @classmethod
    def decode(cls, data: bytes) -> Holding:
        arr = field_list(unpack_canonical(data, max_size=1 << 20, what="holding"), "holding")
        return cls(tuple((first, last) for first, last in arr))


@dataclass(frozen=True)
class RetirementRecord:
    """One retirement (one type-15 transaction). Its id is the transaction's hash, the
    leaf data under the header's retirementRoot is `id || record_hash || quantity`."""

    retirement_id: bytes  # the transaction hash (32)
    holder: str
    batch_id: str
    ranges: R.Ranges
    quantity: int
    beneficiary: str
    jurisdiction: str
    reason: str
    height: int

    def encode(self) -> bytes:
        return packb(self.to_array()[1:])

    def to_array(self) -> list[Any]:
        """The canonical record: what `record_hash` hashes."""
        return [
            RETIREMENT_DOMAIN,
            self.retirement_id,
            self.holder,
            self.batch_id,
            ranges_array(self.ranges),
            self.quantity,
            self.beneficiary,
            self.jurisdiction,
            self.reason,
            self.height,
        ]

    @classmethod
    def decode(cls, data: bytes) -> RetirementRecord:
        rid, holder, bid, rngs, qty, beneficiary, where, reason, height = _record(
            data, "carbon retirement", 9
        )
        return cls(
            rid,
            holder,
            bid,
            tuple((f, l_) for f, l_ in rngs),
            qty,
            beneficiary,
            where,
            reason,
            height,
        )

    def record_hash(self) -> bytes:
        return hashlib.sha256(packb(self.to_array())).digest()

    def leaf(self) -> bytes:
        """The leaf data under retirementRoot (72 bytes; the BSC RetirementRegistry hashes
        the same fields)."""
        return self.retirement_id + self.record_hash() + self.quantity.to_bytes(8, "big")

    def to_json(self) -> dict[str, Any]:
        return {
            "retirementId": id_from_hash(self.retirement_id),
            "retirementHash": self.retirement_id.hex(),
            "holder": self.holder,
            "batchId": self.batch_id,
            "ranges": ranges_json(self.ranges),
            "quantity": str(self.quantity),
            "beneficiary": self.beneficiary,
            "jurisdiction": self.jurisdiction,
            "reason": self.reason,
            "height": self.height,
            "recordHash": self.record_hash().hex(),
        }


@dataclass(frozen=True)
class CancellationRecord:
    holder: str
    batch_id: str
    ranges: R.Ranges
    quantity: int
    reason: str
    height: int

    def encode(self) -> bytes:
        return packb(
            [
                self.holder,
                self.batch_id,
                ranges_array(self.ranges),
                self.quantity,
                self.reason,
                self.height,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> CancellationRecord:
        holder, bid, rngs, qty, reason, height = _record(data, "carbon cancellation", 6)
        return cls(holder, bid, tuple((f, l_) for f, l_ in rngs), qty, reason, height)

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "batchId": self.batch_id,
            "ranges": ranges_json(self.ranges),
            "quantity": str(self.quantity),
            "reason": self.reason,
            "height": self.height,
        }
