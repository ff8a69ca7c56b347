"""The bytes of every JSON answer the API sends (HTTP bodies, WebSocket frames).

orjson writes them, except a value nested deeper than orjson's limit of 255 levels: a
contract value may nest about 1,000 (what msgpack decodes), so those are written by an
iterative writer here instead, with orjson for each scalar. What neither can write (a type
JSON has no form for, an int beyond 64 bits, a key that is not a string) raises `TypeError`.
`orjson.Fragment`s (JSON already written) are copied as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

_Frame = tuple[bytes, Iterator[Any]]


def json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        pass  # most often too deep; anything else fails again below with its own error
    return _write_nested(value)


def _write_nested(value: Any) -> bytes:
    out = bytearray()
    stack: list[_Frame] = []
    _open(out, stack, value)
    while stack:
        close, items = stack[-1]
        for entry in items:
            if out[-1] not in b"[{":  # a whole JSON value never ends in either
                out += b","
            if close == b"}":
                key, entry = entry
                if type(key) is not str:
                    raise TypeError(f"a JSON object key must be a string, not {type(key).__name__}")
                out += orjson.dumps(key)
                out += b":"
            if _open(out, stack, entry):
                break  # descend; this container resumes after it
        else:
            out += close
            stack.pop()
    return bytes(out)


def _open(out: bytearray, stack: list[_Frame], value: Any) -> bool:
    """Write a scalar whole, or a container's opening and push its items: True then."""
    if isinstance(value, list | tuple):
        out += b"["
        stack.append((b"]", iter(value)))
        return True
    if isinstance(value, dict):
        out += b"{"
        stack.append((b"}", iter(value.items())))
        return True
    out += orjson.dumps(value)
    return False
