"""The network CA and node certificates (X.509, Ed25519 keys).

Every node certificate is issued by the one network CA; a peer is identified by the SHA-256
of its certificate's DER bytes (`fingerprint`), which is what delegate registrations, bans
and revocations name. Private keys are written unencrypted with mode 0600.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccoin.p2p.errors import P2PError

CA_VALIDITY = datetime.timedelta(days=3653)  # 10 years
NODE_VALIDITY = datetime.timedelta(days=1827)  # 5 years
# Certificates start a little in the past so a peer whose clock lags ours still accepts them.
BACKDATE = datetime.timedelta(minutes=5)
FINGERPRINT_LEN = 32


def fingerprint(cert_der: bytes) -> bytes:
    """SHA-256 of a certificate's DER bytes (32 bytes): a peer's identity on the network."""
    return hashlib.sha256(cert_der).digest()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise P2PError("not an Ed25519 private key")
    return key


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise P2PError("certificate has no common name")
    value = names[0].value
    return value if isinstance(value, str) else value.decode()


@dataclass(frozen=True)
class NodeIdentity:
    """A node's certificate and private key (both PEM), its fingerprint and its name (CN)."""

    cert_pem: bytes
    key_pem: bytes
    fingerprint: bytes
    name: str

    @property
    def cert_der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> NodeIdentity:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = _load_key(key_pem)
        if key.public_key() != cert.public_key():
            raise P2PError("private key does not match the certificate")
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(cert_pem, key_pem, fingerprint(der), _common_name(cert))

    def save(self, cert_path: Path, key_path: Path) -> None:
        save_pem(cert_path, self.cert_pem)
        save_pem(key_path, self.key_pem, private=True)


@dataclass(frozen=True)
class NetworkCA:
    """The network's certificate authority: a self-signed CA certificate and its key."""

    cert: x509.Certificate
    key: Ed25519PrivateKey

    @classmethod
    def create(
        cls,
        name: str,
        key: Ed25519PrivateKey | None = None,
        *,
        serial: int | None = None,
        now: datetime.datetime | None = None,
    ) -> NetworkCA:
        """A new CA: a fresh key, a random serial and the current time unless given (the
        sample configs pass fixed ones, so that they regenerate byte for byte)."""
        key = key if key is not None else Ed25519PrivateKey.generate()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = now if now is not None else _now()
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, algorithm=None)  # Ed25519 takes no separate hash algorithm
        )
        return cls(cert, key)

    @property
    def name(self) -> str:
        return _common_name(self.cert)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    def issue_node_cert(
        self,
        node_name: str,
        node_key: Ed25519PrivateKey | None = None,
        *,
        serial: int | None = None,
        now: datetime.datetime | None = None,
        hosts: Sequence[str] = (),
    ) -> NodeIdentity:
        """A leaf certificate for `node_name` (CN and DNS SAN, plus IP 127.0.0.1, plus the
        `hosts` the node is reached at, IP addresses or names); a fresh key, a random serial
        and the current time unless given. Peers are identified by the certificate, not by
        its names (no hostname check), so the SANs only say where the node was meant to be."""
        key = node_key if node_key is not None else Ed25519PrivateKey.generate()
        now = now if now is not None else _now()
        names: list[x509.GeneralName] = [
            x509.DNSName(node_name),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        for host in dict.fromkeys(h for h in hosts if h not in (node_name, "127.0.0.1")):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        san = x509.SubjectAlternativeName(names)
        ca_public = self.key.public_key()
        usage = x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + NODE_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_leaf_key_usage(), critical=True)
            .add_extension(usage, critical=False)
            .add_extension(san, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self.key, algorithm=None)
        )
        return NodeIdentity.from_pem(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))

    def save(self, cert_path: Path, key_path: Path) -> None:
        save_pem(cert_path, self.cert_pem)
        save_pem(key_path, self.key_pem, private=True)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def cert_common_name(cert_der: bytes) -> str:
    return _common_name(x509.load_der_x509_certificate(cert_der))


def check_issued_by(cert_der: bytes, ca_pem: bytes) -> bool:
    """True when `cert_der` names a CA in `ca_pem` as issuer and carries its valid signature.

    TLS already verified the chain; this re-check is a cheap second line that does not
    depend on how the SSL context was configured. `ca_pem` may hold several CA
    certificates (during a CA rollover); any of them may have issued `cert_der`.
    """
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        cas = x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        return False
    return any(_signed_by(cert, ca) for ca in cas)


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    ca_key = ca.public_key()
    if cert.issuer != ca.subject or not isinstance(ca_key, Ed25519PublicKey):
        return False
    try:
        ca_key.verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        return False
    return True


def save_pem(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` atomically; private files get mode 0600 from the moment they exist."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    mode = 0o600 if private else 0o644
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # the umask may have narrowed the mode given above
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_identity(cert_path: Path, key_path: Path) -> NodeIdentity:
    return NodeIdentity.from_pem(Path(cert_path).read_bytes(), Path(key_path).read_bytes())


def load_ca(cert_path: Path, key_path: Path) -> NetworkCA:
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    key = _load_key(Path(key_path).read_bytes())
    if key.public_key() != cert.public_key():
        raise P2PError("CA key does not match the CA certificate")
    return NetworkCA(cert, key)


def load_ca_cert(cert_path: Path) -> bytes:
    """The CA certificate PEM alone: what every node needs (the key stays with the operator)."""
    data = Path(cert_path).read_bytes()
    x509.load_pem_x509_certificate(data)  # fail early on a wrong file
    return data
