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
from ccoin.vm.gas import Meter
from ccoin.vm.operators import DECIMAL_CONTEXT, binary

Function = Callable[..., Any]


def consume(meter: Meter, iterable: Iterable[Any]) -> list[Any]:
    """Materialize an iterable, charging per item and by each item's size."""
    schedule = meter.schedule
    if isinstance(iterable, list | tuple | dict | range | str | bytes):
        # Sized: refuse before allocating anything.
        meter.charge(gas.scan_cost(schedule, len(iterable)))
        if isinstance(iterable, range):
            return list(iterable)
    else:
        meter.charge(schedule["builtin"])
    items: list[Any] = []
    per_item = schedule["per_item"]
    for item in iterable:
        meter.charge(per_item * gas.size_units(item))
        items.append(item)
    return items


def _int_to_str_cost(meter: Meter, value: int) -> int:
    # CPython's int -> str is quadratic in the digit count.
    return gas.mul_cost(meter.schedule, value, value)


def make_builtins(meter: Meter) -> dict[str, Any]:
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
        def helper(*args: Any, key: Function | None = None) -> Any:
            items = consume(meter, args[0] if len(args) == 1 else args)
            return native(items, key=key)

        helper.__name__ = native.__name__
        return helper

    def sum_(iterable: Iterable[Any], start: Any = 0) -> Any:
        if type(start) not in (int, bool, Decimal):
            raise TypeError("sum() start must be an int or a Decimal")
        total = start
        for item in consume(meter, iterable):
            total = add(total, item)
        return total

    def sorted_(iterable: Iterable[Any], key: Function | None = None, reverse: bool = False) -> Any:
        items = consume(meter, iterable)
        charge(gas.sort_cost(schedule, len(items)))
        return sorted(items, key=key, reverse=reverse)

    def lazy(native: Function) -> Function:
        def helper(*args: Any) -> Any:
            charge(builtin)
            return native(*args)

        helper.__name__ = getattr(native, "__name__", "lazy")
        return helper

    def list_(iterable: Iterable[Any] = ()) -> list[Any]:
        return consume(meter, iterable)

    def tuple_(iterable: Iterable[Any] = ()) -> tuple[Any, ...]:
        return tuple(consume(meter, iterable))

    def dict_(iterable: Iterable[Any] = (), **fields: Any) -> dict[Any, Any]:
        source = iterable.items() if isinstance(iterable, dict) else iterable
        result = dict(consume(meter, source))
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
            raise TypeError("Decimal() takes an int, a str or a Decimal")
        charge(gas.decimal_cost(schedule, value))
        result = DECIMAL_CONTEXT.create_decimal(value)
        if not result.is_finite():
            raise ValueError("Decimal must be finite")
        return result

    names: dict[str, Any] = {
        "len": len_,
        "abs": abs_,
        "min": extreme(min),
        "max": extreme(max),
        "sum": sum_,
        "sorted": sorted_,
        "range": lazy(range),
        "enumerate": lazy(enumerate),
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
        list_: list, tuple_: tuple, dict_: dict, str_: str, int_: int,
        bool_: bool, decimal_: Decimal,
    }  # fmt: skip

    def isinstance_(value: Any, kinds: Any) -> bool:
        charge(builtin)
        wanted = kinds if type(kinds) is tuple else (kinds,)
        return isinstance(value, tuple(real_types[k] for k in wanted))

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
    raise TypeError(f"str() of {kind.__name__} is not allowed")


def _to_int(meter: Meter, value: Any, base: int | None) -> int:
    schedule = meter.schedule
    kind = type(value)
    if kind in (str, bytes):
        # Parsing is quadratic in the length, like printing.
        words = gas.byte_words(len(value))
        meter.charge(schedule["arith"] + schedule["mul_per_word_pair"] * words * words)
        return int(value, 10 if base is None else base)
    if base is not None:
        raise TypeError("int() with a base needs a str or bytes")
    if kind is Decimal:
        meter.charge(gas.decimal_cost(schedule, value))
        return int(value)
    if kind in (int, bool):
        meter.charge(schedule["builtin"])
        return int(value)
    raise TypeError(f"int() of {kind.__name__} is not allowed")
