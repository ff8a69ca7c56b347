"""Test factories for the carbon module: a test network with a carbon committee, and one
builder per transaction type (shared by the tests, the benchmark and the e2e walkthrough)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable

from ccoin.crypto.keys import KeyPair
from ccoin.modules.carbon import ranges as R
from ccoin.modules.carbon.genesis import DEFAULT_FEES, CarbonGenesis
from ccoin.modules.carbon.ranges import Ranges
from ccoin.modules.carbon.records import BatchRecord, CancellationRecord, Holding, RetirementRecord
from ccoin.modules.carbon.wire import (
    CancelAsset,
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.storage import schema
from ccoin.testing.factories import LocalNet, make_testnet
from ccoin.types.asset_base import TxType
from ccoin.types.transaction import Transaction, TxBody

METADATA = hashlib.sha256(b"project design document").digest()


def carbon_testnet(
    *, accounts: int = 8, max_holding_ranges: int = 256, **kwargs: object
) -> LocalNet:
    """`make_testnet` plus a carbon section whose committee is account 0."""
    net = make_testnet(accounts=accounts, **kwargs)  # type: ignore[arg-type]
    section = CarbonGenesis(net.accounts[0].address, max_holding_ranges)
    return dataclasses.replace(net, genesis=dataclasses.replace(net.genesis, carbon=section))


def _signed(
    sender: KeyPair,
    tx_type: TxType,
    asset: object,
    network_id: bytes,
    *,
    recipient: str | None = None,
    fee: int | None = None,
    timestamp: int = 0,
) -> Transaction:
    body = TxBody(
        tx_type,
        timestamp,
        sender.public_key,
        recipient,
        0,
        DEFAULT_FEES[tx_type] if fee is None else fee,
        asset,  # type: ignore[arg-type]
    )
    return body.sign(sender, network_id)


def admit_class(
    committee: KeyPair,
    class_id: str,
    network_id: bytes,
    *,
    name: str = "Verified tCO2e",
    timestamp: int = 0,
) -> Transaction:
    asset = CommitteeAsset("admit-class", class_id, name)
    return _signed(committee, TxType.CARBON_COMMITTEE, asset, network_id, timestamp=timestamp)


def remove_class(
    committee: KeyPair, class_id: str, network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    asset = CommitteeAsset("remove-class", class_id)
    return _signed(committee, TxType.CARBON_COMMITTEE, asset, network_id, timestamp=timestamp)


def admit_issuer(
    committee: KeyPair,
    issuer: str,
    classes: tuple[str, ...],
    network_id: bytes,
    *,
    timestamp: int = 0,
) -> Transaction:
    asset = CommitteeAsset("admit-issuer", issuer=issuer, classes=tuple(sorted(classes)))
    return _signed(committee, TxType.CARBON_COMMITTEE, asset, network_id, timestamp=timestamp)


def remove_issuer(
    committee: KeyPair, issuer: str, network_id: bytes, *, timestamp: int = 0
) -> Transaction:
    asset = CommitteeAsset("remove-issuer", issuer=issuer)
    return _signed(committee, TxType.CARBON_COMMITTEE, asset, network_id, timestamp=timestamp)


def register_project(
    issuer: KeyPair,
    project_id: str,
    class_id: str,
    network_id: bytes,
    *,
    jurisdiction: str = "KE",
    name: str = "Kasigau Corridor REDD+",
    methodology: str = "VM0009",
    timestamp: int = 0,
) -> Transaction:
    asset = ProjectAsset(project_id, class_id, name, jurisdiction, methodology, METADATA)
    return _signed(issuer, TxType.CARBON_PROJECT, asset, network_id, timestamp=timestamp)


def issue(
    issuer: KeyPair,
    project_id: str,
    first: int,
    last: int,
    origin: str,
    recipient: str,
    network_id: bytes,
    *,
    vintage: tuple[int, int] = (20240101, 20241231),
    timestamp: int = 0,
) -> Transaction:
    asset = IssueAsset(project_id, vintage[0], vintage[1], first, last, origin, METADATA)
    return _signed(
        issuer, TxType.CARBON_ISSUE, asset, network_id, recipient=recipient, timestamp=timestamp
    )


def transfer(
    sender: KeyPair,
    recipient: str,
    batch_id: str,
    network_id: bytes,
    *,
    quantity: int = 0,
    ranges: Ranges = (),
    timestamp: int = 0,
) -> Transaction:
    asset = CarbonTransferAsset(batch_id, quantity, ranges)
    return _signed(
        sender, TxType.CARBON_TRANSFER, asset, network_id, recipient=recipient, timestamp=timestamp
    )


def retire(
    sender: KeyPair,
    batch_id: str,
    network_id: bytes,
    *,
    quantity: int = 0,
    ranges: Ranges = (),
    beneficiary: str = "Acme Ltd",
    jurisdiction: str = "GB",
    reason: str = "2025 operational emissions",
    timestamp: int = 0,
) -> Transaction:
    asset = RetireAsset(batch_id, quantity, ranges, beneficiary, jurisdiction, reason)
    return _signed(sender, TxType.CARBON_RETIRE, asset, network_id, timestamp=timestamp)


def cancel(
    sender: KeyPair,
    batch_id: str,
    network_id: bytes,
    *,
    quantity: int = 0,
    ranges: Ranges = (),
    reason: str = "moved to another registry",
    timestamp: int = 0,
) -> Transaction:
    asset = CancelAsset(batch_id, quantity, ranges, reason)
    return _signed(sender, TxType.CARBON_CANCEL, asset, network_id, timestamp=timestamp)


# -- the module's invariants, checked over a whole store -------------------------------------


def check_invariants(get_table: Callable[[bytes], Iterable[tuple[bytes, bytes]]]) -> int:
    """Assert every carbon invariant over the tables `get_table(prefix)` yields (a store's
    `iterate`): per batch issued = tradable + retired + cancelled, each count the size of
    its records' ranges, every serial of [first, last] in exactly one place, holdings
    canonical. Returns the number of batches checked."""
    places: dict[str, list[tuple[str, Ranges]]] = {}
    for key, value in get_table(schema.CARBON_HOLDING):
        batch_id = key[1 + 14 + 1 :].decode()
        ranges = Holding.decode(value).ranges
        assert ranges and R.is_canonical(ranges), f"holding {key.hex()} is not canonical"
        places.setdefault(batch_id, []).append(("tradable", ranges))
    for _key, value in get_table(schema.CARBON_RETIREMENT):
        retirement = RetirementRecord.decode(value)
        assert retirement.quantity == R.size(retirement.ranges)
        places.setdefault(retirement.batch_id, []).append(("retired", retirement.ranges))
    for _key, value in get_table(schema.CARBON_CANCELLATION):
        cancelled = CancellationRecord.decode(value)
        assert cancelled.quantity == R.size(cancelled.ranges)
        places.setdefault(cancelled.batch_id, []).append(("cancelled", cancelled.ranges))
    batches = 0
    for _key, value in get_table(schema.CARBON_BATCH):
        batch = BatchRecord.decode(value)
        batches += 1
        assert batch.issued == batch.tradable + batch.retired + batch.cancelled, batch
        counts = {"tradable": 0, "retired": 0, "cancelled": 0}
        union: Ranges = ()
        for where, ranges in places.pop(batch.batch_id, []):
            counts[where] += R.size(ranges)
            union = R.union(union, ranges)  # raises if a serial is in two places
        assert counts == {
            "tradable": batch.tradable,
            "retired": batch.retired,
            "cancelled": batch.cancelled,
        }, (batch.batch_id, counts)
        assert union == ((batch.first, batch.last),), (batch.batch_id, union)
    assert not places, f"credits of unknown batches: {sorted(places)}"
    return batches
