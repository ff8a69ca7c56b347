"""The ASGI application: routes, the REST view, error mapping and limits.

JSON-RPC answers use HTTP 200 whatever the method's outcome (as JSON-RPC over HTTP
does), except when the request as a whole is refused before any method runs: 413 for an
oversized body, 429 for a client over its rate. REST answers use HTTP statuses: 400 bad
input, 404 not found, 413 (body or batch too large), 415 (a body of the wrong content type),
429, 503 retryable load, 500 a bug. Every error body carries the stable code, its name, a
message and whether a retry can help. `POST /v1/transactions` is the one REST write: a
msgpack array of canonical transaction bytes, answered as `ccoin_sendRawTransactions` is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from ccoin.errors import CcoinError, ErrorCode, RpcError
from ccoin.node.log import event
from ccoin.rpc.contract_methods import contract_json
from ccoin.rpc.json_text import json_bytes
from ccoin.rpc.jsonrpc import Dispatcher, bind, error_response, parse_body
from ccoin.rpc.limits import RateLimiter, read_limited
from ccoin.rpc.methods import METHODS, Api, submission_json
from ccoin.rpc.openapi import openapi_document
from ccoin.rpc.table import Method
from ccoin.rpc.ws import Connection
from ccoin.types.codec import unpack_canonical

if TYPE_CHECKING:
    from ccoin.node.config import RpcConfig
    from ccoin.node.service import Node

JSON = "application/json"
# The names msgpack goes by: the registered one, and the two in common use.
MSGPACK = frozenset({"application/msgpack", "application/vnd.msgpack", "application/x-msgpack"})
_HTTP_STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.MODULE_NOT_ENABLED: 404,
    ErrorCode.RPC_BODY_TOO_LARGE: 413,
    ErrorCode.RPC_BATCH_TOO_LARGE: 413,
    ErrorCode.RPC_UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RPC_RATE_LIMITED: 429,
    ErrorCode.RPC_BUSY: 503,
    ErrorCode.POOL_FULL: 503,
    ErrorCode.RPC_INTERNAL: 500,
}
# JSON-RPC answers are 200 unless the request as a whole is refused before any method runs.
_RPC_HTTP_STATUS = {ErrorCode.RPC_BODY_TOO_LARGE: 413, ErrorCode.RPC_RATE_LIMITED: 429}


def json_response(value: Any, status: int = 200) -> Response:
    return Response(json_bytes(value), status_code=status, media_type=JSON)


def rest_error(exc: CcoinError) -> Response:
    return json_response({"error": exc.to_json()}, _HTTP_STATUS.get(exc.code, 400))


def client_of(scope_client: Any) -> str:
    return scope_client[0] if scope_client else "unknown"


class RpcApp:
    def __init__(self, node: Node, config: RpcConfig) -> None:
        self.node = node
        self.config = config
        self.api = Api(node, config)
        metrics = node.metrics.rpc_requests
        self.dispatcher = Dispatcher(self.api, lambda m, o: metrics.labels(m, o).inc())
        self.limiter = RateLimiter(config.rate_per_second, config.rate_burst, trio.current_time)
        self.websockets = 0
        self.openapi = orjson.dumps(openapi_document())
        rest = [
            ("/v1/status", self._status),
            ("/v1/transactions/{id}", self._transaction),
            ("/v1/blocks/{block}", self._block),
            ("/v1/accounts/{address}", self._account),
            ("/v1/accounts/{address}/votes", self._votes),
            ("/v1/delegates", self._delegates),
            ("/v1/fees/{type}", self._fee),
            ("/v1/contracts/{address}", self._contract),
        ]
        routes: list[Any] = [Route("/rpc", self.rpc, methods=["POST"])]
        routes += [Route(path, self._rest(fn), methods=["GET"]) for path, fn in rest]
        routes += [  # the modules' reads: each method with a route
            Route(m.rest.path, self._rest(self._method_route(m), m.name), methods=["GET"])
            for m in METHODS.values()
            if m.rest is not None
        ]
        routes += [Route("/v1/transactions", self._rest(self._submit), methods=["POST"])]
        routes += [
            Route("/openapi.json", self.openapi_json, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            WebSocketRoute("/ws", self.websocket),
        ]
        self.app = Starlette(routes=routes)

    # -- JSON-RPC -------------------------------------------------------------------------

    async def rpc(self, request: Request) -> Response:
        try:
            self.limiter.take(client_of(request.client))
            body = await read_limited(
                request.stream(), request.headers.get("content-length"), self.config.max_body_bytes
            )
            payload = parse_body(body)
        except RpcError as exc:
            self.node.metrics.rpc_requests.labels("http", exc.code.name).inc()
            return json_response(error_response(None, exc), _RPC_HTTP_STATUS.get(exc.code, 200))
        answer = await self.dispatcher.handle(payload)
        if answer is None:
            return Response(status_code=204)
        return json_response(answer)

    # -- REST -----------------------------------------------------------------------------

    def _rest(
        self, fn: Callable[[Request], Awaitable[Any]], name: str | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        name = name or fn.__name__.lstrip("_")

        async def endpoint(request: Request) -> Response:
            try:
                self.limiter.take(client_of(request.client))
                body = json_bytes(await fn(request))  # in here: what cannot be written is a 500
            except CcoinError as exc:
                self.node.metrics.rpc_requests.labels(f"rest_{name}", exc.code.name).inc()
                return rest_error(exc)
            except Exception as exc:
                event("rpc_internal_error", route=name, error=repr(exc)[:200])
                return rest_error(RpcError(ErrorCode.RPC_INTERNAL, "internal error"))
            self.node.metrics.rpc_requests.labels(f"rest_{name}", "ok").inc()
            return Response(body, media_type=JSON)

        return endpoint

    def _method_route(self, method: Method) -> Callable[[Request], Awaitable[Any]]:
        """A method's GET route: its parameters from the path and the query string."""
        params = {p.name: p for p in method.params}

        async def call(request: Request) -> Any:
            if method.requires is not None:
                method.requires(self.api)
            given: dict[str, Any] = {}
            for source in (request.path_params, request.query_params):
                for name, text in source.items():
                    param = params.get(name)
                    if param is None:
                        taken = ", ".join(params) or "none"
                        raise RpcError(
                            ErrorCode.RPC_INVALID_PARAMS,
                            f"unknown query parameter {name[:64]!r}; this route takes {taken}",
                        )
                    given[name] = _int_text(text, name) if param.integer else text
            return await method.handler(self.api, bind(method, given))

        return call

    async def _status(self, request: Request) -> Any:
        return self.api.status()

    async def _submit(self, request: Request) -> Any:
        """Canonical transaction bytes in a msgpack array: the binary submission path."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in MSGPACK:
            raise RpcError(
                ErrorCode.RPC_UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type {media or '(none)'}: this route takes application/msgpack, "
                "an array of canonical transaction bytes (JSON goes to /rpc)",
            )
        body = await read_limited(
            request.stream(), request.headers.get("content-length"), self.config.max_body_bytes
        )
        entries = unpack_canonical(body, max_size=self.config.max_body_bytes, what="request body")
        return submission_json(await self.api.submit_bytes(entries))

    async def _transaction(self, request: Request) -> Any:
        return self.api.transaction(request.path_params["id"])

    async def _block(self, request: Request) -> Any:
        which: Any = request.path_params["block"]
        if _is_decimal(which) and len(which) <= 19:
            which = int(which)
        return self.api.block(which, _flag(request, "transactions"))

    async def _account(self, request: Request) -> Any:
        return self.api.account(request.path_params["address"])

    async def _votes(self, request: Request) -> Any:
        return self.api.votes(request.path_params["address"], _int(request, "limit", 100))

    async def _delegates(self, request: Request) -> Any:
        return self.api.delegates()

    async def _fee(self, request: Request) -> Any:
        return self.api.estimate_fee(
            _int_text(request.path_params["type"], "type"), _int(request, "size", 200)
        )

    async def _contract(self, request: Request) -> Any:
        code = request.query_params.get("code", "false")
        if code not in ("true", "false"):
            raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "code: true or false")
        return contract_json(self.api, request.path_params["address"], code == "true")

    # -- the rest -------------------------------------------------------------------------

    async def openapi_json(self, request: Request) -> Response:
        return Response(self.openapi, media_type=JSON)

    async def metrics(self, request: Request) -> Response:
        return Response(
            self.node.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def websocket(self, socket: WebSocket) -> None:
        if self.websockets >= self.config.max_websockets:
            await socket.close(code=1013, reason="too many connections; retry later")
            return
        await socket.accept()
        self.websockets += 1
        try:
            client = client_of(socket.client)
            await Connection(socket, self.dispatcher, self.limiter, client).run()
        finally:
            self.websockets -= 1


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false")
    if value not in ("true", "false"):
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"{name}: true or false")
    return value == "true"


def _is_decimal(value: str) -> bool:
    # str.isdigit() is also true for "²" (int() refuses it) and "١" (int() reads it as 1)
    return value.isascii() and value.isdigit()


def _int_text(value: str, name: str) -> int:
    if not _is_decimal(value) or len(value) > 19:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"{name}: a non-negative integer")
    return int(value)


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    return default if value is None else _int_text(value, name)
