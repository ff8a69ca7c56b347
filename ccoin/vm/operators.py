"""Metered operators: what the instrumented AST calls instead of `a + b`, `-a`, `a < b`.

Each helper charges by the sizes of its inputs before doing the work, then does exactly
what Python does, except: `/` needs a Decimal operand (int / int would make a float),
`int ** negative` is refused (it would too), `%` on text is refused (printf formatting can
pad to any width), and Decimal arithmetic always runs in the pinned `DECIMAL_CONTEXT`
rather than the thread's current context.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ccoin.vm import gas
from ccoin.vm.gas import Meter

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

Binary = Callable[[Any, Any], Any]
Unary = Callable[[Any], Any]
IntCost = Callable[[Mapping[str, int], int, int], int]

_TEXT = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)
_PLAIN = frozenset({str, bytes, list, tuple, dict, int, bool, type(None)})


def _is_int(value: object) -> bool:
    return type(value) is int or type(value) is bool


def _pow_int_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    if b < 0:
        raise TypeError("int ** negative int is not allowed; use Decimal")
    return gas.pow_cost(schedule, a, b)


def _lshift_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    return gas.shift_cost(schedule, a, b)


def _rshift_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    return gas.shift_cost(schedule, a, 0)


def _no_int(schedule: Mapping[str, int], a: int, b: int) -> int:
    raise TypeError("int / int is not allowed; use // or Decimal")


# name: (native, in-place native, int cost, Decimal context method or None)
_BINARY: dict[str, tuple[Binary, Binary, IntCost, Binary | None]] = {
    "Add": (operator.add, operator.iadd, gas.add_cost, DECIMAL_CONTEXT.add),
    "Sub": (operator.sub, operator.isub, gas.add_cost, DECIMAL_CONTEXT.subtract),
    "Mult": (operator.mul, operator.imul, gas.mul_cost, DECIMAL_CONTEXT.multiply),
    "Div": (operator.truediv, operator.itruediv, _no_int, DECIMAL_CONTEXT.divide),
    "FloorDiv": (operator.floordiv, operator.ifloordiv, gas.mul_cost, DECIMAL_CONTEXT.divide_int),
    "Mod": (operator.mod, operator.imod, gas.mul_cost, DECIMAL_CONTEXT.remainder),
    "Pow": (operator.pow, operator.ipow, _pow_int_cost, DECIMAL_CONTEXT.power),
    "LShift": (operator.lshift, operator.ilshift, _lshift_cost, None),
    "RShift": (operator.rshift, operator.irshift, _rshift_cost, None),
    "BitAnd": (operator.and_, operator.iand, gas.add_cost, None),
    "BitOr": (operator.or_, operator.ior, gas.add_cost, None),
    "BitXor": (operator.xor, operator.ixor, gas.add_cost, None),
}

BINARY_OPS = frozenset(_BINARY)


def _other_cost(meter: Meter, name: str, a: object, b: object, in_place: bool) -> int:
    """Cost of a non-numeric binary operation, or a refusal."""
    schedule = meter.schedule
    if name == "Mult":
        seq, times = (a, b) if _is_int(b) else (b, a)
        if isinstance(seq, _SEQUENCES) and _is_int(times):
            assert isinstance(seq, str | bytes | list | tuple) and isinstance(times, int)
            return gas.repeat_cost(schedule, len(seq), times, isinstance(seq, _TEXT))
    if type(a) not in _PLAIN or type(b) not in _PLAIN:
        # Dict views combine into sets, whose order depends on the hash seed.
        raise TypeError(f"unsupported operand types for {name}")
    if name == "Mod" and isinstance(a, _TEXT):
        raise TypeError("% formatting is not allowed; use str() and +")
    if in_place and type(a) is list and name == "Add":
        if type(b) not in (list, tuple):
            raise TypeError("list += needs a list or tuple")
        return gas.scan_cost(schedule, gas.size_units(b))
    return gas.concat_cost(schedule, a, b)


def binary(meter: Meter, name: str, in_place: bool = False) -> Binary:
    """The metered helper for one operator (`name` is the ast operator class name)."""
    native, native_in_place, int_cost, decimal_method = _BINARY[name]
    if in_place:
        native = native_in_place
    schedule = meter.schedule
    charge = meter.charge

    def helper(a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b):
            charge(int_cost(schedule, a, b))
            return native(a, b)
        if type(a) is Decimal or type(b) is Decimal:
            if decimal_method is None or not (_is_decimal_operand(a) and _is_decimal_operand(b)):
                raise TypeError(f"unsupported operand types for {name}")
            charge(gas.decimal_cost(schedule, a, b))
            return decimal_method(a, b)
        charge(_other_cost(meter, name, a, b, in_place))
        return native(a, b)

    helper.__name__ = f"op_{name}"
    return helper


def _is_decimal_operand(value: object) -> bool:
    return type(value) is Decimal or _is_int(value)


def negate(meter: Meter) -> Unary:
    def helper(a: Any) -> Any:
        if type(a) is Decimal:
            meter.charge(gas.decimal_cost(meter.schedule, a))
            return DECIMAL_CONTEXT.minus(a)
        meter.charge(gas.compare_cost(meter.schedule, a))
        return -a

    return helper


def positive(meter: Meter) -> Unary:
    def helper(a: Any) -> Any:
        if type(a) is Decimal:
            meter.charge(gas.decimal_cost(meter.schedule, a))
            return DECIMAL_CONTEXT.plus(a)
        meter.charge(gas.compare_cost(meter.schedule, a))
        return +a

    return helper


def invert(meter: Meter) -> Unary:
    def helper(a: Any) -> Any:
        meter.charge(gas.compare_cost(meter.schedule, a))
        return ~a

    return helper


def comparand(meter: Meter) -> Unary:
    """Wraps each operand of a comparison: a comparison costs at most the size of each side."""
    schedule = meter.schedule
    charge = meter.charge

    def helper(a: Any) -> Any:
        charge(gas.compare_cost(schedule, a))
        return a

    return helper
