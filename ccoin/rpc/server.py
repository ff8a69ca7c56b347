"""Serve the API with Hypercorn's trio worker inside the node's nursery (ADR 0010)."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import event
from ccoin.rpc.app import RpcApp

if TYPE_CHECKING:
    from ccoin.node.config import RpcConfig
    from ccoin.node.service import Node


class RpcServer:
    def __init__(self, node: Node, config: RpcConfig) -> None:
        self.node = node
        self.config = config
        self.app = RpcApp(node, config)

    def hypercorn_config(self) -> Config:
        cfg = Config()
        cfg.bind = [str(self.config.listen)]
        cfg.accesslog = None
        cfg.errorlog = logging.getLogger("ccoin.rpc.http")
        cfg.keep_alive_timeout = 30
        cfg.graceful_timeout = 1
        cfg.websocket_max_message_size = self.config.max_body_bytes
        # An incomplete request (headers) may not grow without bound either.
        cfg.h11_max_incomplete_size = 64 * 1024
        return cfg

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, report the base URL (`http://host:port`) through `task_status`, serve
        until cancelled."""
        config = self.hypercorn_config()
        try:  # bind here, so a taken port is one clear error and not a traceback from Hypercorn
            config.create_sockets().insecure_sockets[0].close()
        except OSError as exc:
            raise ConfigError(
                ErrorCode.LISTEN_FAILED,
                f"rpc: cannot listen on {self.config.listen}: {exc.strerror}",
            ) from None
        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(
                functools.partial(serve, self.app.app, config)  # type: ignore[arg-type]
            )
            url = binds[0] if binds else f"http://{self.config.listen}"
            event("rpc_listening", url=url)
            task_status.started(url)
