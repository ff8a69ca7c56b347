"""The calibration search's corpus (`bench/vm_worst.py`): contract patterns, each doing one
thing in a loop until out of gas, with the sizes to try and the context they run in.

Each pattern is a contract whose export `run(n)` builds its inputs from the size `n`, then
does one thing in a loop until out of gas (or once, for the encoding paths): a builtin, a
method with adversarial arguments, an operator on big ints, Decimals or sequences, a
comparison or hash of nested or aliased values, an encoding, a storage access, a call to
another contract, a recursion; a few the linter refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccoin.vm.api import CallContext, encode_value

CONTRACT = "Cworst"
CALLEE = "Ccallee"
CONTEXT = CallContext(
    sender="alice",
    contract=CONTRACT,
    height=1,
    timestamp=1_700_000_000,
    tx_id="00" * 32,
    value=0,
    balance=10**15,
)

# The contract `call_contract` patterns call.
CALLEE_SOURCE = """
@export
def take(x):
    return len(x)


@export
def noop():
    return 0


@export
def big(n):
    s = "x" * n
    return [s] * 1000
"""
EMPTY_SOURCE = "@export\ndef run(n):\n    return n\n"

# Storage as the bench serves it, by Map: `big` holds a 64 KiB string under every key,
# `lists` 60,000 empty lists (cheap bytes, many objects to decode), `small` the int 7;
# any other key is missing.
STORED = {
    b"m/big/": encode_value("x" * 65_000),
    b"m/lists/": encode_value([[]] * 60_000),
    b"m/small/": encode_value(7),
}

# Helpers several patterns share (contract source).
CHAIN = """
def chain(n, leaf):
    x = [leaf]
    for i in range(n):
        x = [x]
    return x
"""
TUPLE_CHAIN = """
def tuple_chain(n):
    t = ()
    for i in range(n):
        t = (t,)
    return t
"""
DAG = """
def dag(n, leaf):
    x = [leaf]
    for i in range(n):
        x = [x, x]
    return x


def tuple_dag(n):
    t = (1,)
    for i in range(n):
        t = (t, t)
    return t
"""
DEPTH = """
def down(k):
    if k == 0:
        return 0
    return down(k - 1)


def fail_at(k):
    if k == 0:
        raise ValueError("bottom")
    return fail_at(k - 1)
"""
SORT_AGAIN = """
def sort_again(v):
    y = [2, 1]
    y.sort(key=sort_again)
    return v


def sorted_again(v):
    sorted([2, 1], key=sorted_again)
    return v


def min_again(v):
    min([2, 1], key=min_again)
    return v


def negate(v):
    return -v
"""
STORAGE = """
big = Map(0)
lists = Map(0)
small = Map(0)
missing = Map(0)
written = Map(0)
value = Var(0)
"""
PERIODIC = '"a" * 49 + "b" + "a" * 49'  # a needle that matches half-way at every offset


@dataclass(frozen=True)
class Pattern:
    """One family: `setup` (statements, `n` is the size) then `loop` repeated until out of
    gas; without `loop` the setup is the whole call. `span` bounds the random sizes
    (default: the grid's smallest and largest)."""

    name: str
    setup: str
    loop: str = ""
    sizes: tuple[int, ...] = (1,)
    prelude: str = ""
    span: tuple[int, int] | None = None

    @property
    def source(self) -> str:
        body = _indent(self.setup, 1)
        if self.loop:
            body += "\n    while True:\n" + _indent(self.loop, 2)
        return f"{self.prelude}\n\n@export\ndef run(n):\n{body}\n"

    @property
    def bounds(self) -> tuple[int, int]:
        return self.span or (min(self.sizes), max(self.sizes))


def _indent(code: str, levels: int) -> str:
    pad = "    " * levels
    return "\n".join(pad + line for line in code.strip("\n").splitlines())


P = Pattern
SMALL_TO_BIG = (10, 1_000, 100_000)
BITS = (64, 100_000, 4_000_000)
ALIASED = (10, 100_000, 1_000_000)

BUILTINS: tuple[Pattern, ...] = (
    P("builtin_len", "x = list(range(n))", "len(x)", SMALL_TO_BIG),
    P("builtin_abs_bigint", "x = -(1 << n)", "abs(x)", BITS),
    P("builtin_min_list", "x = list(range(n))", "min(x)", SMALL_TO_BIG),
    P(
        "builtin_max_long_prefix_strs",
        'p = "a" * n\nx = [p + str(i % 10) for i in range(50)]',
        "max(x)",
        (10, 10_000, 200_000),
    ),
    P("builtin_sum_aliased_bigint", "x = [1 << n] * 1000", "sum(x)", (64, 6_400, 640_000)),
    P("builtin_sorted_ints", "x = list(range(n, 0, -1))", "sorted(x)", SMALL_TO_BIG),
    P(
        "builtin_sorted_long_prefix_strs",
        'p = "a" * n\nx = [p + str(i) for i in range(200, 0, -1)]',
        "sorted(x)",
        (10, 1_000, 20_000),
    ),
    P(
        "builtin_sorted_deep_pair",
        "a = chain(n, 1)\nb = chain(n, 2)",
        "sorted([b, a])",
        (10, 500, 5_000),
        CHAIN,
    ),
    P(
        "builtin_sorted_key_recursive",
        "sorted([2, 1], key=sorted_again)",
        prelude=SORT_AGAIN,
    ),
    P("builtin_min_key_recursive", "min([2, 1], key=min_again)", prelude=SORT_AGAIN),
    P(
        "builtin_sorted_key_function",
        "x = list(range(n))",
        "sorted(x, key=negate)",
        SMALL_TO_BIG,
        SORT_AGAIN,
    ),
    P("builtin_range_bigint_iter", "b = 1 << n", "for i in range(b, b + 1000):\n    pass", BITS),
    P("builtin_list_range_bigint", "b = 1 << n", "x = list(range(b, b + 1000))", BITS),
    P(
        "builtin_enumerate_bigint_start",
        "b = 1 << n\nx = [0] * 1000",
        "for i, v in enumerate(x, b):\n    pass",
        BITS,
    ),
    P(
        "builtin_zip_wide",
        "x = list(range(n))",
        "for t in zip(x, x, x, x, x, x, x, x):\n    pass",
        SMALL_TO_BIG,
    ),
    P("builtin_reversed", "x = list(range(n))", "y = list(reversed(x))", SMALL_TO_BIG),
    P("builtin_list_of_str", 's = "x" * n', "y = list(s)", SMALL_TO_BIG),
    P(
        "builtin_tuple_of_items",
        "d = dict(zip(range(n), range(n)))",
        "t = tuple(d.items())",
        SMALL_TO_BIG,
    ),
    P("builtin_dict_copy", "d = dict(zip(range(n), range(n)))", "e = dict(d)", SMALL_TO_BIG),
    P("builtin_str_of_int", "x = 10 ** (n - 1)", "s = str(x)", (100, 1_000, 4_300)),
    P("builtin_int_of_str", 's = "7" * n', "x = int(s)", (100, 1_000, 4_300)),
    P(
        "builtin_int_of_str_over_limit",
        's = "7" * n',
        "try:\n    x = int(s)\nexcept ValueError:\n    pass",
        (4_301, 5_000, 20_000),
    ),
    P("builtin_int_of_hex_str", 's = "f" * n', "x = int(s, 16)", (100, 1_000, 10_000)),
    P("builtin_str_of_bytes", 'b = b"\\x00" * n', "s = str(b)", SMALL_TO_BIG),
    P("builtin_bool", "x = list(range(n))", "bool(x)", (1, 1_000)),
    P(
        "builtin_isinstance_long_tuple",
        "kinds = (int,) * n",
        'isinstance("s", kinds)',
        (1, 1_000, 100_000),
    ),
    P("builtin_all_any", "x = [1] * n\ny = [0] * n", "all(x)\nany(y)", SMALL_TO_BIG),
    P("builtin_decimal_of_bigint", "d = Decimal(1 << n)", sizes=(20_000, 1_000_000, 40_000_000)),
    P("builtin_decimal_of_long_str", 's = "7" * n', "d = Decimal(s)", SMALL_TO_BIG),
    P(
        "builtin_int_of_big_decimal",
        'd = Decimal("9.999999999999999999999999999999999E+6144")',
        "x = int(d)",
    ),
)

TEXT: tuple[Pattern, ...] = (
    P("str_lower_upper", 's = "aB" * n', "s.lower()\ns.upper()", SMALL_TO_BIG),
    P("str_upper_expanding", 's = "\\ufb03" * n', "s.upper()", SMALL_TO_BIG),
    P("str_strip_chars", 's = "a" * n\nc = "b" * n + "a"', "s.strip(c)", SMALL_TO_BIG),
    P(
        "str_lstrip_rstrip_chars",
        's = "a" * n\nc = "b" * n + "a"',
        "s.lstrip(c)\ns.rstrip(c)",
        SMALL_TO_BIG,
    ),
    P(
        "str_startswith_aliased_tuple",
        's = "a" * n\np = "a" * (n // 2) + "b" + "a" * (n - n // 2 - 2)\nps = (p,) * 100000',
        "s.startswith(ps)",
        (10, 10_000, 800_000),
    ),
    P(
        "str_endswith_aliased_tuple",
        's = "a" * n\np = "a" * (n // 2) + "b" + "a" * (n - n // 2 - 2)\nps = (p,) * 100000',
        "s.endswith(ps)",
        (10, 10_000, 800_000),
    ),
    P("str_find_periodic", f'h = "a" * n\np = {PERIODIC}', "h.find(p)", (1_000, 29_999)),
    P("str_count_periodic", f'h = "a" * n\np = {PERIODIC}', "h.count(p)", (1_000, 29_999)),
    P(
        "str_replace_periodic",
        f'h = "a" * n\np = {PERIODIC}',
        'h.replace(p, "c")',
        (1_000, 29_999),
    ),
    P("in_str_periodic", f'h = "a" * n\np = {PERIODIC}', "p in h", (1_000, 29_999)),
    P(
        "str_find_long_needle",
        'h = "a" * n\np = "a" * (n // 2) + "b"',
        "h.find(p)",
        (1_000, 100_000, 1_000_000),
    ),
    P("str_is_methods", 's = "7" * n', "s.isdigit()\ns.isalpha()\ns.isalnum()", SMALL_TO_BIG),
    P("str_encode_astral", 's = "\\U0001f600" * n', "s.encode()", SMALL_TO_BIG),
    P("str_split_many", 's = "a " * n', "s.split()", SMALL_TO_BIG),
    P("str_split_sep", 's = "ab" * n', 's.split("b")', SMALL_TO_BIG),
    P(
        "str_join_aliased",
        'p = "x" * n\nparts = [p] * 1000',
        '",".join(parts)',
        (10, 1_000, 10_000),
    ),
    P(
        "str_join_long_sep",
        'sep = "x" * n\nparts = ["a"] * 1000',
        "sep.join(parts)",
        (10, 1_000, 10_000),
    ),
    P("str_replace_empty", 's = "a" * n', 's.replace("", "xyz")', SMALL_TO_BIG),
    P("str_concat_grow", 's = ""', 's = s + "x" * n', (1, 100, 10_000)),
    P("str_repeat", 'p = "xyz"', "s = p * n", SMALL_TO_BIG),
    P("str_slice_reverse", 's = "x" * n', "t = s[::-1]\nu = s[1:]", SMALL_TO_BIG),
    P("bytes_strip_chars", 's = b"a" * n\nc = b"b" * n + b"a"', "s.strip(c)", SMALL_TO_BIG),
    P(
        "bytes_lstrip_rstrip_chars",
        's = b"a" * n\nc = b"b" * n + b"a"',
        "s.lstrip(c)\ns.rstrip(c)",
        SMALL_TO_BIG,
    ),
    P(
        "bytes_find_count_periodic",
        'h = b"a" * n\np = b"a" * 49 + b"b" + b"a" * 49',
        "h.find(p)\nh.count(p)",
        (1_000, 29_999),
    ),
    P(
        "bytes_startswith_aliased_tuple",
        's = b"a" * n\np = b"a" * (n // 2) + b"b" + b"a" * (n - n // 2 - 2)\nps = (p,) * 100000',
        "s.startswith(ps)\ns.endswith(ps)",
        (10, 10_000, 800_000),
    ),
    P("bytes_hex_decode", 'b = b"\\xc3\\xa9" * n', "b.hex()\nb.decode()", SMALL_TO_BIG),
    P(
        "bytes_replace_join",
        'b = b"ab" * n\nparts = [b] * 100',
        'b.replace(b"a", b"xyz")\nb"-".join(parts)',
        (10, 1_000, 10_000),
    ),
)

CONTAINERS: tuple[Pattern, ...] = (
    P("list_append_pop", "x = []", "x.append(n)\nx.pop()", (1,)),
    P("list_pop_front", "x = list(range(n))", "x.pop(0)\nx.append(0)", SMALL_TO_BIG),
    P("list_insert_front", "x = list(range(n))", "x.insert(0, 1)\nx.pop()", SMALL_TO_BIG),
    P("list_del_front", "x = list(range(n))", "del x[0]\nx.append(0)", SMALL_TO_BIG),
    P(
        "list_count_deep_aliased",
        "a = chain(n, 1)\nb = chain(n, 2)\nx = [a] * 1000",
        "x.count(b)",
        (10, 100, 5_000),
        CHAIN,
    ),
    P(
        "list_index_remove_deep_aliased",
        "a = chain(n, 1)\nb = chain(n, 2)\nx = [a] * 1000",
        "try:\n    x.index(b)\nexcept ValueError:\n    pass\ntry:\n    x.remove(b)\n"
        "except ValueError:\n    pass",
        (10, 100, 5_000),
        CHAIN,
    ),
    P(
        "list_copy_reverse_clear",
        "x = list(range(n))",
        "y = x.copy()\ny.reverse()\ny.clear()",
        SMALL_TO_BIG,
    ),
    P("list_extend", "y = list(range(n))", "z = []\nz.extend(y)", SMALL_TO_BIG),
    P("list_sort_ints", "x = list(range(n, 0, -1))", "y = x.copy()\ny.sort()", SMALL_TO_BIG),
    P(
        "list_sort_key_function",
        "x = list(range(n))",
        "y = x.copy()\ny.sort(key=negate)",
        SMALL_TO_BIG,
        SORT_AGAIN,
    ),
    P("list_sort_key_recursive", "x = [2, 1]\nx.sort(key=sort_again)", prelude=SORT_AGAIN),
    P(
        "list_sort_deep_pair",
        "a = chain(n, 2)\nb = chain(n, 1)",
        "y = [a, b]\ny.sort()",
        (10, 500, 5_000),
        CHAIN,
    ),
    P("list_concat", "x = list(range(n))", "y = x + x", SMALL_TO_BIG),
    P("list_repeat", "x = [0, 1]", "y = x * n", SMALL_TO_BIG),
    P("list_slice_reverse", "x = list(range(n))", "y = x[::-1]\nz = x[1:]", SMALL_TO_BIG),
    P("list_nested_build", "x = []", "x = [x]"),
    P("list_comprehension_nested", "", "y = [[i] for i in range(n)]", SMALL_TO_BIG),
    P("tuple_nested_build", "t = ()", "t = (t,)"),
    P(
        "tuple_count_index_deep_aliased",
        "a = tuple(chain(n, 1))\nb = tuple(chain(n, 2))\nx = (a,) * 1000",
        "x.count(b)\ntry:\n    x.index(b)\nexcept ValueError:\n    pass",
        (10, 100, 5_000),
        CHAIN,
    ),
    P("tuple_concat_repeat", "x = tuple(range(n))", "y = x + x\nz = x * 3", SMALL_TO_BIG),
    P(
        "dict_get_pop_setdefault",
        "d = dict(zip(range(n), range(n)))",
        "d.get(-1)\nd.setdefault(-1, 0)\nd.pop(-1)",
        SMALL_TO_BIG,
    ),
    P(
        "dict_copy_update_clear",
        "d = dict(zip(range(n), range(n)))",
        "e = d.copy()\ne.update(d)\ne.clear()",
        SMALL_TO_BIG,
    ),
    P("dict_unpack_copy", "d = dict(zip(range(n), range(n)))", "e = {**d}", SMALL_TO_BIG),
    P(
        "dict_views_eq",
        "d = dict(zip(range(n), range(n)))\ne = dict(d)",
        "d.keys() == e.keys()\nd.items() == e.items()",
        SMALL_TO_BIG,
    ),
    P("in_dict_values", "d = dict(zip(range(n), range(n)))", "-1 in d.values()", SMALL_TO_BIG),
    P(
        "dict_iterate_views",
        "d = dict(zip(range(n), range(n)))",
        "for k, v in d.items():\n    pass",
        SMALL_TO_BIG,
    ),
    P("dict_comprehension", "", "y = {i: i for i in range(n)}", SMALL_TO_BIG),
    P("dict_nested_build", "x = {}", "x = {1: x}"),
)

NUMBERS: tuple[Pattern, ...] = (
    P("int_add_sub_bitwise", "a = 1 << n\nb = a - 1", "a + b\na - b\na & b\na | b\na ^ b", BITS),
    P("int_mul", "a = (1 << n) - 1", "a * a", (64, 10_000, 1_000_000)),
    P(
        "int_floordiv_mod",
        "a = (1 << (2 * n)) - 1\nb = (1 << n) - 1",
        "a // b\na % b",
        (64, 10_000, 500_000),
    ),
    P("int_pow", "", "3 ** n", (10, 1_000, 20_000)),
    P("int_pow_bigint_base", "b = (1 << n) - 1", "b ** 2", (64, 10_000, 1_000_000)),
    P("int_lshift", "", "1 << n", BITS),
    P("int_rshift", "a = 1 << n", "a >> 1", BITS),
    P("int_unary", "a = 1 << n", "-a\n~a\n+a", BITS),
    P("int_bit_length", "a = 1 << n", "a.bit_length()", BITS),
    P("int_to_bytes_keyword", "", "(7).to_bytes(length=n)", (1_000, 1_000_000, 1 << 40)),
    P("int_to_bytes_positional", "", '(7).to_bytes(n, "big")', (1_000, 1_000_000, 1 << 40)),
    P(
        "decimal_arith",
        'a = Decimal("1.234567890123456789012345678901234")\nb = Decimal("7.654321")',
        "c = a * b + a / b - a // b\ne = a % b\nf = a ** 3\ng = -a",
    ),
    P(
        "decimal_quantize_to_integral",
        'a = Decimal("1234.567890123456789")\nq = Decimal("1E-30")',
        "a.quantize(q)\na.to_integral()\nabs(a)",
    ),
    P("decimal_add_bigint", "a = Decimal(1)\nb = (1 << n) - 1", "a + b", (64, 20_000, 400_000)),
    P("decimal_cmp_bigint", "a = Decimal(1)\nb = 1 << n", "a < b\na == b", (64, 20_000, 400_000)),
    P(
        "decimal_pow_bigint_exponent",
        "a = Decimal(1)\ne = (1 << n) + 1",
        "a ** e",
        (64, 20_000, 400_000),
    ),
    P("decimal_str", 'a = Decimal("-1.234567890123456789012345678901234E-6000")', "str(a)"),
)

COMPARE_AND_HASH: tuple[Pattern, ...] = (
    P("cmp_int_big", "a = 1 << n\nb = a + 1", "a < b\na == b", BITS),
    P(
        "cmp_str_long_equal",
        'a = "x" * n\nb = "x" * (n - 1) + "x"',
        "a == b\na < b",
        (10, 100_000, 1_000_000),
    ),
    P("cmp_list_long", "a = list(range(n))\nb = list(range(n))", "a == b\na < b", SMALL_TO_BIG),
    P(
        "cmp_list_aliased_long_strs",
        'p = "x" * n\nq = "x" * (n - 1) + "x"\na = [p] * 1000\nb = [q] * 1000',
        "a == b",
        (10, 10_000, 1_000_000),
    ),
    P(
        "cmp_list_deep",
        "a = chain(n, 1)\nb = chain(n, 2)",
        "a == b\na < b",
        (10, 500, 5_000),
        CHAIN,
    ),
    P("cmp_list_dag", "a = dag(n, 1)\nb = dag(n, 1)", "a == b", (8, 16, 24), DAG, (4, 30)),
    P(
        "cmp_tuple_deep",
        "a = tuple_chain(n)\nb = tuple_chain(n)",
        "a == b",
        (10, 500, 5_000),
        TUPLE_CHAIN,
    ),
    P(
        "cmp_dict_deep_values",
        "a = {1: chain(n, 1)}\nb = {1: chain(n, 2)}",
        "a == b",
        (10, 500, 5_000),
        CHAIN,
    ),
    P("in_list_ints", "x = list(range(n))", "-1 in x", SMALL_TO_BIG),
    P(
        "in_list_deep_aliased",
        "a = chain(n, 1)\nb = chain(n, 2)\nx = [a] * 1000",
        "b in x",
        (10, 100, 5_000),
        CHAIN,
    ),
    P("in_range_bigint", "r = range(0, 1 << n, 3)\nv = (1 << n) - 1", "v in r", (10, 60, 10_000)),
    P(
        "hash_dict_get_deep_tuple",
        "t = tuple_chain(n)\nd = {}",
        "d.get(t)",
        (10, 1_000, 100_000),
        TUPLE_CHAIN,
        (10, 300_000),
    ),
    P(
        "hash_dict_store_deep_tuple",
        "t = tuple_chain(n)\nd = {}",
        "d[t] = 1",
        (10, 1_000, 100_000),
        TUPLE_CHAIN,
        (10, 300_000),
    ),
    P(
        "hash_dict_literal_deep_tuple",
        "t = tuple_chain(n)",
        "e = {t: 1}",
        (10, 1_000, 300_000),
        TUPLE_CHAIN,
    ),
    P(
        "hash_aliased_tuple_key",
        "inner = tuple(range(n))\nt = (inner,) * 1000\nd = {}",
        "d.get(t)\nt in d",
        (10, 1_000, 10_000),
    ),
    P("hash_tuple_dag_key", "t = tuple_dag(n)\nd = {}", "d.get(t)", (8, 16, 24), DAG, (4, 40)),
    P(
        "hash_long_str_keys",
        'p = "x" * n\nd = {}',
        'k = p + "y"\nd.get(k)',
        (10, 10_000, 1_000_000),
    ),
    P(
        "hash_catch_key_error",
        "t = tuple_chain(n)\nd = {}",
        "try:\n    d[t]\nexcept KeyError:\n    pass",
        (10, 1_000, 100_000),
        TUPLE_CHAIN,
    ),
)

ENCODING_AND_STORAGE: tuple[Pattern, ...] = (
    P("encode_return_aliased", 's = "x" * n\nreturn [s] * 1000', sizes=ALIASED),
    P("encode_emit_aliased", 's = "x" * n\nemit("E", v=[s] * 1000)', sizes=ALIASED),
    P(
        "encode_var_set_aliased",
        's = "x" * n\nvalue.set([s] * 1000)',
        sizes=ALIASED,
        prelude=STORAGE,
    ),
    P(
        "encode_map_set_aliased",
        's = "x" * n\nwritten[1] = [s] * 1000',
        sizes=ALIASED,
        prelude=STORAGE,
    ),
    P(
        "encode_map_key_aliased",
        's = "x" * n\nreturn written[(s,) * 1000]',
        sizes=ALIASED,
        prelude=STORAGE,
    ),
    P(
        "encode_call_arg_aliased",
        f's = "x" * n\nreturn call_contract("{CALLEE}", "take", [s] * 1000)',
        sizes=ALIASED,
    ),
    P(
        "encode_call_result_aliased",
        f'return len(call_contract("{CALLEE}", "big", n))',
        sizes=ALIASED,
    ),
    P("encode_require_message", 'require(False, "x" * n)', sizes=(10, 100_000, 5_000_000)),
    P("encode_raise_message", 'raise ContractError("x" * n)', sizes=(10, 100_000, 5_000_000)),
    P("encode_return_deep", "return chain(n, 1)", sizes=(10, 100, 5_000), prelude=CHAIN),
    P("encode_return_dag", "return dag(n, 1)", sizes=(8, 16, 30), prelude=DAG),
    P("encode_emit_dag", 'emit("E", v=dag(n, 1))', sizes=(8, 16, 30), prelude=DAG),
    P("encode_var_set_dag", "value.set(dag(n, 1))", sizes=(8, 16, 30), prelude=DAG + STORAGE),
    P(
        "encode_call_arg_dag",
        f'return call_contract("{CALLEE}", "take", dag(n, 1))',
        sizes=(8, 16, 30),
        prelude=DAG,
    ),
    P(
        "encode_map_key_dag",
        "return written[tuple_dag(n)]",
        sizes=(8, 16, 30),
        prelude=DAG + STORAGE,
    ),
    P("emit_small", "", 'emit("E", i=n)', (1,)),
    P("emit_64k", 's = "x" * 65000', 'emit("E", s=s)'),
    P("storage_write_same_64k", 's = "x" * 65000', "value.set(s)", prelude=STORAGE),
    P(
        "storage_write_distinct_64k",
        's = "x" * 65000\ni = 0',
        "written[i] = s\ni += 1",
        prelude=STORAGE,
    ),
    P("storage_write_distinct_small", "i = 0", "written[i] = i\ni += 1", prelude=STORAGE),
    P("storage_read_missing", "i = 0", "missing[i]\ni += 1", prelude=STORAGE),
    P("storage_read_64k", "i = 0", "big[i]\ni += 1", prelude=STORAGE),
    P("storage_read_64k_lists", "i = 0", "lists[i]\ni += 1", prelude=STORAGE),
    P("storage_read_same_key", "", "small[1]", prelude=STORAGE),
    P("storage_contains_missing", "i = 0", "i in missing\ni += 1", prelude=STORAGE),
    P("coins_send", "", 'coins.send("alice", 1)\ncoins.balance()'),
    P("ctx_attributes", "", "ctx.sender\nctx.height\nctx.value"),
    P("call_contract_noop", "", f'call_contract("{CALLEE}", "noop")'),
    P(
        "call_contract_missing",
        "",
        'try:\n    call_contract("Cnobody", "noop")\nexcept ContractError:\n    pass',
    ),
)

CONTROL: tuple[Pattern, ...] = (
    P("loop_pass", "", "pass"),
    P("loop_add", "x = 0", "x = x + 1"),
    P("recursion_to_depth_limit", "", "down(n)", (1, 50, 97), DEPTH),
    P("recursion_over_limit", "down(n)", sizes=(1_000_000,), prelude=DEPTH),
    P(
        "recursion_raise_catch",
        "",
        "try:\n    fail_at(n)\nexcept ValueError:\n    pass",
        (1, 50, 97),
        DEPTH,
    ),
    P("catch_zero_division", "", "try:\n    x = 1 // 0\nexcept ZeroDivisionError:\n    pass"),
)

# Each is refused by the linter: reported as refused, with the rule.
REFUSED: tuple[Pattern, ...] = (
    P("lint_fstring_pad", 'return f"{n:>100000000}"'),
    P("lint_format_pad", 'return "{:>100000000}".format(n)'),
    P("lint_lambda_key", "return sorted([2, 1], key=lambda v: -v)"),
    P("lint_generator", "return sum(i for i in range(n))"),
    P("lint_set_literal", "return len({1, 2, n})"),
    P("lint_star_args", "return max(*[2, 1])"),
    P("lint_slice_store", "x = [0] * n\nx[0:1] = [1]\nreturn 1"),
    P("lint_dunder", "return n.__class__"),
)

PATTERNS: tuple[Pattern, ...] = (
    BUILTINS
    + TEXT
    + CONTAINERS
    + NUMBERS
    + COMPARE_AND_HASH
    + ENCODING_AND_STORAGE
    + CONTROL
    + REFUSED
)
