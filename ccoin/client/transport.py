"""How the blocking `Client` reaches a node: one HTTP/1.1 keep-alive connection over the
standard library's `http.client` (ADR 0019: httpx's import alone costs half the CLI's
0.2 s budget). A transport posts bytes and returns the status and body, or raises
`NodeUnreachable`; tests give `Client` their own.
"""

from __future__ import annotations

import http.client
import select
import socket
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from ccoin.client.errors import NodeUnreachable

# An answer larger than this is not one the node gives (its largest reads are bounded
# pages); reading it whole would let a wrong server fill the client's memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class Transport(Protocol):
    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST `body` to `path`: the answer's HTTP status and body."""
        ...

    def close(self) -> None: ...


class HttpTransport:
    """A persistent connection to `url` (http or https). `timeout` bounds the connect and
    each read. A connection the server closed while idle (its idle timeout) is noticed
    before reuse and replaced; if the close crosses the request on the wire (the server
    closed just as it was sent), a reused connection that fails before any answer is
    replaced once and the request sent again, as urllib3 does: a server that closes an
    idle connection has not read what arrives on it."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"node URL {url!r}: expected http://host:port")
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        conn = self._connection()
        reused = conn.sock is not None  # a fresh connection opens its socket on request
        try:
            try:
                conn.request("POST", self._prefix + path, body=body, headers=dict(headers))
                response = conn.getresponse()
            except (BrokenPipeError, ConnectionResetError):  # RemoteDisconnected is one
                # Unanswered: it died in sending, or the connection closed before any
                # status line (a close that crossed the request arrives as a reset).
                if not reused:
                    raise
                self.close()
                return self.post(path, body, headers)  # on a fresh connection: once
            content = response.read(MAX_ANSWER_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise NodeUnreachable(self.url, self._reason(exc)) from None
        if len(content) > MAX_ANSWER_BYTES:
            self.close()
            raise NodeUnreachable(self.url, f"an answer over {MAX_ANSWER_BYTES} bytes")
        if response.will_close:
            self.close()
        return response.status, content

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is not None and self._closed_by_server(self._conn):
            self.close()
        if self._conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=self.timeout)
        return self._conn

    @staticmethod
    def _closed_by_server(conn: http.client.HTTPConnection) -> bool:
        """An idle connection is readable only when the server closed it (or broke the
        protocol by talking unasked): either way it cannot carry the next request."""
        sock: socket.socket | None = conn.sock
        if sock is None:
            return False
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"no answer within {self.timeout:g} s"
        if isinstance(exc, ConnectionRefusedError):
            return "cannot connect (connection refused)"
        if isinstance(exc, socket.gaierror):
            return f"cannot connect (unknown host {self._host})"
        if isinstance(exc, http.client.RemoteDisconnected):
            return "the node closed the connection without answering"
        return str(exc) or type(exc).__name__
