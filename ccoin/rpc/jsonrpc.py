"""JSON-RPC 2.0: parse a body into requests, bind parameters, run methods, shape answers.

A valid Request object has `"jsonrpc": "2.0"`, a string `method`, and if present an `id`
that is a string (<= 256 chars), an integer or null, and nothing else. Anything else is
`RPC_INVALID_REQUEST`, answered with its id when that id is valid and null otherwise, even
when it has no `id`: only a valid Request without an `id` is a notification, which runs and
gets no answer. Parameters come by name (an object) or by position (an array in the
documented order). A structural problem (not an array or an object, an unknown or missing
parameter, too many) is `RPC_INVALID_PARAMS`; a value of the wrong type or form keeps its
specific code (`BAD_ADDRESS`, `BAD_ID`, `WRONG_TYPE`, ...). Errors carry the stable number
as `code`, a human `message`, and `data: {name, retryable}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ccoin.errors import CcoinError, ErrorCode, RpcError
from ccoin.node.log import event
from ccoin.rpc.json_text import json_bytes
from ccoin.rpc.methods import METHODS, Api
from ccoin.rpc.table import Method

# A request id may be a string, a number or null; bound it so answers stay small.
MAX_ID_LENGTH = 256
NO_ID = object()
"""What `check_request` gives as the id of a notification (a request without one)."""
_ABSENT = object()  # no `params` member (`"params": null` is not a structured value)


def error_object(exc: CcoinError) -> dict[str, Any]:
    return {
        "code": exc.code.number,
        "message": exc.message,
        "data": {"name": exc.code.name, "retryable": exc.code.retryable},
    }


def error_response(request_id: Any, exc: CcoinError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error_object(exc)}


def parse_body(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RpcError(ErrorCode.RPC_PARSE_ERROR, f"not JSON: {exc}") from None


def bind(method: Method, params: Any) -> dict[str, Any]:
    names = [p.name for p in method.params]
    if params is _ABSENT:
        given: dict[str, Any] = {}
    elif type(params) is list:
        if len(params) > len(names):
            raise RpcError(
                ErrorCode.RPC_INVALID_PARAMS,
                f"{method.name} takes at most {len(names)} parameters ({', '.join(names)})",
            )
        given = dict(zip(names, params, strict=False))
    elif type(params) is dict:
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise RpcError(
                ErrorCode.RPC_INVALID_PARAMS,
                f"{method.name}: unknown parameter {unknown[0][:64]!r}; "
                f"it takes {', '.join(names) or 'none'}",
            )
        given = params
    else:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "params: an array or an object")
    bound = {}
    for p in method.params:
        if p.name in given:
            bound[p.name] = given[p.name]
        elif p.required:
            raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"{method.name}: missing {p.name}")
        else:
            bound[p.name] = p.default
    return bound


def _request_id(request: dict[str, Any]) -> Any:
    if "id" not in request:
        return NO_ID
    rid = request["id"]
    if rid is None or type(rid) is int or (type(rid) is str and len(rid) <= MAX_ID_LENGTH):
        return rid
    raise RpcError(ErrorCode.RPC_INVALID_REQUEST, "id: a string (<= 256 chars), integer or null")


def answer_id(request: Any) -> Any:
    """The id to answer an invalid request with: its own when valid, else null."""
    if type(request) is not dict:
        return None
    try:
        rid = _request_id(request)
    except RpcError:
        return None
    return None if rid is NO_ID else rid


def check_request(request: Any) -> tuple[Any, str]:
    """The id (`NO_ID` for a notification) and method name of a valid Request object;
    `RPC_INVALID_REQUEST` for anything else, which is never a notification."""
    if type(request) is not dict:
        raise RpcError(ErrorCode.RPC_INVALID_REQUEST, "a request is a JSON object")
    rid = _request_id(request)
    if request.get("jsonrpc") != "2.0":
        raise RpcError(ErrorCode.RPC_INVALID_REQUEST, 'jsonrpc: must be "2.0"')
    extra = set(request) - {"jsonrpc", "id", "method", "params"}
    if extra:
        raise RpcError(ErrorCode.RPC_INVALID_REQUEST, f"unknown member {sorted(extra)[0][:64]!r}")
    name = request.get("method")
    if type(name) is not str:
        raise RpcError(ErrorCode.RPC_INVALID_REQUEST, "method: a string")
    if "params" in request and type(request["params"]) not in (list, dict):
        # JSON-RPC 2.0 section 4: params, when present, is a structured value
        raise RpcError(ErrorCode.RPC_INVALID_REQUEST, "params: an array or an object")
    return rid, name


Observer = Callable[[str, str], None]  # (method, outcome) for metrics


class Dispatcher:
    def __init__(self, api: Api, observe: Observer | None = None) -> None:
        self.api = api
        self.observe = observe or (lambda _m, _o: None)

    async def handle(self, payload: Any) -> Any:
        """The answer to a parsed body: a response object, a list, or None (nothing to
        send: notifications only)."""
        if type(payload) is list:
            if not payload:
                return error_response(None, RpcError(ErrorCode.RPC_INVALID_REQUEST, "empty batch"))
            limit = self.api.config.max_batch
            if len(payload) > limit:
                return error_response(
                    None,
                    RpcError(ErrorCode.RPC_BATCH_TOO_LARGE, f"at most {limit} requests a batch"),
                )
            answers = [await self.one(item) for item in payload]
            kept = [a for a in answers if a is not None]
            return kept or None
        return await self.one(payload)

    async def one(self, request: Any) -> dict[str, Any] | None:
        name = request.get("method") if type(request) is dict else None
        # a metrics label: only known names (any other value, even unhashable, is "unknown")
        label = name if type(name) is str and name in METHODS else "unknown"
        try:
            rid, name = check_request(request)
        except RpcError as exc:
            self.observe(label, exc.code.name)
            return error_response(answer_id(request), exc)
        try:
            result = await self._run(name, request.get("params", _ABSENT))
            if rid is not NO_ID:  # written here, so what cannot be is this request's error
                result = orjson.Fragment(json_bytes(result))
        except CcoinError as exc:
            self.observe(label, exc.code.name)
            return None if rid is NO_ID else error_response(rid, exc)
        except Exception as exc:  # a bug: answer, log, keep serving
            event("rpc_internal_error", method=name[:64], error=repr(exc)[:200])
            self.observe(label, "RPC_INTERNAL")
            err = RpcError(ErrorCode.RPC_INTERNAL, "internal error; see the node's log")
            return None if rid is NO_ID else error_response(rid, err)
        self.observe(label, "ok")
        if rid is NO_ID:
            return None
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    async def _run(self, name: str, params: Any) -> Any:
        method = METHODS.get(name)
        if method is None:
            raise RpcError(ErrorCode.RPC_METHOD_NOT_FOUND, f"no method {name[:64]!r}")
        if method.requires is not None:
            method.requires(self.api)
        call: Callable[[Api, dict[str, Any]], Awaitable[Any]] = method.handler
        return await call(self.api, bind(method, params))
