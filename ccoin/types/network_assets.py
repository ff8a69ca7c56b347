"""Network assets: type 9 (governance: admission and revocation in the permissioned
network) and type 10 (equivocation evidence, ADR 0009)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ccoin.crypto.address import is_address
from ccoin.types.asset_base import TxType, asset_fields, bad_asset
from ccoin.types.codec import (
    field_bytes,
    field_str,
    json_hex,
    json_object,
    json_str,
)

_FINGERPRINT_HEX_RE = re.compile(r"\A[0-9a-f]{64}\Z")

GOVERNANCE_ACTIONS = ("admit", "revoke")
GOVERNANCE_KINDS = ("account", "node")


@dataclass(frozen=True)
class GovernanceAsset:
    """Type 9: admit or revoke an account (subject = address) or a node certificate
    (subject = its SHA-256 fingerprint, 64 lowercase hex)."""

    action: str
    kind: str
    subject: str
    TYPE: ClassVar[TxType] = TxType.GOVERNANCE

    def __post_init__(self) -> None:
        if self.action not in GOVERNANCE_ACTIONS:
            raise bad_asset("asset.action: 'admit' or 'revoke'")
        if self.kind not in GOVERNANCE_KINDS:
            raise bad_asset("asset.kind: 'account' or 'node'")
        field_str(self.subject, "asset.subject", max_len=64)
        if self.kind == "account" and not is_address(self.subject):
            raise bad_asset("asset.subject: not a valid address")
        if self.kind == "node" and not _FINGERPRINT_HEX_RE.match(self.subject):
            raise bad_asset("asset.subject: a certificate fingerprint is 64 lowercase hex")

    def to_array(self) -> list[Any]:
        return [self.action, self.kind, self.subject]

    @classmethod
    def from_array(cls, arr: Any) -> GovernanceAsset:
        action, kind, subject = asset_fields(arr, "governance", 3)
        return cls(
            field_str(action, "asset.action", max_len=8),
            field_str(kind, "asset.kind", max_len=8),
            field_str(subject, "asset.subject", max_len=64),
        )

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "subject": self.subject}

    @classmethod
    def from_json(cls, obj: Any) -> GovernanceAsset:
        obj = json_object(obj, "asset", frozenset({"action", "kind", "subject"}))
        return cls(
            json_str(obj.get("action"), "asset.action", max_len=8),
            json_str(obj.get("kind"), "asset.kind", max_len=8),
            json_str(obj.get("subject"), "asset.subject", max_len=64),
        )


EVIDENCE_KINDS = ("double-block", "double-vote")
MAX_EVIDENCE_ITEM = 32 * 1024


@dataclass(frozen=True)
class EvidenceAsset:
    """Type 10: proof that a delegate signed two things no honest delegate signs: two block
    headers for one slot (`double-block`), or two conflicting finality votes (`double-vote`).
    `first` and `second` are the two signed messages' canonical bytes (a header or a vote).
    The ledger checks the proof against its signatures and jails the delegate."""

    kind: str
    first: bytes
    second: bytes
    TYPE: ClassVar[TxType] = TxType.EVIDENCE

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise bad_asset("asset.kind: 'double-block' or 'double-vote'")
        field_bytes(self.first, "asset.first", max_size=MAX_EVIDENCE_ITEM)
        field_bytes(self.second, "asset.second", max_size=MAX_EVIDENCE_ITEM)
        if not self.first or self.first == self.second:
            raise bad_asset("asset: two different signed messages are needed")

    def to_array(self) -> list[Any]:
        return [self.kind, self.first, self.second]

    @classmethod
    def from_array(cls, arr: Any) -> EvidenceAsset:
        kind, first, second = asset_fields(arr, "evidence", 3)
        return cls(field_str(kind, "asset.kind", max_len=16), first, second)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first.hex(), "second": self.second.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> EvidenceAsset:
        obj = json_object(obj, "asset", frozenset({"kind", "first", "second"}))
        return cls(
            json_str(obj.get("kind"), "asset.kind", max_len=16),
            json_hex(obj.get("first"), "asset.first", max_size=MAX_EVIDENCE_ITEM),
            json_hex(obj.get("second"), "asset.second", max_size=MAX_EVIDENCE_ITEM),
        )
