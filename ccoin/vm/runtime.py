"""The namespace a compiled contract runs in: metered builtins, operators and the API.

`build_namespace(meter, api)` returns the globals for one call. It has an empty
`__builtins__`, so a contract reaches nothing but what is listed here. The instrumented
code calls helpers whose names start with `__g_`; the linter bans `_` names in contracts,
so contract code cannot call them, rebind them or read them.

Method calls are dispatched through `__g_method` against a fixed table of (type, method)
with a cost function each: a method not in the table does not exist for contracts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from ccoin.vm import gas
from ccoin.vm.api import (
    ApiObject,
    Coins,
    ContextView,
    ContractApi,
    ContractError,
    Map,
    Storage,
    Var,
    encode_value,
)
from ccoin.vm.gas import CallDepthExceeded, Meter
from ccoin.vm.metered_builtins import make_builtins
from ccoin.vm.operators import (
    BINARY_OPS,
    DECIMAL_CONTEXT,
    binary,
    comparand,
    invert,
    negate,
    positive,
)

# Contract-to-contract calls inside one contract (its own functions and builtins): each
# level is two Python frames here, far below CPython's recursion limit, so the limit that
# stops a runaway recursion is always this counter, on every node, whatever the C stack.
MAX_CALL_DEPTH = 100
MAX_EVENT_NAME = 64

Function = Callable[..., Any]
# (cost in gas given meter, receiver and arguments): the method table below.
MethodCost = Callable[[Meter, Any, tuple[Any, ...]], int]


def _scan_receiver(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    return gas.scan_cost(meter.schedule, gas.size_units(obj) + sum(map(gas.size_units, args)))


def _constant(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    return meter.schedule["builtin"]


def _text_replace(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    old, new = args[0], args[1]
    # Upper bound on the result: every possible match of `old` becomes `new`.
    matches = len(obj) // max(1, len(old)) + 1
    return gas.scan_cost(meter.schedule, gas.byte_words(len(obj) + matches * len(new)))


def _text_split(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    return gas.scan_cost(meter.schedule, len(obj) + 1)


def _text_join(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    parts = args[0]
    if type(parts) not in (list, tuple):
        raise TypeError("join() takes a list or tuple")
    total = len(obj) * len(parts) + sum(len(p) for p in parts if isinstance(p, str | bytes))
    return gas.scan_cost(meter.schedule, len(parts) + gas.byte_words(total))


def _list_extend(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    if type(args[0]) not in (list, tuple):
        raise TypeError("extend() takes a list or tuple")
    return gas.scan_cost(meter.schedule, len(args[0]))


def _list_sort(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    return gas.sort_cost(meter.schedule, len(obj)) + _scan_receiver(meter, obj, ())


def _dict_update(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    if args and type(args[0]) is not dict:
        raise TypeError("update() takes a dict")
    return gas.scan_cost(meter.schedule, len(args[0]) if args else 1)


def _to_bytes(meter: Meter, obj: Any, args: tuple[Any, ...]) -> int:
    length = args[0] if args else 1
    if type(length) is not int:
        raise TypeError("to_bytes() length must be an int")
    return gas.scan_cost(meter.schedule, gas.int_words(obj) + gas.byte_words(max(0, length)))


_TEXT_METHODS: dict[str, MethodCost] = {
    name: _scan_receiver
    for name in [
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "find",
        "count",
        "isdigit",
        "isalpha",
        "isalnum",
        "encode",
        "decode",
        "hex",
    ]
}
_TEXT_METHODS |= {"replace": _text_replace, "split": _text_split, "join": _text_join}
_STR_ONLY = frozenset({"lower", "upper", "isalpha", "isalnum", "isdigit", "encode", "split"})

METHODS: dict[type, dict[str, MethodCost]] = {
    str: {k: v for k, v in _TEXT_METHODS.items() if k not in ("decode", "hex")},
    bytes: {k: v for k, v in _TEXT_METHODS.items() if k not in _STR_ONLY},
    list: {
        "append": _constant,
        "pop": _scan_receiver,
        "insert": _scan_receiver,
        "index": _scan_receiver,
        "count": _scan_receiver,
        "remove": _scan_receiver,
        "copy": _scan_receiver,
        "reverse": _scan_receiver,
        "clear": _scan_receiver,
        "extend": _list_extend,
        "sort": _list_sort,
    },
    dict: {
        "get": _scan_receiver,
        "pop": _scan_receiver,
        "setdefault": _scan_receiver,
        "keys": _constant,
        "values": _constant,
        "items": _constant,
        "copy": _scan_receiver,
        "clear": _scan_receiver,
        "update": _dict_update,
    },
    tuple: {"index": _scan_receiver, "count": _scan_receiver},
    int: {"bit_length": _constant, "to_bytes": _to_bytes},
    bool: {"bit_length": _constant},
}
# The pinned context is passed explicitly; the thread's context never matters.
_DECIMAL_METHODS: dict[str, Function] = {
    "quantize": lambda d, exp: d.quantize(exp, context=DECIMAL_CONTEXT),
    "to_integral": lambda d: d.to_integral_value(context=DECIMAL_CONTEXT),
}


class Frames:
    """The call depth counter (one per contract call)."""

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0


def _make_call(meter: Meter, frames: Frames) -> Function:
    cost = meter.schedule["call"]

    def call(fn: Function, /, *args: Any, **kwargs: Any) -> Any:
        meter.charge(cost)
        if frames.depth >= MAX_CALL_DEPTH:
            raise CallDepthExceeded(f"call depth over {MAX_CALL_DEPTH}")
        frames.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            frames.depth -= 1

    return call


def _make_method(meter: Meter) -> Function:
    def method(obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        kind = type(obj)
        if isinstance(obj, ApiObject):
            if name not in obj.PUBLIC:
                raise AttributeError(f"{kind.__name__} has no method {name!r}")
            meter.charge(meter.schedule["builtin"])
            return getattr(obj, name)(*args, **kwargs)
        if kind is Decimal and name in _DECIMAL_METHODS:
            meter.charge(gas.decimal_cost(meter.schedule, obj, *args))
            return _DECIMAL_METHODS[name](obj, *args, **kwargs)
        cost = METHODS.get(kind, {}).get(name)
        if cost is None:
            raise AttributeError(f"{kind.__name__} has no method {name!r} for contracts")
        meter.charge(cost(meter, obj, args))
        return getattr(obj, name)(*args, **kwargs)

    return method


def _make_attribute(meter: Meter) -> Function:
    def attribute(obj: Any, name: str, /) -> Any:
        if not (isinstance(obj, ApiObject) and name in obj.PUBLIC):
            raise AttributeError(f"{type(obj).__name__} has no attribute {name!r} for contracts")
        meter.charge(meter.schedule["builtin"])
        return getattr(obj, name)

    return attribute


def _make_getitem(meter: Meter) -> Function:
    schedule = meter.schedule

    def getitem(obj: Any, key: Any, /) -> Any:
        if type(key) is slice:
            if not isinstance(obj, str | bytes | list | tuple | range):
                raise TypeError(f"{type(obj).__name__} cannot be sliced")
            count = len(range(*key.indices(len(obj))))
            text = isinstance(obj, str | bytes)
            meter.charge(gas.scan_cost(schedule, gas.byte_words(count) if text else count))
        else:
            meter.charge(gas.compare_cost(schedule, key))
        return obj[key]

    return getitem


def _make_iterate(meter: Meter) -> Function:
    cost = meter.schedule["loop_iteration"]
    charge = meter.charge

    def iterate(iterable: Iterable[Any], /) -> Iterator[Any]:
        if isinstance(iterable, ApiObject):
            raise TypeError(f"{type(iterable).__name__} is not iterable")
        for item in iterable:
            charge(cost)
            yield item

    return iterate


def _make_slice(meter: Meter) -> Function:
    def make(lower: Any, upper: Any, step: Any, /) -> slice:
        meter.charge(meter.schedule["builtin"])
        return slice(lower, upper, step)

    return make


def build_namespace(meter: Meter, api: ContractApi, frames: Frames | None = None) -> dict[str, Any]:
    """The globals of one contract call: metered builtins, the API, and `__g_` helpers.
    `frames` is shared by every contract of one transaction (`ccoin.vm.host`)."""
    storage = Storage(meter, api)
    exports: dict[str, Function] = {}
    namespace: dict[str, Any] = {"__builtins__": {}, "__name__": "contract"}
    namespace.update(make_builtins(meter))
    namespace.update(_api_names(meter, api, storage, exports))
    namespace.update(_helpers(meter, frames or Frames()))
    namespace["__g_exports"] = exports
    return namespace


def _api_names(
    meter: Meter, api: ContractApi, storage: Storage, exports: dict[str, Function]
) -> dict[str, Any]:
    schedule = meter.schedule

    def export(fn: Function) -> Function:
        exports[fn.__name__] = fn
        return fn

    def require(condition: Any, message: str = "requirement failed") -> None:
        meter.charge(schedule["builtin"])
        if not condition:
            raise ContractError(message)

    def emit(name: str, **fields: Any) -> None:
        if type(name) is not str or not 0 < len(name) <= MAX_EVENT_NAME:
            raise ValueError(f"an event name is a str of 1 to {MAX_EVENT_NAME} characters")
        size = len(name) + len(encode_value(fields))
        meter.charge(gas.event_cost(schedule, size))
        api.emit(name, fields)

    def call_contract(contract: str, function: str, *args: Any) -> Any:
        meter.charge(schedule["call"])
        return api.call(contract, function, list(args))

    return {
        "export": export,
        "require": require,
        "emit": emit,
        "coins": Coins(meter, api),
        "call_contract": call_contract,
        "ctx": ContextView(api.ctx),
        "ContractError": ContractError,
        "ValueError": ValueError,
        "KeyError": KeyError,
        "IndexError": IndexError,
        "ZeroDivisionError": ZeroDivisionError,
        "TypeError": TypeError,
        "__g_declare_var": lambda name, default=None: Var(storage, name, default),
        "__g_declare_map": lambda name, *default: Map(storage, name, *default),
    }


def _helpers(meter: Meter, frames: Frames) -> dict[str, Any]:
    schedule = meter.schedule
    helpers: dict[str, Any] = {
        "__g_stmt": lambda: meter.charge(schedule["statement"]),
        "__g_loop": lambda: meter.charge(schedule["loop_iteration"]),
        "__g_call": _make_call(meter, frames),
        "__g_method": _make_method(meter),
        "__g_attr": _make_attribute(meter),
        "__g_getitem": _make_getitem(meter),
        "__g_iter": _make_iterate(meter),
        "__g_slice": _make_slice(meter),
        "__g_cmp": comparand(meter),
        "__g_neg": negate(meter),
        "__g_pos": positive(meter),
        "__g_inv": invert(meter),
    }
    for name in BINARY_OPS:
        helpers[f"__g_op_{name}"] = binary(meter, name)
        helpers[f"__g_iop_{name}"] = binary(meter, name, in_place=True)
    return helpers
