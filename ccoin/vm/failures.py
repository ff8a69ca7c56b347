"""How a failed call is described in its receipt: the same text on every node.

A receipt is state, so its error may hold nothing that depends on the process: no repr of a
runtime object (a function's repr carries its memory address), and no native error
message, which CPython builds from reprs of the values involved (`[1].index(f)` says
`<function f at 0x7f...> is not in list`; a `KeyError` holds the key itself, of any size).
`describe(exc)` writes one of:

- `ContractError: <message>` or `<Type>: <message>` for an exception contract code raised
  with a str message of its own (`require(ok, "...")`, `raise ValueError("...")`), as it
  wrote it (no message when it gave something else);
- `<Type>: <message> (line N)` for a refusal the runtime wrote (`Refusal`: the messages name
  types, limits and the contract's own names only), N the line of the contract being run;
- `<Type>: <canonical text> (line N)` for any error Python raised natively: the type's
  fixed text from `CANONICAL`, never the native message;
- `OutOfGas: ...`, `CallDepthExceeded: ...`: the meter's own words.

Types are named by their builtin name (a `Refusal` that is a `TypeError` reads
`TypeError`). Every description is cut to `MAX_ERROR` characters.

Pure: the standard library only.
"""

from __future__ import annotations

from types import TracebackType

MAX_ERROR = 1024
CONTRACT_FILENAME = "<contract>"


class ContractError(Exception):
    """Raised by contract code (`require`, `raise ContractError(...)`); it reverts the call."""


class Refusal(Exception):
    """Mixin of the errors the runtime raises with a message of its own."""


class Raised(Exception):
    """Mixin of the catchable errors contract code makes (`raise ValueError("...")`)."""


class VmTypeError(Refusal, TypeError):
    pass


class VmValueError(Refusal, ValueError):
    pass


class VmOverflowError(Refusal, OverflowError):
    pass


class VmKeyError(Refusal, KeyError):
    pass


class VmIndexError(Refusal, IndexError):
    pass


class VmAttributeError(Refusal, AttributeError):
    pass


class RaisedValueError(Raised, ValueError):
    pass


class RaisedKeyError(Raised, KeyError):
    pass


class RaisedIndexError(Raised, IndexError):
    pass


class RaisedZeroDivisionError(Raised, ZeroDivisionError):
    pass


class RaisedTypeError(Raised, TypeError):
    pass


RAISED: dict[type[Exception], type[Exception]] = {
    ValueError: RaisedValueError,
    KeyError: RaisedKeyError,
    IndexError: RaisedIndexError,
    ZeroDivisionError: RaisedZeroDivisionError,
    TypeError: RaisedTypeError,
}
"""The class a contract's `ValueError(...)` & co. really make: the same to `except`, but
known to carry the contract's own message."""

CANONICAL = {
    "ArithmeticError": "arithmetic error",
    "AttributeError": "no such attribute",
    "DivisionByZero": "Decimal division by zero",
    "IndexError": "index out of range",
    "InvalidOperation": "invalid Decimal operation",
    "KeyError": "key not found",
    "NameError": "name not defined",
    "Overflow": "Decimal overflow",
    "OverflowError": "number too large",
    "RuntimeError": "a container changed while it was iterated",
    "TypeError": "wrong type of operand or argument",
    "UnboundLocalError": "local name used before it was assigned",
    "UnicodeDecodeError": "bytes are not valid UTF-8",
    "UnicodeEncodeError": "text cannot be encoded",
    "ValueError": "invalid value",
    "ZeroDivisionError": "division by zero",
}
"""What a native error says in a receipt, by type name; any other type: "failed"."""


def type_name(exc: BaseException) -> str:
    """The name a receipt gives an exception's type: our mixin subclasses read as the
    builtin they extend."""
    for cls in type(exc).__mro__:
        if not issubclass(cls, Refusal | Raised):
            return cls.__name__
    return "Error"  # unreachable: every exception class has a non-mixin base


def _own_message(exc: BaseException) -> str | None:
    args = exc.args
    if len(args) == 1 and type(args[0]) is str:
        return args[0][:MAX_ERROR]
    return None


def contract_line(tb: TracebackType | None) -> int | None:
    """The line of the innermost contract frame a traceback passes through."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CONTRACT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe(exc: BaseException) -> str:
    """The receipt's text for a failed call (see the module docstring)."""
    name = type_name(exc)
    if isinstance(exc, ContractError | Raised):
        message = _own_message(exc)
        return (name if message is None else f"{name}: {message}")[:MAX_ERROR]
    if isinstance(exc, Refusal):
        text = f"{name}: {_own_message(exc) or CANONICAL.get(name, 'failed')}"
    elif not isinstance(exc, Exception):  # the meter's VmAbort: its words are its own
        return f"{name}: {_own_message(exc) or ''}"[:MAX_ERROR]
    else:
        text = f"{name}: {CANONICAL.get(name, 'failed')}"
    line = contract_line(exc.__traceback__)
    return (text if line is None else f"{text} (line {line})")[:MAX_ERROR]
