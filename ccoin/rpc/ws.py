"""WebSocket subscriptions at `/ws` (JSON-RPC 2.0 over text frames; a binary frame holding
JSON is read the same way).

    -> {"jsonrpc": "2.0", "id": 1, "method": "ccoin_subscribe", "params": ["newBlocks"]}
    <- {"jsonrpc": "2.0", "id": 1, "result": "s1"}
    <- {"jsonrpc": "2.0", "method": "ccoin_subscription",
        "params": {"subscription": "s1", "topic": "newBlocks", "result": {<header>}}}

Topics: `newBlocks` (every block that becomes part of the head chain, in height order,
again after a fork switch), `finalizedBlocks` (every newly finalized block), and
`transaction` with a transaction id (its status now and at every change; the
subscription ends itself at `finalized` or `rejected`). The block topics take an optional
second param, `{"transactionIds": true}`: each pushed header then also carries
`"transactionIds"`, the block's transaction ids in block order (as `ccoin_getBlock` without
transactions answers), so a follower needs no `ccoin_getBlock` per block; that object may
hold no other key. A module's topics (`ccoin.rpc.table.Topic`: the carbon module's `carbon`
and `carbonRetirements`) take no other param and push one notification per event of each
block that joins the head chain or becomes final, as the block topics see those blocks;
on a network without the module they are refused with MODULE_NOT_ENABLED.
`ccoin_unsubscribe` takes a subscription id. Any other method is an ordinary JSON-RPC
call. One connection's work runs
in its own tasks: a client that stops reading is closed after `SEND_TIMEOUT` seconds and
never slows the node.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio
from starlette.websockets import WebSocket, WebSocketDisconnect

from ccoin.crypto.address import id_raw
from ccoin.errors import CcoinError, DecodeError, ErrorCode, RpcError
from ccoin.node.tx_status import Status
from ccoin.rpc.json_text import json_bytes
from ccoin.rpc.jsonrpc import (
    NO_ID,
    Dispatcher,
    answer_id,
    check_request,
    error_response,
    parse_body,
)
from ccoin.rpc.methods import MODULE_TOPICS, require_enabled

if TYPE_CHECKING:
    from ccoin.rpc.limits import RateLimiter

SEND_TIMEOUT = 10.0
MAX_BLOCKS_PER_WAKE = 64  # a reader far behind gets the newest blocks, not the whole chain
TOPICS = ("newBlocks", "finalizedBlocks", "transaction")


@dataclass
class _Subscriptions:
    topics: dict[str, str] = field(default_factory=dict)  # id -> a block or a module topic
    with_ids: set[str] = field(default_factory=set)  # block subscriptions that want tx ids
    transactions: dict[str, tuple[str, str | None]] = field(
        default_factory=dict
    )  # id -> (tx, last)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    changed: trio.Event = field(default_factory=trio.Event)

    def __len__(self) -> int:
        return len(self.topics) + len(self.transactions)


class Connection:
    def __init__(
        self, socket: WebSocket, dispatcher: Dispatcher, limiter: RateLimiter, client: str
    ) -> None:
        self.socket = socket
        self.dispatcher = dispatcher
        self.api = dispatcher.api
        self.node = dispatcher.api.node
        self.limiter = limiter
        self.client = client
        self.subs = _Subscriptions()
        chain = self.node.chain
        self.height = chain.height
        self.head_id = chain.head.id(self.node.network_id)
        self.finalized = chain.finalized_height

    async def run(self) -> None:
        # trio wraps what leaves a nursery (its body too) in an ExceptionGroup: `except*`.
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._push_loop)
                await self._receive_loop()
                nursery.cancel_scope.cancel()
        except* (WebSocketDisconnect, trio.TooSlowError, trio.BrokenResourceError):
            pass

    async def send(self, message: Any) -> None:
        with trio.fail_after(SEND_TIMEOUT):
            await self.socket.send_text(json_bytes(message).decode())

    async def _receive_loop(self) -> None:
        limit = self.api.config.max_body_bytes
        while True:
            body = await self._receive_frame()
            try:
                self.limiter.take(self.client)
                if len(body) > limit:
                    raise RpcError(ErrorCode.RPC_BODY_TOO_LARGE, f"limit {limit} bytes")
                request = parse_body(body)
            except CcoinError as exc:
                await self.send(error_response(None, exc))
                continue
            answer = await self._answer(request)
            if answer is not None:
                await self.send(answer)

    async def _receive_frame(self) -> bytes:
        """The next message, text or binary (JSON either way), as bytes."""
        message = await self.socket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        text = message.get("text")
        if text is not None:
            return bytes(text.encode())
        return bytes(message.get("bytes") or b"")

    async def _answer(self, request: Any) -> Any:
        if type(request) is dict and request.get("method") in (
            "ccoin_subscribe",
            "ccoin_unsubscribe",
        ):
            try:
                rid, method = check_request(request)
            except CcoinError as exc:
                return error_response(answer_id(request), exc)
            if rid is NO_ID:
                return None  # a notification: nobody to tell the subscription's id, so none
            try:
                result = self._subscription_call(method, request.get("params"))
            except CcoinError as exc:
                return error_response(rid, exc)
            return {"jsonrpc": "2.0", "id": rid, "result": result}
        return await self.dispatcher.handle(request)

    def _subscription_call(self, method: str, params: Any) -> Any:
        if type(params) is not list or not params or type(params[0]) is not str:
            raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "params: [topic, ...] or [subscription]")
        if method == "ccoin_unsubscribe":
            sid = params[0]
            found = self.subs.topics.pop(sid, None) or self.subs.transactions.pop(sid, None)
            self.subs.with_ids.discard(sid)
            return found is not None
        topic = params[0]
        if topic not in TOPICS and topic not in MODULE_TOPICS:
            known = ", ".join([*TOPICS, *MODULE_TOPICS])
            raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"topic: one of {known}")
        if topic in MODULE_TOPICS:
            require_enabled(self.api, MODULE_TOPICS[topic][0])
            if len(params) != 1:
                raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f'params: ["{topic}"]')
        if len(self.subs) >= self.api.config.max_subscriptions:
            raise RpcError(
                ErrorCode.RPC_INVALID_PARAMS,
                f"at most {self.api.config.max_subscriptions} subscriptions a connection",
            )
        # Options are checked before an id is taken: a refused call changes nothing.
        with_ids = topic in ("newBlocks", "finalizedBlocks") and _block_options(topic, params[1:])
        sid = f"s{next(self.subs.ids)}"
        if topic == "transaction":
            if len(params) != 2:
                raise RpcError(ErrorCode.RPC_INVALID_PARAMS, 'params: ["transaction", id]')
            if type(params[1]) is not str:
                raise DecodeError(ErrorCode.BAD_ID, "a transaction id string")
            id_raw(params[1])  # a malformed id is refused now, not silently never matched
            self.subs.transactions[sid] = (params[1], None)
        else:
            self.subs.topics[sid] = topic
            if with_ids:
                self.subs.with_ids.add(sid)
        self.subs.changed.set()  # a transaction's current status goes out at once
        return sid

    async def _push_loop(self) -> None:
        while True:
            if not self._behind():  # the chain may have moved on while the last push sent
                async with trio.open_nursery() as wake:  # a new head, or a new subscription

                    async def first(fn: Any) -> None:
                        await fn()
                        wake.cancel_scope.cancel()

                    wake.start_soon(first, self.node.wait_for_change)
                    wake.start_soon(first, self.subs.changed.wait)
                    if self.subs.transactions:  # a watched id may have entered the pool
                        wake.start_soon(first, self.node.wait_for_admission)
            self.subs.changed = trio.Event()
            await self._push()

    def _behind(self) -> bool:
        chain = self.node.chain
        return (
            chain.finalized_height > self.finalized
            or chain.head.id(self.node.network_id) != self.head_id
        )

    async def _push(self) -> None:
        node, chain, net = self.node, self.node.chain, self.node.network_id
        # Read the chain once: it moves on while the sends below wait for the client, and
        # what it gained meanwhile is the next wake's to send.
        head_id, height, finalized = chain.head.id(net), chain.height, chain.finalized_height
        if head_id != self.head_id:
            start = self.height + 1
            ours = chain.header_at(self.height)
            if ours is None or ours.id(net) != self.head_id:  # fork switch: resend the branch
                start = min(start, finalized + 1)
            start = max(start, height - MAX_BLOCKS_PER_WAKE + 1)
            self.height, self.head_id = height, head_id
            await self._notify_blocks("newBlocks", start, height)
            await self._notify_module_topics("head", start, height)
        if finalized > self.finalized:
            start = max(self.finalized + 1, finalized - MAX_BLOCKS_PER_WAKE + 1)
            self.finalized = finalized
            await self._notify_blocks("finalizedBlocks", start, finalized)
            await self._notify_module_topics("finalized", start, finalized)
        for sid, (tx_id, last) in list(self.subs.transactions.items()):
            found = node.transaction_status(tx_id)
            status = None if found is None else found.status.value
            if status == last or found is None:
                continue
            if found.status in (Status.FINALIZED, Status.REJECTED):
                del self.subs.transactions[sid]
            else:
                self.subs.transactions[sid] = (tx_id, status)
            await self._notify(sid, "transaction", self.api.status_json(tx_id, found))

    async def _notify_blocks(self, topic: str, start: int, end: int) -> None:
        sids = [sid for sid, t in self.subs.topics.items() if t == topic]
        if not sids:
            return
        chain, net = self.node.chain, self.node.network_id
        for height in range(start, end + 1):
            header = chain.header_at(height)
            if header is None:
                return
            plain = header.to_json(net)
            with_ids = None
            for sid in sids:
                if sid in self.subs.with_ids:
                    if with_ids is None:
                        summary = chain.block_summary(height)
                        if summary is None:
                            return
                        with_ids = {**plain, "transactionIds": summary[1]}
                    await self._notify(sid, topic, with_ids)
                else:
                    await self._notify(sid, topic, plain)

    async def _notify_module_topics(self, on: str, start: int, end: int) -> None:
        """Each event of blocks `start..end`, per module topic that follows `on` (head or
        finalized) and has subscribers here, in height order."""
        for name, (_module, topic) in MODULE_TOPICS.items():
            sids = [sid for sid, t in self.subs.topics.items() if t == name]
            if topic.on != on or not sids:
                continue
            for height in range(start, end + 1):
                try:
                    results = topic.events(self.node.chain, height)
                except CcoinError:  # a fork switch removed the block while it was read:
                    return  # the next wake sends the new branch
                for result in results:
                    for sid in sids:
                        await self._notify(sid, name, result)

    async def _notify(self, sid: str, topic: str, result: Any) -> None:
        await self.send(
            {
                "jsonrpc": "2.0",
                "method": "ccoin_subscription",
                "params": {"subscription": sid, "topic": topic, "result": result},
            }
        )


def _block_options(topic: str, rest: list[Any]) -> bool:
    """Whether a block subscription's optional `{"transactionIds": bool}` asks for ids."""
    usage = f'params: ["{topic}"] or ["{topic}", {{"transactionIds": true}}]'
    if not rest:
        return False
    if len(rest) != 1 or type(rest[0]) is not dict:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, usage)
    options = rest[0]
    unknown = sorted(str(k) for k in options if k != "transactionIds")
    if unknown:
        raise RpcError(
            ErrorCode.RPC_INVALID_PARAMS,
            f"{topic} options: unknown key {', '.join(unknown)}; only transactionIds",
        )
    value = options.get("transactionIds", False)
    if type(value) is not bool:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, "transactionIds: expected a boolean")
    return value
