"""State records: accounts and delegates, as stored in LevelDB.

Account layout: [balance, publicKey | nil, secondPublicKey | nil,
                 multisignature [min, lifetime, keysgroup] | nil, votes [delegate keys], locked]
Delegate layout: [publicKey, username, bridgeAddress, certFingerprint, voteWeight,
                  registeredHeight]

A voter's balance is split evenly across the delegates it votes for: each gets
floor(balance / len(votes)) of weight (DESIGN section 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from ccoin.errors import DecodeError, ErrorCode
from ccoin.types.codec import (
    MAX_BIGINT,
    field_bytes,
    field_int,
    field_list,
    field_str,
    packb,
    unpack_canonical,
)

MAX_RECORD_BYTES = 64 * 1024


@dataclass(frozen=True)
class MultisigGroup:
    min: int
    lifetime: int
    keysgroup: tuple[bytes, ...]

    def to_array(self) -> list[Any]:
        return [self.min, self.lifetime, list(self.keysgroup)]

    @classmethod
    def from_array(cls, arr: Any) -> MultisigGroup:
        min_, lifetime, keys = field_list(arr, "multisignature", size=3)
        keys = field_list(keys, "multisignature.keysgroup", max_len=16)
        return cls(
            field_int(min_, "multisignature.min", 1, 16),
            field_int(lifetime, "multisignature.lifetime", 1, 72),
            tuple(field_bytes(k, "keysgroup[]", size=32) for k in keys),
        )


@dataclass(frozen=True)
class Account:
    balance: int = 0
    public_key: bytes | None = None
    second_public_key: bytes | None = None
    multisignature: MultisigGroup | None = None
    votes: tuple[bytes, ...] = ()
    locked: bool = False

    def vote_share(self) -> int:
        """Weight this account gives each delegate it votes for."""
        return self.balance // len(self.votes) if self.votes else 0

    def to_array(self) -> list[Any]:
        return [
            self.balance,
            self.public_key,
            self.second_public_key,
            self.multisignature.to_array() if self.multisignature else None,
            list(self.votes),
            self.locked,
        ]

    def encode(self) -> bytes:
        return packb(self.to_array())

    @classmethod
    def load(cls, data: bytes) -> Account:
        """Read a record this node wrote itself (hot path: no canonical re-check; the
        database is trusted, bytes from outside go through `decode`)."""
        balance, pk, second, multisig, votes, locked = msgpack.unpackb(data)
        return cls(
            balance,
            pk,
            second,
            None
            if multisig is None
            else MultisigGroup(multisig[0], multisig[1], tuple(multisig[2])),
            tuple(votes),
            locked,
        )

    @classmethod
    def decode(cls, data: bytes) -> Account:
        arr = unpack_canonical(data, max_size=MAX_RECORD_BYTES, what="account")
        balance, pk, second, multisig, votes, locked = field_list(arr, "account", size=6)
        if type(locked) is not bool:
            raise DecodeError(ErrorCode.WRONG_TYPE, "account.locked: expected a boolean")
        return cls(
            field_int(balance, "account.balance", 0, MAX_BIGINT),
            None if pk is None else field_bytes(pk, "account.publicKey", size=32),
            None if second is None else field_bytes(second, "account.secondPublicKey", size=32),
            None if multisig is None else MultisigGroup.from_array(multisig),
            tuple(
                field_bytes(v, "account.votes[]", size=32)
                for v in field_list(votes, "account.votes", max_len=101)
            ),
            locked,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "balance": str(self.balance),
            "publicKey": self.public_key.hex() if self.public_key else None,
            "secondPublicKey": self.second_public_key.hex() if self.second_public_key else None,
            "multisignature": None
            if self.multisignature is None
            else {
                "min": self.multisignature.min,
                "lifetime": self.multisignature.lifetime,
                "keysgroup": [k.hex() for k in self.multisignature.keysgroup],
            },
            "votes": [v.hex() for v in self.votes],
            "locked": self.locked,
        }


@dataclass(frozen=True)
class DelegateRecord:
    public_key: bytes
    username: str
    bridge_address: bytes
    cert_fingerprint: bytes
    vote_weight: int = 0
    registered_height: int = 0

    def to_array(self) -> list[Any]:
        return [
            self.public_key,
            self.username,
            self.bridge_address,
            self.cert_fingerprint,
            self.vote_weight,
            self.registered_height,
        ]

    def encode(self) -> bytes:
        return packb(self.to_array())

    @classmethod
    def decode(cls, data: bytes) -> DelegateRecord:
        arr = unpack_canonical(data, max_size=MAX_RECORD_BYTES, what="delegate")
        pk, username, bridge, fingerprint, weight, height = field_list(arr, "delegate", size=6)
        return cls(
            field_bytes(pk, "delegate.publicKey", size=32),
            field_str(username, "delegate.username", max_len=20),
            field_bytes(bridge, "delegate.bridgeAddress", size=20),
            field_bytes(fingerprint, "delegate.certFingerprint", size=32),
            field_int(weight, "delegate.voteWeight", 0, MAX_BIGINT),
            field_int(height, "delegate.registeredHeight", 0, MAX_BIGINT),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "publicKey": self.public_key.hex(),
            "username": self.username,
            "bridgeAddress": self.bridge_address.hex(),
            "certFingerprint": self.cert_fingerprint.hex(),
            "voteWeight": str(self.vote_weight),
            "registeredHeight": self.registered_height,
        }
