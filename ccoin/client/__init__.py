"""A client of a node's HTTP API (`ccoin.rpc`): reads, submission, waiting, and builders
that sign and submit the common transaction types.

`Client` (blocking, over `http.client`) and `AsyncClient` (trio, httpx.AsyncClient) have the
same methods. Each operation is written once in `flows` as a generator of JSON-RPC calls and
sleeps; the two clients only perform those steps (see `protocol`). The node's refusals
arrive as `NodeError` with the `ErrorCode` of their name; transport failures as
`NodeUnreachable`; `wait_for` raises `TransactionRejected` or `WaitTimeout`. Each client's `carbon`
(`ccoin.client.carbon`) holds the carbon module's reads and transaction builders.

May import `ccoin.types`, `ccoin.crypto` and `ccoin.errors`; never the node or the server.
Names are imported from their modules when first used, so the blocking client (the CLI's)
never loads trio or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccoin.client.async_client import AsyncClient
    from ccoin.client.errors import (
        BadResponse,
        ClientError,
        NodeError,
        NodeUnreachable,
        TransactionRejected,
        WaitTimeout,
    )
    from ccoin.client.flows import SubmitResult
    from ccoin.client.protocol import DEFAULT_URL, ChainInfo
    from ccoin.client.sync import Client

_HOMES = {
    "AsyncClient": "async_client",
    "BadResponse": "errors",
    "ChainInfo": "protocol",
    "Client": "sync",
    "ClientError": "errors",
    "DEFAULT_URL": "protocol",
    "NodeError": "errors",
    "NodeUnreachable": "errors",
    "SubmitResult": "flows",
    "TransactionRejected": "errors",
    "WaitTimeout": "errors",
}

__all__ = [
    "DEFAULT_URL",
    "AsyncClient",
    "BadResponse",
    "ChainInfo",
    "Client",
    "ClientError",
    "NodeError",
    "NodeUnreachable",
    "SubmitResult",
    "TransactionRejected",
    "WaitTimeout",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ccoin.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ccoin.client.{home}"), name)
    globals()[name] = value
    return value
