"""An in-memory `ContractApi` for tests and tools: a dict for storage, lists for events
and transfers. Not used by the node. Also the example sources the vm tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccoin.vm.api import CallContext

# The fungible token and the resource bombs used by the vm tests (in-process and sandbox).
TOKEN = '''
"""A fungible token."""
balances = Map(0)
supply = Var(0)


@export
def mint(to: str, amount: int) -> None:
    require(amount > 0, "amount must be positive")
    balances[to] += amount
    supply.set(supply.get() + amount)
    emit("Mint", to=to, amount=amount)


@export
def transfer(to: str, amount: int) -> int:
    sender = ctx.sender
    require(balances[sender] >= amount, "insufficient balance")
    balances[sender] -= amount
    balances[to] += amount
    emit("Transfer", sender=sender, to=to, amount=amount)
    return balances[to]


@export
def total() -> int:
    return supply.get()


@export
def fail_after_write(to: str) -> None:
    balances[to] = 5
    raise ContractError("no")
'''

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
