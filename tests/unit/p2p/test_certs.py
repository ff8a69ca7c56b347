"""The network CA and node certificates."""

from __future__ import annotations

import datetime
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccoin.p2p.certs import (
    NetworkCA,
    NodeIdentity,
    cert_common_name,
    check_issued_by,
    fingerprint,
    load_ca,
    load_ca_cert,
    load_identity,
    save_pem,
)
from ccoin.p2p.errors import P2PError


@pytest.fixture(scope="module")
def ca() -> NetworkCA:
    return NetworkCA.create("ccoin-test-ca")


def years(delta: datetime.timedelta) -> float:
    return delta.days / 365.25


def test_ca_certificate(ca: NetworkCA) -> None:
    cert = ca.cert
    assert cert.issuer == cert.subject
    assert ca.name == "ccoin-test-ca"
    assert isinstance(cert.public_key(), Ed25519PublicKey)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert years(cert.not_valid_after_utc - cert.not_valid_before_utc) == pytest.approx(
        10, abs=0.01
    )
    cert.verify_directly_issued_by(cert)  # self-signed


def test_node_certificate(ca: NetworkCA) -> None:
    node = ca.issue_node_cert("delegate-1")
    cert = x509.load_pem_x509_certificate(node.cert_pem)
    assert node.name == "delegate-1"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "delegate-1"
    assert cert.issuer == ca.cert.subject
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["delegate-1"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    validity = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert years(validity) == pytest.approx(5, abs=0.01)
    cert.verify_directly_issued_by(ca.cert)
    assert check_issued_by(node.cert_der, ca.cert_pem)
    assert cert_common_name(node.cert_der) == "delegate-1"


def test_given_key_is_used(ca: NetworkCA) -> None:
    key = Ed25519PrivateKey.generate()
    node = ca.issue_node_cert("n", key)
    cert = x509.load_pem_x509_certificate(node.cert_pem)
    assert cert.public_key() == key.public_key()


def test_fingerprint_is_sha256_of_der_and_stable(ca: NetworkCA) -> None:
    node = ca.issue_node_cert("n")
    assert len(node.fingerprint) == 32
    assert node.fingerprint == fingerprint(node.cert_der)
    again = NodeIdentity.from_pem(node.cert_pem, node.key_pem)
    assert again == node
    # A second certificate for the same name and key is a different identity.
    other = ca.issue_node_cert("n")
    assert other.fingerprint != node.fingerprint
    assert fingerprint(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_cert_from_another_ca_rejected(ca: NetworkCA) -> None:
    other_ca = NetworkCA.create("ccoin-test-ca")  # same name, different key
    stranger = other_ca.issue_node_cert("delegate-1")
    assert not check_issued_by(stranger.cert_der, ca.cert_pem)
    assert check_issued_by(stranger.cert_der, other_ca.cert_pem)
    assert not check_issued_by(b"not a certificate", ca.cert_pem)
    # The CA itself is not a node certificate issued by a different CA.
    assert not check_issued_by(other_ca.cert.public_bytes(serialization.Encoding.DER), ca.cert_pem)


def test_tampered_cert_rejected(ca: NetworkCA) -> None:
    der = bytearray(ca.issue_node_cert("n").cert_der)
    der[-1] ^= 1  # inside the signature
    assert not check_issued_by(bytes(der), ca.cert_pem)


def test_save_and_load(tmp_path: Path, ca: NetworkCA) -> None:
    node = ca.issue_node_cert("n")
    node.save(tmp_path / "node.crt", tmp_path / "node.key")
    ca.save(tmp_path / "ca.crt", tmp_path / "ca.key")
    for name in ("node.key", "ca.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "node.crt").stat().st_mode) == 0o644
    assert load_identity(tmp_path / "node.crt", tmp_path / "node.key") == node
    loaded = load_ca(tmp_path / "ca.crt", tmp_path / "ca.key")
    assert loaded.cert_pem == ca.cert_pem
    assert load_ca_cert(tmp_path / "ca.crt") == ca.cert_pem
    assert check_issued_by(loaded.issue_node_cert("m").cert_der, ca.cert_pem)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ca.crt",
        "ca.key",
        "node.crt",
        "node.key",
    ]


def test_save_private_tightens_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(b"old")
    path.chmod(0o666)
    save_pem(path, b"new", private=True)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_mismatched_key_rejected(tmp_path: Path, ca: NetworkCA) -> None:
    a, b = ca.issue_node_cert("a"), ca.issue_node_cert("b")
    with pytest.raises(P2PError):
        NodeIdentity.from_pem(a.cert_pem, b.key_pem)
    save_pem(tmp_path / "ca.crt", ca.cert_pem)
    save_pem(tmp_path / "wrong.key", a.key_pem, private=True)
    with pytest.raises(P2PError):
        load_ca(tmp_path / "ca.crt", tmp_path / "wrong.key")


def test_several_cas_in_the_trust_bundle(ca: NetworkCA) -> None:
    next_ca = NetworkCA.create("next-ca")
    bundle = ca.cert_pem + next_ca.cert_pem
    assert check_issued_by(ca.issue_node_cert("old").cert_der, bundle)
    assert check_issued_by(next_ca.issue_node_cert("new").cert_der, bundle)
    assert not check_issued_by(NetworkCA.create("x").issue_node_cert("x").cert_der, bundle)
