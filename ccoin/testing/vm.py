"""An in-memory `ContractApi` for tests and tools: a dict for storage, lists for events
and transfers. Not used by the node. Also the contract sources the vm tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ccoin
from ccoin.vm.api import CallContext, ContractBalance

# The example contracts live at the repository root, in `contracts/examples/`, as
# contract source. The fungible token is the one the vm tests use (in-process and sandbox).
EXAMPLES = Path(ccoin.__file__).resolve().parent.parent / "contracts" / "examples"


def example_source(name: str) -> str:
    """The source of `contracts/examples/<name>.py`."""
    return (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")


TOKEN = example_source("token")

# Resource bombs used by the vm tests.
BOMBS = """
@export
def power():
    return 10 ** 10 ** 7


@export
def spin():
    while True:
        pass


def down(n):
    return down(n + 1)


@export
def recurse():
    return down(0)


@export
def list_bomb():
    return [0] * 10 ** 9


@export
def text_bomb():
    return "x" * 10 ** 10


@export
def grow():
    items = []
    for i in range(10 ** 12):
        items.append(i)
    return len(items)


@export
def doubling():
    items = [0]
    while True:
        items = items + items


@export
def shift_bomb():
    return 1 << 10 ** 12


@export
def catch_out_of_gas():
    try:
        while True:
            pass
    except ValueError:
        return "caught"
    return "after"


@export
def materialize():
    return list(zip(range(10 ** 12), range(10 ** 12)))
"""


def make_context(
    sender: str = "alice", height: int = 1, *, value: int = 0, balance: int = 0
) -> CallContext:
    return CallContext(
        sender=sender,
        contract="token",
        height=height,
        timestamp=1_700_000_000,
        tx_id="00" * 32,
        value=value,
        balance=max(balance, value),
    )


@dataclass
class FakeApi:
    """Storage writes land in `storage` directly; a test snapshots it to check reverts."""

    context: CallContext = field(default_factory=make_context)
    storage: dict[bytes, bytes] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    transfers: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._balance = ContractBalance(self.context.balance)

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
        self._balance.spend(amount)
        self.transfers.append((to, amount))

    def balance(self) -> int:
        return self._balance.amount

    def call(self, contract: str, function: str, args: list[Any]) -> Any:
        raise NotImplementedError("contract-to-contract calls come with the call transaction")
