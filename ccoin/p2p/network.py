"""The P2P service: listen, dial, handshake, keep one connection per peer, move messages.

The handshake (`ccoin.p2p.handshake`) runs after mutual TLS and must finish, TLS included,
within `handshake_timeout`.

One connection per peer fingerprint: when two exist (both sides dialed), each side keeps
the one initiated by the lower fingerprint, so both keep the same one. A dialer whose
connection lost that race waits until the surviving connection ends before dialing again.

`run()` owns every connection task. Received Transactions / NewBlock / Votes / GetBlocks /
Blocks arrive on `inbox` as `(peer fingerprint, message)`; Ping, Pong, Status and Disconnect
are handled by the connection. `stats` counts what happened, and the `wait_*` methods wake
on changes (never on a guessed sleep).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trio

from ccoin.errors import ConfigError, ErrorCode
from ccoin.node.log import event
from ccoin.p2p.certs import NodeIdentity
from ccoin.p2p.errors import P2PError
from ccoin.p2p.framing import MAX_FRAME, FrameReader
from ccoin.p2p.handshake import (
    DIAL_HANDSHAKE_ERRORS,
    HANDSHAKE_ERRORS,
    Admission,
    Connector,
    PeerCertificate,
    Refused,
    describe,
    exchange_status,
    send_disconnect,
    tls_connect,
)
from ccoin.p2p.messages import Message, Status
from ccoin.p2p.peer import PeerAddress, PeerConnection, PeerHooks, PeerTimings
from ccoin.p2p.scores import PeerScores
from ccoin.p2p.tls import TlsStream, client_context, server_context

__all__ = ["Connector", "Network", "PeerAddress", "PeerInfo", "PeerTimings", "tls_connect"]

BACKOFF_MIN = 0.2
BACKOFF_MAX = 5.0

STAT_NAMES = (
    "connections",  # handshakes completed and registered
    "disconnections",
    "handshake_failures",  # TLS or Status exchange failed (wrong CA, timeout, garbage)
    "dial_failures",  # TCP connect failed
    "refused_wrong_network",
    "refused_revoked",
    "refused_banned",
    "refused_self",
    "refused_unknown_issuer",
    "refused_full",
    "duplicates",
    "dropped_gossip",
    "bans",
    "revoked_disconnects",
)


@dataclass(frozen=True)
class PeerInfo:
    fingerprint: bytes
    name: str  # the certificate's CN (authenticated), not the self-declared Status name
    address: PeerAddress
    inbound: bool
    status: Status
    score: int


class Network:
    def __init__(
        self,
        identity: NodeIdentity,
        ca_pem: bytes,
        *,
        network_id: bytes,
        listen: PeerAddress | None,
        peers: list[PeerAddress],
        status: Callable[[], Status],
        is_revoked: Callable[[bytes], bool] = lambda fp: False,
        clock: Callable[[], float] = trio.current_time,
        max_peers: int = 50,
        inbox_size: int = 1000,
        send_queue: int = 256,
        max_frame: int = MAX_FRAME,
        connect: Connector | None = None,
        handshake_timeout: float = 10.0,
        timings: PeerTimings | None = None,
        ban_seconds: float = 600.0,
    ) -> None:
        self.identity = identity
        self._admission = Admission(
            own_fingerprint=identity.fingerprint,
            ca_pem=ca_pem,
            network_id=network_id,
            is_revoked=is_revoked,
            is_banned=self.is_banned,
        )
        self._listen = listen
        self._dial_addresses = list(peers)
        self._status = status
        self._is_revoked = is_revoked
        self._max_peers = max_peers
        self._send_queue = send_queue
        self._max_frame = max_frame
        self._connect = connect or tls_connect
        self._handshake_timeout = handshake_timeout
        self._timings = timings or PeerTimings()
        self._scores = PeerScores(clock, ban_seconds=ban_seconds)
        self._server_ctx = server_context(identity, ca_pem)
        self._client_ctx = client_context(identity, ca_pem)
        self._inbox_in, self.inbox = trio.open_memory_channel[tuple[bytes, Message]](inbox_size)
        self._peers: dict[bytes, PeerConnection] = {}
        self._address_fp: dict[PeerAddress, bytes] = {}
        self._pending_inbound = 0
        self._listen_port: int | None = None
        self._nursery: trio.Nursery | None = None
        self._changed = trio.Event()
        self.stats: dict[str, int] = dict.fromkeys(STAT_NAMES, 0)
        self._hooks = PeerHooks(deliver=self._deliver, penalize=self.penalize, changed=self._notify)

    # ---- the service -------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen (if configured) and dial every configured peer until cancelled."""
        try:
            async with trio.open_nursery() as nursery:
                if self._listen is not None:
                    try:
                        listeners = await trio.open_tcp_listeners(
                            self._listen.port, host=self._listen.host
                        )
                    except OSError as exc:
                        raise ConfigError(
                            ErrorCode.LISTEN_FAILED,
                            f"p2p: cannot listen on {self._listen}: {exc.strerror}",
                        ) from None
                    self._listen_port = listeners[0].socket.getsockname()[1]
                    nursery.start_soon(self._serve, listeners, nursery)
                self._nursery = nursery
                for address in self._dial_addresses:
                    nursery.start_soon(self._dial_loop, address)
                event("p2p_started", name=self.identity.name, port=self._listen_port)
                task_status.started()
        finally:
            self._nursery = None
            self._inbox_in.close()

    @property
    def listen_port(self) -> int | None:
        return self._listen_port

    async def _serve(self, listeners: list[trio.SocketListener], nursery: trio.Nursery) -> None:
        await trio.serve_listeners(self._serve_inbound, listeners, handler_nursery=nursery)

    # ---- what the node calls -----------------------------------------------------------

    def dial(self, address: PeerAddress) -> None:
        """Also dial `address`, with the same retry-forever backoff as the configured peers."""
        if address in self._dial_addresses:
            return
        self._dial_addresses.append(address)
        if self._nursery is not None:
            self._nursery.start_soon(self._dial_loop, address)

    def broadcast(self, message: Message, *, exclude: bytes | None = None) -> None:
        """Queue `message` for every peer but `exclude`, never waiting: a peer whose queue is
        full misses it (gossip is best effort) and `stats["dropped_gossip"]` counts it."""
        payload = self._payload(message)
        for peer in list(self._peers.values()):
            if peer.fingerprint != exclude and not peer.enqueue(payload):
                self._count("dropped_gossip")

    async def send(self, peer: bytes, message: Message) -> None:
        """Queue `message` for one peer, waiting for queue space (sync responses)."""
        connection = self._peers.get(peer)
        if connection is None:
            raise P2PError("unknown peer")
        await connection.send(self._payload(message))

    def peers(self) -> list[PeerInfo]:
        return [
            PeerInfo(
                fingerprint=c.fingerprint,
                name=c.name,
                address=c.address,
                inbound=c.inbound,
                status=c.status,
                score=self._scores.score(c.fingerprint),
            )
            for c in self._peers.values()
        ]

    def penalize(self, peer: bytes, reason: str) -> None:
        """Lower the peer's score by `PENALTIES[reason]`; over the threshold it is
        disconnected and banned for `ban_seconds`."""
        was_banned = self._scores.is_banned(peer)
        banned = self._scores.penalize_for(peer, reason)
        event("peer_penalized", peer=peer.hex()[:16], reason=reason, score=self.score(peer))
        if banned and not was_banned:
            self._count("bans")
            event("peer_banned", peer=peer.hex()[:16], reasons=",".join(self._scores.reasons(peer)))
        connection = self._peers.get(peer)
        if banned and connection is not None:
            connection.close("banned")
        self._notify()

    def is_banned(self, peer: bytes) -> bool:
        return self._scores.is_banned(peer)

    def score(self, peer: bytes) -> int:
        return self._scores.score(peer)

    def disconnect_revoked(self) -> None:
        """Close every connection whose certificate fingerprint is now revoked."""
        for connection in list(self._peers.values()):
            if self._is_revoked(connection.fingerprint):
                self._count("revoked_disconnects")
                connection.close("revoked")

    # ---- waiting for events (tests and the node's startup) -----------------------------

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return once `predicate()` holds; re-checked after every peer or stats change."""
        while not predicate():
            await self._changed.wait()

    async def wait_connected(self, count: int) -> None:
        await self.wait_until(lambda: len(self._peers) >= count)

    async def wait_peer(self, peer: bytes) -> None:
        await self.wait_until(lambda: peer in self._peers)

    async def wait_disconnected(self, peer: bytes) -> None:
        await self.wait_until(lambda: peer not in self._peers)

    async def wait_stat(self, name: str, at_least: int = 1) -> None:
        if name not in self.stats:
            raise KeyError(name)
        await self.wait_until(lambda: self.stats[name] >= at_least)

    def _notify(self) -> None:
        changed, self._changed = self._changed, trio.Event()
        changed.set()

    def _count(self, name: str) -> None:
        self.stats[name] += 1
        self._notify()

    def _payload(self, message: Message) -> bytes:
        payload = message.encode()
        if len(payload) > self._max_frame:
            raise P2PError("frame too large")
        return payload

    async def _deliver(self, peer: bytes, message: Message) -> None:
        await self._inbox_in.send((peer, message))

    # ---- connections -------------------------------------------------------------------

    async def _serve_inbound(self, tcp: trio.SocketStream) -> None:
        stream: TlsStream = trio.SSLStream(tcp, self._server_ctx, server_side=True)
        try:
            try:
                host, port = tcp.socket.getpeername()[:2]
            except OSError:
                return  # gone before we looked
            address = PeerAddress(str(host), int(port))
            if self._pending_inbound >= self._max_peers:
                self._count("refused_full")
                return
            self._pending_inbound += 1
            try:
                deadline = trio.current_time() + self._handshake_timeout
                connection = await self._establish(stream, address, deadline, inbound=True)
            finally:
                self._pending_inbound -= 1
            if connection is not None:
                await self._run_connection(connection)
        finally:
            await trio.aclose_forcefully(stream)

    async def _dial_loop(self, address: PeerAddress) -> None:
        backoff = BACKOFF_MIN
        while True:
            known = self._address_fp.get(address)
            if known == self.identity.fingerprint:
                return  # the address is our own listener
            if known is not None and not self._dial_worthwhile(known):
                await trio.sleep(BACKOFF_MAX)
                continue
            existing = self._peers.get(known) if known is not None else None
            if existing is not None:
                await existing.closed.wait()  # connected the other way round
                continue
            if await self._dial_once(address):
                backoff = BACKOFF_MIN
            await trio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _dial_worthwhile(self, peer: bytes) -> bool:
        """We would refuse this peer ourselves (revoked, banned): do not dial it now."""
        return not (self._is_revoked(peer) or self._scores.is_banned(peer))

    async def _dial_once(self, address: PeerAddress) -> bool:
        """One connection attempt; True if it was established (and has ended since)."""
        deadline = trio.current_time() + self._handshake_timeout
        try:
            with trio.fail_at(deadline):
                stream = await self._connect(address, self._client_ctx)
        except DIAL_HANDSHAKE_ERRORS as exc:
            self._handshake_failed(address, exc)
            return False
        except OSError as exc:
            self._count("dial_failures")
            event("peer_dial_failed", address=str(address), error=str(exc))
            return False
        try:
            connection = await self._establish(stream, address, deadline, inbound=False)
            if connection is None:
                return False
            await self._run_connection(connection)
            return True
        finally:
            await trio.aclose_forcefully(stream)

    async def _establish(
        self, stream: TlsStream, address: PeerAddress, deadline: float, *, inbound: bool
    ) -> PeerConnection | None:
        """TLS (inbound side) and the handshake by `deadline`, then the registered
        connection; None when it failed or was refused."""
        try:
            with trio.fail_at(deadline):
                if inbound:
                    await stream.do_handshake()
                cert = PeerCertificate.of(stream)
                if not inbound:
                    self._address_fp[address] = cert.fingerprint
                self._admission.check_certificate(cert)
                reader = FrameReader(stream, self._max_frame)
                status = await exchange_status(stream, reader, self._status())
                self._admission.check_status(status)
                connection = PeerConnection(
                    stream,
                    reader,
                    fingerprint=cert.fingerprint,
                    name=cert.name,
                    address=address,
                    inbound=inbound,
                    status=status,
                    send_queue=self._send_queue,
                    max_frame=self._max_frame,
                    timings=self._timings,
                )
                self._register(connection)
                return connection
        except Refused as refused:
            self._count(refused.stat)
            event("peer_refused", address=str(address), reason=refused.reason)
            await send_disconnect(stream, refused.reason)
        except HANDSHAKE_ERRORS as exc:
            self._handshake_failed(address, exc)
        return None

    def _register(self, connection: PeerConnection) -> None:
        peer = connection.fingerprint
        self._admission.check_standing(peer)
        existing = self._peers.get(peer)
        if existing is not None:
            if self._initiator(connection) >= self._initiator(existing):
                raise Refused("duplicate connection", "duplicates")
            self._count("duplicates")
            existing.close("duplicate connection")
        elif len(self._peers) >= self._max_peers:
            raise Refused("too many peers", "refused_full")
        self._peers[peer] = connection
        self._count("connections")
        event(
            "peer_connected",
            peer=peer.hex()[:16],
            name=connection.name,
            address=str(connection.address),
            inbound=connection.inbound,
        )

    def _initiator(self, connection: PeerConnection) -> bytes:
        return connection.fingerprint if connection.inbound else self.identity.fingerprint

    async def _run_connection(self, connection: PeerConnection) -> None:
        try:
            await connection.run(self._hooks)
        finally:
            if self._peers.get(connection.fingerprint) is connection:
                del self._peers[connection.fingerprint]
            self._count("disconnections")
            event(
                "peer_disconnected",
                peer=connection.fingerprint.hex()[:16],
                name=connection.name,
                reason=connection.close_reason or "cancelled",
            )

    def _handshake_failed(self, address: PeerAddress, exc: BaseException) -> None:
        self._count("handshake_failures")
        event("peer_handshake_failed", address=str(address), error=describe(exc))
