"""Calls between contracts (`call_contract`), in process through `FakeChain`: each contract
sees its own storage, a failed inner call is undone and catchable, C moves between
contract balances, depth is bounded, values cross as copies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ccoin.testing.vm import ECHO, SHOP, TOKEN, FakeChain
from ccoin.vm.api import CallContext, decode_value, encode_value
from ccoin.vm.host import MAX_CONTRACT_DEPTH
from ccoin.vm.runner import (
    CallResult,
    CompileCache,
    ContractCall,
    SandboxRunner,
    WorkerFault,
    _Session,
)


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=10.0) as sandbox:
        yield sandbox


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


# --- the same through the sandbox --------------------------------------------------------


class Host:
    """The node's side for the sandbox: a `ContractHost` over a `FakeChain`'s state."""

    def __init__(self, net: FakeChain) -> None:
        self.net = net

    def read(self, contract: str, key: bytes) -> bytes | None:
        return self.net.read(contract, key)

    def load(self, contract: str) -> tuple[str, int] | None:
        source = self.net.contracts.get(contract)
        return None if source is None else (source, self.net.balances.get(contract, 0))


def sandboxed(runner: SandboxRunner, net: FakeChain, sender: str, contract: str,
              function: str, *args: object, value: int = 0) -> CallResult:  # fmt: skip
    ctx = CallContext(
        sender, contract, net.height, 1_700_000_000, "t" * 20, value,
        net.balances.get(contract, 0) + value,
    )  # fmt: skip
    return runner.call(
        ContractCall(net.contracts[contract], function, args, 1_000_000, ctx), Host(net)
    )


@pytest.mark.parametrize(
    ("function", "args", "value"),
    [
        ("buy", ("token", "tree"), 0),
        ("buy_or_refuse", ("token", "tree"), 0),
        ("buy", ("token", "nothing"), 0),
        ("forward", ("echo", 30), 50),
        ("mutate", ("echo",), 0),
        ("forward", ("nowhere", 1), 5),
    ],
)
def test_the_sandbox_runs_call_trees_exactly_as_in_process(
    runner: SandboxRunner, function: str, args: tuple[object, ...], value: int
) -> None:
    net = chain()
    net.call("alice", "token", "mint", "shop", 100)
    net.call("owner", "shop", "restock", "tree", 1)
    result = sandboxed(runner, net, "alice", "shop", function, *args, value=value)
    expected = net.call("alice", "shop", function, *args, value=value)
    assert (result.ok, result.gas_used, result.error) == (
        expected.ok,
        expected.gas_used,
        expected.error,
    )
    if expected.tree is None:
        assert result.writes == result.events == result.transfers == ()
        return
    assert result.value == expected.value
    assert result.writes == expected.tree.writes
    assert [(c, n, encode_value(f)) for c, n, f in result.events] == list(expected.tree.events)
    assert result.transfers == expected.tree.transfers
    assert runner.faults == 0


def test_a_child_may_read_only_contracts_in_its_call() -> None:
    session = _Session(Host(chain()), "shop", CompileCache())
    assert session.read({"t": "get", "contract": "shop", "key": b"k"}) is None
    with pytest.raises(WorkerFault, match="outside the call"):
        session.read({"t": "get", "contract": "token", "key": b"k"})
    assert session.load({"t": "load", "contract": "nowhere"}) == {"t": "code", "code": None}
    loaded = session.load({"t": "load", "contract": "token"})
    assert loaded["code"] is not None and loaded["size"] == len(TOKEN.encode())
    assert session.read({"t": "get", "contract": "token", "key": b"k"}) is None
    with pytest.raises(WorkerFault):
        session.load({"t": "load", "contract": 5})
