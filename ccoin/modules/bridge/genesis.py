"""The genesis's `bridge` section: the relay bridge to BSC (DESIGN section 9). A network
without it has no types 6 and 7."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccoin.errors import ConfigError, ErrorCode
from ccoin.types.codec import json_hex, json_int, json_object, json_str


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.GENESIS_INVALID, message)


@dataclass(frozen=True)
class BridgeConfig:
    """The relay bridge to BSC (DESIGN section 9): the sidechain account holding C that
    stands for C locked on BSC, and the one BSC Bridge contract deposits may come from."""

    escrow: str  # a genesis account
    bsc_chain_id: int
    contract: bytes  # the Bridge contract's address on BSC (20 bytes)
    confirmations: int  # BSC blocks a deposit must be buried under before it is attested

    def to_array(self) -> list[Any]:
        return [self.escrow, self.bsc_chain_id, self.contract, self.confirmations]

    def to_json(self) -> dict[str, Any]:
        return {
            "escrow": self.escrow,
            "bscChainId": self.bsc_chain_id,
            "contract": self.contract.hex(),
            "confirmations": self.confirmations,
        }

    @classmethod
    def from_json(cls, obj: Any, account_addresses: set[str]) -> BridgeConfig:
        fields = frozenset({"escrow", "bscChainId", "contract", "confirmations"})
        obj = json_object(obj, "bridge", fields)
        missing = sorted(fields - set(obj))
        if missing:
            raise _fail(f"bridge: missing field(s) {', '.join(missing)}")
        escrow = json_str(obj["escrow"], "bridge.escrow", max_len=21)
        if escrow not in account_addresses:
            raise _fail("bridge.escrow: must be one of the genesis accounts")
        return cls(
            escrow,
            json_int(obj["bscChainId"], "bridge.bscChainId", 1, 2**63 - 1),
            json_hex(obj["contract"], "bridge.contract", size=20),
            json_int(obj["confirmations"], "bridge.confirmations", 0, 10_000),
        )
