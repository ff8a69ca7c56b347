"""`HttpTransport`, the blocking client's connection, against a real HTTP/1.1 server on
loopback (the standard library's, in a thread): keep-alive reuse, a connection the server
closed while idle, an answer too large to read, a URL with a path prefix."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ccoin.client import NodeUnreachable
from ccoin.client import transport as transport_module
from ccoin.client.transport import HttpTransport

HEADERS = {"content-type": "application/json"}


@dataclass
class Seen:
    """What the server saw: each request's path and body, and each connection's port."""

    requests: list[tuple[str, bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    close_after_answer: bool = False
    answer: bytes = b'{"ok": true}'


@contextmanager
def server(seen: Seen) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the node's server

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            seen.requests.append((self.path, body))
            seen.ports.append(self.client_address[1])
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(seen.answer)))
            self.end_headers()
            self.wfile.write(seen.answer)
            # As an idle timeout does: close without having said "Connection: close".
            self.close_connection = seen.close_after_answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_requests_reuse_one_connection() -> None:
    seen = Seen()
    with server(seen) as url:
        http = HttpTransport(url, timeout=5)
        try:
            assert http.post("/rpc", b"1", HEADERS) == (200, b'{"ok": true}')
            assert http.post("/rpc", b"2", HEADERS) == (200, b'{"ok": true}')
        finally:
            http.close()
    assert seen.requests == [("/rpc", b"1"), ("/rpc", b"2")]
    assert seen.ports[0] == seen.ports[1]


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    seen = Seen(close_after_answer=True)
    with server(seen) as url:
        http = HttpTransport(url, timeout=5)
        try:
            for body in (b"1", b"2", b"3"):
                assert http.post("/rpc", body, HEADERS)[0] == 200
        finally:
            http.close()
    assert [body for _, body in seen.requests] == [b"1", b"2", b"3"]
    assert len(set(seen.ports)) == 3  # each on a fresh connection, none lost


def test_a_path_prefix_in_the_url_is_kept() -> None:
    seen = Seen()
    with server(seen) as url:
        http = HttpTransport(url + "/node0", timeout=5)
        try:
            http.post("/rpc", b"{}", HEADERS)
        finally:
            http.close()
    assert seen.requests == [("/node0/rpc", b"{}")]


def test_an_answer_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_module, "MAX_ANSWER_BYTES", 100)
    seen = Seen(answer=b"x" * 101)
    with server(seen) as url:
        http = HttpTransport(url, timeout=5)
        with pytest.raises(NodeUnreachable) as info:
            http.post("/rpc", b"{}", HEADERS)
        http.close()
    assert "an answer over 100 bytes" in str(info.value)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError):
        HttpTransport("ftp://127.0.0.1:1", timeout=1)
