"""Tests for the argon2id + XSalsa20-Poly1305 keystore (`ccoin.crypto.keystore`)."""

from __future__ import annotations

import copy
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nacl.pwhash.argon2id as argon2id
import nacl.signing
import pytest

from ccoin.crypto.address import address_from_public_key
from ccoin.crypto.keystore import (
    MAX_KEYSTORE_FILE_SIZE,
    Keystore,
    KeystoreError,
    decrypt_seed,
    encrypt_seed,
    load_keystore,
    save_keystore,
)

OPS = argon2id.OPSLIMIT_MIN
MEM = argon2id.MEMLIMIT_MIN
SEED = bytes(range(32))
PASSPHRASE = "correct horse battery staple"


def _encrypt(seed: bytes = SEED, passphrase: str = PASSPHRASE) -> Keystore:
    return encrypt_seed(seed, passphrase, opslimit=OPS, memlimit=MEM)


@pytest.fixture(scope="module")
def ks() -> Keystore:
    return _encrypt()


@pytest.fixture
def doc(ks: Keystore) -> dict[str, Any]:
    return ks.to_json()


@pytest.fixture
def no_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _flip_hex(value: str, index: int = 0) -> str:
    raw = bytearray(bytes.fromhex(value))
    raw[index] ^= 0x01
    return raw.hex()


def _other_public_key() -> bytes:
    return bytes(nacl.signing.SigningKey(b"\x42" * 32).verify_key)


# --- round trip -----------------------------------------------------------------------------


def test_round_trip_in_memory(ks: Keystore) -> None:
    assert decrypt_seed(ks, PASSPHRASE) == SEED
    assert ks.public_key == bytes(nacl.signing.SigningKey(SEED).verify_key)
    assert ks.address == address_from_public_key(ks.public_key)
    assert (ks.kdf_opslimit, ks.kdf_memlimit) == (OPS, MEM)
    assert len(ks.salt) == 16 and len(ks.nonce) == 24 and len(ks.ciphertext) == 48


def test_json_round_trip(ks: Keystore) -> None:
    doc = ks.to_json()
    assert json.loads(json.dumps(doc)) == doc
    assert Keystore.from_json(json.loads(json.dumps(doc))) == ks
    assert doc["version"] == 1
    assert doc["kdf"]["name"] == "argon2id"
    assert doc["cipher"]["name"] == "xsalsa20poly1305"
    assert doc["publicKey"] == ks.public_key.hex()
    assert doc["address"] == ks.address


def test_file_round_trip(ks: Keystore, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    save_keystore(ks, path)
    loaded = load_keystore(path)
    assert loaded == ks
    assert decrypt_seed(loaded, PASSPHRASE) == SEED
    assert sorted(os.listdir(tmp_path)) == ["key.json"]  # no temp file left behind
    save_keystore(ks, str(tmp_path / "key2.json"))  # str paths work too
    assert load_keystore(str(tmp_path / "key2.json")) == ks


def test_decrypted_seed_signs_for_public_key(ks: Keystore) -> None:
    signing_key = nacl.signing.SigningKey(decrypt_seed(ks, PASSPHRASE))
    signed = signing_key.sign(b"msg")
    assert nacl.signing.VerifyKey(ks.public_key).verify(signed) == b"msg"


def test_unicode_passphrase_round_trip() -> None:
    ks = _encrypt(passphrase="pässwörd ✓ 鍵")
    assert decrypt_seed(ks, "pässwörd ✓ 鍵") == SEED
    with pytest.raises(KeystoreError):
        decrypt_seed(ks, "passwort ✓ 鍵")


def test_fresh_salt_and_nonce_each_time() -> None:
    a, b = _encrypt(), _encrypt()
    assert a.public_key == b.public_key
    assert a.salt != b.salt and a.nonce != b.nonce and a.ciphertext != b.ciphertext


def test_default_kdf_params_are_moderate(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    real_kdf = argon2id.kdf

    def fast_kdf(size: int, pw: bytes, salt: bytes, *, opslimit: int, memlimit: int) -> bytes:
        seen.append((opslimit, memlimit))
        return real_kdf(size, pw, salt, opslimit=OPS, memlimit=MEM)

    monkeypatch.setattr(argon2id, "kdf", fast_kdf)
    ks = encrypt_seed(SEED, PASSPHRASE)
    assert (ks.kdf_opslimit, ks.kdf_memlimit) == (
        argon2id.OPSLIMIT_MODERATE,
        argon2id.MEMLIMIT_MODERATE,
    )
    assert decrypt_seed(ks, PASSPHRASE) == SEED
    assert seen == [(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)] * 2


# --- wrong passphrase / tampering -----------------------------------------------------------


def test_wrong_passphrase(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupt keystore"):
        decrypt_seed(ks, PASSPHRASE + "!")


@pytest.mark.parametrize(
    "section,field", [("cipher", "ciphertext"), ("cipher", "nonce"), ("kdf", "salt")]
)
@pytest.mark.parametrize("index", [0, -1])
def test_tampered_encryption_fields(
    doc: dict[str, Any], section: str, field: str, index: int
) -> None:
    doc[section][field] = _flip_hex(doc[section][field], index)
    tampered = Keystore.from_json(doc)  # still well formed...
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupt keystore"):
        decrypt_seed(tampered, PASSPHRASE)  # ...but authentication fails


def test_tampered_kdf_params(doc: dict[str, Any]) -> None:
    doc["kdf"]["opslimit"] = OPS + 1
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupt keystore"):
        decrypt_seed(Keystore.from_json(doc), PASSPHRASE)


def test_tampered_public_key_with_consistent_address(doc: dict[str, Any]) -> None:
    other = _other_public_key()
    doc["publicKey"] = other.hex()
    doc["address"] = address_from_public_key(other)
    tampered = Keystore.from_json(doc)
    with pytest.raises(KeystoreError, match="does not match the keystore's public key"):
        decrypt_seed(tampered, PASSPHRASE)


def test_tampered_public_key_alone_is_address_mismatch(doc: dict[str, Any]) -> None:
    doc["publicKey"] = _other_public_key().hex()
    with pytest.raises(KeystoreError, match="does not match public key"):
        Keystore.from_json(doc)


# --- malformed documents --------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], object]


def _set(path: str, value: object) -> Mutation:
    keys = path.split(".")

    def mutate(doc: dict[str, Any]) -> object:
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        return doc

    return mutate


def _delete(path: str) -> Mutation:
    keys = path.split(".")

    def mutate(doc: dict[str, Any]) -> object:
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
        return doc

    return mutate


def _upper(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> object:
        section, field = path.split(".")
        value = doc[section][field]
        doc[section][field] = "A" + value[1:].upper()  # at least one uppercase digit
        return doc

    return mutate


MUTATIONS: dict[str, Mutation] = {
    # whole document
    "doc-list": lambda d: [d],
    "doc-null": lambda d: None,
    "doc-string": lambda d: json.dumps(d),
    "extra-top-field": _set("seed", "00" * 32),
    # version
    "version-missing": _delete("version"),
    "version-2": _set("version", 2),
    "version-0": _set("version", 0),
    "version-str": _set("version", "1"),
    "version-bool": _set("version", True),
    "version-float": _set("version", 1.0),
    # publicKey
    "pk-missing": _delete("publicKey"),
    "pk-int": _set("publicKey", 5),
    "pk-short": _set("publicKey", "00" * 31),
    "pk-long": _set("publicKey", "00" * 33),
    "pk-odd": _set("publicKey", "0" * 63),
    "pk-nonhex": _set("publicKey", "zz" * 32),
    "pk-space": _set("publicKey", "00 " * 31 + "00"),
    "pk-0x": _set("publicKey", "0x" + "00" * 31),
    # address
    "address-missing": _delete("address"),
    "address-int": _set("address", 7),
    "address-null": _set("address", None),
    "address-wrong": _set("address", "Cnotmyaddress"),
    "address-empty": _set("address", ""),
    # kdf
    "kdf-missing": _delete("kdf"),
    "kdf-list": _set("kdf", []),
    "kdf-extra": _set("kdf.extra", 1),
    "kdf-name-missing": _delete("kdf.name"),
    "kdf-name-scrypt": _set("kdf.name", "scrypt"),
    "kdf-name-upper": _set("kdf.name", "ARGON2ID"),
    "kdf-name-null": _set("kdf.name", None),
    "ops-missing": _delete("kdf.opslimit"),
    "ops-str": _set("kdf.opslimit", "1"),
    "ops-float": _set("kdf.opslimit", 1.0),
    "ops-bool": _set("kdf.opslimit", True),
    "ops-null": _set("kdf.opslimit", None),
    "mem-missing": _delete("kdf.memlimit"),
    "mem-str": _set("kdf.memlimit", str(MEM)),
    "mem-float": _set("kdf.memlimit", float(MEM)),
    "salt-missing": _delete("kdf.salt"),
    "salt-short": _set("kdf.salt", "00" * 15),
    "salt-long": _set("kdf.salt", "00" * 17),
    "salt-nonhex": _set("kdf.salt", "gg" * 16),
    "salt-upper": _upper("kdf.salt"),
    "salt-list": _set("kdf.salt", [0] * 16),
    # cipher
    "cipher-missing": _delete("cipher"),
    "cipher-str": _set("cipher", "xsalsa20poly1305"),
    "cipher-extra": _set("cipher.mac", "00"),
    "cipher-name-missing": _delete("cipher.name"),
    "cipher-name-other": _set("cipher.name", "aes-256-gcm"),
    "nonce-missing": _delete("cipher.nonce"),
    "nonce-short": _set("cipher.nonce", "00" * 23),
    "nonce-long": _set("cipher.nonce", "00" * 25),
    "nonce-upper": _upper("cipher.nonce"),
    "ct-missing": _delete("cipher.ciphertext"),
    "ct-empty": _set("cipher.ciphertext", ""),
    "ct-short": _set("cipher.ciphertext", "00" * 47),
    "ct-long": _set("cipher.ciphertext", "00" * 49),
    "ct-odd": _set("cipher.ciphertext", "0" * 95),
    "ct-int": _set("cipher.ciphertext", 0),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_malformed_document_rejected(doc: dict[str, Any], mutation: Mutation) -> None:
    bad = mutation(copy.deepcopy(doc))
    with pytest.raises(KeystoreError):
        Keystore.from_json(bad)


@pytest.mark.parametrize("mutation", list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_malformed_file_rejected(doc: dict[str, Any], mutation: Mutation, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(mutation(copy.deepcopy(doc))))
    with pytest.raises(KeystoreError, match="invalid keystore"):
        load_keystore(path)


@pytest.mark.parametrize(
    "field,value",
    [
        ("opslimit", argon2id.OPSLIMIT_MIN - 1),
        ("opslimit", argon2id.OPSLIMIT_SENSITIVE + 1),
        ("opslimit", 2**64),
        ("opslimit", -1),
        ("memlimit", argon2id.MEMLIMIT_MIN - 1),
        ("memlimit", argon2id.MEMLIMIT_SENSITIVE + 1),
        ("memlimit", 2**64),
        ("memlimit", 0),
    ],
)
def test_kdf_params_out_of_bounds_rejected(doc: dict[str, Any], field: str, value: int) -> None:
    doc["kdf"][field] = value
    with pytest.raises(KeystoreError, match="out of bounds"):
        Keystore.from_json(doc)
    kwargs = {"opslimit": OPS, "memlimit": MEM, field: value}
    with pytest.raises(KeystoreError, match="out of bounds"):
        encrypt_seed(SEED, PASSPHRASE, **kwargs)


@pytest.mark.parametrize(
    "field,value",
    [
        ("opslimit", argon2id.OPSLIMIT_SENSITIVE),
        ("memlimit", argon2id.MEMLIMIT_SENSITIVE),
    ],
)
def test_kdf_params_at_upper_bound_accepted(doc: dict[str, Any], field: str, value: int) -> None:
    doc["kdf"][field] = value
    assert Keystore.from_json(doc).to_json()["kdf"][field] == value


def test_direct_construction_is_validated(ks: Keystore) -> None:
    fields = {
        "public_key": ks.public_key,
        "address": ks.address,
        "kdf_opslimit": ks.kdf_opslimit,
        "kdf_memlimit": ks.kdf_memlimit,
        "salt": ks.salt,
        "nonce": ks.nonce,
        "ciphertext": ks.ciphertext,
    }
    assert Keystore(**fields) == ks  # type: ignore[arg-type]
    for name, value in [
        ("public_key", ks.public_key[:-1]),
        ("public_key", ks.public_key.hex()),
        ("address", "C1"),
        ("kdf_opslimit", 0),
        ("kdf_memlimit", 2**40),
        ("salt", b""),
        ("nonce", bytearray(ks.nonce)),
        ("ciphertext", ks.ciphertext + b"\x00"),
    ]:
        with pytest.raises(KeystoreError):
            Keystore(**{**fields, name: value})  # type: ignore[arg-type]


# --- passphrase and seed arguments ----------------------------------------------------------


def test_empty_passphrase_rejected(ks: Keystore) -> None:
    with pytest.raises(KeystoreError, match="passphrase must not be empty"):
        encrypt_seed(SEED, "", opslimit=OPS, memlimit=MEM)
    with pytest.raises(KeystoreError, match="passphrase must not be empty"):
        decrypt_seed(ks, "")


def test_unencodable_passphrase_rejected() -> None:
    with pytest.raises(KeystoreError, match="UTF-8"):
        encrypt_seed(SEED, "bad\ud800", opslimit=OPS, memlimit=MEM)


@pytest.mark.parametrize("seed", [b"", b"\x00" * 31, b"\x00" * 33, "00" * 32])
def test_bad_seed_rejected(seed: Any) -> None:
    with pytest.raises(KeystoreError, match="seed"):
        encrypt_seed(seed, PASSPHRASE, opslimit=OPS, memlimit=MEM)


# --- files ----------------------------------------------------------------------------------


def test_file_mode_is_0600(ks: Keystore, tmp_path: Path, no_umask: None) -> None:
    path = tmp_path / "key.json"
    save_keystore(ks, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_refuses_to_overwrite(ks: Keystore, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text("precious")
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        save_keystore(ks, path)
    assert path.read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["key.json"]


def test_refuses_to_overwrite_dangling_symlink(ks: Keystore, tmp_path: Path) -> None:
    link = tmp_path / "key.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        save_keystore(ks, link)
    assert not (tmp_path / "elsewhere.json").exists()


def test_refuses_to_overwrite_file_created_during_save(
    ks: Keystore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file that appears between the existence check and the final link is not clobbered.
    path = tmp_path / "key.json"
    real_fsync = os.fsync

    def racing_fsync(fd: int) -> None:
        real_fsync(fd)
        if not path.exists():
            path.write_text("raced")

    monkeypatch.setattr(os, "fsync", racing_fsync)
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        save_keystore(ks, path)
    assert path.read_text() == "raced"
    assert sorted(os.listdir(tmp_path)) == ["key.json"]


def test_save_into_missing_directory(ks: Keystore, tmp_path: Path) -> None:
    with pytest.raises(KeystoreError):
        save_keystore(ks, tmp_path / "nope" / "key.json")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="not found"):
        load_keystore(tmp_path / "absent.json")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="cannot read keystore"):
        load_keystore(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b"\xff\xfe{}",
        b"[" * 30_000 + b"]" * 30_000,
        b'{"version": NaN}',
        b'{"version": 1' + b"1" * 5000 + b"}",
    ],
    ids=["empty", "truncated", "text", "not-utf8", "deep-nesting", "nan", "huge-int"],
)
def test_bad_json(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key.json"
    path.write_bytes(content)
    with pytest.raises(KeystoreError):
        load_keystore(path)


def test_duplicate_json_keys_rejected(ks: Keystore, tmp_path: Path) -> None:
    text = json.dumps(ks.to_json())
    path = tmp_path / "key.json"
    path.write_text(text[:-1] + ', "version": 1}')
    with pytest.raises(KeystoreError, match="duplicate JSON key"):
        load_keystore(path)


def test_oversized_file_rejected(ks: Keystore, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    text = json.dumps(ks.to_json())
    path.write_text(text + " " * (MAX_KEYSTORE_FILE_SIZE + 1 - len(text)))
    with pytest.raises(KeystoreError, match="larger than"):
        load_keystore(path)
    path.write_text(text + " " * (MAX_KEYSTORE_FILE_SIZE - len(text)))  # exactly the limit
    assert load_keystore(path) == ks
