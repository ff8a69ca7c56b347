"""Hostile contracts with the exact outcome each must have: the adversarial suite's corpus.

Each `Case` is a contract (restricted Python), the export to call and what must happen:
refused at deploy by a lint rule, or a failed receipt whose error starts with a given text
(the fee paid, nothing applied). The first thirty are the shapes that stopped a node or
split receipts before issue 11 (its families 1-3); the rest cover static escapes, resource
bombs, metering gaps, aliasing and native recursion more widely. The corpus is shared by
the unit suite (`tests/unit/vm/test_adversarial.py`, through the real sandbox) and the
multi-node tests, so every place checks the same outcomes. Each runs as the contract at
`HOST_ADDRESS` (it may call itself) holding `BALANCE` base units.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccoin.vm.gas import CALL_GAS_CAP

BALANCE = 10**9


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    function: str = "f"
    rule: str | None = None  # refused at deploy with this lint rule
    error: str | None = None  # else: a failed receipt whose error starts with this
    gas_limit: int = CALL_GAS_CAP

    def __post_init__(self) -> None:
        if (self.rule is None) == (self.error is None):
            raise ValueError(f"{self.name}: a case is either refused or fails, not both")


def _f(body: str) -> str:
    """An exported `f()` with `body` (indented by the caller with 4 spaces)."""
    return "@export\ndef f():\n" + body


ALIASED = "    big = 'x' * 1_000_000\n    many = [big] * 1000\n"
DEEP_TUPLE = "    t = ()\n    for i in range(300_000):\n        t = (t,)\n"
DEEP_LIST = "    x = []\n    for i in range(5000):\n        x = [x]\n"
NESTED_SORT = """
def key(item):
    inner = [3, 2, 1]
    inner.sort(key=key)
    return item


@export
def f():
    items = [2, 1]
    items.sort(key=key)
    return items
"""

# The thirty shapes of issue 11 (families 1 to 3), in its order.
ISSUE_SHAPES: tuple[Case, ...] = (
    Case("to_bytes_keyword", _f("    return len((0).to_bytes(length=2**40))\n"), error="OutOfGas"),
    Case(
        "to_bytes_positional", _f("    return len((0).to_bytes(2**40, 'big'))\n"), error="OutOfGas"
    ),
    Case(
        "strip_chars_product",
        _f("    s = 'a' * 200_000\n    c = 'b' * 20_000 + 'a'\n    return len(s.strip(c))\n"),
        error="OutOfGas",
    ),
    Case(
        "decimal_of_huge_int",
        _f("    return str(Decimal(1 << 40_000_000))\n"),
        error="OverflowError: int result of more than 2048 bits (line 3)",
    ),
    Case(
        "decimal_compares_huge_int",
        _f("    return Decimal(1) == (1 << 1_600_000)\n"),
        error="OverflowError: int result of more than 2048 bits (line 3)",
    ),
    Case(
        "del_head_in_a_loop",
        _f("    x = [0] * 200_000\n    while x:\n        del x[0]\n"),
        error="OutOfGas",
    ),
    Case(
        "aliased_tuple_key",
        _f("    t = ()\n    for i in range(30):\n        t = (t, t)\n    d = {t: 1}\n"),
        error="OutOfGas",
    ),
    Case(
        "dict_views_equal",
        _f(
            "    d = dict(zip(range(60_000), range(60_000)))\n    while True:\n"
            "        d.keys() == d.items()\n"
        ),
        error="OutOfGas",
    ),
    Case("dict_unpacking", _f("    d = {1: 2}\n    return {**d}\n"), rule="no-star-args"),
    Case("aliased_return", _f(ALIASED + "    return many\n"), error="OutOfGas"),
    Case("aliased_emit", _f(ALIASED + "    emit('E', v=many)\n"), error="OutOfGas"),
    Case("aliased_var_set", "v = Var(0)\n" + _f(ALIASED + "    v.set(many)\n"), error="OutOfGas"),
    Case(
        "aliased_call_argument",
        _f(ALIASED + "    call_contract(ctx.contract, 'f', many)\n"),
        error="OutOfGas",
    ),
    Case(
        "aliased_map_key",
        "m = Map(0)\n" + _f(ALIASED + "    m[tuple(many)] = 1\n"),
        error="OutOfGas",
    ),
    Case("sort_key_sorts_again", NESTED_SORT, error="CallDepthExceeded"),
    Case(
        "deep_list_equal",
        _f(DEEP_LIST + "    return x == x[0]\n"),
        error="ValueError: value nested deeper than 32 levels (line 6)",
    ),
    Case(
        "deep_tuple_key",
        _f(DEEP_TUPLE + "    d = {t: 1}\n"),
        error="ValueError: value nested deeper than 32 levels (line 6)",
    ),
    Case(
        "deep_tuple_key_in_init",
        DEEP_TUPLE.replace("    ", "    ", 1).join(["@export\ndef init():\n", "    d = {t: 1}\n"]),
        function="init",
        error="ValueError: value nested deeper than 32 levels (line 6)",
    ),
    Case(
        "huge_require_message",
        _f("    require(False, 'm' * 5_000_000)\n"),
        error="ContractError: " + "m" * 1009,
    ),
    Case(
        "huge_error_message",
        _f("    raise ValueError('m' * 5_000_000)\n"),
        error="ValueError: " + "m" * 1012,
    ),
    Case(
        "deep_list_in_sort",
        _f(DEEP_LIST + "    return sorted([x, x])\n"),
        error="ValueError: value nested deeper than 32 levels (line 6)",
    ),
    # family 2: receipts that named a function's memory address
    Case(
        "require_message_function",
        _f("    require(False, len)\n"),
        error="TypeError: require() message must be a str (line 3)",
    ),
    Case(
        "isinstance_function",
        _f("    return isinstance(1, len)\n"),
        error="TypeError: isinstance() takes list, tuple, dict, str, int, bool or Decimal",
    ),
    Case(
        "index_of_function",
        _f("    return [1].index(require)\n"),
        error="ValueError: invalid value (line 3)",
    ),
    Case("raise_with_function", _f("    raise ValueError(len)\n"), error="ValueError"),
    Case(
        "function_as_key",
        _f("    return {len: 1}\n"),
        error="TypeError: a dict key cannot be a function (line 3)",
    ),
    # family 3: results the node could not report
    Case(
        "big_int_key",
        _f("    return {1 << 100: 1}\n"),
        error="ValueError: an int in a dict key has at most 60 bits (line 3)",
    ),
    Case(
        "huge_int_key",
        _f("    return {1 << 20000: 1}\n"),
        error="OverflowError: int result of more than 2048 bits (line 3)",
    ),
    Case(
        "missing_key_is_not_echoed",
        _f("    d = {}\n    return d['k' * 100_000]\n"),
        error="KeyError: key not found (line 4)",
    ),
    Case("unstorable_return", _f("    return len\n"), error="TypeError: function cannot be stored"),
)

MORE: tuple[Case, ...] = (
    # static escapes
    Case("import", "import os\n" + _f("    return 1\n"), rule="no-import"),
    Case("dunder", _f("    return ().__class__\n"), rule="no-underscore-name"),
    Case("getattr", _f("    return getattr(1, 'real')\n"), rule="banned-name"),
    Case("fstring_width", _f("    return f'{1:>999999999}'\n"), rule="no-fstring"),
    Case("format_method", _f("    return '{:>9}'.format(1)\n"), rule="no-format"),
    Case("lambda", _f("    g = lambda: 1\n    return g()\n"), rule="no-lambda"),
    Case("walrus", _f("    return (y := 1)\n"), rule="no-walrus"),
    Case("huge_int_literal", _f("    return " + hex(1 << 3000) + "\n"), rule="int-too-large"),
    Case(
        "subscript_loop_target",
        _f("    x = [0]\n    for x[0] in range(3):\n        pass\n"),
        rule="bad-target",
    ),
    Case("subscript_in_unpacking", _f("    x = [0, 0]\n    x[0], y = 1, 2\n"), rule="bad-target"),
    Case("star_call", _f("    a = [1]\n    return len(*a)\n"), rule="no-star-args"),
    Case("class", "class A:\n    pass\n", rule="no-class"),
    # resource bombs
    Case(
        "power_bomb",
        _f("    return 10 ** 10 ** 7\n"),
        error="OverflowError: int result of more than 2048 bits (line 3)",
    ),
    Case(
        "shift_bomb",
        _f("    return 1 << 10 ** 12\n"),
        error="OverflowError: int result of more than 2048 bits (line 3)",
    ),
    Case(
        "multiply_bomb",
        _f("    x = 1 << 2000\n    return x * x\n"),
        error="OverflowError: int result of more than 2048 bits (line 4)",
    ),
    Case("list_repeat_bomb", _f("    return len([0] * 10 ** 9)\n"), error="OutOfGas"),
    Case("text_repeat_bomb", _f("    return len('x' * 10 ** 9)\n"), error="OutOfGas"),
    Case("spin", _f("    while True:\n        pass\n"), error="OutOfGas"),
    Case(
        "recursion",
        "def g(n):\n    return g(n + 1)\n\n\n" + _f("    return g(0)\n"),
        error="CallDepthExceeded",
    ),
    Case("materialize_range", _f("    return len(list(range(10 ** 12)))\n"), error="OutOfGas"),
    Case(
        "int_from_long_text",
        _f("    return int('1' * 5000)\n"),
        error="ValueError: int() of a str longer than 1024 (line 3)",
    ),
    Case(
        "int_of_huge_decimal",
        _f("    return int(Decimal('1e6000'))\n"),
        error="OverflowError: int() of a Decimal of more than 2048 bits (line 3)",
    ),
    Case(
        "transfers_of_long_recipients",
        _f("    to = 'C' * 1_000_000\n    while True:\n        coins.send(to, 1)\n"),
        error="OutOfGas",
    ),
    # metering gaps and aliasing
    Case(
        "long_needle_search",
        _f("    s = 'a' * 2400\n    n = 'a' * 2399 + 'b'\n    while True:\n        s.find(n)\n"),
        error="OutOfGas",
    ),
    Case(
        "replace_growth",
        _f("    s = 'a' * 100_000\n    while True:\n        s.replace('', 'bbbb')\n"),
        error="OutOfGas",
    ),
    Case(
        "in_range_non_int",
        _f("    return Decimal(1) in range(10 ** 18)\n"),
        error="TypeError: 'in <range>' needs an int (line 3)",
    ),
    Case(
        "in_iterator",
        _f("    return 5 in zip(range(10 ** 9))\n"),
        error="TypeError: 'in' is not supported for zip (line 3)",
    ),
    Case("aliased_compare", _f(ALIASED + "    return many == list(many)\n"), error="OutOfGas"),
    Case("aliased_sort", _f(ALIASED + "    return len(sorted(many))\n"), error="OutOfGas"),
    Case("aliased_in", _f(ALIASED + "    return 'y' in many\n"), error="OutOfGas"),
    Case("aliased_count", _f(ALIASED + "    return many.count('y')\n"), error="OutOfGas"),
    Case(
        "exponential_dag_return",
        _f("    t = [1]\n    for i in range(30):\n        t = [t, t]\n    return t\n"),
        error="OutOfGas",
    ),
    Case(
        "colliding_int_keys",
        _f("    d = {}\n    for i in range(10_000):\n        d[1 + i * (2 ** 61 - 1)] = i\n"),
        error="ValueError: an int in a dict key has at most 60 bits (line 5)",
    ),
    Case(
        "decimal_key",
        _f("    return {Decimal(1): 1}\n"),
        error="TypeError: a dict key cannot be a Decimal (line 3)",
    ),
    Case(
        "self_containing_list",
        _f("    x = []\n    x.append(x)\n    return x == x[0]\n"),
        error="ValueError: value nested deeper than 32 levels (line 5)",
    ),
    Case(
        "self_containing_return",
        _f("    x = []\n    x.append(x)\n    return x\n"),
        error="ValueError: value nested deeper than 32 levels",
    ),
    Case(
        "max_key_recursion",
        "def k(x):\n    return max([1, 2], key=k)\n\n\n" + _f("    return max([1, 2], key=k)\n"),
        error="CallDepthExceeded",
    ),
    Case(
        "sort_key_mutates",
        """ITEMS = [3, 1, 2]


def k(x):
    ITEMS.append(x)
    return x


@export
def f():
    ITEMS.sort(key=k)
""",
        error="ValueError: list modified during sort (line 11)",
    ),
    Case(
        "unknown_method_keyword",
        _f("    return 'abc'.find('b', foo=1)\n"),
        error="TypeError: str.find() takes no argument 'foo' (line 3)",
    ),
    Case(
        "other_encoding",
        _f("    return 'abc'.encode('utf-16')\n"),
        error="ValueError: only utf-8 is available (line 3)",
    ),
    Case(
        "callee_address_too_long",
        _f("    return call_contract('C' * 100, 'f')\n"),
        error="ContractError: no such contract or function",
    ),
)

ALL: tuple[Case, ...] = ISSUE_SHAPES + MORE
