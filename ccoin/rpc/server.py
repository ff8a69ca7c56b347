"""Serve the API with Hypercorn's trio protocol inside the node's nursery (ADR 0010).

The accept loop is ours rather than `hypercorn.trio.serve`'s: Hypercorn has a read timeout
and an idle timeout but no cap on open connections, so each accepted connection first takes
a slot (`maxConnections` in all, `maxConnectionsPerClient` from one address); one over
either cap is closed at once. A stalled client (headers sent, body never finished) holds its
slot until `readTimeoutSeconds` pass without a byte from it."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import repr_socket_addr, wrap_app
from starlette.requests import ClientDisconnect

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import event
from ccoin.rpc.app import RpcApp
from ccoin.rpc.limits import ConnectionSlots

if TYPE_CHECKING:
    from ccoin.node.config import RpcConfig
    from ccoin.node.service import Node

Asgi = Any  # an ASGI application: (scope, receive, send) -> awaitable


def quiet_disconnects(app: Asgi) -> Asgi:
    """A client gone mid-request is one debug line: without this Hypercorn logs Starlette's
    `ClientDisconnect` as an "Error in ASGI Framework" with its whole traceback."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except ClientDisconnect:
            client = scope.get("client") or ("", 0)
            event(
                "rpc_client_disconnected",
                logging.DEBUG,
                client=client[0],
                path=scope.get("path", ""),
            )

    return wrapped


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
        sock = sockets.insecure_sockets[0]
        sock.listen(config.backlog)
        listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
        app = wrap_app(quiet_disconnects(self.app.app), config.wsgi_max_body_size, "asgi")
        context = WorkerContext(None)
        handler = functools.partial(TCPServer, app, config, context, ConnectionState({}))

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
