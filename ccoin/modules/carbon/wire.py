"""Carbon credits on the wire: the six transaction assets (types 11-16) and the records the
module keeps in state, each with its one canonical array and its JSON form
(docs/spec/carbon.md). Construction checks everything that needs no state.

May import: `ccoin.types.codec`, `ccoin.types.asset_base`, `ccoin.crypto.address`,
`ccoin.errors` and this module's `ranges` / `jurisdictions` (the wire layer: the transaction
envelope in `ccoin.types` decodes these assets).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ccoin.crypto.address import is_address
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon.jurisdictions import is_jurisdiction
from ccoin.types.asset_base import TxType, asset_fields, bad_asset
from ccoin.types.codec import (
    MAX_BIGINT,
    field_bytes,
    field_int,
    field_list,
    field_str,
    json_bigint,
    json_hex,
    json_int,
    json_object,
    json_str,
)

MAX_NAME = 64  # class, project and methodology names
MAX_ORIGIN = 128  # the source registry's serial string
MAX_BENEFICIARY = 128
MAX_REASON = 256
MAX_RANGES_PER_TX = 64  # explicit ranges in one transfer, retirement or cancellation
MAX_ISSUER_CLASSES = 16
HASH_LEN = 32
RETIREMENT_DOMAIN = "CCOIN-CARBON-RETIREMENT"

CLASS_ID_RE = re.compile(r"\A[A-Z][A-Z0-9]{0,7}\Z")
PROJECT_ID_RE = re.compile(r"\A[A-Z0-9][A-Z0-9-]{0,31}\Z")
BATCH_ID_RE = re.compile(r"\A[A-Z0-9][A-Z0-9-]{0,31}-[0-9]{3,6}\Z")
# The source registry's serial string: upper case only, so that case cannot make a used
# origin look new (registries' serials are case-insensitive).
ORIGIN_RE = re.compile(r"\A[A-Z0-9][A-Z0-9._:/-]{0,127}\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

COMMITTEE_ACTIONS = ("admit-class", "remove-class", "admit-issuer", "remove-issuer")


# -- field checks --------------------------------------------------------------------------


def _id(value: Any, name: str, pattern: re.Pattern[str], what: str) -> str:
    text = field_str(value, name, max_len=40)
    if not pattern.match(text):
        raise bad_asset(f"{name}: {text[:40]!r} is not {what}")
    return text


def class_id(value: Any, name: str = "asset.classId") -> str:
    return _id(value, name, CLASS_ID_RE, "a class id (1-8 of A-Z 0-9, a letter first)")


def project_id(value: Any, name: str = "asset.projectId") -> str:
    return _id(value, name, PROJECT_ID_RE, "a project id (1-32 of A-Z 0-9 -)")


def batch_id(value: Any, name: str = "asset.batchId") -> str:
    return _id(value, name, BATCH_ID_RE, "a batch id (PROJECT-NNN)")


def text(value: Any, name: str, max_len: int, *, required: bool = True) -> str:
    """Human text: at most `max_len` characters, no control characters, not blank when
    `required`."""
    out = field_str(value, name, max_len=max_len)
    if _CONTROL_RE.search(out):
        raise bad_asset(f"{name}: control characters are not allowed")
    if required and not out.strip():
        raise bad_asset(f"{name}: must not be empty")
    if out != out.strip():
        raise bad_asset(f"{name}: no leading or trailing spaces")
    return out


def jurisdiction(value: Any, name: str = "asset.jurisdiction") -> str:
    code = field_str(value, name, max_len=6)
    if not is_jurisdiction(code):
        raise InvalidTransaction(
            ErrorCode.TX_BAD_JURISDICTION,
            f"{name}: {code!r} is not an ISO 3166-2 code (CC or CC-SSS, CC an ISO 3166-1 "
            "alpha-2 country, SSS 1-3 of A-Z 0-9)",
        )
    return code


def vintage_date(value: Any, name: str) -> int:
    """A date written as the integer YYYYMMDD (a real calendar day, 1900-2999)."""
    day = field_int(value, name, 19000101, 29991231)
    try:
        datetime.date(day // 10000, day // 100 % 100, day % 100)
    except ValueError:
        raise bad_asset(f"{name}: {day} is not a calendar date (YYYYMMDD)") from None
    return day


def serial(value: Any, name: str) -> int:
    return field_int(value, name, 1, MAX_BIGINT)


def quantity_field(value: Any, name: str, *, allow_zero: bool) -> int:
    return field_int(value, name, 0 if allow_zero else 1, MAX_BIGINT)


def ranges_field(value: Any, name: str, max_len: int = MAX_RANGES_PER_TX) -> R.Ranges:
    """A canonical array of [first, last] pairs; given in canonical form (sorted, disjoint,
    adjacent ranges merged), so one set of serials has one encoding."""
    items = field_list(value, name, max_len=max_len)
    pairs: list[R.Range] = []
    for item in items:
        first, last = field_list(item, f"{name}[]", size=2)
        pairs.append((serial(first, f"{name}[].first"), serial(last, f"{name}[].last")))
    out = tuple(pairs)
    if not R.is_canonical(out):
        raise bad_asset(f"{name}: ranges must be sorted, disjoint and not adjacent")
    return out


def ranges_array(ranges: R.Ranges) -> list[list[int]]:
    return [[first, last] for first, last in ranges]


def ranges_json(ranges: R.Ranges) -> list[list[str]]:
    return [[str(first), str(last)] for first, last in ranges]


def ranges_from_json(value: Any, name: str) -> R.Ranges:
    if type(value) is not list or len(value) > MAX_RANGES_PER_TX:
        raise bad_asset(f"{name}: a list of at most {MAX_RANGES_PER_TX} [first, last] pairs")
    pairs = []
    for item in value:
        if type(item) is not list or len(item) != 2:
            raise bad_asset(f"{name}[]: a [first, last] pair")
        pairs.append(
            [json_bigint(item[0], f"{name}[].first"), json_bigint(item[1], f"{name}[].last")]
        )
    return ranges_field(pairs, name)


def address_field(value: Any, name: str) -> str:
    out = field_str(value, name, max_len=21)
    if not is_address(out):
        raise bad_asset(f"{name}: not a valid address")
    return out


# -- assets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitteeAsset:
    """Type 11, the carbon committee's decisions: admit or remove a credit class, admit an
    issuer for given classes (again: replace its classes) or remove it. Fields an action
    does not use are empty."""

    action: str
    class_id: str = ""
    name: str = ""
    issuer: str = ""
    classes: tuple[str, ...] = ()
    TYPE: ClassVar[TxType] = TxType.CARBON_COMMITTEE

    def __post_init__(self) -> None:
        action = self.action
        if action not in COMMITTEE_ACTIONS:
            raise bad_asset(f"asset.action: one of {', '.join(COMMITTEE_ACTIONS)}")
        uses_class = action in ("admit-class", "remove-class")
        if uses_class:
            class_id(self.class_id)
        elif self.class_id:
            raise bad_asset(f"asset.classId: not used by {action}")
        if action == "admit-class":
            text(self.name, "asset.name", MAX_NAME)
        elif self.name:
            raise bad_asset(f"asset.name: not used by {action}")
        if uses_class:
            if self.issuer:
                raise bad_asset(f"asset.issuer: not used by {action}")
        else:
            address_field(self.issuer, "asset.issuer")
        if type(self.classes) is not tuple:
            raise bad_asset("asset.classes: expected a tuple of class ids")
        if action == "admit-issuer":
            if not 1 <= len(self.classes) <= MAX_ISSUER_CLASSES:
                raise bad_asset(f"asset.classes: 1 to {MAX_ISSUER_CLASSES} class ids")
            for c in self.classes:
                class_id(c, "asset.classes[]")
            if list(self.classes) != sorted(set(self.classes)):
                raise bad_asset("asset.classes: sorted, without duplicates")
        elif self.classes:
            raise bad_asset(f"asset.classes: not used by {action}")

    def to_array(self) -> list[Any]:
        return [self.action, self.class_id, self.name, self.issuer, list(self.classes)]

    @classmethod
    def from_array(cls, arr: Any) -> CommitteeAsset:
        action, cid, name, issuer, classes = asset_fields(arr, "carbon committee", 5)
        classes = field_list(classes, "asset.classes", max_len=MAX_ISSUER_CLASSES)
        return cls(
            field_str(action, "asset.action", max_len=16),
            field_str(cid, "asset.classId", max_len=8),
            field_str(name, "asset.name", max_len=MAX_NAME),
            field_str(issuer, "asset.issuer", max_len=21),
            tuple(field_str(c, "asset.classes[]", max_len=8) for c in classes),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.class_id:
            out["classId"] = self.class_id
        if self.name:
            out["name"] = self.name
        if self.issuer:
            out["issuer"] = self.issuer
        if self.classes:
            out["classes"] = list(self.classes)
        return out

    @classmethod
    def from_json(cls, obj: Any) -> CommitteeAsset:
        obj = json_object(
            obj, "asset", frozenset({"action", "classId", "name", "issuer", "classes"})
        )
        classes = obj.get("classes", [])
        if type(classes) is not list or len(classes) > MAX_ISSUER_CLASSES:
            raise bad_asset(f"asset.classes: a list of at most {MAX_ISSUER_CLASSES} class ids")
        return cls(
            json_str(obj.get("action"), "asset.action", max_len=16),
            json_str(obj.get("classId", ""), "asset.classId", max_len=8),
            json_str(obj.get("name", ""), "asset.name", max_len=MAX_NAME),
            json_str(obj.get("issuer", ""), "asset.issuer", max_len=21),
            tuple(json_str(c, "asset.classes[]", max_len=8) for c in classes),
        )


@dataclass(frozen=True)
class ProjectAsset:
    """Type 12: an issuer admitted for the class registers a project."""

    project_id: str
    class_id: str
    name: str
    jurisdiction: str
    methodology: str
    metadata_hash: bytes
    TYPE: ClassVar[TxType] = TxType.CARBON_PROJECT

    def __post_init__(self) -> None:
        project_id(self.project_id)
        class_id(self.class_id)
        text(self.name, "asset.name", MAX_NAME)
        jurisdiction(self.jurisdiction)
        text(self.methodology, "asset.methodology", MAX_NAME)
        field_bytes(self.metadata_hash, "asset.metadataHash", size=HASH_LEN)

    def to_array(self) -> list[Any]:
        return [
            self.project_id,
            self.class_id,
            self.name,
            self.jurisdiction,
            self.methodology,
            self.metadata_hash,
        ]

    @classmethod
    def from_array(cls, arr: Any) -> ProjectAsset:
        return cls(*asset_fields(arr, "carbon project", 6))

    def to_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "classId": self.class_id,
            "name": self.name,
            "jurisdiction": self.jurisdiction,
            "methodology": self.methodology,
            "metadataHash": self.metadata_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> ProjectAsset:
        names = ("projectId", "classId", "name", "jurisdiction", "methodology")
        obj = json_object(obj, "asset", frozenset({*names, "metadataHash"}))
        pid, cid, name, where, methodology = (
            json_str(obj.get(n), f"asset.{n}", max_len=MAX_NAME) for n in names
        )
        metadata = json_hex(obj.get("metadataHash"), "asset.metadataHash", size=HASH_LEN)
        return cls(pid, cid, name, where, methodology, metadata)


@dataclass(frozen=True)
class IssueAsset:
    """Type 13: a batch of the project's credits, serials `[first, last]` of the class's
    serial space, issued to `recipientId`. `origin` is the source registry's serial string:
    it comes on chain once, ever."""

    project_id: str
    vintage_start: int
    vintage_end: int
    first: int
    last: int
    origin: str
    metadata_hash: bytes
    TYPE: ClassVar[TxType] = TxType.CARBON_ISSUE
    RECIPIENT_REQUIRED: ClassVar[bool] = True  # the batch's first holder

    def __post_init__(self) -> None:
        project_id(self.project_id)
        vintage_date(self.vintage_start, "asset.vintageStart")
        vintage_date(self.vintage_end, "asset.vintageEnd")
        if self.vintage_end < self.vintage_start:
            raise bad_asset("asset.vintageEnd: before vintageStart")
        serial(self.first, "asset.first")
        serial(self.last, "asset.last")
        if self.last < self.first:
            raise bad_asset("asset.last: below first")
        origin = field_str(self.origin, "asset.origin", max_len=MAX_ORIGIN)
        if not ORIGIN_RE.match(origin):
            raise bad_asset(
                "asset.origin: the source registry's serial, 1-128 of A-Z 0-9 . _ : / - "
                "(upper case)"
            )
        field_bytes(self.metadata_hash, "asset.metadataHash", size=HASH_LEN)

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def to_array(self) -> list[Any]:
        return [
            self.project_id,
            self.vintage_start,
            self.vintage_end,
            self.first,
            self.last,
            self.origin,
            self.metadata_hash,
        ]

    @classmethod
    def from_array(cls, arr: Any) -> IssueAsset:
        return cls(*asset_fields(arr, "carbon issue", 7))

    def to_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "vintageStart": self.vintage_start,
            "vintageEnd": self.vintage_end,
            "first": str(self.first),
            "last": str(self.last),
            "origin": self.origin,
            "metadataHash": self.metadata_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> IssueAsset:
        fields = ("projectId", "vintageStart", "vintageEnd", "first", "last", "origin")
        obj = json_object(obj, "asset", frozenset({*fields, "metadataHash"}))
        return cls(
            json_str(obj.get("projectId"), "asset.projectId", max_len=40),
            json_int(obj.get("vintageStart"), "asset.vintageStart"),
            json_int(obj.get("vintageEnd"), "asset.vintageEnd"),
            json_bigint(obj.get("first"), "asset.first"),
            json_bigint(obj.get("last"), "asset.last"),
            json_str(obj.get("origin"), "asset.origin", max_len=MAX_ORIGIN),
            json_hex(obj.get("metadataHash"), "asset.metadataHash", size=HASH_LEN),
        )


def _selection(quantity: int, ranges: R.Ranges) -> None:
    """A transfer, retirement or cancellation names a quantity (taken from the lowest
    serials) or explicit ranges, never both."""
    if (quantity == 0) == (not ranges):
        raise bad_asset("asset: give a quantity (lowest serials first) or ranges, not both")


@dataclass(frozen=True)
class MoveAsset:
    """What types 14-16 share: a batch and the credits taken from the sender's holding."""

    batch_id: str
    quantity: int
    ranges: R.Ranges

    @property
    def selected(self) -> int:
        """How many credits the transaction moves (known before state for ranges)."""
        return self.quantity or R.size(self.ranges)

    def _check_move(self) -> None:
        batch_id(self.batch_id)
        quantity_field(self.quantity, "asset.quantity", allow_zero=True)
        if type(self.ranges) is not tuple:
            raise bad_asset("asset.ranges: expected a tuple of (first, last) pairs")
        ranges_field(ranges_array(self.ranges), "asset.ranges")
        _selection(self.quantity, self.ranges)

    def _move_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"batchId": self.batch_id}
        if self.quantity:
            out["quantity"] = str(self.quantity)
        else:
            out["ranges"] = ranges_json(self.ranges)
        return out

    @staticmethod
    def _move_from_json(obj: dict[str, Any]) -> tuple[str, int, R.Ranges]:
        return (
            json_str(obj.get("batchId"), "asset.batchId", max_len=40),
            json_bigint(obj.get("quantity", 0), "asset.quantity"),
            ranges_from_json(obj.get("ranges", []), "asset.ranges"),
        )

    @staticmethod
    def _move_from_array(bid: Any, qty: Any, rngs: Any) -> tuple[str, int, R.Ranges]:
        return (
            field_str(bid, "asset.batchId", max_len=40),
            quantity_field(qty, "asset.quantity", allow_zero=True),
            ranges_field(rngs, "asset.ranges"),
        )


@dataclass(frozen=True)
class CarbonTransferAsset(MoveAsset):
    """Type 14: credits of one batch to `recipientId`."""

    TYPE: ClassVar[TxType] = TxType.CARBON_TRANSFER
    RECIPIENT_REQUIRED: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._check_move()

    def to_array(self) -> list[Any]:
        return [self.batch_id, self.quantity, ranges_array(self.ranges)]

    @classmethod
    def from_array(cls, arr: Any) -> CarbonTransferAsset:
        return cls(*cls._move_from_array(*asset_fields(arr, "carbon transfer", 3)))

    def to_json(self) -> dict[str, Any]:
        return self._move_json()

    @classmethod
    def from_json(cls, obj: Any) -> CarbonTransferAsset:
        obj = json_object(obj, "asset", frozenset({"batchId", "quantity", "ranges"}))
        return cls(*cls._move_from_json(obj))


@dataclass(frozen=True)
class RetireAsset(MoveAsset):
    """Type 15: the sender retires credits for a beneficiary, in a jurisdiction, for a
    reason; the retirement is a state record and a leaf under the header's retirementRoot."""

    beneficiary: str = ""
    jurisdiction: str = ""
    reason: str = ""
    TYPE: ClassVar[TxType] = TxType.CARBON_RETIRE

    def __post_init__(self) -> None:
        self._check_move()
        text(self.beneficiary, "asset.beneficiary", MAX_BENEFICIARY)
        jurisdiction(self.jurisdiction)
        text(self.reason, "asset.reason", MAX_REASON, required=False)

    def to_array(self) -> list[Any]:
        return [
            self.batch_id,
            self.quantity,
            ranges_array(self.ranges),
            self.beneficiary,
            self.jurisdiction,
            self.reason,
        ]

    @classmethod
    def from_array(cls, arr: Any) -> RetireAsset:
        bid, qty, rngs, beneficiary, where, reason = asset_fields(arr, "carbon retire", 6)
        return cls(*cls._move_from_array(bid, qty, rngs), beneficiary, where, reason)

    def to_json(self) -> dict[str, Any]:
        return {
            **self._move_json(),
            "beneficiary": self.beneficiary,
            "jurisdiction": self.jurisdiction,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, obj: Any) -> RetireAsset:
        names = {"batchId", "quantity", "ranges", "beneficiary", "jurisdiction", "reason"}
        obj = json_object(obj, "asset", frozenset(names))
        return cls(
            *cls._move_from_json(obj),
            json_str(obj.get("beneficiary"), "asset.beneficiary", max_len=MAX_BENEFICIARY),
            json_str(obj.get("jurisdiction"), "asset.jurisdiction", max_len=6),
            json_str(obj.get("reason", ""), "asset.reason", max_len=MAX_REASON),
        )


@dataclass(frozen=True)
class CancelAsset(MoveAsset):
    """Type 16: the sender takes credits out of circulation for good (moved to another
    registry, found invalid), with the reason."""

    reason: str = ""
    TYPE: ClassVar[TxType] = TxType.CARBON_CANCEL

    def __post_init__(self) -> None:
        self._check_move()
        text(self.reason, "asset.reason", MAX_REASON)

    def to_array(self) -> list[Any]:
        return [self.batch_id, self.quantity, ranges_array(self.ranges), self.reason]

    @classmethod
    def from_array(cls, arr: Any) -> CancelAsset:
        bid, qty, rngs, reason = asset_fields(arr, "carbon cancel", 4)
        return cls(*cls._move_from_array(bid, qty, rngs), reason)

    def to_json(self) -> dict[str, Any]:
        return {**self._move_json(), "reason": self.reason}

    @classmethod
    def from_json(cls, obj: Any) -> CancelAsset:
        obj = json_object(obj, "asset", frozenset({"batchId", "quantity", "ranges", "reason"}))
        return cls(
            *cls._move_from_json(obj),
            json_str(obj.get("reason"), "asset.reason", max_len=MAX_REASON),
        )


ASSETS = (CommitteeAsset, ProjectAsset, IssueAsset, CarbonTransferAsset, RetireAsset, CancelAsset)
