"""What a contract value is, and how big it really is.

Contracts hold Python values: the scalars (None, bool, int, str, bytes, Decimal), the
containers (list, tuple, dict) and a few runtime objects (ranges, dict views, iterators,
functions, `ccoin.vm.api` objects, caught exceptions). Containers may share items, so a
list of a thousand references to one megabyte string is a gigabyte to encode or compare
although its length is a thousand. Everything that does native work over a whole value
(comparing, hashing, encoding, sorting) is charged by `deep_units`, which walks the value
as that work would (every path, shared items counted each time they are reached) with an
explicit stack and a nesting limit, before the work runs. A value nested deeper than
`MAX_VALUE_DEPTH`, or one that contains itself, is refused there, so no native recursion
(CPython's comparison, tuple hashing, msgpack) ever goes deeper than that.

Two bounds on scalars keep native work per item small and priced: ints have at most
`MAX_INT_BITS` bits (checked on every int a contract can make), and every Decimal lives in
the pinned `DECIMAL_CONTEXT` (at most 34 digits).

Pure: the standard library only.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from ccoin.vm.failures import Refusal, VmOverflowError, VmTypeError, VmValueError

# Pinned: IEEE decimal128-like precision and exponent range; every signal that would
# produce a non-finite or inexact-by-surprise value raises instead.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-6143,
    Emax=6144,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

MAX_INT_BITS = 2048
"""The largest int a contract can hold has this many bits (|x| < 2**2048). Bounds the cost
of every native int operation, including the exact int-to-Decimal conversion CPython does
when a Decimal meets an int in a comparison inside a container."""
MAX_DECIMAL_TEXT = 64
"""A Decimal's text (storage, arguments) is at most this long: 34 digits, sign, exponent."""
MAX_VALUE_DEPTH = 32
"""Containers nested deeper than this (or containing themselves) cannot be compared, hashed,
sorted or encoded."""
WORD_BITS = 64
BYTES_PER_WORD = 8

DICT_VIEWS: tuple[type, type, type] = (type({}.keys()), type({}.values()), type({}.items()))
_ITEMS_VIEW = DICT_VIEWS[2]
_CONTAINERS = frozenset({list, tuple, dict, *DICT_VIEWS})
KEY_SCALARS = frozenset({type(None), bool, int, str, bytes})
"""What a dict key may be made of: these and tuples of them. No Decimal: a Decimal key
would compare with int keys of the same hash by an exact conversion."""
KEY_INT_BITS = 60
"""An int in a dict key has at most this many bits. CPython hashes an int to itself modulo
2**61 - 1, so bigger ints can be made to share one hash, and a dict of k of them costs k**2
probes: below the modulus distinct ints hash apart."""


class WalkRefused(Refusal):
    """Mixin of the refusals a walk makes part way: `units` is the work it had done, which
    the caller charges before the refusal reaches the contract (`ccoin.vm.gas.charge_deep`),
    so a refused walk is never free work."""

    units = 0


class NestedTooDeep(WalkRefused, VmValueError):
    def __init__(self, units: int) -> None:
        super().__init__(f"value nested deeper than {MAX_VALUE_DEPTH} levels")
        self.units = units


class BadKeyType(WalkRefused, VmTypeError):
    def __init__(self, message: str, units: int) -> None:
        super().__init__(message)
        self.units = units


class BadKeyValue(WalkRefused, VmValueError):
    def __init__(self, message: str, units: int) -> None:
        super().__init__(message)
        self.units = units


def int_words(value: int) -> int:
    """Size of an int in 64-bit words; at least 1 so that 0 is not free."""
    return max(1, (value.bit_length() + WORD_BITS - 1) // WORD_BITS)


def byte_words(length: int) -> int:
    return max(1, (length + BYTES_PER_WORD - 1) // BYTES_PER_WORD)


def checked_int(value: int) -> int:
    """`value` if a contract may hold it, else `OverflowError` (deterministic)."""
    if value.bit_length() > MAX_INT_BITS:
        raise VmOverflowError(f"int of more than {MAX_INT_BITS} bits")
    return value


def checked_decimal(value: Decimal) -> Decimal:
    """`value` if it is finite and inside the pinned context (at most 34 digits, exponent
    in range), else `ValueError`."""
    if not value.is_finite():
        raise VmValueError("Decimal must be finite")
    if DECIMAL_CONTEXT.create_decimal(value) != value or len(value.as_tuple().digits) > 34:
        raise VmValueError("Decimal outside the pinned context (34 digits, exponent range)")
    return value


def scalar_units(value: object) -> int:
    """The size of a scalar (or of any non-container, as 1): words for ints, 8-byte words
    for text."""
    kind = type(value)
    if kind is int:
        return int_words(value)  # type: ignore[arg-type]
    if kind is str or kind is bytes:
        return byte_words(len(value))  # type: ignore[arg-type]
    if kind is Decimal:
        return 2  # at most 34 digits (every Decimal is in the pinned context)
    return 1


def deep_units(value: Any, limit: int) -> int:
    """The size of `value` as native work over all of it sees it: scalars by
    `scalar_units`, each container 1 plus its items (a dict: keys and values), every path
    counted. Stops early once past `limit` (returning more than `limit`), so the walk itself
    costs no more than the gas it is about to charge. `ValueError` when containers nest
    deeper than `MAX_VALUE_DEPTH` (a value that contains itself does)."""
    kind = type(value)
    if kind not in _CONTAINERS:
        return scalar_units(value)
    total = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    push = stack.append
    while stack:
        container, depth = stack.pop()
        kind = type(container)
        pairs = kind is dict or kind is _ITEMS_VIEW
        total += 1 + len(container) * (2 if pairs else 1)
        if total > limit:
            return total
        for item in container.items() if kind is dict else container:
            for part in item if pairs else (item,):
                part_kind = type(part)
                if part_kind is int:
                    total += ((part.bit_length() + 63) >> 6) or 1
                elif part_kind is str or part_kind is bytes:
                    total += ((len(part) + 7) >> 3) or 1
                elif part_kind in _CONTAINERS:
                    if depth >= MAX_VALUE_DEPTH:
                        raise NestedTooDeep(total)
                    push((part, depth + 1))
                elif part_kind is Decimal:
                    total += 2
                else:
                    total += 1
        if total > limit:
            return total
    return total


def key_units(key: Any, limit: int) -> int:
    """`deep_units` of a dict key, which must be None, bool, an int of at most
    `KEY_INT_BITS` bits, str, bytes or a tuple of those (`TypeError` / `ValueError`
    otherwise, before anything is hashed)."""
    kind = type(key)
    if kind in KEY_SCALARS:
        if kind is int and key.bit_length() > KEY_INT_BITS:
            raise VmValueError(f"an int in a dict key has at most {KEY_INT_BITS} bits")
        return scalar_units(key)
    if kind is not tuple:
        raise VmTypeError(f"a dict key cannot be a {kind.__name__}")
    units = deep_units(key, limit)
    if units > limit:
        return units  # refused for its gas before anything else is looked at
    stack = [key]
    while stack:
        for item in stack.pop():
            item_kind = type(item)
            if item_kind is tuple:
                stack.append(item)
            elif item_kind not in KEY_SCALARS:
                raise BadKeyType(f"a dict key cannot hold a {item_kind.__name__}", units)
            elif item_kind is int and item.bit_length() > KEY_INT_BITS:
                raise BadKeyValue(f"an int in a dict key has at most {KEY_INT_BITS} bits", units)
    return units


def is_container(value: object) -> bool:
    return type(value) in _CONTAINERS
