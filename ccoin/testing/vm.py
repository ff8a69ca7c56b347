"""An in-memory `ContractApi` for tests and tools: a dict for storage, lists for events
and transfers. Not used by the node. Also the contract sources the vm tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ccoin
from ccoin.vm.api import CallContext, ContractBalance
from ccoin.vm.host import TreeOutcome, run_call
from ccoin.vm.instrument import compile_contract

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

    def load(self, contract: str) -> tuple[str, int] | None:
        source = self.contracts.get(contract)
        return None if source is None else (source, self.balances.get(contract, 0))

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
        for owner, key, data in outcome.tree.writes:
            if data is None:
                self.storage.pop((owner, key), None)
            else:
                self.storage[(owner, key)] = data
        for source, to, amount in outcome.tree.transfers:
            self.balances[source] -= amount
            self.balances[to] = self.balances.get(to, 0) + amount
        return outcome
