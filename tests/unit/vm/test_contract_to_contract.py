"""Calls between contracts (`call_contract`), in process through `FakeChain`: each contract
sees its own storage, a failed inner call is undone and catchable, C moves between
contract balances, depth is bounded, values cross as copies."""

from __future__ import annotations

from ccoin.testing.vm import TOKEN, FakeChain
from ccoin.vm.api import decode_value, encode_value
from ccoin.vm.host import MAX_CONTRACT_DEPTH

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


def chain() -> FakeChain:
    return FakeChain(contracts={"token": TOKEN, "shop": SHOP, "echo": ECHO})


def stored(net: FakeChain, contract: str, key: bytes) -> object:
    data = net.storage.get((contract, key))
    return None if data is None else decode_value(data)


def token_balance(net: FakeChain, holder: str) -> object:
    return stored(net, "token", b"m/balances/" + encode_value(holder)) or 0


def test_a_contract_calls_another_as_itself() -> None:
    net = chain()
    assert net.call("alice", "token", "mint", "shop", 100).ok
    assert net.call("owner", "shop", "restock", "tree", 2).ok
    bought = net.call("alice", "shop", "buy", "token", "tree")
    assert bought.ok and bought.value == 10, bought.error
    assert (token_balance(net, "shop"), token_balance(net, "treasury")) == (90, 10)
    assert stored(net, "shop", b"m/stock/" + encode_value("tree")) == 1
    assert bought.tree is not None
    # Events are tagged with their contract, in the order they happened.
    assert [(c, name) for c, name, _ in bought.tree.events] == [
        ("token", "Transfer"),
        ("shop", "Sold"),
    ]
    # Each contract's writes are its own keys only.
    assert {owner for owner, _key, _value in bought.tree.writes} == {"shop", "token"}


def test_a_failed_inner_call_is_undone_and_catchable() -> None:
    net = chain()
    net.call("alice", "token", "mint", "shop", 5)
    net.call("owner", "shop", "restock", "tree", 1)
    before = dict(net.storage)
    refused = net.call("alice", "shop", "buy_or_refuse", "token", "tree")
    assert refused.ok and refused.value == "refused"
    assert refused.tree is not None and refused.tree.events == ()
    assert net.storage == before  # stock put back, and the token's writes undone
    failed = net.call("alice", "shop", "buy", "token", "nothing")
    assert not failed.ok and failed.error == "ContractError: sold out"


def test_an_uncaught_inner_failure_fails_the_whole_call() -> None:
    net = chain()
    net.call("alice", "token", "mint", "shop", 5)
    net.call("owner", "shop", "restock", "tree", 3)
    before = dict(net.storage)
    failed = net.call("alice", "shop", "buy", "token", "tree")  # shop holds 5 < 10
    assert not failed.ok and failed.tree is None
    assert failed.error == (
        "ContractError: token.transfer failed: ContractError: insufficient balance"
    )
    assert net.storage == before


def test_c_moves_between_contract_balances_within_the_call() -> None:
    net = chain()
    forwarded = net.call("alice", "shop", "forward", "echo", 30, value=50)
    assert forwarded.ok, forwarded.error
    assert forwarded.value == ["shop", 30]  # echo saw the shop as sender and the 30 it got
    assert net.balances == {"shop": 20, "echo": 30}
    too_much = net.call("alice", "shop", "forward", "echo", 21)
    assert not too_much.ok and "the contract holds 20" in (too_much.error or "")
    assert net.balances == {"shop": 20, "echo": 30}


def test_values_cross_as_copies() -> None:
    net = chain()
    mutated = net.call("alice", "shop", "mutate", "echo")
    assert mutated.ok and mutated.value == [1, 2]  # the callee appended to its own copy


def test_depth_is_bounded_and_unknown_contracts_refused() -> None:
    net = chain()
    chain_of = ["echo"] * (MAX_CONTRACT_DEPTH - 1)  # with the first: the most on the stack
    ok = net.call("alice", "echo", "deeper", chain_of)
    assert ok.ok and ok.value == MAX_CONTRACT_DEPTH - 1, ok.error
    too_deep = net.call("alice", "echo", "deeper", [*chain_of, "echo"])
    assert not too_deep.ok
    assert f"nested deeper than {MAX_CONTRACT_DEPTH}" in (too_deep.error or "")
    missing = net.call("alice", "echo", "deeper", ["nowhere"])
    assert not missing.ok and "no contract at 'nowhere'" in (missing.error or "")


def test_gas_is_one_meter_for_the_whole_tree() -> None:
    net = chain()
    net.call("alice", "token", "mint", "shop", 100)
    net.call("owner", "shop", "restock", "tree", 5)
    before = dict(net.storage)

    def buy(gas_limit: int = 1_000_000) -> tuple[bool, int, str | None]:
        fresh = chain()
        fresh.storage = dict(before)
        outcome = fresh.call("alice", "shop", "buy", "token", "tree", gas_limit=gas_limit)
        return outcome.ok, outcome.gas_used, outcome.error

    ok, used, _ = buy()
    assert ok and buy() == (True, used, None)  # the same figure every time
    for limit in (used - 1, used // 2):
        ok, spent, error = buy(limit)
        assert not ok and (error or "").startswith("OutOfGas") and spent <= limit
