"""Serve the API with Hypercorn's trio protocol inside the node's nursery (ADR 0010).

The accept loop is ours rather than `hypercorn.trio.serve`'s: Hypercorn has a read timeout
and an idle timeout but no cap on open connections, so each accepted connection first takes
a slot (`maxConnections` in all, `maxConnectionsPerClient` from one address); one over
either cap is closed at once. A stalled client (headers sent, body never finished) holds its
slot until `readTimeoutSeconds` pass without a byte from it. The process's soft limit of
open files is raised to fit `maxConnections` (or the cap lowered to what the hard limit
allows, with one warning), so connections never take the files the store needs."""

from __future__ import annotations

import functools
import logging
import math
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config
from hypercorn.events import Closed, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.ws_stream import WSStream
from hypercorn.trio.tcp_server import MAX_RECV, TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import repr_socket_addr, wrap_app
from starlette.requests import ClientDisconnect

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import event
from ccoin.rpc.app import RpcApp
from ccoin.rpc.limits import ConnectionSlots, room_for_connections

if TYPE_CHECKING:
    from ccoin.node.config import RpcConfig
    from ccoin.node.service import Node

Asgi = Any  # an ASGI application: (scope, receive, send) -> awaitable
# Connections the kernel has completed and the accept loop has not taken yet. Hypercorn's
# 100 overflows under a burst (thousands of connects at once): the kernel then drops SYNs,
# and every client, ordinary ones too, waits 1 s, 3 s, ... for its connect to be retried.
# The kernel caps it at net.core.somaxconn (4,096 by default since Linux 5.4).
LISTEN_BACKLOG = 2048


def quiet_disconnects(app: Asgi) -> Asgi:
    """A client gone mid-request is one debug line: without this Hypercorn logs Starlette's
    `ClientDisconnect` as an "Error in ASGI Framework" with its whole traceback.

    Nothing is written once the request's connection is gone or cut off (the read timeout
    ends a stalled request with the same `http.disconnect`): without this, Starlette answers
    the `ClientDisconnect` with a 500 "Internal Server Error", which Hypercorn still sends
    on a connection it is about to close for a timeout."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        gone = False

        async def receive_watched() -> Any:
            nonlocal gone
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            return message

        async def send_unless_gone(message: Any) -> None:
            if not gone:
                await send(message)

        try:
            await app(scope, receive_watched, send_unless_gone)
        except ClientDisconnect:
            client = scope.get("client") or ("", 0)
            event(
                "rpc_client_disconnected",
                logging.DEBUG,
                client=client[0],
                path=scope.get("path", ""),
            )

    return wrapped


class Connection(TCPServer):
    """Hypercorn's connection, done once its read loop ends. Hypercorn's own then still
    waits for its keep-alive timer: a client that closed after its answer (one request per
    connection, as most clients and every `ccoin` command do) left the socket in CLOSE-WAIT
    and held its slot for `idleTimeoutSeconds`, so that the 129th such call within 30 s from
    one address was refused. The loop ends at the client's EOF or reset, or when it has sent
    nothing for `readTimeoutSeconds` (Hypercorn reads nothing more from it after that)."""

    reading = True

    async def _read_data(self) -> None:
        """Hypercorn's read loop, except that a WebSocket is not held to the read timeout:
        its subscriber only listens after subscribing (ccoin_subscribe), and the timeout is
        for requests that never finish. Idle WebSockets are bounded by the connection caps."""
        while True:
            timeout = math.inf if self._carries_websocket() else self.config.read_timeout
            try:
                with trio.fail_after(timeout or math.inf):
                    data = await self.stream.receive_some(MAX_RECV)
            except (trio.ClosedResourceError, trio.BrokenResourceError, trio.TooSlowError):
                break
            await self.protocol.handle(RawData(bytes(data)))
            if data == b"":
                break
        await self.protocol.handle(Closed())
        self.reading = False
        await self.idle_task.stop()

    def _carries_websocket(self) -> bool:
        inner = getattr(self.protocol, "protocol", None)
        return isinstance(inner, H11Protocol) and isinstance(inner.stream, WSStream)

    async def _idle_timeout(self) -> None:
        if self.reading:  # not one started after the loop ended (the answer's last bytes)
            await super()._idle_timeout()


class RpcServer:
    def __init__(self, node: Node, config: RpcConfig) -> None:
        self.node = node
        self.config = config
        self.app = RpcApp(node, config)
        self.slots = ConnectionSlots(config.max_connections, config.max_connections_per_client)
        self.refused = 0  # connections closed for being over a cap

    def hypercorn_config(self) -> Config:
        cfg = Config()
        cfg.bind = [str(self.config.listen)]
        cfg.accesslog = None
        cfg.errorlog = logging.getLogger("ccoin.rpc.http")
        cfg.read_timeout = self.config.read_timeout_seconds
        cfg.keep_alive_timeout = self.config.idle_timeout_seconds
        cfg.graceful_timeout = 1
        cfg.backlog = LISTEN_BACKLOG
        cfg.websocket_max_message_size = self.config.max_body_bytes
        # An incomplete request (headers) may not grow without bound either.
        cfg.h11_max_incomplete_size = 64 * 1024
        return cfg

    @property
    def open_connections(self) -> int:
        return self.slots.open

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, report the base URL (`http://host:port`) through `task_status`, serve
        until cancelled."""
        config = self.hypercorn_config()
        try:  # bind here, so a taken port is one clear error and not a traceback
            sockets = config.create_sockets()
        except OSError as exc:
            raise ConfigError(
                ErrorCode.LISTEN_FAILED,
                f"rpc: cannot listen on {self.config.listen}: {exc.strerror}",
            ) from None
        room, files = room_for_connections(self.config.max_connections)
        if room < self.config.max_connections:
            event(
                "rpc_file_limit",
                logging.WARNING,
                files=files,
                maxConnections=self.config.max_connections,
                serving=room,
            )
            self.slots = ConnectionSlots(room, min(room, self.config.max_connections_per_client))
        sock = sockets.insecure_sockets[0]
        sock.listen(config.backlog)
        listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
        app = wrap_app(quiet_disconnects(self.app.app), config.wsgi_max_body_size, "asgi")
        context = WorkerContext(None)
        handler = functools.partial(Connection, app, config, context, ConnectionState({}))

        async def connection(stream: trio.SocketStream) -> None:
            try:
                client = str(stream.socket.getpeername()[0])
            except OSError:  # gone already
                await trio.aclose_forcefully(stream)
                return
            if not self.slots.take(client):
                self.refused += 1
                event("rpc_connection_refused", logging.DEBUG, client=client, open=self.slots.open)
                await trio.aclose_forcefully(stream)
                return
            try:
                await handler(stream)  # type: ignore[arg-type]  # plain streams too
            finally:
                self.slots.give(client)

        url = f"http://{repr_socket_addr(sock.family, sock.getsockname())}"
        async with listener, trio.open_nursery() as nursery:  # the port is free once we stop
            await nursery.start(trio.serve_listeners, connection, [listener])
            event("rpc_listening", url=url)
            task_status.started(url)
