"""The handshake after mutual TLS: who the peer is, whether we accept it, and the Status
exchange. The `Network` wraps all of it in one `handshake_timeout`.

1. The peer's certificate (already chain-verified by TLS) must be signed by our CA (checked
   again here), not ours (a self-connection), not revoked and not banned. Otherwise we send
   `Disconnect(reason)` without sending our Status.
2. Each side sends its `Status` first, then reads the other's; a different `network_id` is
   refused with `Disconnect("wrong network")`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from ccoin.errors import DecodeError
from ccoin.p2p.certs import cert_common_name, check_issued_by, fingerprint
from ccoin.p2p.errors import P2PError
from ccoin.p2p.framing import FrameReader, write_frame
from ccoin.p2p.messages import Disconnect, Status, decode_message
from ccoin.p2p.peer import TRANSPORT_ERRORS, PeerAddress
from ccoin.p2p.tls import TlsStream, peer_cert_der

STATUS_FRAME_LIMIT = 4096  # a Status is ~200 bytes; nothing bigger is read before it
REFUSE_GRACE = 1.0  # how long we try to deliver a Disconnect to a refused peer

# Anything a failing handshake may raise; other exceptions are bugs and propagate.
HANDSHAKE_ERRORS = (*TRANSPORT_ERRORS, P2PError, DecodeError, trio.TooSlowError)
# What a dialer raises once TCP is up; a plain OSError means TCP itself failed.
DIAL_HANDSHAKE_ERRORS = (
    trio.TooSlowError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    ssl.SSLError,
    P2PError,
)

Connector = Callable[[PeerAddress, ssl.SSLContext], Awaitable[TlsStream]]


async def tls_connect(address: PeerAddress, context: ssl.SSLContext) -> TlsStream:
    """The default dialer: TCP, then the client side of the TLS handshake."""
    tcp = await trio.open_tcp_stream(address.host, address.port)
    stream: TlsStream = trio.SSLStream(tcp, context, server_side=False)
    try:
        await stream.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


class Refused(Exception):
    """We decline this peer; `stat` names the counter, `reason` goes into the Disconnect."""

    def __init__(self, reason: str, stat: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stat = stat


@dataclass(frozen=True)
class PeerCertificate:
    der: bytes
    fingerprint: bytes
    name: str  # the CN: authenticated by the CA, unlike the Status node_name

    @classmethod
    def of(cls, stream: TlsStream) -> PeerCertificate:
        der = peer_cert_der(stream)
        try:
            name = cert_common_name(der)
        except ValueError:  # OpenSSL accepted what `cryptography` cannot parse
            raise P2PError("unreadable peer certificate") from None
        return cls(der, fingerprint(der), name)


@dataclass(frozen=True)
class Admission:
    """What we accept: our own identity, CA, network, and the current revocations and bans."""

    own_fingerprint: bytes
    ca_pem: bytes
    network_id: bytes
    is_revoked: Callable[[bytes], bool]
    is_banned: Callable[[bytes], bool]

    def check_certificate(self, cert: PeerCertificate) -> None:
        if cert.fingerprint == self.own_fingerprint:
            raise Refused("self connection", "refused_self")
        if not check_issued_by(cert.der, self.ca_pem):
            raise Refused("unknown issuer", "refused_unknown_issuer")
        self.check_standing(cert.fingerprint)

    def check_standing(self, peer: bytes) -> None:
        """Revocations and bans can change during the Status exchange: checked again at
        registration."""
        if self.is_revoked(peer):
            raise Refused("revoked", "refused_revoked")
        if self.is_banned(peer):
            raise Refused("banned", "refused_banned")

    def check_status(self, status: Status) -> None:
        if status.network_id != self.network_id:
            raise Refused("wrong network", "refused_wrong_network")


async def exchange_status(stream: TlsStream, reader: FrameReader, own: Status) -> Status:
    """Send our Status, then read theirs (sending first on both sides cannot deadlock: a
    Status fits in any socket buffer)."""
    await write_frame(stream, own.encode())
    message = decode_message(await reader.read(limit=STATUS_FRAME_LIMIT))
    if isinstance(message, Disconnect):
        raise P2PError(f"refused by peer: {message.reason}")
    if not isinstance(message, Status):
        raise P2PError("expected status")
    return message


async def send_disconnect(stream: TlsStream, reason: str) -> None:
    """Best effort: a refused peer learns why, unless it is too slow or already gone."""
    with trio.move_on_after(REFUSE_GRACE), contextlib.suppress(*HANDSHAKE_ERRORS):
        await write_frame(stream, Disconnect(reason).encode())


def describe(exc: BaseException) -> str:
    """One line for logs; trio hides the SSL error behind BrokenResourceError."""
    text = f"{exc.__class__.__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and isinstance(exc, trio.BrokenResourceError):
        text += f" ({cause.__class__.__name__}: {cause})"
    return text
