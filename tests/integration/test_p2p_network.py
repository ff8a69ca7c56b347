"""Real `Network`s on 127.0.0.1 (port 0) over real TLS 1.3 with mutual authentication.

Every wait is for an event (`wait_connected`, `wait_peer`, `wait_stat`, ...) under
`trio.fail_after`; nothing sleeps for a guessed time.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from ccoin.p2p.certs import NetworkCA, NodeIdentity
from ccoin.p2p.errors import P2PError
from ccoin.p2p.framing import FrameReader, write_frame
from ccoin.p2p.handshake import exchange_status, tls_connect
from ccoin.p2p.messages import (
    Disconnect,
    GetBlocks,
    NewBlock,
    Status,
    Transactions,
    decode_message,
)
from ccoin.p2p.network import Network, PeerAddress
from ccoin.p2p.tls import TlsStream, client_context

NID = b"\x01" * 32
OTHER_NID = b"\x02" * 32
LOCAL = "127.0.0.1"
TIMEOUT = 10


@pytest.fixture(scope="module")
def ca() -> NetworkCA:
    return NetworkCA.create("p2p-integration-ca")


def status_of(name: str, network_id: bytes = NID, height: int = 0) -> Status:
    return Status(1, network_id, name, height, bytes(32), 0, bytes(32))


def make(
    identity: NodeIdentity,
    ca_pem: bytes,
    *,
    dial: tuple[Network, ...] = (),
    network_id: bytes = NID,
    **kwargs: Any,
) -> Network:
    return Network(
        identity,
        ca_pem,
        network_id=network_id,
        listen=PeerAddress(LOCAL, 0),
        peers=[address_of(n) for n in dial],
        status=lambda: status_of(identity.name, network_id),
        **kwargs,
    )


def address_of(network: Network) -> PeerAddress:
    assert network.listen_port is not None, "start the network before dialing it"
    return PeerAddress(LOCAL, network.listen_port)


@asynccontextmanager
async def nodes() -> AsyncIterator[trio.Nursery]:
    """A nursery to `await nursery.start(network.run)` in; everything stops on exit."""
    async with trio.open_nursery() as nursery:
        yield nursery
        nursery.cancel_scope.cancel()


def fingerprints(network: Network) -> set[bytes]:
    return {p.fingerprint for p in network.peers()}


def assert_inbox_empty(network: Network) -> None:
    with pytest.raises(trio.WouldBlock):
        network.inbox.receive_nowait()


async def test_three_nodes_gossip_exactly_once(ca: NetworkCA) -> None:
    ida, idb, idc = (ca.issue_node_cert(n) for n in ("a", "b", "c"))
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            c = make(idc, ca.cert_pem)
            await nursery.start(c.run)
            b = make(idb, ca.cert_pem, dial=(c,))
            await nursery.start(b.run)
            a = make(ida, ca.cert_pem, dial=(b, c))
            await nursery.start(a.run)
            for network in (a, b, c):
                await network.wait_connected(2)

            info = {p.name: p for p in a.peers()}
            assert set(info) == {"b", "c"}
            assert not info["b"].inbound and not info["c"].inbound
            assert info["b"].fingerprint == idb.fingerprint
            assert info["b"].status == status_of("b")
            assert info["c"].address == address_of(c)
            assert {p.name: p.inbound for p in c.peers()} == {"a": True, "b": True}

            a.broadcast(Transactions((b"tx-1",)))
            a.broadcast(NewBlock(b"marker"))  # same connection, so it arrives after tx-1
            for receiver in (b, c):
                assert await receiver.inbox.receive() == (ida.fingerprint, Transactions((b"tx-1",)))
                assert await receiver.inbox.receive() == (ida.fingerprint, NewBlock(b"marker"))
            assert_inbox_empty(a)

            b.broadcast(Transactions((b"tx-2",)), exclude=ida.fingerprint)
            assert await c.inbox.receive() == (idb.fingerprint, Transactions((b"tx-2",)))

            await c.send(ida.fingerprint, GetBlocks(7, 100))
            assert await a.inbox.receive() == (idc.fingerprint, GetBlocks(7, 100))
            assert_inbox_empty(a)
            assert_inbox_empty(b)

            # A new Status updates what peers know, and never reaches an inbox.
            a.broadcast(status_of("a", height=9))
            await b.wait_until(lambda: {p.name: p.status.head_height for p in b.peers()}["a"] == 9)
            assert_inbox_empty(b)
            assert a.stats["handshake_failures"] == 0
            assert a.stats["connections"] == 2


async def test_mutual_dialing_keeps_one_connection(ca: NetworkCA) -> None:
    ida, idb = ca.issue_node_cert("a"), ca.issue_node_cert("b")
    lower = min(ida.fingerprint, idb.fingerprint)
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ida, ca.cert_pem)
            b = make(idb, ca.cert_pem)
            await nursery.start(a.run)
            await nursery.start(b.run)
            a.dial(address_of(b))  # both dial each other at once
            b.dial(address_of(a))

            def settled(network: Network, own: bytes) -> bool:
                peers = network.peers()
                # The kept connection is the one the lower fingerprint initiated.
                return len(peers) == 1 and peers[0].inbound == (own != lower)

            await a.wait_until(lambda: settled(a, ida.fingerprint))
            await b.wait_until(lambda: settled(b, idb.fingerprint))
            a.broadcast(Transactions((b"once",)))
            a.broadcast(NewBlock(b"marker"))
            assert await b.inbox.receive() == (ida.fingerprint, Transactions((b"once",)))
            assert await b.inbox.receive() == (ida.fingerprint, NewBlock(b"marker"))
            assert len(a.peers()) == len(b.peers()) == 1


@pytest.mark.parametrize("stranger_trusts", ["our CA", "its own CA"])
async def test_certificate_from_another_ca_cannot_connect(
    ca: NetworkCA, stranger_trusts: str
) -> None:
    other_ca = NetworkCA.create("p2p-integration-ca")  # same name, different key
    stranger_id = other_ca.issue_node_cert("a")  # even the name of a real node
    trust = ca.cert_pem if stranger_trusts == "our CA" else other_ca.cert_pem
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem)
            await nursery.start(a.run)
            stranger = make(stranger_id, trust, dial=(a,))
            await nursery.start(stranger.run)
            b = make(ca.issue_node_cert("b"), ca.cert_pem, dial=(stranger, a))
            await nursery.start(b.run)

            await a.wait_stat("handshake_failures", 1)  # the stranger dialed a
            await stranger.wait_stat("handshake_failures", 2)  # its dial and b's dial
            await b.wait_stat("handshake_failures", 1)  # b dialed the stranger
            await a.wait_peer(b.identity.fingerprint)  # the good link works meanwhile

            stranger.broadcast(Transactions((b"forged",)))
            assert fingerprints(a) == {b.identity.fingerprint}
            assert fingerprints(b) == {a.identity.fingerprint}
            assert stranger.peers() == []
            assert stranger.stats["connections"] == 0
            assert_inbox_empty(a)
            assert_inbox_empty(b)


async def test_wrong_network_is_refused(ca: NetworkCA) -> None:
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem)
            await nursery.start(a.run)
            other = make(ca.issue_node_cert("e"), ca.cert_pem, dial=(a,), network_id=OTHER_NID)
            await nursery.start(other.run)
            await a.wait_stat("refused_wrong_network", 1)
            await other.wait_stat("refused_wrong_network", 1)
            assert a.peers() == [] and other.peers() == []
            assert a.stats["connections"] == 0


async def test_revoked_peer_is_refused_and_dropped(ca: NetworkCA) -> None:
    idd = ca.issue_node_cert("d")
    revoked = {idd.fingerprint}
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem, is_revoked=revoked.__contains__)
            await nursery.start(a.run)
            d = make(idd, ca.cert_pem, dial=(a,))
            await nursery.start(d.run)
            await a.wait_stat("refused_revoked", 1)
            await d.wait_stat("handshake_failures", 1)  # told "revoked" before any Status
            assert a.peers() == [] and d.peers() == []

            revoked.clear()  # reinstated: d's next dial gets in
            await a.wait_peer(idd.fingerprint)
            refused_before = a.stats["refused_revoked"]

            revoked.add(idd.fingerprint)
            a.disconnect_revoked()
            await a.wait_disconnected(idd.fingerprint)
            assert a.stats["revoked_disconnects"] == 1
            await a.wait_stat("refused_revoked", refused_before + 1)  # d redialed, refused
            assert idd.fingerprint not in fingerprints(a)


async def raw_client(
    identity: NodeIdentity, ca_pem: bytes, target: Network
) -> tuple[TlsStream, FrameReader]:
    """A hand-driven peer: TLS and the Status exchange, then whatever bytes a test wants."""
    stream = await tls_connect(address_of(target), client_context(identity, ca_pem))
    reader = FrameReader(stream)
    theirs = await exchange_status(stream, reader, status_of(identity.name))
    assert theirs.network_id == NID
    return stream, reader


async def test_malformed_frame_gets_the_peer_banned(ca: NetworkCA) -> None:
    idm = ca.issue_node_cert("mallory")
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem)
            await nursery.start(a.run)
            stream, _ = await raw_client(idm, ca.cert_pem, a)
            await a.wait_peer(idm.fingerprint)
            await stream.send_all(b"\x00\x00\x00\x00")  # a zero-length frame
            await a.wait_stat("bans", 1)
            await a.wait_disconnected(idm.fingerprint)
            assert a.is_banned(idm.fingerprint)
            await trio.aclose_forcefully(stream)

            # Coming back is refused while the ban lasts, with the reason.
            stream = await tls_connect(address_of(a), client_context(idm, ca.cert_pem))
            reader = FrameReader(stream)
            await write_frame(stream, status_of("mallory").encode())
            assert decode_message(await reader.read()) == Disconnect("banned")
            await trio.aclose_forcefully(stream)
            assert a.stats["refused_banned"] == 1
            assert_inbox_empty(a)


async def test_invalid_messages_add_up_to_a_ban(ca: NetworkCA) -> None:
    idm = ca.issue_node_cert("mallory")
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem)
            await nursery.start(a.run)
            stream, _ = await raw_client(idm, ca.cert_pem, a)
            await a.wait_peer(idm.fingerprint)
            await write_frame(stream, b"\xc1")  # not msgpack: -50, still connected
            await write_frame(stream, Transactions((b"ok",)).encode())
            assert await a.inbox.receive() == (idm.fingerprint, Transactions((b"ok",)))
            assert a.score(idm.fingerprint) == -50
            assert [p.score for p in a.peers()] == [-50]
            await write_frame(stream, b"\x91\x63")  # unknown kind 99: -50 more, banned
            await a.wait_disconnected(idm.fingerprint)
            assert a.is_banned(idm.fingerprint)
            await trio.aclose_forcefully(stream)


async def test_node_penalty_bans_and_disconnects(ca: NetworkCA) -> None:
    ida, idb = ca.issue_node_cert("a"), ca.issue_node_cert("b")
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ida, ca.cert_pem)
            await nursery.start(a.run)
            b = make(idb, ca.cert_pem, dial=(a,))
            await nursery.start(b.run)
            await a.wait_peer(idb.fingerprint)
            a.penalize(idb.fingerprint, "invalid_block")
            assert not a.is_banned(idb.fingerprint)
            a.penalize(idb.fingerprint, "invalid_signature")
            await a.wait_disconnected(idb.fingerprint)
            await a.wait_stat("refused_banned", 1)  # b redials and is turned away
            assert a.stats["bans"] == 1


async def test_self_connection_is_refused(ca: NetworkCA) -> None:
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem)
            await nursery.start(a.run)
            a.dial(address_of(a))
            await a.wait_stat("refused_self", 2)  # both ends of the one connection
            assert a.peers() == []


async def test_silent_client_hits_the_handshake_timeout(ca: NetworkCA) -> None:
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem, handshake_timeout=0.3)
            await nursery.start(a.run)
            tcp = await trio.open_tcp_stream(LOCAL, address_of(a).port)  # never speaks TLS
            await a.wait_stat("handshake_failures", 1)
            assert await tcp.receive_some(100) == b""  # a closed it
            await tcp.aclose()


async def test_max_peers_and_custom_connector(ca: NetworkCA) -> None:
    dialed: list[PeerAddress] = []

    async def connector(address: PeerAddress, context: ssl.SSLContext) -> TlsStream:
        dialed.append(address)
        return await tls_connect(address, context)

    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ca.issue_node_cert("a"), ca.cert_pem, max_peers=1)
            await nursery.start(a.run)
            b = make(ca.issue_node_cert("b"), ca.cert_pem, dial=(a,), connect=connector)
            await nursery.start(b.run)
            await a.wait_connected(1)
            c = make(ca.issue_node_cert("c"), ca.cert_pem, dial=(a,))
            await nursery.start(c.run)
            await a.wait_stat("refused_full", 1)
            assert fingerprints(a) == {b.identity.fingerprint}
            assert dialed == [address_of(a)]


async def test_send_to_an_unknown_peer_fails(ca: NetworkCA) -> None:
    async with nodes() as nursery:
        a = make(ca.issue_node_cert("a"), ca.cert_pem)
        await nursery.start(a.run)
        with pytest.raises(P2PError, match="unknown peer"):
            await a.send(b"\x00" * 32, GetBlocks(0, 1))


async def test_full_queue_drops_gossip_and_counts_it(ca: NetworkCA) -> None:
    ida, idb = ca.issue_node_cert("a"), ca.issue_node_cert("b")
    with trio.fail_after(TIMEOUT):
        async with nodes() as nursery:
            a = make(ida, ca.cert_pem, send_queue=2)
            await nursery.start(a.run)
            b = make(idb, ca.cert_pem, dial=(a,))
            await nursery.start(b.run)
            await a.wait_peer(idb.fingerprint)
            for i in range(10):  # broadcast never waits: the writer cannot run meanwhile
                a.broadcast(Transactions((bytes([i]),)))
            # Two queued, plus one handed straight to the writer if it was already waiting.
            dropped = a.stats["dropped_gossip"]
            assert dropped in (7, 8)
            for i in range(10 - dropped):
                assert await b.inbox.receive() == (ida.fingerprint, Transactions((bytes([i]),)))
            await a.send(idb.fingerprint, NewBlock(b"after"))  # the link still works
            assert await b.inbox.receive() == (ida.fingerprint, NewBlock(b"after"))
