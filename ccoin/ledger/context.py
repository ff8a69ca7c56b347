"""What the rules may know about the block being built or checked (shared by the executor
and every module's rules, so neither imports the other for it)."""

from __future__ import annotations

from dataclasses import dataclass

from ccoin.types.genesis import GenesisConfig


@dataclass(frozen=True)
class BlockContext:
    height: int
    timestamp_ms: int  # the header's: chain milliseconds
    generator_public_key: bytes
    genesis: GenesisConfig
    network_id: bytes

    @property
    def timestamp_seconds(self) -> int:
        """Whole chain seconds, the unit of transactions' and contracts' timestamps."""
        return self.timestamp_ms // 1000
