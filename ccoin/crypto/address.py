"""Addresses and ids (DESIGN section 3).

Address: "C" + base58(first 12 bytes of SHA-256(pubkey) + first 2 bytes of SHA-256 of those
12 bytes): at most 21 characters, 96-bit preimage resistance and a checksum that rejects
typos. Ids of transactions and blocks: base58 of the first 14 bytes of their hash (at most
20 characters). Both use the Bitcoin alphabet.
"""

from __future__ import annotations

import functools
import hashlib

import base58

from ccoin.errors import DecodeError, ErrorCode

ADDRESS_PREFIX = "C"
ADDRESS_BODY_LEN = 12
ADDRESS_CHECKSUM_LEN = 2
ADDRESS_RAW_LEN = ADDRESS_BODY_LEN + ADDRESS_CHECKSUM_LEN
MAX_ADDRESS_LEN = 21
ID_RAW_LEN = 14
MAX_ID_LEN = 20

_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


@functools.lru_cache(maxsize=1 << 16)
def address_from_public_key(public_key: bytes) -> str:
    """Cached like `address_raw`: base58 encoding is pure Python."""
    return address_from_raw(address_raw_from_public_key(public_key))


@functools.lru_cache(maxsize=1 << 16)
def address_raw_from_public_key(public_key: bytes) -> bytes:
    """The 14 raw address bytes (the storage key) without the base58 round trip."""
    body = hashlib.sha256(public_key).digest()[:ADDRESS_BODY_LEN]
    return body + _checksum(body)


def address_raw(address: str) -> bytes:
    """The 14 raw bytes behind a valid address (its storage key), or DecodeError.

    Cached: the base58 library is pure Python (~15 us a decode) and the same addresses
    recur on every block; errors are not cached, and the cache is bounded. The type is
    checked before the cache, which cannot hash a list or a dict."""
    if type(address) is not str:
        kind = type(address).__name__  # never repr(): the value may be nested without end
        raise DecodeError(ErrorCode.BAD_ADDRESS, f"invalid address: a {kind}, not a string")
    return _address_raw(address)


@functools.lru_cache(maxsize=1 << 16)
def _address_raw(address: str) -> bytes:
    if not 2 <= len(address) <= MAX_ADDRESS_LEN:
        raise DecodeError(ErrorCode.BAD_ADDRESS, f"invalid address {address!r}: bad length")
    if address[0] != ADDRESS_PREFIX or not _ALPHABET.issuperset(address[1:]):
        raise DecodeError(
            ErrorCode.BAD_ADDRESS, f"invalid address {address!r}: must be 'C' + base58"
        )
    raw = base58.b58decode(address[1:])
    if len(raw) != ADDRESS_RAW_LEN:
        raise DecodeError(ErrorCode.BAD_ADDRESS, f"invalid address {address!r}: bad length")
    if _checksum(raw[:ADDRESS_BODY_LEN]) != raw[ADDRESS_BODY_LEN:]:
        raise DecodeError(ErrorCode.BAD_ADDRESS, f"invalid address {address!r}: bad checksum")
    return raw


CONTRACT_DOMAIN = b"CCOIN-CONTRACT"


def contract_address_raw(deploy_hash: bytes) -> bytes:
    """The raw address of the contract a deploy transaction (by its 32-byte hash) creates:
    the account form over SHA-256(domain + hash), so no key pair can ever own it."""
    body = hashlib.sha256(CONTRACT_DOMAIN + deploy_hash).digest()[:ADDRESS_BODY_LEN]
    return body + _checksum(body)


ESCROW_DOMAIN = b"CCOIN-BRIDGE-ESCROW"


def escrow_address(chain_name: str) -> str:
    """The bridge escrow of the chain named `chain_name`: the account form over
    SHA-256(domain + name), which no key pair owns, so only the bridge's rules move its C."""
    body = hashlib.sha256(ESCROW_DOMAIN + chain_name.encode()).digest()[:ADDRESS_BODY_LEN]
    return address_from_raw(body + _checksum(body))


def address_from_raw(raw: bytes) -> str:
    return ADDRESS_PREFIX + base58.b58encode(raw).decode("ascii")


def is_address(value: object) -> bool:
    try:
        address_raw(value)  # type: ignore[arg-type, unused-ignore]
    except DecodeError:
        return False
    return True


def id_from_hash(digest: bytes) -> str:
    return base58.b58encode(digest[:ID_RAW_LEN]).decode("ascii")


def id_raw(identifier: str) -> bytes:
    """The 14 raw bytes behind a transaction or block id, or DecodeError."""
    if type(identifier) is not str or not 1 <= len(identifier) <= MAX_ID_LEN:
        raise DecodeError(ErrorCode.BAD_ID, f"invalid id {identifier!r}: bad length")
    if not _ALPHABET.issuperset(identifier):
        raise DecodeError(ErrorCode.BAD_ID, f"invalid id {identifier!r}: not base58")
    raw = base58.b58decode(identifier)
    if len(raw) != ID_RAW_LEN or id_from_hash(raw) != identifier:
        raise DecodeError(ErrorCode.BAD_ID, f"invalid id {identifier!r}: not 14 bytes")
    return raw


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()[:ADDRESS_CHECKSUM_LEN]
