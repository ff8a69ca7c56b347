"""Metered operators: what the instrumented AST calls instead of `a + b`, `-a`, `a < b`.

Each helper charges by the sizes of its inputs before doing the work, then does exactly
what Python does, except: `/` needs a Decimal operand (int / int would make a float),
`int ** negative` is refused (it would too), `%` on text is refused (printf formatting can
pad to any width), and Decimal arithmetic always runs in the pinned `DECIMAL_CONTEXT`
rather than the thread's current context.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ccoin.vm import gas
from ccoin.vm.api import Map
from ccoin.vm.failures import VmOverflowError, VmTypeError
from ccoin.vm.gas import Meter
from ccoin.vm.values import (
    DECIMAL_CONTEXT,
    DICT_VIEWS,
    MAX_INT_BITS,
    checked_int,
    is_container,
    scalar_units,
)

__all__ = ["BINARY_OPS", "COMPARE_OPS", "DECIMAL_CONTEXT", "binary", "compare"]

Binary = Callable[[Any, Any], Any]
Unary = Callable[[Any], Any]
IntCost = Callable[[Mapping[str, int], int, int], int]

_TEXT = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)
_PLAIN = frozenset({str, bytes, list, tuple, dict, int, bool, type(None)})


def _is_int(value: object) -> bool:
    return type(value) is int or type(value) is bool


def _too_big() -> VmOverflowError:
    return VmOverflowError(f"int result of more than {MAX_INT_BITS} bits")


def _mul_int_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    if a and b and a.bit_length() + b.bit_length() - 1 > MAX_INT_BITS:
        raise _too_big()
    return gas.mul_cost(schedule, a, b)


def _pow_int_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    if b < 0:
        raise VmTypeError("int ** negative int is not allowed; use Decimal")
    if a not in (0, 1, -1) and b > 1 and (abs(a).bit_length() - 1) * b + 1 > MAX_INT_BITS:
        raise _too_big()  # estimated before computing: the result has at least that many bits
    return gas.pow_cost(schedule, a, b)


def _lshift_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    if a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _too_big()
    return gas.shift_cost(schedule, a, b)


def _rshift_cost(schedule: Mapping[str, int], a: int, b: int) -> int:
    return gas.shift_cost(schedule, a, 0)


def _no_int(schedule: Mapping[str, int], a: int, b: int) -> int:
    raise VmTypeError("int / int is not allowed; use // or Decimal")


# name: (native, in-place native, int cost, Decimal context method or None)
_BINARY: dict[str, tuple[Binary, Binary, IntCost, Binary | None]] = {
    "Add": (operator.add, operator.iadd, gas.add_cost, DECIMAL_CONTEXT.add),
    "Sub": (operator.sub, operator.isub, gas.add_cost, DECIMAL_CONTEXT.subtract),
    "Mult": (operator.mul, operator.imul, _mul_int_cost, DECIMAL_CONTEXT.multiply),
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
        raise VmTypeError(f"unsupported operand types for {name}")
    if name == "Mod" and isinstance(a, _TEXT):
        raise VmTypeError("% formatting is not allowed; use str() and +")
    if in_place and type(a) is list and name == "Add":
        if type(b) not in (list, tuple):
            raise VmTypeError("list += needs a list or tuple")
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
            return checked_int(native(a, b))
        if type(a) is Decimal or type(b) is Decimal:
            if decimal_method is None or not (_is_decimal_operand(a) and _is_decimal_operand(b)):
                raise VmTypeError(f"unsupported operand types for {name}")
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
        _scalar_operand(a, "-")
        meter.charge(gas.compare_cost(meter.schedule, a))
        return -a

    return helper


def positive(meter: Meter) -> Unary:
    def helper(a: Any) -> Any:
        if type(a) is Decimal:
            meter.charge(gas.decimal_cost(meter.schedule, a))
            return DECIMAL_CONTEXT.plus(a)
        _scalar_operand(a, "+")
        meter.charge(gas.compare_cost(meter.schedule, a))
        return +a

    return helper


def invert(meter: Meter) -> Unary:
    def helper(a: Any) -> Any:
        _scalar_operand(a, "~")
        meter.charge(gas.compare_cost(meter.schedule, a))
        return checked_int(~a)

    return helper


def _scalar_operand(value: object, op: str) -> None:
    if not _is_int(value):
        raise VmTypeError(f"bad operand type for unary {op}: {type(value).__name__}")


# -- comparisons ------------------------------------------------------------------------------

_ORDER: dict[str, Binary] = {
    "Eq": operator.eq,
    "NotEq": operator.ne,
    "Lt": operator.lt,
    "LtE": operator.le,
    "Gt": operator.gt,
    "GtE": operator.ge,
}
COMPARE_OPS = frozenset({*_ORDER, "Is", "IsNot", "In", "NotIn"})


def charge_pair(meter: Meter, a: object, b: object) -> None:
    """Comparing two values: at most the deep size of each (`gas.charge_deep`)."""
    if not is_container(a) and not is_container(b):
        meter.charge(meter.schedule["arith"] + scalar_units(a) + scalar_units(b))
    else:
        gas.charge_deep(meter, a, b)


def charge_contains(meter: Meter, item: object, container: object) -> None:
    """`item in container`, priced by what Python does for the container's type; a
    container whose `in` would run unpriced (an iterator, a range asked for a non-int) is
    refused."""
    schedule = meter.schedule
    kind = type(container)
    if kind is str or kind is bytes:
        assert isinstance(container, str | bytes)
        if type(item) is int and kind is bytes:
            meter.charge(gas.scan_cost(schedule, gas.byte_words(len(container))))
            return
        if type(item) is not kind:
            raise VmTypeError(f"'in <{kind.__name__}>' needs a {kind.__name__}")
        assert isinstance(item, str | bytes)
        meter.charge(gas.search_cost(schedule, len(container), len(item)))
    elif kind is dict or kind is DICT_VIEWS[0]:
        gas.charge_key(meter, item)
    elif kind is DICT_VIEWS[2]:  # (key, value) in d.items(): a lookup, then one comparison
        if type(item) is not tuple or len(item) != 2:
            meter.charge(schedule["arith"])
        else:
            gas.charge_deep(meter, item[0], item[1], keys=1)
    elif kind is range:
        if not _is_int(item):
            raise VmTypeError("'in <range>' needs an int")
        meter.charge(schedule["arith"])
    elif kind in (list, tuple) or kind is DICT_VIEWS[1]:
        charge_pair(meter, item, container)
    elif kind is Map:
        meter.charge(schedule["arith"])  # the read charges the storage access
    else:
        raise VmTypeError(f"'in' is not supported for {kind.__name__}")


def compare(meter: Meter, name: str) -> Binary:
    """The metered helper for one comparison operator (an ast class name)."""
    charge = meter.charge
    schedule = meter.schedule
    if name in _ORDER:
        native = _ORDER[name]

        def ordered(a: Any, b: Any) -> Any:
            charge_pair(meter, a, b)
            return native(a, b)

        ordered.__name__ = f"cmp_{name}"
        return ordered
    if name in ("Is", "IsNot"):
        same = name == "Is"

        def identity(a: Any, b: Any) -> bool:
            charge(schedule["arith"])
            return (a is b) is same

        return identity
    negated = name == "NotIn"

    def contains(a: Any, b: Any) -> bool:
        charge_contains(meter, a, b)
        return (a in b) is not negated

    return contains


def key(meter: Meter) -> Unary:
    """A dict key about to be hashed: checked (`ccoin.vm.values.key_units`) and charged."""

    def helper(value: Any) -> Any:
        gas.charge_key(meter, value)
        return value

    return helper


def chain(meter: Meter) -> Callable[..., bool]:
    """`a < b <= c`: each link compared as Python would, later operands evaluated only
    while the chain holds (they come as thunks)."""
    helpers = {name: compare(meter, name) for name in COMPARE_OPS}

    def helper(left: Any, *links: tuple[str, Callable[[], Any]]) -> bool:
        for name, operand in links:
            right = operand()
            if not helpers[name](left, right):
                return False
            left = right
        return True

    return helper
