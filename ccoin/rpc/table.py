"""The shape of an API table: JSON-RPC methods (each with its REST route, when it has one)
and WebSocket topics. `ccoin.rpc.methods` holds the node's own table and mounts each
module's (`Module.rpc` names an `RpcTable`), so a module declares its API here without
importing the server back.

May import nothing of the node: a module's table is plain data and functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = _REQUIRED
    # REST only: the route's path or query text is read as a non-negative decimal integer
    # (JSON-RPC callers send a number). Any other parameter is passed on as its text.
    integer: bool = False
    doc: str = ""  # what the OpenAPI document says of it as a REST parameter

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


# (the API as the server sees it, the bound parameters) -> a JSON-ready result
Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Rest:
    """A method's GET route: `path` under `/v1`, its `{name}` segments named as the
    method's parameters (the other parameters come from the query string), and what the
    OpenAPI document says of it."""

    path: str
    summary: str
    schema: dict[str, Any]  # the JSON schema of the 200 answer


@dataclass(frozen=True)
class Method:
    name: str
    params: tuple[Param, ...]
    handler: Handler
    rest: Rest | None = None
    # Checked before the parameters are bound (raises to refuse the call): set by the
    # mounting for a module's methods, which a network without the module refuses whole.
    requires: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Topic:
    """A WebSocket topic: `events(chain, height)` gives one notification result per event
    of block `height`, for each block that joins the head chain (`on="head"`, as
    `newBlocks` sees them, a fork switch's branch again) or becomes final
    (`on="finalized"`)."""

    name: str
    on: str  # "head" or "finalized"
    events: Callable[[Any, int], list[Any]]
    summary: str = ""


@dataclass(frozen=True)
class RpcTable:
    methods: tuple[Method, ...]
    topics: tuple[Topic, ...] = ()
