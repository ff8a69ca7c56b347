"""The contract language: every banned construct is reported with its position and rule."""

from __future__ import annotations

import pytest

from ccoin.vm import lint
from ccoin.vm.instrument import ContractRejected, compile_contract

TOKEN = '''
"""A fungible token."""
NAME = "Carbon"
DECIMALS = 8
balances = Map(0)
supply = Var(0)


@export
def mint(to: str, amount: int) -> None:
    require(amount > 0, "amount must be positive")
    balances[to] += amount
    supply.set(supply.get() + amount)


def helper(values):
    total = 0
    for i, v in enumerate(values):
        if v % 2 == 0 and i < 10:
            total += v
    return [x * 2 for x in values if x > total]
'''


def wrap(body: str) -> str:
    """A snippet inside a function, so only the snippet's own rule fires."""
    return "def f(a, b):\n" + "".join(f"    {line}\n" for line in body.splitlines())


# (source, rule, line, col)
CASES = [
    ("import os", "no-import", 1, 0),
    ("from os import path", "no-import", 1, 0),
    ("class A:\n    pass", "no-class", 1, 0),
    (wrap("return lambda: 1"), "no-lambda", 2, 11),
    (wrap("return list(x for x in a)"), "no-generator", 2, 15),
    (wrap("yield 1"), "no-yield", 2, 4),
    ("async def f():\n    pass", "no-async", 1, 0),
    (wrap("global a"), "no-global", 2, 4),
    (wrap("return {1, 2}"), "no-set", 2, 11),
    (wrap("return {x for x in a}"), "no-set", 2, 11),
    (wrap("return 1.5"), "no-float", 2, 11),
    (wrap("return 2j"), "no-float", 2, 11),
    (wrap("return f'{a}'"), "no-fstring", 2, 11),
    (wrap("return '{}'.format(a)"), "no-format", 2, 11),
    (wrap("return '{x}'.format_map(a)"), "no-format", 2, 11),
    (wrap("return eval('1')"), "banned-name", 2, 11),
    (wrap("return getattr(a, 'b')"), "banned-name", 2, 11),
    (wrap("return type(a)"), "banned-name", 2, 11),
    (wrap("return globals()"), "banned-name", 2, 11),
    (wrap("open('x')"), "banned-name", 2, 4),
    (wrap("return a.__class__"), "no-underscore-name", 2, 11),
    (wrap("_x = 1"), "no-underscore-name", 2, 4),
    (wrap("x_ = 1"), "no-underscore-name", 2, 4),
    (wrap("return __import__('os')"), "no-underscore-name", 2, 11),
    (wrap("try:\n    pass\nexcept:\n    pass"), "no-bare-except", 4, 4),
    (wrap("try:\n    pass\nexcept Exception:\n    pass"), "broad-except", 4, 11),
    (wrap("try:\n    pass\nexcept BaseException:\n    pass"), "broad-except", 4, 11),
    (wrap("try:\n    pass\nexcept (KeyError, RecursionError):\n    pass"), "broad-except", 4, 22),
    (wrap("try:\n    pass\nfinally:\n    pass"), "no-finally", 2, 4),
    (wrap("with a:\n    pass"), "no-with", 2, 4),
    (wrap("del a"), "no-del-name", 2, 8),
    (wrap("a.b = 1"), "no-attribute-store", 2, 4),
    (wrap("a[1:2] = b"), "no-slice-store", 2, 4),
    (wrap("assert a"), "no-assert", 2, 4),
    (wrap("return g(*a)"), "no-star-args", 2, 13),
    (wrap("return g(**a)"), "no-star-args", 2, 13),
    ("def f(*a):\n    pass", "no-star-args", 1, 0),
    (wrap("def g():\n    pass"), "nested-function", 2, 4),
    ("@staticmethod\ndef f():\n    pass", "bad-decorator", 1, 1),
    (wrap("return (x := 1)"), "no-walrus", 2, 12),
    (wrap("match a:\n    case 1:\n        pass"), "no-match", 2, 4),
    (wrap("return a @ b"), "node-not-allowed", 2, 11),
    (wrap("return ..."), "node-not-allowed", 2, 11),
    (wrap("x: int = 1"), "no-annotated-assign", 2, 4),
    (wrap("v = Var(0)"), "bad-declaration", 2, 8),
    ("x = g()", "top-level-statement", 1, 0),
    ("for i in range(3):\n    pass", "top-level-statement", 1, 0),
    ("m = Map(g())", "top-level-statement", 1, 0),
    ("def f(:\n    pass", "syntax-error", 1, 6),
]


@pytest.mark.parametrize(("source", "rule", "line", "col"), CASES)
def test_each_banned_construct_is_reported_with_its_position(
    source: str, rule: str, line: int, col: int
) -> None:
    violations = lint.check(source)
    assert (line, col, rule) in [(v.line, v.col, v.rule) for v in violations], violations


def test_a_token_contract_passes() -> None:
    assert lint.check(TOKEN) == []


def test_every_violation_is_reported_not_just_the_first() -> None:
    source = "import os\nclass A:\n    pass\nx = 1.5\ndef f():\n    return eval(_y)\n"
    rules = [(v.line, v.rule) for v in lint.check(source)]
    assert (1, "no-import") in rules
    assert (2, "no-class") in rules
    assert (4, "no-float") in rules
    assert (6, "banned-name") in rules
    assert (6, "no-underscore-name") in rules
    assert len(rules) >= 6


def test_violations_are_sorted_by_position() -> None:
    violations = lint.check("def f():\n    return eval(1.5)\nimport os\n")
    positions = [(v.line, v.col) for v in violations]
    assert positions == sorted(positions)


def test_source_size_limit() -> None:
    source = "x = 1\n" * (lint.MAX_SOURCE_BYTES // 6 + 1)
    assert [v.rule for v in lint.check(source)] == ["source-too-large"]


def test_node_count_limit() -> None:
    source = "X = [" + "1," * lint.MAX_NODES + "]\n"
    assert len(source) < lint.MAX_SOURCE_BYTES
    assert [v.rule for v in lint.check(source)] == ["too-many-nodes"]


def test_depth_limit() -> None:
    source = "def f(a):\n    return " + " + ".join(["a"] * (lint.MAX_DEPTH + 5)) + "\n"
    assert [v.rule for v in lint.check(source)] == ["too-deep"]


def test_compile_contract_raises_with_all_violations() -> None:
    with pytest.raises(ContractRejected) as raised:
        compile_contract("import os\nimport sys\n")
    assert [v.line for v in raised.value.violations] == [1, 2]


def test_runtime_names_are_exactly_what_the_runtime_provides() -> None:
    from ccoin.testing.vm import FakeApi
    from ccoin.vm.gas import Meter
    from ccoin.vm.runtime import build_namespace

    provided = {k for k in build_namespace(Meter(0), FakeApi()) if not k.startswith("__")}
    assert provided | lint.DECLARATIONS == lint.RUNTIME_NAMES


@pytest.mark.parametrize(
    ("source", "names"),
    [
        # `transfer` and `balance` are free (C moves through `coins`); `coins` is not.
        ("def transfer():\n    pass\n\n\ndef coins():\n    pass\n", ["coins"]),
        ("require = 1\nbalance = 2\n", ["require"]),
        ("ctx = 2\nemit = 3\nVar = 4\n", ["ctx", "emit", "Var"]),
    ],
)
def test_top_level_names_may_not_shadow_the_runtime(source: str, names: list[str]) -> None:
    found = lint.check(source)
    shadowing = [v for v in found if v.rule == "shadows-runtime"]
    assert [v.message.split("'")[1] for v in shadowing] == names
