"""A TCP proxy on loopback whose links a test can cut and restore: the partition tool of
the end-to-end tests. One listening port per directed link (node i dialing node j); `cut`
closes that link's live connections and refuses new ones until `restore`."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Link:
    listen_port: int
    target: tuple[str, int]
    open: bool = True
    connections: list[socket.socket] = field(default_factory=list)


class PartitionProxy:
    def __init__(self) -> None:
        self.links: dict[tuple[int, int], Link] = {}
        self._lock = threading.Lock()
        self._servers: list[socket.socket] = []
        self._stopped = threading.Event()

    def add_link(self, src: int, dst: int, target_port: int) -> int:
        """Start forwarding a fresh loopback port to `target_port`; returns the port."""
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port: int = server.getsockname()[1]
        link = Link(port, ("127.0.0.1", target_port))
        self.links[(src, dst)] = link
        self._servers.append(server)
        threading.Thread(target=self._accept, args=(server, link), daemon=True).start()
        return port

    def _accept(self, server: socket.socket, link: Link) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return
            if not link.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(link.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if not link.open:  # cut while this connection was being set up
                    client.close()
                    upstream.close()
                    continue
                link.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self, groups: list[set[int]]) -> None:
        """Cut every link between different groups."""
        with self._lock:
            for (src, dst), link in self.links.items():
                if not any(src in g and dst in g for g in groups):
                    link.open = False
                    for s in link.connections:
                        with contextlib.suppress(OSError):
                            s.shutdown(socket.SHUT_RDWR)
                            s.close()
                    link.connections.clear()

    def restore(self) -> None:
        with self._lock:
            for link in self.links.values():
                link.open = True

    def close(self) -> None:
        self._stopped.set()
        for server in self._servers:
            with contextlib.suppress(OSError):
                server.close()
        self.cut([{-1}])
