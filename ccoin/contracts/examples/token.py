# ruff: noqa: F821
# Contract source in the restricted language of docs/spec/vm.md, not an importable module:
# `Map`, `Var`, `export`, `ctx`, `require`, `emit` and `ContractError` come from the runtime.
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
