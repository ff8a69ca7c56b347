"""TLS 1.3 mutual authentication over in-memory streams (no sockets)."""

from __future__ import annotations

import ssl

import pytest
import trio
import trio.testing

from ccoin.p2p.certs import NetworkCA, NodeIdentity
from ccoin.p2p.tls import TlsStream, client_context, peer_fingerprint, server_context


@pytest.fixture(scope="module")
def ca() -> NetworkCA:
    return NetworkCA.create("tls-test-ca")


def pair(
    server: NodeIdentity, client: NodeIdentity, server_ca: bytes, client_ca: bytes
) -> tuple[TlsStream, TlsStream]:
    left, right = trio.testing.memory_stream_pair()
    s: TlsStream = trio.SSLStream(left, server_context(server, server_ca), server_side=True)
    c: TlsStream = trio.SSLStream(right, client_context(client, client_ca), server_side=False)
    return s, c


def test_contexts_are_tls13_only_with_required_client_certs(ca: NetworkCA) -> None:
    node = ca.issue_node_cert("n")
    for ctx in (server_context(node, ca.cert_pem), client_context(node, ca.cert_pem)):
        assert ctx.minimum_version is ssl.TLSVersion.TLSv1_3
        assert ctx.maximum_version is ssl.TLSVersion.TLSv1_3
        assert ctx.verify_mode is ssl.CERT_REQUIRED
        assert not ctx.check_hostname
        assert len(ctx.get_ca_certs()) == 1  # our CA is the only trust anchor


async def test_mutual_authentication(ca: NetworkCA) -> None:
    a, b = ca.issue_node_cert("a"), ca.issue_node_cert("b")
    server, client = pair(a, b, ca.cert_pem, ca.cert_pem)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.do_handshake)
        await client.do_handshake()
    assert peer_fingerprint(server) == b.fingerprint
    assert peer_fingerprint(client) == a.fingerprint
    assert client.version() == "TLSv1.3"
    await client.send_all(b"ping")
    assert await server.receive_some(10) == b"ping"


async def test_client_from_another_ca_is_refused(ca: NetworkCA) -> None:
    stranger = NetworkCA.create("tls-test-ca").issue_node_cert("x")
    server, client = pair(ca.issue_node_cert("a"), stranger, ca.cert_pem, ca.cert_pem)
    outcome: dict[str, BaseException | None] = {}
    handshook: set[str] = set()

    async def run(name: str, stream: TlsStream) -> None:
        try:
            await stream.do_handshake()
            handshook.add(name)
            await stream.send_all(b"hello")  # TLS 1.3: the client learns on its next read
            await stream.receive_some(10)
            outcome[name] = None
        except trio.BrokenResourceError as exc:
            outcome[name] = exc
            await trio.aclose_forcefully(stream)  # as the network does: the peer sees EOF

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, "server", server)
            nursery.start_soon(run, "client", client)
    assert isinstance(outcome["server"], trio.BrokenResourceError)
    assert isinstance(outcome["server"].__cause__, ssl.SSLError)
    assert isinstance(outcome["client"], trio.BrokenResourceError)
    # TLS 1.3: the client's handshake completed before the server checked its certificate.
    assert handshook == {"client"}


async def test_server_from_another_ca_is_refused(ca: NetworkCA) -> None:
    stranger = NetworkCA.create("tls-test-ca").issue_node_cert("x")
    server, client = pair(stranger, ca.issue_node_cert("b"), ca.cert_pem, ca.cert_pem)
    errors: list[BaseException] = []

    async def handshake(stream: TlsStream) -> None:
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            errors.append(exc)
            await trio.aclose_forcefully(stream)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(handshake, server)
            nursery.start_soon(handshake, client)
    assert len(errors) == 2  # the client rejects the server's certificate during the handshake
    assert any("CERTIFICATE_VERIFY_FAILED" in str(e.__cause__) for e in errors)
