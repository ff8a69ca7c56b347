"""A WebSocket client that speaks ASGI to the app directly, in the test's own trio run.

httpx-ws's ASGI transport enters a cancel scope in one task and leaves it in another, which
trio refuses ("Nursery stack corrupted"); this client is the same few ASGI messages with
trio channels, so the app runs under the test's `MockClock` like everything else.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import orjson
import trio

from ccoin.node.service import Node
from ccoin.rpc.app import RpcApp
from ccoin.testing.waits import within_blocks

Message = dict[str, Any]
# A frame the test waits for must come before the node grows by this many blocks (mock
# time is no bound: it races ahead while worker threads run).
RECEIVE_BLOCKS = 20


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class AsgiWebSocket:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._to_app_in, self._to_app = trio.open_memory_channel[Message](math.inf)
        self._from_app_in, self._from_app = trio.open_memory_channel[Message](math.inf)
        self.pending: list[Any] = []  # subscription notifications read while awaiting answers
        self.done = trio.Event()  # the app's handler returned

    async def _run(self, app: RpcApp, scope: Message) -> None:
        try:
            await app.app(scope, self._app_receive, self._app_send)
        finally:
            self.done.set()

    async def _app_receive(self) -> Message:
        return await self._to_app.receive()

    async def _app_send(self, message: MutableMapping[str, Any]) -> None:
        await self._from_app_in.send(dict(message))

    async def send_json(self, value: Any) -> None:
        await self.send_text(orjson.dumps(value).decode())

    async def send_text(self, text: str) -> None:
        await self._to_app_in.send({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app_in.send({"type": "websocket.receive", "bytes": data})

    async def receive(self) -> Message:
        return await within_blocks(self.node, RECEIVE_BLOCKS, self._from_app.receive)

    async def receive_json(self) -> Any:
        message = await self.receive()
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason", ""))
        assert message["type"] == "websocket.send", message
        text = message.get("text")
        return orjson.loads(text if text is not None else message["bytes"])

    async def request(self, rid: Any, method: str, params: Any = None) -> Any:
        """Send a call and return its answer; notifications that arrive first are kept in
        `pending` for the test to read."""
        call: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            call["params"] = params
        await self.send_json(call)
        while True:
            message = await self.receive_json()
            if message.get("method") == "ccoin_subscription":
                self.pending.append(message)
                continue
            assert message["id"] == rid, message
            return message


def websocket_scope(path: str = "/ws", client: tuple[str, int] = ("10.0.0.2", 5000)) -> Message:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"ccoin.test")],
        "client": client,
        "server": ("ccoin.test", 80),
        "subprotocols": [],
    }


@contextlib.asynccontextmanager
async def open_websocket(
    app: RpcApp, client: tuple[str, int] = ("10.0.0.2", 5000)
) -> AsyncIterator[AsgiWebSocket]:
    """Connect, expect the accept, yield; on exit disconnect and wait for the app to end."""
    ws = AsgiWebSocket(app.node)
    refused: Closed | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws._run, app, websocket_scope(client=client))
        await ws._to_app_in.send({"type": "websocket.connect"})
        first = await ws.receive()
        if first["type"] == "websocket.close":  # raised below, outside the nursery
            refused = Closed(first.get("code", 1000), first.get("reason", ""))
            await within_blocks(app.node, RECEIVE_BLOCKS, ws.done.wait)
        else:
            assert first["type"] == "websocket.accept", first
            yield ws
            await ws._to_app_in.send({"type": "websocket.disconnect", "code": 1000})
            await within_blocks(app.node, RECEIVE_BLOCKS, ws.done.wait)
    if refused is not None:
        raise refused
