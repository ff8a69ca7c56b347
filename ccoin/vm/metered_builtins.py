"""Metered builtins: the only functions a contract can call besides its own and the API.

Each wrapper charges by the size of its input before the work. Anything that consumes an
iterable does so item by item, charging per item, so an unsized iterable (zip, enumerate,
a dict view) cannot be materialized for free. `range` stays lazy: it costs nothing until
something iterates it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ccoin.vm import gas
from ccoin.vm.api import ApiObject
from ccoin.vm.failures import VmOverflowError, VmTypeError, VmValueError
from ccoin.vm.gas import Meter
from ccoin.vm.operators import binary
from ccoin.vm.values import (
    DECIMAL_CONTEXT,
    DICT_VIEWS,
    MAX_INT_BITS,
    WalkRefused,
    checked_int,
    deep_units,
)

Function = Callable[..., Any]
MAX_INT_TEXT = 1024
"""`int()` of a str or bytes longer than this is refused (an int has at most 617 digits)."""
MAX_DECIMAL_ADJUSTED = 617
"""`int(Decimal)` of 10**618 or more would pass `MAX_INT_BITS`: refused before converting."""
_NO_DEFAULT = object()
_SIZED = frozenset({list, tuple, str, bytes, range, dict, *DICT_VIEWS})


def _limit(meter: Meter) -> int:
    return meter.remaining // max(1, meter.schedule["per_item"]) + 1


def ordering(
    meter: Meter, call: Function, items: list[Any], key: Function | None
) -> tuple[list[Any], int]:
    """What min, max and sort compare: `items`, or the key of each (computed first, each
    through the metered `call`, so a key function never runs inside native code), and the
    deep size of the second largest of them (no comparison costs more)."""
    values = items if key is None else [call(key, item) for item in items]
    largest = second = 0
    limit = _limit(meter)
    total = 0
    for value in values:
        kind = type(value)
        if kind is int:
            units = ((value.bit_length() + 63) >> 6) or 1
        elif kind is str or kind is bytes:
            units = ((len(value) + 7) >> 3) or 1
        else:
            try:
                units = deep_units(value, limit - total)
            except WalkRefused as refused:
                meter.charge(gas.units_cost(meter.schedule, total + refused.units))
                raise
        total += units
        if total > limit:
            break  # the charge below fails
        if units > largest:
            largest, second = units, largest
        elif units > second:
            second = units
    meter.charge(gas.units_cost(meter.schedule, total))
    return values, max(1, second)


def sort_items(
    meter: Meter, call: Function, items: list[Any], key: Function | None, reverse: object
) -> list[Any]:
    """`sorted(items, key=key, reverse=reverse)`, stable as Python's, priced before the
    native sort (which only ever compares values, never calls contract code)."""
    if type(reverse) is not bool:
        raise VmTypeError("reverse must be a bool")
    values, item_units = ordering(meter, call, items, key)
    meter.charge(gas.sort_cost(meter.schedule, len(items), item_units))
    if key is None:
        return sorted(items, reverse=reverse)
    order = sorted(range(len(values)), key=values.__getitem__, reverse=reverse)
    return [items[i] for i in order]


def consume(meter: Meter, iterable: Iterable[Any]) -> list[Any]:
    """Materialize an iterable: a sized one is charged by its length before it is copied
    (references only); an unsized one (zip, enumerate, reversed) is taken item by item,
    each charged, so it cannot be materialized for free however long it is."""
    schedule = meter.schedule
    if type(iterable) in _SIZED:
        meter.charge(gas.scan_cost(schedule, len(iterable)))  # type: ignore[arg-type]
        return list(iterable)
    if isinstance(iterable, ApiObject):
        raise VmTypeError(f"{type(iterable).__name__} is not iterable")
    rate = schedule["per_item"]
    allowed = meter.remaining
    items: list[Any] = []
    append = items.append
    cost = schedule["builtin"]
    for item in iterable:
        cost += rate
        if cost > allowed:
            break  # the charge below fails: nothing more is taken
        append(item)
    meter.charge(cost)
    return items


def _int_to_str_cost(meter: Meter, value: int) -> int:
    # CPython's int -> str is quadratic in the digit count.
    return gas.mul_cost(meter.schedule, value, value)


def make_builtins(meter: Meter, call: Function) -> dict[str, Any]:
    """The builtins of one call. `call` is the namespace's metered call (depth counted),
    through which key functions run."""
    schedule = meter.schedule
    charge = meter.charge
    builtin = schedule["builtin"]
    add = binary(meter, "Add")

    def len_(obj: Any) -> int:
        charge(builtin)
        return len(obj)

    def abs_(value: Any) -> Any:
        if type(value) is Decimal:
            charge(gas.decimal_cost(schedule, value))
            return DECIMAL_CONTEXT.abs(value)
        charge(gas.compare_cost(schedule, value))
        return abs(value)

    def extreme(native: Function) -> Function:
        def helper(*args: Any, key: Function | None = None, default: Any = _NO_DEFAULT) -> Any:
            if not args:
                raise VmTypeError(f"{native.__name__}() takes at least one argument")
            items = consume(meter, args[0] if len(args) == 1 else args)
            if not items:
                if default is _NO_DEFAULT:
                    raise VmValueError(f"{native.__name__}() of an empty sequence")
                return default
            values, _units = ordering(meter, call, items, key)
            if key is None:
                return native(items)
            return items[native(range(len(values)), key=values.__getitem__)]

        helper.__name__ = native.__name__
        return helper

    def sum_(iterable: Iterable[Any], start: Any = 0) -> Any:
        if type(start) not in (int, bool, Decimal):
            raise VmTypeError("sum() start must be an int or a Decimal")
        total = start
        for item in consume(meter, iterable):
            total = add(total, item)
        return total

    def sorted_(iterable: Iterable[Any], key: Function | None = None, reverse: bool = False) -> Any:
        return sort_items(meter, call, consume(meter, iterable), key, reverse)

    def lazy(native: Function) -> Function:
        def helper(*args: Any) -> Any:
            charge(builtin)
            return native(*args)

        helper.__name__ = getattr(native, "__name__", "lazy")
        return helper

    def enumerate_(iterable: Iterable[Any], start: int = 0) -> Any:
        charge(builtin)
        if type(start) is not int or start.bit_length() > 63:
            raise VmTypeError("enumerate() start must be an int of at most 63 bits")
        return enumerate(iterable, start)

    def list_(iterable: Iterable[Any] = ()) -> list[Any]:
        return consume(meter, iterable)

    def tuple_(iterable: Iterable[Any] = ()) -> tuple[Any, ...]:
        return tuple(consume(meter, iterable))

    def dict_(iterable: Iterable[Any] = (), **fields: Any) -> dict[Any, Any]:
        if type(iterable) is dict:  # a copy: its keys were checked when they went in
            charge(gas.scan_cost(schedule, len(iterable)))
            result = dict(iterable)
        else:
            result = {}
            for pair in consume(meter, iterable):
                if type(pair) not in (list, tuple) or len(pair) != 2:
                    raise VmTypeError("dict() takes a dict or pairs (lists or tuples of two)")
                gas.charge_key(meter, pair[0])
                result[pair[0]] = pair[1]
        charge(gas.scan_cost(schedule, len(fields)))
        result.update(fields)
        return result

    def str_(value: Any = "") -> str:
        return _to_str(meter, value)

    def int_(value: Any = 0, base: int | None = None) -> int:
        return _to_int(meter, value, base)

    def bool_(value: Any = False) -> bool:
        charge(builtin)
        return bool(value)

    def all_(iterable: Iterable[Any]) -> bool:
        charge(builtin)
        for item in iterable:
            charge(schedule["per_item"])
            if not item:
                return False
        return True

    def any_(iterable: Iterable[Any]) -> bool:
        charge(builtin)
        for item in iterable:
            charge(schedule["per_item"])
            if item:
                return True
        return False

    def decimal_(value: Any = 0) -> Decimal:
        if type(value) not in (int, bool, str, Decimal):
            raise VmTypeError("Decimal() takes an int, a str or a Decimal")
        charge(gas.decimal_cost(schedule, value))
        result = DECIMAL_CONTEXT.create_decimal(value)
        if not result.is_finite():
            raise VmValueError("Decimal must be finite")
        return result

    names: dict[str, Any] = {
        "len": len_,
        "abs": abs_,
        "min": extreme(min),
        "max": extreme(max),
        "sum": sum_,
        "sorted": sorted_,
        "range": lazy(range),
        "enumerate": enumerate_,
        "zip": lazy(zip),
        "reversed": lazy(reversed),
        "list": list_,
        "tuple": tuple_,
        "dict": dict_,
        "str": str_,
        "int": int_,
        "bool": bool_,
        "all": all_,
        "any": any_,
        "Decimal": decimal_,
    }
    real_types = {
        id(list_): list, id(tuple_): tuple, id(dict_): dict, id(str_): str, id(int_): int,
        id(bool_): bool, id(decimal_): Decimal,
    }  # fmt: skip

    def isinstance_(value: Any, kinds: Any) -> bool:
        wanted = kinds if type(kinds) is tuple else (kinds,)
        charge(gas.scan_cost(schedule, len(wanted)))
        found = []
        for kind in wanted:  # by identity (an id is an int): nothing is hashed or compared
            real = real_types.get(id(kind))
            if real is None:
                raise VmTypeError(
                    "isinstance() takes list, tuple, dict, str, int, bool or Decimal, or a"
                    " tuple of those"
                )
            found.append(real)
        return isinstance(value, tuple(found))

    names["isinstance"] = isinstance_
    return names


def _to_str(meter: Meter, value: Any) -> str:
    schedule = meter.schedule
    kind = type(value)
    if kind is str:
        meter.charge(schedule["builtin"])
        return str(value)
    if kind is int:
        meter.charge(_int_to_str_cost(meter, value))
        return str(value)
    if kind is bool or value is None:
        meter.charge(schedule["builtin"])
        return str(value)
    if kind is Decimal:
        meter.charge(gas.decimal_cost(schedule, value))
        return DECIMAL_CONTEXT.to_sci_string(value)
    if kind is bytes:
        meter.charge(gas.scan_cost(schedule, 4 * gas.byte_words(len(value))))
        return str(value)
    raise VmTypeError(f"str() of {kind.__name__} is not allowed")


def _to_int(meter: Meter, value: Any, base: int | None) -> int:
    schedule = meter.schedule
    kind = type(value)
    if kind in (str, bytes):
        if len(value) > MAX_INT_TEXT:
            raise VmValueError(f"int() of a {kind.__name__} longer than {MAX_INT_TEXT}")
        # Parsing is quadratic in the length, like printing.
        words = gas.byte_words(len(value))
        meter.charge(schedule["arith"] + schedule["mul_per_word_pair"] * words * words)
        return checked_int(int(value, 10 if base is None else base))
    if base is not None:
        raise VmTypeError("int() with a base needs a str or bytes")
    if kind is Decimal:
        meter.charge(gas.decimal_cost(schedule, value))
        if value.adjusted() > MAX_DECIMAL_ADJUSTED:
            raise VmOverflowError(f"int() of a Decimal of more than {MAX_INT_BITS} bits")
        return checked_int(int(value))
    if kind in (int, bool):
        meter.charge(schedule["builtin"])
        return int(value)
    raise VmTypeError(f"int() of {kind.__name__} is not allowed")
