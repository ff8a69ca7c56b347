"""The methods contracts may call on values, each with its parameters and its price.

`x.m(...)` is instrumented as ``__g_method(x, "m", ...)``; `call_method` looks the (type,
method) up in `METHODS`, binds the arguments to the method's declared parameters (a
keyword is accepted only for a parameter named here, so no argument reaches native code
unseen by the cost function), charges the cost computed from the real sizes of the
receiver and every argument, then calls the native method. A method not in the table does
not exist for contracts. The cost functions follow `docs/spec/vm.md` section 2.

Pure: may import the pure vm modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ccoin.vm import gas
from ccoin.vm.failures import VmAttributeError, VmTypeError, VmValueError
from ccoin.vm.gas import Meter
from ccoin.vm.metered_builtins import sort_items
from ccoin.vm.values import DECIMAL_CONTEXT, byte_words

Args = tuple[Any, ...]
Cost = Callable[[Meter, Any, Args], int]
_REQUIRED = object()


@dataclass(frozen=True)
class Method:
    """A method's positional parameters (name, default or `_REQUIRED`), the keyword-only
    ones it takes (passed on by name), and its cost."""

    params: tuple[tuple[str, object], ...]
    cost: Cost
    keyword_only: tuple[str, ...] = ()


def _units(meter: Meter, *values: object) -> int:
    gas.charge_deep(meter, *values)
    return 0


def _scan(meter: Meter, obj: Any, args: Args) -> int:
    return gas.scan_cost(meter.schedule, gas.size_units(obj))


def _constant(meter: Meter, obj: Any, args: Args) -> int:
    return meter.schedule["builtin"]


def _text_arg(obj: Any, value: object, what: str) -> str | bytes:
    if type(value) is not type(obj):
        raise VmTypeError(f"{what} must be a {type(obj).__name__}")
    assert isinstance(value, str | bytes)
    return value


def _search(meter: Meter, obj: Any, args: Args) -> int:
    needle = _text_arg(obj, args[0], "the substring")
    return gas.search_cost(meter.schedule, len(obj), len(needle))


def _affix(meter: Meter, obj: Any, args: Args) -> int:
    affixes = args[0] if type(args[0]) is tuple else (args[0],)
    total = sum(len(_text_arg(obj, a, "the prefix or suffix")) for a in affixes)
    return gas.scan_cost(meter.schedule, len(affixes) + byte_words(total))


def _strip(meter: Meter, obj: Any, args: Args) -> int:
    chars = args[0]
    if chars is None:
        return gas.scan_cost(meter.schedule, byte_words(len(obj)))
    return gas.strip_cost(meter.schedule, len(obj), len(_text_arg(obj, chars, "chars")))


def _replace(meter: Meter, obj: Any, args: Args) -> int:
    old = _text_arg(obj, args[0], "old")
    new = _text_arg(obj, args[1], "new")
    # Upper bound on the result: every possible match of `old` becomes `new`.
    matches = len(obj) // max(1, len(old)) + 1
    result = gas.scan_cost(meter.schedule, byte_words(len(obj) + matches * len(new)))
    return result + gas.search_cost(meter.schedule, len(obj), len(old))


def _split(meter: Meter, obj: Any, args: Args) -> int:
    sep = args[0]
    pieces = gas.scan_cost(meter.schedule, len(obj) + 1)
    if sep is None:
        return pieces
    return pieces + gas.search_cost(meter.schedule, len(obj), len(_text_arg(obj, sep, "sep")))


def _join(meter: Meter, obj: Any, args: Args) -> int:
    parts = args[0]
    if type(parts) not in (list, tuple):
        raise VmTypeError("join() takes a list or tuple")
    total = len(obj) * len(parts) + sum(len(p) for p in parts if isinstance(p, str | bytes))
    return gas.scan_cost(meter.schedule, len(parts) + byte_words(total))


def _utf8(meter: Meter, obj: Any, args: Args) -> int:
    if args[0] not in ("utf-8", "utf8"):
        raise VmValueError("only utf-8 is available")
    return gas.scan_cost(meter.schedule, byte_words(len(obj)))


def _index_arg(value: object) -> None:
    if type(value) is not int:
        raise VmTypeError("an index must be an int")


def _at_index(meter: Meter, obj: Any, args: Args) -> int:
    """pop(i), insert(i, x): the tail moves."""
    _index_arg(args[0])
    return _scan(meter, obj, args)


def _find_item(meter: Meter, obj: Any, args: Args) -> int:
    """index, count, remove: the item compared with each element (at most both sizes)."""
    return _units(meter, args[0], obj)


def _extend(meter: Meter, obj: Any, args: Args) -> int:
    if type(args[0]) not in (list, tuple):
        raise VmTypeError("extend() takes a list or tuple")
    return gas.scan_cost(meter.schedule, len(args[0]))


def _dict_key(meter: Meter, obj: Any, args: Args) -> int:
    gas.charge_key(meter, args[0])
    return 0


def _update(meter: Meter, obj: Any, args: Args) -> int:
    other = args[0]
    if type(other) is not dict:
        raise VmTypeError("update() takes a dict")
    # Its keys carry their hashes; a key already here is compared with the one there.
    return gas.scan_cost(meter.schedule, len(other)) + _units(meter, other.keys())


def _to_bytes(meter: Meter, obj: Any, args: Args) -> int:
    length, byteorder = args
    if type(length) is not int or length < 0:
        raise VmValueError("to_bytes() length must be an int >= 0")
    if byteorder not in ("big", "little"):
        raise VmValueError("to_bytes() byteorder must be 'big' or 'little'")
    return gas.scan_cost(meter.schedule, gas.int_words(obj) + byte_words(length))


def _decimal(meter: Meter, obj: Any, args: Args) -> int:
    for arg in args:
        if type(arg) not in (Decimal, int, bool):
            raise VmTypeError("Decimal methods take Decimals or ints")
    return gas.decimal_cost(meter.schedule, obj, *args)


_NONE = ()
_SUB = (("sub", _REQUIRED), ("start", None), ("end", None))
_TEXT: dict[str, Method] = {
    "lower": Method(_NONE, _scan),
    "upper": Method(_NONE, _scan),
    "isdigit": Method(_NONE, _scan),
    "isalpha": Method(_NONE, _scan),
    "isalnum": Method(_NONE, _scan),
    "strip": Method((("chars", None),), _strip),
    "lstrip": Method((("chars", None),), _strip),
    "rstrip": Method((("chars", None),), _strip),
    "startswith": Method((("prefix", _REQUIRED), ("start", None), ("end", None)), _affix),
    "endswith": Method((("suffix", _REQUIRED), ("start", None), ("end", None)), _affix),
    "find": Method(_SUB, _search),
    "count": Method(_SUB, _search),
    "replace": Method((("old", _REQUIRED), ("new", _REQUIRED), ("count", -1)), _replace),
    "split": Method((("sep", None), ("maxsplit", -1)), _split),
    "join": Method((("iterable", _REQUIRED),), _join),
    "encode": Method((("encoding", "utf-8"),), _utf8),
    "decode": Method((("encoding", "utf-8"),), _utf8),
    "hex": Method(_NONE, _scan),
}
_STR_ONLY = frozenset({"lower", "upper", "isalpha", "isalnum", "isdigit", "encode", "split"})
_BYTES_ONLY = frozenset({"decode", "hex"})
_FIND_ITEM = (("value", _REQUIRED),)

METHODS: dict[type, dict[str, Method]] = {
    str: {k: v for k, v in _TEXT.items() if k not in _BYTES_ONLY},
    bytes: {k: v for k, v in _TEXT.items() if k not in _STR_ONLY},
    list: {
        "append": Method((("object", _REQUIRED),), _constant),
        "pop": Method((("index", -1),), _at_index),
        "insert": Method((("index", _REQUIRED), ("object", _REQUIRED)), _at_index),
        "index": Method(_FIND_ITEM, _find_item),
        "count": Method(_FIND_ITEM, _find_item),
        "remove": Method(_FIND_ITEM, _find_item),
        "copy": Method(_NONE, _scan),
        "reverse": Method(_NONE, _scan),
        "clear": Method(_NONE, _scan),
        "extend": Method((("iterable", _REQUIRED),), _extend),
        # sort: see `call_method` (keys are computed through the metered call first)
    },
    dict: {
        "get": Method((("key", _REQUIRED), ("default", None)), _dict_key),
        "pop": Method((("key", _REQUIRED), ("default", _REQUIRED)), _dict_key),
        "setdefault": Method((("key", _REQUIRED), ("default", None)), _dict_key),
        "keys": Method(_NONE, _constant),
        "values": Method(_NONE, _constant),
        "items": Method(_NONE, _constant),
        "copy": Method(_NONE, _scan),
        "clear": Method(_NONE, _scan),
        "update": Method((("other", _REQUIRED),), _update),
    },
    tuple: {"index": Method(_FIND_ITEM, _find_item), "count": Method(_FIND_ITEM, _find_item)},
    int: {
        "bit_length": Method(_NONE, _constant),
        "to_bytes": Method((("length", 1), ("byteorder", "big")), _to_bytes, ("signed",)),
    },
    bool: {"bit_length": Method(_NONE, _constant)},
    Decimal: {
        "quantize": Method((("exp", _REQUIRED),), _decimal),
        "to_integral": Method(_NONE, _decimal),
    },
}
# The pinned context is passed explicitly; the thread's context never matters.
_DECIMAL_NATIVE: dict[str, Callable[..., Any]] = {
    "quantize": lambda d, exp: d.quantize(exp, context=DECIMAL_CONTEXT),
    "to_integral": lambda d: d.to_integral_value(context=DECIMAL_CONTEXT),
}


def _bind(kind: type, name: str, method: Method, args: Args, kwargs: dict[str, Any]) -> Args:
    """The positional arguments for `method`, keywords placed by name, defaults filled; a
    missing, extra or unknown argument is a `TypeError` naming the method."""
    params = method.params
    if not kwargs and len(args) == len(params):
        return args
    where = f"{kind.__name__}.{name}()"
    if len(args) > len(params):
        raise VmTypeError(f"{where} takes at most {len(params)} arguments")
    bound = list(args)
    for param, default in params[len(args) :]:
        if param in kwargs:
            bound.append(kwargs.pop(param))
        elif default is _REQUIRED:
            if name == "pop" and kind is dict:
                break  # dict.pop(key) without a default: a KeyError when missing
            raise VmTypeError(f"{where} needs the argument {param!r}")
        else:
            bound.append(default)
    unknown = [k for k in kwargs if k not in method.keyword_only]
    if unknown:
        raise VmTypeError(f"{where} takes no argument {unknown[0]!r}")
    return tuple(bound)


def call_method(meter: Meter, call: Callable[..., Any], obj: Any, name: str, args: Args,
                kwargs: dict[str, Any]) -> Any:  # fmt: skip
    """`obj.name(*args, **kwargs)` for a contract: bound, priced, then run natively."""
    kind = type(obj)
    if kind is list and name == "sort":
        return _sort(meter, call, obj, args, kwargs)
    method = METHODS.get(kind, {}).get(name)
    if method is None:
        raise VmAttributeError(f"{kind.__name__} has no method {name!r} for contracts")
    if kwargs:
        kwargs = dict(kwargs)
    bound = _bind(kind, name, method, args, kwargs)
    meter.charge(method.cost(meter, obj, bound))
    if kind is Decimal:
        return _DECIMAL_NATIVE[name](obj, *bound)
    if name in ("encode", "decode"):
        return getattr(obj, name)()
    return getattr(obj, name)(*bound, **kwargs)


def _sort(meter: Meter, call: Callable[..., Any], obj: list[Any], args: Args,
          kwargs: dict[str, Any]) -> None:  # fmt: skip
    if args or set(kwargs) - {"key", "reverse"}:
        raise VmTypeError("list.sort() takes only key= and reverse=")
    items = list(obj)
    meter.charge(gas.scan_cost(meter.schedule, len(items)))
    ordered = sort_items(meter, call, items, kwargs.get("key"), kwargs.get("reverse", False))
    if len(obj) != len(items) or any(a is not b for a, b in zip(obj, items, strict=True)):
        raise VmValueError("list modified during sort")  # by a key function
    obj[:] = ordered
