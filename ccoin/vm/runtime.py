"""The namespace a compiled contract runs in: metered builtins, operators and the API.

`build_namespace(meter, api)` returns the globals for one call. It has an empty
`__builtins__`, so a contract reaches nothing but what is listed here. The instrumented
code calls helpers whose names start with `__g_`; the linter bans `_` names in contracts,
so contract code cannot call them, rebind them or read them.

Method calls are dispatched through `__g_method` to `ccoin.vm.methods` (a fixed table of
(type, method) with parameters and a cost function each): a method not in the table does
not exist for contracts. Item reads, stores and deletes, comparisons and dict keys go
through helpers too, so every native operation is priced from the real size of its inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ccoin.vm import gas
from ccoin.vm.api import (
    MAX_ADDRESS_TEXT,
    ApiObject,
    Coins,
    ContextView,
    ContractApi,
    ContractError,
    Map,
    Storage,
    Var,
    charged_encode,
)
from ccoin.vm.failures import RAISED, VmAttributeError, VmTypeError, VmValueError
from ccoin.vm.gas import CallDepthExceeded, Meter
from ccoin.vm.metered_builtins import make_builtins
from ccoin.vm.methods import call_method
from ccoin.vm.operators import (
    BINARY_OPS,
    COMPARE_OPS,
    binary,
    chain,
    compare,
    invert,
    key,
    negate,
    positive,
)

# Contract-to-contract calls inside one contract (its own functions and builtins): each
# level is two Python frames here, far below CPython's recursion limit, so the limit that
# stops a runaway recursion is always this counter, on every node, whatever the C stack.
MAX_CALL_DEPTH = 100
MAX_EVENT_NAME = 64

Function = Callable[..., Any]


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
        raised = RAISED.get(fn) if type(fn) is type else None
        if raised is not None:  # `ValueError("...")`: the contract's own message
            return raised(*args, **kwargs)
        frames.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            frames.depth -= 1

    return call


def _make_method(meter: Meter, call: Function) -> Function:
    cost = meter.schedule["call"]  # a method call is a call, like any other

    def method(obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
        meter.charge(cost)
        if isinstance(obj, ApiObject):
            if name not in obj.PUBLIC:
                raise VmAttributeError(f"{type(obj).__name__} has no method {name!r}")
            return getattr(obj, name)(*args, **kwargs)
        return call_method(meter, call, obj, name, args, kwargs)

    return method


def _make_attribute(meter: Meter) -> Function:
    def attribute(obj: Any, name: str, /) -> Any:
        if not (isinstance(obj, ApiObject) and name in obj.PUBLIC):
            raise VmAttributeError(f"{type(obj).__name__} has no attribute {name!r} for contracts")
        meter.charge(meter.schedule["builtin"])
        return getattr(obj, name)

    return attribute


_INDEXED = (list, tuple, str, bytes, range)


def _item_helpers(meter: Meter) -> dict[str, Function]:
    """`x[k]`, `x[k] = v`, `del x[k]`: a dict hashes the key (priced by its deep size); a
    list deletes by moving its tail; a `Map` charges its own storage access."""
    schedule = meter.schedule
    charge = meter.charge

    def key_cost(obj: Any, k: Any) -> None:
        if type(obj) is dict:
            gas.charge_key(meter, k)
        elif type(obj) in _INDEXED or type(obj) is Map:
            charge(schedule["arith"])
        else:
            raise VmTypeError(f"{type(obj).__name__} is not subscriptable")

    def getitem(obj: Any, k: Any, /) -> Any:
        if type(k) is slice:
            if type(obj) not in _INDEXED:
                raise VmTypeError(f"{type(obj).__name__} cannot be sliced")
            count = len(range(*k.indices(len(obj))))
            text = isinstance(obj, str | bytes)
            charge(gas.scan_cost(schedule, gas.byte_words(count) if text else count))
        else:
            key_cost(obj, k)
        return obj[k]

    def setitem(obj: Any, k: Any, value: Any, /) -> None:
        if type(obj) not in (dict, list, Map):
            raise VmTypeError(f"{type(obj).__name__} does not support item assignment")
        key_cost(obj, k)
        obj[k] = value

    def delitem(obj: Any, k: Any, /) -> None:
        if type(obj) not in (dict, list, Map):
            raise VmTypeError(f"{type(obj).__name__} does not support item deletion")
        key_cost(obj, k)
        if type(obj) is list:
            charge(gas.scan_cost(schedule, len(obj)))  # the tail moves down
        del obj[k]

    def make_slice(lower: Any, upper: Any, step: Any, /) -> slice:
        charge(schedule["builtin"])
        return slice(lower, upper, step)

    return {
        "__g_getitem": getitem,
        "__g_setitem": setitem,
        "__g_delitem": delitem,
        "__g_slice": make_slice,
        "__g_key": key(meter),
    }


def _make_iterate(meter: Meter) -> Function:
    cost = meter.schedule["loop_iteration"]
    charge = meter.charge

    def iterate(iterable: Iterable[Any], /) -> Iterator[Any]:
        if isinstance(iterable, ApiObject):
            raise VmTypeError(f"{type(iterable).__name__} is not iterable")
        for item in iterable:
            charge(cost)
            yield item

    return iterate


def build_namespace(meter: Meter, api: ContractApi, frames: Frames | None = None) -> dict[str, Any]:
    """The globals of one contract call: metered builtins, the API, and `__g_` helpers.
    `frames` is shared by every contract of one transaction (`ccoin.vm.host`)."""
    storage = Storage(meter, api)
    exports: dict[str, Function] = {}
    call = _make_call(meter, frames or Frames())
    namespace: dict[str, Any] = {"__builtins__": {}, "__name__": "contract"}
    namespace.update(make_builtins(meter, call))
    namespace.update(_api_names(meter, api, storage, exports))
    namespace.update(_helpers(meter, call))
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
        if type(message) is not str:
            raise VmTypeError("require() message must be a str")
        if not condition:
            raise ContractError(message)

    def emit(name: str, **fields: Any) -> None:
        if type(name) is not str or not 0 < len(name) <= MAX_EVENT_NAME:
            raise VmValueError(f"an event name is a str of 1 to {MAX_EVENT_NAME} characters")
        data = charged_encode(meter, fields)
        meter.charge(gas.event_cost(schedule, len(name) + len(data)))
        api.emit(name, data)

    def call_contract(contract: str, function: str, *args: Any) -> Any:
        meter.charge(schedule["call"])
        if type(contract) is not str or type(function) is not str:
            raise VmTypeError("call_contract(address, function, *args): address and name are str")
        if len(contract) > MAX_ADDRESS_TEXT or len(function) > MAX_ADDRESS_TEXT:
            raise ContractError("no such contract or function")
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


def _helpers(meter: Meter, call: Function) -> dict[str, Any]:
    schedule = meter.schedule
    helpers: dict[str, Any] = {
        "__g_stmt": lambda: meter.charge(schedule["statement"]),
        "__g_loop": lambda: meter.charge(schedule["loop_iteration"]),
        "__g_caught": lambda: meter.charge(schedule["exception"]),
        "__g_call": call,
        "__g_method": _make_method(meter, call),
        "__g_attr": _make_attribute(meter),
        "__g_iter": _make_iterate(meter),
        "__g_chain": chain(meter),
        "__g_neg": negate(meter),
        "__g_pos": positive(meter),
        "__g_inv": invert(meter),
        **_item_helpers(meter),
    }
    for name in BINARY_OPS:
        helpers[f"__g_op_{name}"] = binary(meter, name)
        helpers[f"__g_iop_{name}"] = binary(meter, name, in_place=True)
    for name in COMPARE_OPS:
        helpers[f"__g_cmp_{name}"] = compare(meter, name)
    return helpers
