"""An in-memory `ContractApi` for tests and tools: a dict for storage, lists for events
and transfers. Not used by the node. Also the contract sources the vm tests share (the
example contracts come from `ccoin.contracts`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ccoin.contracts
from ccoin.contracts import example_source as example_source  # for the tests
from ccoin.vm.api import CallContext, ContractBalance, decode_value
from ccoin.vm.host import LoadedContract, TreeOutcome, run_call
from ccoin.vm.instrument import compile_contract

# The example contracts are package data of `ccoin.contracts` (read through it); this is
# their folder in this checkout, for tests that need a file to hand to the CLI.
EXAMPLES = Path(ccoin.contracts.__file__).resolve().parent / ccoin.contracts.EXAMPLES_DIR


def __getattr__(name: str) -> str:
    # TOKEN, the fungible token the vm tests use (in-process and sandbox), is read on first
    # use rather than at import: nothing in ccoin reads files when imported.
    if name == "TOKEN":
        return example_source("token")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# A shop that sells items for the token: it calls the token to move the buyer's tokens
# (as the shop: the token's ctx.sender is the shop) and keeps its own stock.
SHOP = """
stock = Map(0)
sold = Var(0)


@export
def restock(item, count):
    stock[item] += count


@export
def buy(token, item):
    require(stock[item] > 0, "sold out")
    stock[item] -= 1
    sold.set(sold.get() + 1)
    paid = call_contract(token, "transfer", "treasury", 10)
    emit("Sold", item=item)
    return paid


@export
def buy_or_refuse(token, item):
    stock[item] -= 1
    try:
        call_contract(token, "transfer", "treasury", 10 ** 9)
    except ContractError:
        stock[item] += 1
        return "refused"
    return "bought"


@export
def forward(target, amount):
    coins.send(target, amount)
    return call_contract(target, "report")


@export
def mutate(target):
    items = [1, 2]
    call_contract(target, "append_to", items)
    return items
"""

ECHO = """
seen = Var(0)


@export
def report():
    seen.set(seen.get() + 1)
    return [ctx.sender, coins.balance()]


@export
def append_to(items):
    items.append(3)
    return items


@export
def fail():
    seen.set(99)
    emit("Never")
    raise ContractError("inner")


@export
def deeper(targets):
    if len(targets) == 0:
        return 0
    return 1 + call_contract(targets[0], "deeper", targets[1:])
"""


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


def apply_writes(storage: dict[Any, bytes], writes: Iterable[tuple[Any, bytes | None]]) -> None:
    """Apply a write set to a dict as the node applies it to state (None deletes)."""
    for key, value in writes:
        if value is None:
            storage.pop(key, None)
        else:
            storage[key] = value


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

    def emit(self, name: str, fields: bytes) -> None:
        self.events.append((name, decode_value(fields)))

    def transfer(self, to: str, amount: int) -> None:
        self._balance.spend(amount)
        self.transfers.append((to, amount))

    def balance(self) -> int:
        return self._balance.amount

    def call(self, contract: str, function: str, args: list[Any]) -> Any:
        raise NotImplementedError("one contract only: use FakeChain for calls between them")


@dataclass
class FakeChain:
    """Several contracts in process (a `ccoin.vm.host.Backend`): code, balances and storage
    by contract; `call` runs a transaction's call tree and applies it on success, like the
    node (attached value credited first and returned on failure)."""

    contracts: dict[str, str] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    storage: dict[tuple[str, bytes], bytes] = field(default_factory=dict)
    height: int = 1

    def read(self, contract: str, key: bytes) -> bytes | None:
        return self.storage.get((contract, key))

    def load(self, contract: str) -> LoadedContract | None:
        source = self.contracts.get(contract)
        if source is None:
            return None
        size = len(source.encode("utf-8"))
        return LoadedContract(compile_contract(source), size, self.balances.get(contract, 0))

    def call(
        self,
        sender: str,
        contract: str,
        function: str,
        *args: Any,
        value: int = 0,
        gas_limit: int = 1_000_000,
    ) -> TreeOutcome:
        ctx = CallContext(
            sender=sender,
            contract=contract,
            height=self.height,
            timestamp=1_700_000_000,
            tx_id="t" * 20,
            value=value,
            balance=self.balances.get(contract, 0) + value,
        )
        self.balances[contract] = ctx.balance
        compiled = compile_contract(self.contracts[contract])
        outcome = run_call(self, compiled, function, args, gas_limit, ctx)
        if outcome.tree is None:
            self.balances[contract] -= value
            return outcome
        apply_writes(self.storage, (((c, k), v) for c, k, v in outcome.tree.writes))
        for source, to, amount in outcome.tree.transfers:
            self.balances[source] -= amount
            self.balances[to] = self.balances.get(to, 0) + amount
        return outcome
