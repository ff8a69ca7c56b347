"""An in-memory `ContractApi` for tests and tools: a dict for storage, lists for events
and transfers. Not used by the node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccoin.vm.api import CallContext


def make_context(sender: str = "alice", height: int = 1) -> CallContext:
    return CallContext(
        sender=sender, contract="token", height=height, timestamp=1_700_000_000, tx_id="00" * 32
    )


@dataclass
class FakeApi:
    """Storage writes land in `storage` directly; a test snapshots it to check reverts."""

    context: CallContext = field(default_factory=make_context)
    storage: dict[bytes, bytes] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    transfers: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ctx(self) -> CallContext:
        return self.context

    def storage_get(self, key: bytes) -> bytes | None:
        return self.storage.get(key)

    def storage_set(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.storage.pop(key, None)
        else:
            self.storage[key] = value

    def emit(self, name: str, fields: dict[str, Any]) -> None:
        self.events.append((name, dict(fields)))

    def transfer(self, to: str, amount: int) -> None:
        self.transfers.append((to, amount))

    def call(self, contract: str, function: str, args: list[Any]) -> Any:
        raise NotImplementedError("contract-to-contract calls come with the call transaction")
