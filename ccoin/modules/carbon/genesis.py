"""The genesis's `carbon` section: the committee account (the whitepaper's Carbon Assets
Review Committee; it may be a multisignature account) and the module's parameters. A
network without the section has no carbon types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccoin.crypto.address import address_raw
from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.asset_base import TxType
from ccoin.types.codec import UNIT, json_bigint, json_int, json_object, json_str

DEFAULT_MAX_HOLDING_RANGES = 256

FEE_NAMES = {
    TxType.CARBON_COMMITTEE: "committee",
    TxType.CARBON_PROJECT: "project",
    TxType.CARBON_ISSUE: "issue",
    TxType.CARBON_TRANSFER: "transfer",
    TxType.CARBON_RETIRE: "retire",
    TxType.CARBON_CANCEL: "cancel",
}
DEFAULT_FEES = {
    TxType.CARBON_COMMITTEE: 0,  # as governance: the committee's decisions cost nothing
    TxType.CARBON_PROJECT: 1 * UNIT,
    TxType.CARBON_ISSUE: 1 * UNIT,
    TxType.CARBON_TRANSFER: UNIT // 10,
    TxType.CARBON_RETIRE: UNIT // 10,
    TxType.CARBON_CANCEL: UNIT // 10,
}


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.GENESIS_INVALID, message)


@dataclass(frozen=True)
class CarbonGenesis:
    committee: str  # an address
    max_holding_ranges: int = DEFAULT_MAX_HOLDING_RANGES
    # Minimum fees of types 11-16, in that order.
    min_fees: tuple[int, ...] = field(default_factory=lambda: tuple(DEFAULT_FEES.values()))

    def min_fee(self, tx_type: int) -> int:
        return self.min_fees[tx_type - TxType.CARBON_COMMITTEE]

    def to_array(self) -> list[Any]:
        return ["carbon", self.committee, self.max_holding_ranges, list(self.min_fees)]

    def to_json(self) -> dict[str, Any]:
        return {
            "committee": self.committee,
            "maxHoldingRanges": self.max_holding_ranges,
            "minFees": {
                name: str(fee) for name, fee in zip(FEE_NAMES.values(), self.min_fees, strict=True)
            },
        }

    @classmethod
    def from_json(cls, obj: Any) -> CarbonGenesis:
        obj = json_object(obj, "carbon", frozenset({"committee", "maxHoldingRanges", "minFees"}))
        if "committee" not in obj:
            raise _fail("carbon.committee: the committee's address is required")
        committee = json_str(obj["committee"], "carbon.committee", max_len=21)
        address_raw(committee)
        fees = json_object(obj.get("minFees", {}), "carbon.minFees", frozenset(FEE_NAMES.values()))
        return cls(
            committee,
            json_int(
                obj.get("maxHoldingRanges", DEFAULT_MAX_HOLDING_RANGES),
                "carbon.maxHoldingRanges",
                1,
                4096,
            ),
            tuple(
                json_bigint(fees[name], f"carbon.minFees.{name}")
                if name in fees
                else DEFAULT_FEES[t]
                for t, name in FEE_NAMES.items()
            ),
        )
