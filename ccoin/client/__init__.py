"""A client of a node's HTTP API (`ccoin.rpc`): reads, submission, waiting, and builders
that sign and submit the common transaction types.

`Client` (blocking, httpx.Client) and `AsyncClient` (trio, httpx.AsyncClient) have the same
methods. Each operation is written once in `flows` as a generator of JSON-RPC calls and
sleeps; the two clients only perform those steps (see `protocol`). The node's refusals
arrive as `NodeError` with the `ErrorCode` of their name; transport failures as
`NodeUnreachable`; `wait_for` raises `TransactionRejected` or `WaitTimeout`.

May import `ccoin.types`, `ccoin.crypto` and `ccoin.errors`; never the node or the server.
"""

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
