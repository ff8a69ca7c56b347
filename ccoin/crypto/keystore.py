"""Passphrase-encrypted keystore files for Ed25519 signing-key seeds.

The 32-byte seed is sealed with XSalsa20-Poly1305 (`nacl.secret.SecretBox`) under a key derived
from the passphrase with argon2id; the JSON file also carries the public key and address so a
node can identify the account without the passphrase. Every field is validated on load, the KDF
cost is bounded so a hostile file cannot force huge allocations, and files are written
atomically with mode 0600 and never overwritten.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Final

import nacl.exceptions
import nacl.pwhash.argon2id
import nacl.secret
import nacl.signing
import nacl.utils

__all__ = [
    "DEFAULT_MEMLIMIT",
    "DEFAULT_OPSLIMIT",
    "KDF_PRESETS",
    "KEYSTORE_VERSION",
    "MAX_KEYSTORE_FILE_SIZE",
    "Keystore",
    "KeystoreError",
    "decrypt_seed",
    "encrypt_seed",
    "load_keystore",
    "save_keystore",
]

KEYSTORE_VERSION: Final = 1
KDF_NAME: Final = "argon2id"
CIPHER_NAME: Final = "xsalsa20poly1305"

SEED_SIZE: Final = 32
PUBLIC_KEY_SIZE: Final = 32
SALT_SIZE: Final = nacl.pwhash.argon2id.SALTBYTES  # 16
NONCE_SIZE: Final = nacl.secret.SecretBox.NONCE_SIZE  # 24
KEY_SIZE: Final = nacl.secret.SecretBox.KEY_SIZE  # 32
CIPHERTEXT_SIZE: Final = SEED_SIZE + nacl.secret.SecretBox.MACBYTES  # 48

DEFAULT_OPSLIMIT: Final = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT: Final = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
# Named (opslimit, memlimit) costs offered by the CLI; "fast" is for throwaway devnet keys.
KDF_PRESETS: Final[dict[str, tuple[int, int]]] = {
    "moderate": (DEFAULT_OPSLIMIT, DEFAULT_MEMLIMIT),
    "interactive": (
        nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ),
    "fast": (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN),
}
OPSLIMIT_BOUNDS: Final = (
    nacl.pwhash.argon2id.OPSLIMIT_MIN,
    nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE,
)
MEMLIMIT_BOUNDS: Final = (
    nacl.pwhash.argon2id.MEMLIMIT_MIN,
    nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE,
)

MAX_KEYSTORE_FILE_SIZE: Final = 64 * 1024

_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})*")
_TOP_KEYS: Final = frozenset({"version", "publicKey", "address", "kdf", "cipher"})
_KDF_KEYS: Final = frozenset({"name", "opslimit", "memlimit", "salt"})
_CIPHER_KEYS: Final = frozenset({"name", "nonce", "ciphertext"})


class KeystoreError(Exception):
    """Wrong passphrase, corrupt or malformed keystore, bad parameters, or file I/O failure."""


def _expected_address(public_key: bytes) -> str:
    from ccoin.crypto.address import address_from_public_key

    return address_from_public_key(public_key)


def _check_bytes(name: str, value: object, size: int) -> None:
    if not isinstance(value, bytes):
        raise KeystoreError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != size:
        raise KeystoreError(f"{name} must be {size} bytes, got {len(value)}")


def _check_int_in(name: str, value: object, bounds: tuple[int, int]) -> int:
    # bool is a subclass of int; `true` in a keystore file is not a KDF parameter.
    if not isinstance(value, int) or isinstance(value, bool):
        raise KeystoreError(f"{name} must be an integer, got {type(value).__name__}")
    low, high = bounds
    if not low <= value <= high:
        raise KeystoreError(f"{name} {value} out of bounds [{low}, {high}]")
    return value


@dataclass(frozen=True)
class Keystore:
    """An encrypted seed plus the public data needed to identify and decrypt it.

    Construction validates every field (sizes, KDF bounds, address matches public key), so
    any `Keystore` instance is well formed; whether the passphrase is right is only known
    when `decrypt_seed` runs.
    """

    public_key: bytes
    address: str
    kdf_opslimit: int
    kdf_memlimit: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes

    def __post_init__(self) -> None:
        _check_bytes("public key", self.public_key, PUBLIC_KEY_SIZE)
        _check_int_in("kdf opslimit", self.kdf_opslimit, OPSLIMIT_BOUNDS)
        _check_int_in("kdf memlimit", self.kdf_memlimit, MEMLIMIT_BOUNDS)
        _check_bytes("kdf salt", self.salt, SALT_SIZE)
        _check_bytes("cipher nonce", self.nonce, NONCE_SIZE)
        _check_bytes("ciphertext", self.ciphertext, CIPHERTEXT_SIZE)
        if not isinstance(self.address, str):
            raise KeystoreError(f"address must be a string, got {type(self.address).__name__}")
        expected = _expected_address(self.public_key)
        if self.address != expected:
            raise KeystoreError(
                f"address {self.address!r} does not match public key (expected {expected!r})"
            )

    def to_json(self) -> dict[str, Any]:
        """The JSON-serialisable keystore document (hex is lowercase)."""
        return {
            "version": KEYSTORE_VERSION,
            "publicKey": self.public_key.hex(),
            "address": self.address,
            "kdf": {
                "name": KDF_NAME,
                "opslimit": self.kdf_opslimit,
                "memlimit": self.kdf_memlimit,
                "salt": self.salt.hex(),
            },
            "cipher": {
                "name": CIPHER_NAME,
                "nonce": self.nonce.hex(),
                "ciphertext": self.ciphertext.hex(),
            },
        }

    @classmethod
    def from_json(cls, obj: object) -> Keystore:
        """Parse and validate a keystore document; raises `KeystoreError` on any problem.

        Unknown or missing keys, wrong types, non-lowercase or odd-length hex, wrong sizes,
        unsupported version/KDF/cipher names and out-of-bounds KDF parameters are all errors.
        """
        top = _object(obj, "keystore", _TOP_KEYS)
        version = top["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise KeystoreError(f"keystore version must be an integer, got {version!r}")
        if version != KEYSTORE_VERSION:
            raise KeystoreError(f"unsupported keystore version {version}")
        kdf = _object(top["kdf"], "kdf", _KDF_KEYS)
        if kdf["name"] != KDF_NAME:
            raise KeystoreError(f"unsupported kdf {kdf['name']!r} (expected {KDF_NAME!r})")
        cipher = _object(top["cipher"], "cipher", _CIPHER_KEYS)
        if cipher["name"] != CIPHER_NAME:
            raise KeystoreError(f"unsupported cipher {cipher['name']!r} (expected {CIPHER_NAME!r})")
        address = top["address"]
        if not isinstance(address, str):
            raise KeystoreError(f"address must be a string, got {type(address).__name__}")
        return cls(
            public_key=_hex_field("publicKey", top["publicKey"], PUBLIC_KEY_SIZE),
            address=address,
            kdf_opslimit=_check_int_in("kdf opslimit", kdf["opslimit"], OPSLIMIT_BOUNDS),
            kdf_memlimit=_check_int_in("kdf memlimit", kdf["memlimit"], MEMLIMIT_BOUNDS),
            salt=_hex_field("kdf salt", kdf["salt"], SALT_SIZE),
            nonce=_hex_field("cipher nonce", cipher["nonce"], NONCE_SIZE),
            ciphertext=_hex_field("ciphertext", cipher["ciphertext"], CIPHERTEXT_SIZE),
        )


def _object(value: object, name: str, keys: frozenset[str]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise KeystoreError(f"{name} must be a JSON object, got {type(value).__name__}")
    present = set(value)
    missing = keys - present
    if missing:
        raise KeystoreError(f"{name} is missing field(s): {', '.join(sorted(missing))}")
    unknown = present - keys
    if unknown:
        raise KeystoreError(f"{name} has unknown field(s): {', '.join(sorted(map(repr, unknown)))}")
    return value


def _hex_field(name: str, value: object, size: int) -> bytes:
    if not isinstance(value, str):
        raise KeystoreError(f"{name} must be a hex string, got {type(value).__name__}")
    if _HEX_RE.fullmatch(value) is None:
        raise KeystoreError(f"{name} is not lowercase even-length hex")
    raw = bytes.fromhex(value)
    if len(raw) != size:
        raise KeystoreError(f"{name} must be {size} bytes, got {len(raw)}")
    return raw


def _passphrase_bytes(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise KeystoreError(f"passphrase must be a string, got {type(passphrase).__name__}")
    if not passphrase:
        raise KeystoreError("passphrase must not be empty")
    try:
        return passphrase.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise KeystoreError("passphrase is not encodable as UTF-8") from exc


def _derive_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    try:
        return nacl.pwhash.argon2id.kdf(
            KEY_SIZE, _passphrase_bytes(passphrase), salt, opslimit=opslimit, memlimit=memlimit
        )
    except nacl.exceptions.CryptoError as exc:
        raise KeystoreError(f"key derivation failed: {exc}") from exc


def encrypt_seed(
    seed: bytes,
    passphrase: str,
    *,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> Keystore:
    """Encrypt a 32-byte Ed25519 seed under `passphrase` with a fresh random salt and nonce."""
    _check_bytes("seed", seed, SEED_SIZE)
    _passphrase_bytes(passphrase)  # fail fast, before the expensive KDF
    _check_int_in("kdf opslimit", opslimit, OPSLIMIT_BOUNDS)
    _check_int_in("kdf memlimit", memlimit, MEMLIMIT_BOUNDS)
    public_key = nacl.signing.SigningKey(seed).verify_key.encode()
    salt = nacl.utils.random(SALT_SIZE)
    nonce = nacl.utils.random(NONCE_SIZE)
    key = _derive_key(passphrase, salt, opslimit, memlimit)
    ciphertext = nacl.secret.SecretBox(key).encrypt(seed, nonce).ciphertext
    return Keystore(
        public_key=public_key,
        address=_expected_address(public_key),
        kdf_opslimit=opslimit,
        kdf_memlimit=memlimit,
        salt=salt,
        nonce=nonce,
        ciphertext=ciphertext,
    )


def decrypt_seed(ks: Keystore, passphrase: str) -> bytes:
    """Decrypt the seed and check it derives `ks.public_key`; `KeystoreError` otherwise."""
    key = _derive_key(passphrase, ks.salt, ks.kdf_opslimit, ks.kdf_memlimit)
    try:
        seed = nacl.secret.SecretBox(key).decrypt(ks.ciphertext, ks.nonce)
    except nacl.exceptions.CryptoError as exc:
        raise KeystoreError("wrong passphrase or corrupt keystore") from exc
    if len(seed) != SEED_SIZE:
        raise KeystoreError(f"decrypted seed has wrong size {len(seed)}")
    derived = nacl.signing.SigningKey(seed).verify_key.encode()
    if not hmac.compare_digest(derived, ks.public_key):
        raise KeystoreError("decrypted key does not match the keystore's public key")
    return seed


def save_keystore(ks: Keystore, path: str | os.PathLike[str]) -> None:
    """Write `ks` to `path` atomically with mode 0600; never overwrites an existing file.

    The document goes to a temp file in the same directory, is fsynced, then hard-linked into
    place: `os.link` fails atomically if `path` exists, so a keystore that appears after our
    check is not clobbered either. Where hard links are unsupported we fall back to
    `os.replace` after re-checking that `path` does not exist.
    """
    target = os.fspath(path)
    if os.path.lexists(target):
        raise KeystoreError(f"refusing to overwrite existing file: {target}")
    directory = os.path.dirname(os.path.abspath(target))
    data = (json.dumps(ks.to_json(), indent=2, sort_keys=True) + "\n").encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise KeystoreError(f"cannot create temp file in {directory}: {exc}") from exc
    try:
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise
            except OSError:
                if os.path.lexists(target):
                    raise FileExistsError(target) from None
                os.replace(tmp, target)
        except FileExistsError as exc:
            raise KeystoreError(f"refusing to overwrite existing file: {target}") from exc
        except OSError as exc:
            raise KeystoreError(f"cannot write keystore {target}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    # Best effort: make the new directory entry durable. Not possible on every platform.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise KeystoreError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def load_keystore(path: str | os.PathLike[str]) -> Keystore:
    """Read and validate the keystore at `path` (at most `MAX_KEYSTORE_FILE_SIZE` bytes)."""
    target = os.fspath(path)
    try:
        with open(target, "rb") as fh:
            raw = fh.read(MAX_KEYSTORE_FILE_SIZE + 1)
    except FileNotFoundError as exc:
        raise KeystoreError(f"keystore file not found: {target}") from exc
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {target}: {exc}") from exc
    if len(raw) > MAX_KEYSTORE_FILE_SIZE:
        raise KeystoreError(f"keystore file {target} is larger than {MAX_KEYSTORE_FILE_SIZE} bytes")
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise KeystoreError(f"keystore file {target} is not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError, over-long integer literals, absurd nesting.
        raise KeystoreError(f"keystore file {target} is not valid JSON: {exc}") from exc
    try:
        return Keystore.from_json(obj)
    except KeystoreError as exc:
        raise KeystoreError(f"invalid keystore {target}: {exc}") from exc
