"""Compiled, metered contracts run in the seccomp sandbox (`SandboxRunner.call`).

The token is the one the in-process gas tests use (`ccoin.testing.vm.TOKEN`); every gas
figure here must equal the in-process `execute` of the same call.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from ccoin.testing.vm import BOMBS, TOKEN, FakeApi, apply_writes, make_context
from ccoin.vm.api import decode_value, encode_value
from ccoin.vm.instrument import compile_contract, execute
from ccoin.vm.runner import CallResult, ContractCall, RootStorage, SandboxRunner

LIMIT = 200_000


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=5.0) as sandbox:
        yield sandbox


class Ledger:
    """The node's side in miniature: storage the runner reads, write sets applied on ok."""

    def __init__(self) -> None:
        self.storage: dict[bytes, bytes] = {}
        self.asked: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        self.asked.append(key)
        return self.storage.get(key)

    def call(
        self, runner: SandboxRunner, function: str, *args: Any, sender: str = "alice"
    ) -> CallResult:
        call = ContractCall(TOKEN, function, args, LIMIT, make_context(sender=sender))
        result = runner.call(call, RootStorage(self.get))
        if result.ok:
            apply_writes(self.storage, result.writes_of("token"))
        return result

    def balance(self, holder: str) -> Any:
        data = self.storage.get(b"m/balances/" + encode_value(holder))
        return 0 if data is None else decode_value(data)


def in_process(source: str, function: str, args: list[Any], limit: int = LIMIT) -> Any:
    return execute(compile_contract(source), function, args, FakeApi(), limit)


def test_transfers_change_balances_through_the_write_set(runner: SandboxRunner) -> None:
    ledger = Ledger()
    minted = ledger.call(runner, "mint", "alice", 1000)
    assert minted.ok and minted.error is None
    assert minted.events == (("token", "Mint", {"to": "alice", "amount": 1000}),)
    sent = ledger.call(runner, "transfer", "bob", 250)
    assert sent.ok and sent.value == 250
    assert [key for _, key, _ in sent.writes] == sorted(key for _, key, _ in sent.writes)
    assert (ledger.balance("alice"), ledger.balance("bob")) == (750, 250)
    assert sent.events == (("token", "Transfer", {"sender": "alice", "to": "bob", "amount": 250}),)
    refused = ledger.call(runner, "transfer", "carol", 10**6)
    assert not refused.ok and refused.error == "ContractError: insufficient balance"
    assert ledger.call(runner, "total").value == 1000


def test_a_storage_read_crosses_the_pipe_once_per_key(runner: SandboxRunner) -> None:
    ledger = Ledger()
    ledger.call(runner, "mint", "alice", 10)
    ledger.asked.clear()
    assert ledger.call(runner, "transfer", "bob", 3).ok
    alice, bob = (b"m/balances/" + encode_value(name) for name in ("alice", "bob"))
    assert ledger.asked == [alice, bob]  # later reads come from the child's cache or writes


def test_write_then_raise_is_an_error_with_gas_and_no_writes(runner: SandboxRunner) -> None:
    result = Ledger().call(runner, "fail_after_write", "bob")
    assert not result.ok and result.error == "ContractError: no"
    assert result.writes == () and result.events == ()
    assert result.gas_used == in_process(TOKEN, "fail_after_write", ["bob"]).gas_used > 0


@pytest.mark.parametrize(("function", "error"), [("power", "OverflowError"), ("spin", "OutOfGas")])
def test_bombs_run_out_of_gas_with_the_in_process_figure(
    runner: SandboxRunner, function: str, error: str
) -> None:
    call = ContractCall(BOMBS, function, (), 50_000, make_context())
    first, second = runner.call(call), runner.call(call)
    assert first == second
    assert not first.ok and first.error is not None and first.error.startswith(error)
    expected = in_process(BOMBS, function, [], 50_000)
    assert (first.error, first.gas_used) == (expected.error, expected.gas_used)


@pytest.mark.parametrize(
    ("source", "function", "args", "error"),
    [
        ("import os\n", "f", (), "ContractRejected: 1:0: no-import"),
        (TOKEN, "nothing", (), "UnknownFunction"),
        ("@export\ndef f():\n    return f\n", "f", (), "TypeError"),
        ("@export\ndef f(n):\n    return f(n)\n", "f", (0,), "CallDepthExceeded"),
    ],
)
def test_contract_failures_are_results(
    runner: SandboxRunner, source: str, function: str, args: tuple[Any, ...], error: str
) -> None:
    result = runner.call(ContractCall(source, function, args, LIMIT, make_context()))
    assert not result.ok and result.error is not None and result.error.startswith(error)
    assert result.writes == ()
    if not error.startswith("ContractRejected"):
        assert result.gas_used == in_process(source, function, list(args)).gas_used
    else:
        assert result.gas_used == 0
    assert runner.faults == 0


def test_values_beyond_msgpack_cross_both_ways(runner: SandboxRunner) -> None:
    source = "@export\ndef f(x, n):\n    return [x * 2, n * n, ctx.tx_id, ctx.height]\n"
    call = ContractCall(source, "f", (Decimal("1.25"), 2**100), LIMIT, make_context(height=7))
    result = runner.call(call)
    assert result.ok
    assert result.value == [Decimal("2.50"), 2**200, "00" * 32, 7]


def test_the_same_calls_under_two_runners_are_identical(runner: SandboxRunner) -> None:
    def session(sandbox: SandboxRunner) -> list[Any]:
        ledger = Ledger()
        out: list[Any] = [
            ledger.call(sandbox, "mint", "alice", 10**30),
            ledger.call(sandbox, "transfer", "bob", 12345),
            ledger.call(sandbox, "transfer", "carol", 1, sender="bob"),
            ledger.call(sandbox, "fail_after_write", "dave"),
            ledger.call(sandbox, "transfer", "x", 10**40, sender="carol"),
        ]
        return [out, sorted(ledger.storage.items())]

    with SandboxRunner(timeout=5.0) as other:
        assert session(runner) == session(other)


PAYOUT = """
@export
def pay(to, amount):
    before = coins.balance()
    coins.send(to, amount)
    return [ctx.value, before, coins.balance()]
"""


def test_value_and_balance_reach_the_contract_and_bound_its_transfers(
    runner: SandboxRunner,
) -> None:
    def call(amount: int) -> CallResult:
        ctx = make_context(value=30, balance=100)
        return runner.call(ContractCall(PAYOUT, "pay", ("bob", amount), LIMIT, ctx))

    paid = call(60)
    assert paid.ok and paid.value == [30, 100, 40]
    assert paid.transfers == (("token", "bob", 60),)
    refused = call(101)
    assert not refused.ok and refused.transfers == ()
    assert refused.error == "ContractError: transfer of 101: the contract holds 100"
    # The in-process fake refuses the same way and charges the same gas.
    for amount, outcome in ((60, paid), (101, refused)):
        fake = FakeApi(make_context(value=30, balance=100))
        local = execute(compile_contract(PAYOUT), "pay", ["bob", amount], fake, LIMIT)
        assert (local.ok, local.gas_used, local.error) == (
            outcome.ok,
            outcome.gas_used,
            outcome.error,
        )
