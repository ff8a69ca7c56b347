"""Deterministic gas: the meter, the cost functions, and contracts run in-process."""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ccoin.testing.vm import BOMBS, TOKEN, FakeApi, make_context
from ccoin.vm import gas
from ccoin.vm.gas import GAS_SCHEDULE_V2, Meter, OutOfGas, VmAbort
from ccoin.vm.instrument import CallOutcome, compile_contract, execute
from ccoin.vm.runtime import MAX_CALL_DEPTH

LIMIT = 200_000


def run(
    source: str, function: str, args: list[Any] | None = None, limit: int = LIMIT, **kw: Any
) -> CallOutcome:
    return execute(compile_contract(source), function, args or [], FakeApi(**kw), limit)


# --- the meter and the schedule ----------------------------------------------------


def test_meter_refuses_before_passing_the_limit() -> None:
    meter = Meter(10)
    meter.charge(7)
    with pytest.raises(OutOfGas) as raised:
        meter.charge(4)
    assert meter.used == 7  # the refused charge is not recorded
    assert raised.value.needed == 4
    meter.charge(3)
    assert meter.remaining == 0


def test_out_of_gas_is_not_an_exception() -> None:
    assert issubclass(OutOfGas, VmAbort)
    assert not issubclass(OutOfGas, Exception)


def test_schedule_is_frozen_and_versioned() -> None:
    assert gas.SCHEDULES[gas.SCHEDULE_VERSION] is GAS_SCHEDULE_V2
    with pytest.raises(TypeError):
        GAS_SCHEDULE_V2["statement"] = 0  # type: ignore[index]


def test_cost_functions_grow_with_size() -> None:
    s = GAS_SCHEDULE_V2
    assert gas.add_cost(s, 2**640, 1) > gas.add_cost(s, 2**64, 1)
    assert gas.mul_cost(s, 2**640 - 1, 2**640 - 1) == s["arith"] + 100 * s["mul_per_word_pair"]
    assert gas.pow_cost(s, 10, 10**7) > 10**11
    assert gas.repeat_cost(s, 1, 10**9, text=False) > 10**9
    assert gas.repeat_cost(s, 1, 800, text=True) == s["builtin"] + 100
    assert gas.sort_cost(s, 1024) == s["builtin"] + s["sort_per_comparison"] * 1024 * 10
    key, value = b"k" * 10, b"v" * 90
    assert gas.storage_write_cost(s, key, value) == s["storage_write"] + 100 * 10
    assert gas.storage_read_cost(s, key, None) == s["storage_read"] + 10


# --- a contract under the meter ----------------------------------------------------


def test_token_contract_runs_and_charges() -> None:
    contract = compile_contract(TOKEN)
    assert contract.exports == ("mint", "transfer", "total", "fail_after_write")
    api = FakeApi()
    minted = execute(contract, "mint", ["alice", 100], api, LIMIT)
    moved = execute(contract, "transfer", ["bob", 30], api, LIMIT)
    total = execute(contract, "total", [], api, LIMIT)
    assert minted.ok and moved.ok and total.ok
    assert moved.value == 30 and total.value == 100
    assert 0 < minted.gas_used < LIMIT
    assert api.events[-1] == ("Transfer", {"sender": "alice", "to": "bob", "amount": 30})
    refused = execute(contract, "transfer", ["bob", 1000], api, LIMIT)
    assert refused.error == "ContractError: insufficient balance"


def test_same_calls_give_same_gas_and_results() -> None:
    def session() -> list[tuple[bool, Any, int]]:
        contract, api = compile_contract(TOKEN), FakeApi()
        calls = [("mint", ["alice", 10**30]), ("transfer", ["bob", 7]), ("total", [])]
        out = [execute(contract, f, a, api, LIMIT) for f, a in calls]
        return [(o.ok, o.value, o.gas_used) for o in out]

    assert session() == session()


def test_storage_gas_depends_on_value_size() -> None:
    small = run(TOKEN, "mint", ["alice", 1])
    big = run(TOKEN, "mint", ["alice", 2**1000])
    assert big.gas_used > small.gas_used


def test_out_of_gas_mid_call_reports_the_limit() -> None:
    contract = compile_contract(TOKEN)
    outcome = execute(contract, "mint", ["alice", 100], FakeApi(), 900)
    assert not outcome.ok and outcome.error is not None and outcome.error.startswith("OutOfGas")
    assert outcome.gas_used <= 900


# --- resource bombs: each ends deterministically, fast, without the allocation ------


@pytest.mark.parametrize(
    ("function", "error"),
    [
        ("power", "OverflowError"),  # refused from the estimated size, before any work
        ("spin", "OutOfGas"),
        ("recurse", "CallDepthExceeded"),
        ("list_bomb", "OutOfGas"),
        ("text_bomb", "OutOfGas"),
        ("grow", "OutOfGas"),
        ("doubling", "OutOfGas"),
        ("shift_bomb", "OverflowError"),
        ("materialize", "OutOfGas"),
        ("catch_out_of_gas", "OutOfGas"),
    ],
)
def test_resource_bomb_stops_with_the_same_gas_every_run(function: str, error: str) -> None:
    tracemalloc.start()
    try:
        first = run(BOMBS, function, limit=50_000)
        second = run(BOMBS, function, limit=50_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not first.ok and first.error is not None
    assert first.error.split(":")[0] == error
    assert (first.error, first.gas_used) == (second.error, second.gas_used)
    assert peak < 64 * 1024 * 1024  # the huge value was never built


def test_recursion_bound_is_the_counter_not_the_c_stack() -> None:
    source = "def down(n):\n    return down(n + 1)\n\n@export\ndef go():\n    return down(0)\n"
    limit = sys.getrecursionlimit()
    try:
        outcomes = []
        for recursion_limit in (limit, limit * 4):
            sys.setrecursionlimit(recursion_limit)
            outcomes.append(run(source, "go"))
    finally:
        sys.setrecursionlimit(limit)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0].error == f"CallDepthExceeded: call depth over {MAX_CALL_DEPTH}"


# --- what the runtime refuses ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("return 1 / 2", "TypeError"),
        ("return 2 ** -1", "TypeError"),
        ("return '%999999999d' % 1", "TypeError"),
        ("return 'x'.zfill(10 ** 9)", "AttributeError"),
        ("return (1).real", "AttributeError"),
        ("return str([1, 2])", "TypeError"),
        ("return {}.fromkeys(range(10))", "AttributeError"),
        ("return len(ctx)", "TypeError"),
        ("return {'a': 1}.keys() | {'b': 2}.keys()", "TypeError"),
    ],
)
def test_runtime_refusals(body: str, error: str) -> None:
    outcome = run(
        f"@export\ndef go():\n    return ctx.sender\n\n@export\ndef bad():\n    {body}\n", "bad"
    )
    assert outcome.error is not None and outcome.error.split(":")[0] == error


def test_allowed_methods_work() -> None:
    body = "[ctx.sender.upper(), ','.join(['a', 'b']), (5).to_bytes(2, 'big')]"
    source = f"@export\ndef go():\n    return {body}\n"
    assert run(source, "go").value == ["ALICE", "a,b", b"\x00\x05"]


def test_decimal_uses_the_pinned_context_whatever_the_thread_context() -> None:
    source = "@export\ndef go():\n    return str(Decimal(1) / Decimal(3))\n"
    with decimal.localcontext(decimal.Context(prec=5)):
        outcome = run(source, "go")
    assert outcome.value == "0." + "3" * 34


def test_decimal_arguments_and_mixed_arithmetic() -> None:
    source = "@export\ndef go(x):\n    return (x * 3 + 1).quantize(Decimal('0.01'))\n"
    assert run(source, "go", [Decimal("1.005")]).value == Decimal("4.02")


def test_float_arguments_are_refused() -> None:
    outcome = run(TOKEN, "mint", ["alice", 1.5])
    assert outcome.error is not None and outcome.error.startswith("ContractError")


def test_a_call_that_raises_keeps_its_writes_out_of_the_result() -> None:
    # The fake applies writes directly; the runner applies the write set only on success.
    outcome = run(TOKEN, "fail_after_write", ["bob"])
    assert outcome.error == "ContractError: no"


# --- the same under different hash seeds -------------------------------------------

SEED_SCRIPT = """
import json, sys
from ccoin.testing.vm import FakeApi
from ccoin.vm.instrument import compile_contract, execute
source = sys.stdin.read()
contract = compile_contract(source)
api = FakeApi()
out = []
for name, args in [("mint", ["alice", 10**40]), ("transfer", ["bob", 12345]),
                   ("words", []), ("power", []), ("recurse", [])]:
    o = execute(contract, name, args, api, 200000)
    out.append([o.ok, repr(o.value), o.error, o.gas_used])
out.append(sorted([k.hex(), v.hex()] for k, v in api.storage.items()))
print(json.dumps(out))
"""

WORDS = """
@export
def words():
    counts = {}
    for word in "the quick brown fox jumps over the lazy dog the end".split():
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=second) + list(counts.keys())


def second(pair):
    return pair[1]
"""


def test_same_gas_and_results_under_different_hash_seeds() -> None:
    root = Path(__file__).resolve().parents[3]
    source = TOKEN + WORDS + BOMBS
    results = []
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", SEED_SCRIPT],
            input=source,
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        results.append(json.loads(done.stdout))
    assert results[0] == results[1]
    assert results[0][0][0] is True and results[0][3][2].startswith("OverflowError")


def test_context_reaches_the_contract() -> None:
    source = "@export\ndef go():\n    return [ctx.sender, ctx.height, ctx.contract]\n"
    outcome = run(source, "go", context=make_context(sender="carol", height=9))
    assert outcome.value == ["carol", 9, "token"]
