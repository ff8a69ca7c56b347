"""Deterministic transaction test vectors (`docs/spec/vectors/transactions.json`).

    python -m ccoin.testing.vectors > docs/spec/vectors/transactions.json
    python -m ccoin.testing.vectors --out docs/spec/vectors/transactions.json

Every vector uses the fixed network id SHA-256(b"ccoin-test-vectors") (stored in each entry
as `networkId`) and keys from fixed seeds: the key labelled L has the Ed25519 seed
SHA-256(b"ccoin-test-key:" + L) (`ccoin.testing.factories.key`). Ed25519 signatures are
deterministic, so the output is byte-for-byte the same on every run; a unit test checks the
committed file against a fresh run, so code and vectors cannot drift apart.

Each entry: description, type, networkId, signingBytes, hash, tx (the JSON form), bytes (the
wire form). Entries carrying a signSignature also give `secondPublicKey`, the key it verifies
with; entries from a multisignature account also give `keysgroup` and `min`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ccoin.crypto.keys import KeyPair
from ccoin.modules.carbon.genesis import DEFAULT_FEES as DEFAULT_CARBON_FEES
from ccoin.modules.carbon.wire import (
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.testing.factories import delegate_asset, key
from ccoin.types.assets import (
    Asset,
    ContractCallAsset,
    ContractDeployAsset,
    GovernanceAsset,
    InTransferAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    TxType,
    VoteAsset,
)
from ccoin.types.codec import UNIT
from ccoin.types.genesis import DEFAULT_MIN_FEES
from ccoin.types.transaction import Transaction, TxBody

NETWORK_ID = hashlib.sha256(b"ccoin-test-vectors").digest()

COUNTER_CODE = (
    "def init(start):\n"
    "    storage['count'] = start\n"
    "\n"
    "def increment(by):\n"
    "    storage['count'] = storage['count'] + by\n"
    "    return storage['count']\n"
)


@dataclass(frozen=True)
class Vector:
    """One transaction and what the JSON entry says about it beyond the transaction."""

    description: str
    tx: Transaction
    extra: tuple[tuple[str, Any], ...] = ()

    def to_json(self, network_id: bytes) -> dict[str, Any]:
        message, tx_hash = self.tx.digest(network_id)
        entry: dict[str, Any] = {
            "description": self.description,
            "type": self.tx.type,
            "networkId": network_id.hex(),
            "signingBytes": message.hex(),
            "hash": tx_hash.hex(),
            "tx": self.tx.to_json(network_id),
            "bytes": self.tx.encode().hex(),
        }
        entry.update(self.extra)
        return entry


def _fee(tx_type: int) -> int:
    return DEFAULT_MIN_FEES[TxType(tx_type)]


def _sign(
    sender: KeyPair,
    tx_type: int,
    timestamp: int,
    asset: Asset,
    *,
    recipient: str | None = None,
    amount: int = 0,
    fee: int | None = None,
    second: KeyPair | None = None,
    cosigners: Sequence[KeyPair] = (),
) -> Transaction:
    body = TxBody(
        tx_type,
        timestamp,
        sender.public_key,
        recipient,
        amount,
        _fee(tx_type) if fee is None else fee,
        asset,
    )
    tx = body.sign(sender, NETWORK_ID, second_key=second)
    for cosigner in cosigners:
        tx = tx.cosign(cosigner, NETWORK_ID)
    return tx


def vectors() -> list[Vector]:
    """The vectors, in their published order."""
    alice, bob, carol, dave = key("alice"), key("bob"), key("carol"), key("dave")
    carol2 = key("carol-second")
    members = [key("dave-m1"), key("dave-m2"), key("dave-m3")]
    delegates = [key("delegate0"), key("delegate1"), key("delegate2")]
    authority = key("authority")
    contract = key("contract-counter").address  # illustrative; the VM issue fixes derivation
    multisig_extra = (
        ("min", 2),
        ("keysgroup", [m.public_key.hex() for m in members]),
    )
    out = [
        Vector(
            "type 0 transfer, no memo: key 'alice' sends 12.5 C (125000 base units) to "
            "key 'bob', fee 0.1 C",
            _sign(alice, 0, 1_000, TransferAsset(), recipient=bob.address, amount=125_000),
        ),
        Vector(
            "type 0 transfer with a memo: key 'alice' sends 1 C to key 'bob', "
            "asset.data = utf-8 'invoice 2024-001'",
            _sign(
                alice,
                0,
                1_010,
                TransferAsset(b"invoice 2024-001"),
                recipient=bob.address,
                amount=UNIT,
            ),
        ),
        Vector(
            "type 0 transfer with a second signature: key 'carol' (second key "
            "'carol-second', see secondPublicKey) sends 3 C to key 'alice'; signSignature "
            "signs signingBytes + signature",
            _sign(
                carol,
                0,
                1_020,
                TransferAsset(),
                recipient=alice.address,
                amount=3 * UNIT,
                second=carol2,
            ),
            (("secondPublicKey", carol2.public_key.hex()),),
        ),
        Vector(
            "type 0 transfer from a multisignature account: key 'dave' (2-of-3 keysgroup "
            "'dave-m1', 'dave-m2', 'dave-m3', see keysgroup) sends 7 C to key 'bob', "
            "co-signed by 'dave-m1' and 'dave-m3'",
            _sign(
                dave,
                0,
                1_030,
                TransferAsset(),
                recipient=bob.address,
                amount=7 * UNIT,
                cosigners=[members[0], members[2]],
            ),
            multisig_extra,
        ),
        Vector(
            "type 1 second signature registration: key 'carol' registers key 'carol-second'",
            _sign(carol, 1, 1_040, SecondSignatureAsset(carol2.public_key)),
        ),
        Vector(
            "type 2 delegate registration: key 'delegate0' registers username 'delegate_0'; "
            "bridgeAddress = SHA-256(b'bridge' + publicKey)[:20], "
            "certFingerprint = SHA-256(b'cert' + publicKey)",
            _sign(delegates[0], 2, 1_050, delegate_asset(delegates[0], "delegate_0")),
        ),
        Vector(
            "type 3 vote: key 'alice' votes for key 'delegate1' and removes her vote for "
            "key 'delegate0'",
            _sign(
                alice,
                3,
                1_060,
                VoteAsset(f"+{delegates[1].public_key.hex()},-{delegates[0].public_key.hex()}"),
            ),
        ),
        Vector(
            "type 4 multisignature registration: key 'dave' registers a 2-of-3 keysgroup "
            "('dave-m1', 'dave-m2', 'dave-m3'), lifetime 24 h, co-signed by every member",
            _sign(
                dave,
                4,
                1_070,
                MultisignatureAsset(2, 24, tuple(m.public_key for m in members)),
                cosigners=members,
            ),
        ),
        Vector(
            "type 5 contract deploy: key 'bob' deploys contract 'counter' with init args "
            "[0, 'bob', [true, null]]",
            _sign(
                bob,
                5,
                1_080,
                ContractDeployAsset("counter", COUNTER_CODE, (0, "bob", (True, None))),
            ),
        ),
        Vector(
            "type 6 in-transfer: key 'delegate0' relays BSC deposit nonce 7 (chain 97) "
            "crediting key 'alice' with 50 C; `signatures` carries the attestations of "
            "'delegate0', 'delegate1' and 'delegate2' over signingBytes",
            _sign(
                delegates[0],
                6,
                1_090,
                InTransferAsset(
                    97,
                    hashlib.sha256(b"ccoin-test-vectors:bsc-bridge").digest()[:20],
                    7,
                    hashlib.sha256(b"ccoin-test-vectors:bsc-deposit-7").digest(),
                ),
                recipient=alice.address,
                amount=50 * UNIT,
                cosigners=delegates,
            ),
        ),
        Vector(
            "type 7 out-transfer: key 'bob' withdraws 2 C to BSC address "
            "SHA-256(b'ccoin-test-vectors:bsc-recipient')[:20]",
            _sign(
                bob,
                7,
                1_100,
                OutTransferAsset(hashlib.sha256(b"ccoin-test-vectors:bsc-recipient").digest()[:20]),
                amount=2 * UNIT,
            ),
        ),
        Vector(
            "type 8 contract call: key 'alice' calls increment(5) on the contract at the "
            "address of key 'contract-counter' (illustrative), gas limit 50000",
            _sign(alice, 8, 1_110, ContractCallAsset(contract, "increment", (5,), 50_000)),
        ),
        Vector(
            "type 9 governance: key 'authority' admits the account of key 'bob'",
            _sign(authority, 9, 1_120, GovernanceAsset("admit", "account", bob.address)),
        ),
        Vector(
            "type 9 governance: key 'authority' revokes the node certificate with "
            "fingerprint SHA-256(b'ccoin-test-vectors:node-cert-3')",
            _sign(
                authority,
                9,
                1_130,
                GovernanceAsset(
                    "revoke",
                    "node",
                    hashlib.sha256(b"ccoin-test-vectors:node-cert-3").hexdigest(),
                ),
            ),
        ),
        *_carbon_vectors(alice, bob, authority),
    ]
    return out


def _carbon_vectors(alice: KeyPair, bob: KeyPair, committee: KeyPair) -> list[Vector]:
    """Types 11-16 (docs/spec/carbon.md), on a network whose carbon committee is key
    'authority'."""
    metadata = hashlib.sha256(b"ccoin-test-vectors:project-document").digest()
    fee = DEFAULT_CARBON_FEES
    return [
        Vector(
            "type 11 carbon committee: key 'authority' (the committee) admits credit class "
            "'VCS' named 'Verified Carbon Units'",
            _sign(
                committee,
                11,
                1_200,
                CommitteeAsset("admit-class", "VCS", "Verified Carbon Units"),
                fee=fee[TxType.CARBON_COMMITTEE],
            ),
        ),
        Vector(
            "type 11 carbon committee: key 'authority' admits key 'alice' as an issuer for "
            "classes GS and VCS",
            _sign(
                committee,
                11,
                1_210,
                CommitteeAsset("admit-issuer", issuer=alice.address, classes=("GS", "VCS")),
                fee=fee[TxType.CARBON_COMMITTEE],
            ),
        ),
        Vector(
            "type 12 carbon project: key 'alice' registers project VCS-1234 in class VCS, "
            "jurisdiction KE, methodology VM0009",
            _sign(
                alice,
                12,
                1_220,
                ProjectAsset("VCS-1234", "VCS", "Kasigau Corridor REDD+", "KE", "VM0009", metadata),
                fee=fee[TxType.CARBON_PROJECT],
            ),
        ),
        Vector(
            "type 13 carbon issue: key 'alice' issues serials 1-1000000 of project VCS-1234, "
            "vintage 2024, origin VCS-1234-2024-000001-1000000, to key 'bob'",
            _sign(
                alice,
                13,
                1_230,
                IssueAsset(
                    "VCS-1234",
                    20240101,
                    20241231,
                    1,
                    1_000_000,
                    "VCS-1234-2024-000001-1000000",
                    metadata,
                ),
                recipient=bob.address,
                fee=fee[TxType.CARBON_ISSUE],
            ),
        ),
        Vector(
            "type 14 carbon transfer: key 'bob' sends 250 credits of batch VCS-1234-001 (the "
            "lowest serials) to key 'alice'",
            _sign(
                bob,
                14,
                1_240,
                CarbonTransferAsset("VCS-1234-001", 250, ()),
                recipient=alice.address,
                fee=fee[TxType.CARBON_TRANSFER],
            ),
        ),
        Vector(
            "type 14 carbon transfer by ranges: key 'bob' sends serials 300-399 and 500 of "
            "batch VCS-1234-001 to key 'alice'",
            _sign(
                bob,
                14,
                1_250,
                CarbonTransferAsset("VCS-1234-001", 0, ((300, 399), (500, 500))),
                recipient=alice.address,
                fee=fee[TxType.CARBON_TRANSFER],
            ),
        ),
        Vector(
            "type 15 carbon retire: key 'alice' retires 40 credits of batch VCS-1234-001 for "
            "'Acme Ltd', jurisdiction GB-LND, reason '2025 operational emissions'",
            _sign(
                alice,
                15,
                1_260,
                RetireAsset(
                    "VCS-1234-001", 40, (), "Acme Ltd", "GB-LND", "2025 operational emissions"
                ),
                fee=fee[TxType.CARBON_RETIRE],
            ),
        ),
        Vector(
            "type 16 carbon cancel: key 'bob' cancels serials 900001-1000000 of batch "
            "VCS-1234-001, reason 'moved to another registry'",
            _sign(
                bob,
                16,
                1_270,
                CancelAsset(
                    "VCS-1234-001", 0, ((900_001, 1_000_000),), "moved to another registry"
                ),
                fee=fee[TxType.CARBON_CANCEL],
            ),
        ),
    ]


def generate(network_id: bytes = NETWORK_ID) -> list[dict[str, Any]]:
    return [v.to_json(network_id) for v in vectors()]


def render() -> str:
    """The exact text of `docs/spec/vectors/transactions.json`."""
    return json.dumps(generate(), indent=2) + "\n"


def write_vectors(
    prog: str, description: str, render_text: Callable[[], str], argv: Sequence[str] | None
) -> int:
    """A vectors module's command line: print the file's text, or write it with --out."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", help="write to this file instead of standard output")
    args = parser.parse_args(argv)
    text = render_text()
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return write_vectors(
        "python -m ccoin.testing.vectors",
        "Print the transaction test vectors as JSON.",
        render,
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
