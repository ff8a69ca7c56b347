"""TLS 1.3 contexts with mutual authentication (DESIGN sections 7 and 11).

Both sides require a certificate from the network CA, which is the only trust anchor.
Hostnames are not checked: a peer is identified by its certificate's fingerprint, not by
the address we dialed.

TLS 1.3 note: a client's handshake completes before the server has checked the client's
certificate, so a client the server rejects learns it on its first read (an SSL alert),
not in `do_handshake()`.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

import trio

from ccoin.p2p.certs import NodeIdentity, fingerprint
from ccoin.p2p.errors import P2PError

TlsStream = trio.SSLStream[trio.abc.Stream]


def _context(*, server_side: bool, identity: NodeIdentity, ca_pem: bytes) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False  # must be unset before verify_mode can be changed
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ca_pem.decode("ascii"))
    _load_identity(ctx, identity)
    return ctx


def _load_identity(ctx: ssl.SSLContext, identity: NodeIdentity) -> None:
    # `load_cert_chain` only reads files: write them to a private directory, removed at once.
    with tempfile.TemporaryDirectory(prefix="ccoin-tls-") as tmp:
        os.chmod(tmp, 0o700)
        cert_path = Path(tmp) / "cert.pem"
        key_path = Path(tmp) / "key.pem"
        for path, data in ((cert_path, identity.cert_pem), (key_path, identity.key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        ctx.load_cert_chain(cert_path, key_path)


def server_context(identity: NodeIdentity, ca_pem: bytes) -> ssl.SSLContext:
    return _context(server_side=True, identity=identity, ca_pem=ca_pem)


def client_context(identity: NodeIdentity, ca_pem: bytes) -> ssl.SSLContext:
    return _context(server_side=False, identity=identity, ca_pem=ca_pem)


def peer_cert_der(ssl_stream: trio.SSLStream[trio.abc.Stream]) -> bytes:
    der = ssl_stream.getpeercert(binary_form=True)
    if not isinstance(der, bytes) or not der:
        raise P2PError("peer presented no certificate")
    return der


def peer_fingerprint(ssl_stream: trio.SSLStream[trio.abc.Stream]) -> bytes:
    """The SHA-256 fingerprint of the peer's certificate (after `do_handshake()`)."""
    return fingerprint(peer_cert_der(ssl_stream))
