"""The node's HTTP API: JSON-RPC 2.0 at `/rpc`, a REST view of the reads under `/v1/`, the
OpenAPI document, WebSocket subscriptions at `/ws` and Prometheus metrics at `/metrics`.

Owns request parsing, limits (body size, batch size, per-client rate, verification
backlog) and the mapping of typed errors to stable codes. It reads the node (chain, pool,
consensus) and submits through `Node.submit`; it never changes state another way. It may
import `ccoin.types`, `ccoin.errors`, `ccoin.crypto`, `ccoin.node` (for types only at
import time: the node starts the server) and, of the contract runner, `WorkerFault` (a
view's sandbox fault, answered as `SANDBOX_FAULT`).
"""
