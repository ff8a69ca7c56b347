"""JSON-RPC 2.0 framing and the retry policy, without I/O: both clients share it.

An operation is a generator (`Flow`) that yields `Call`s (one JSON-RPC request) and
`Sleep`s, and returns its result. A driver (`Client` over `http.client`, `AsyncClient` with
httpx.AsyncClient on trio) performs each step: it sends back a call's result, or throws the
call's `NodeError` into the flow, which may catch it (`wait_for` treats NOT_FOUND as "not
yet"). So each operation is written once, and the two clients differ only in how they wait.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import orjson

from ccoin.client.errors import BadResponse, NodeError

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:26700"
RPC_PATH = "/rpc"
JSON_HEADERS = {"content-type": "application/json"}
MAX_BACKOFF = 10.0

log = logging.getLogger("ccoin.client")


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step: TypeAlias = Call | Sleep
Flow: TypeAlias = Generator[Step, Any, T]


@dataclass(frozen=True)
class ChainInfo:
    """What a client needs to sign for a network; fixed for the network's life, so cached."""

    network_id: bytes
    chain_name: str
    genesis_time: int
    block_time_ms: int

    @classmethod
    def from_status(cls, status: Any, url: str) -> ChainInfo:
        try:
            network_id = bytes.fromhex(status["networkId"])
            info = cls(
                network_id, status["chainName"], status["genesisTime"], status["blockTimeMs"]
            )
        except (TypeError, KeyError, ValueError) as exc:
            raise BadResponse(
                url, f"ccoin_status without a valid chain description ({exc!r})"
            ) from None
        if (
            len(network_id) != 32
            or type(info.chain_name) is not str
            or type(info.genesis_time) is not int
            or type(info.block_time_ms) is not int
        ):
            raise BadResponse(url, "ccoin_status: malformed networkId, genesisTime or blockTimeMs")
        return info


@dataclass
class Session:
    """One client's connection facts: its node's URL, what it cached about the chain, and
    its request ids."""

    url: str
    chain: ChainInfo | None = None
    min_fees: dict[int, int] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def base_url(url: str) -> str:
    """The node's base URL: `host:port` gets `http://`; a trailing `/rpc` or `/` goes."""
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    scheme, _, rest = text.partition("://")
    if scheme not in ("http", "https") or not rest:
        raise ValueError(f"node URL {url!r}: expected http://host:port")
    if text.endswith(RPC_PATH):
        text = text[: -len(RPC_PATH)]
    return text


def request_body(request_id: int, call: Call) -> bytes:
    return orjson.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": call.method, "params": call.params}
    )


def parse_answer(url: str, request_id: int, status_code: int, body: bytes) -> Any:
    """The `result` of a JSON-RPC answer, or raise its error as a `NodeError`."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadResponse(url, f"HTTP {status_code}, not JSON: {body[:80]!r}") from None
    if type(answer) is not dict or answer.get("jsonrpc") != "2.0":
        raise BadResponse(url, f"HTTP {status_code}, not a JSON-RPC 2.0 answer")
    if "error" in answer:  # id may be null: a refusal of the whole request (size, rate)
        raise NodeError.from_rpc(answer["error"])
    if answer.get("id") != request_id or "result" not in answer:
        raise BadResponse(url, "the answer does not match the request")
    return answer["result"]


def retry_delay(exc: NodeError, attempt: int, retries: int, backoff: float) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None to give up. Only errors the
    node marks retryable (load, not validity) are retried, and only `retries` times; each
    retry is logged."""
    if not exc.retryable or attempt > retries:
        exc.attempts = attempt
        return None
    delay: float = min(MAX_BACKOFF, backoff * 2.0 ** (attempt - 1))
    log.warning(
        "rpc_retry code=%s attempt=%d of=%d delay=%.2f", exc.name, attempt, retries + 1, delay
    )
    return delay
