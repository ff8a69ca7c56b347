"""Carbon credit load: `ccoin bench --workload carbon` (issue 15).

Setup (not timed), each step finalized before the next: the devnet's carbon committee
(`keys/carbon-committee.json`) admits a fresh credit class, then the first test account as
its issuer; the issuer registers a project, issues one batch to itself (at least `ISSUED`
credits, one transaction), and hands every other test account exactly the credits its part
of the load moves, as explicit serial ranges.

The measured load is `count` pre-signed carbon moves by quantity (lowest serials first):
transaction i comes from account k = i % n in its round j = i // n and moves 1 + j credits
(distinct quantities keep every transaction distinct, as the transfer load's amounts do).
The accounts form chains of `CHAIN` (0-4, 5-9, ...): each transfers (type 14) to the next,
the last of a chain retires (type 15), so a full chain gives 80% transfers and 20%
retirements; the report counts the real mix.

Why this shape: account k + 1's share lies right below account k's, so an account's own
credits lie below every serial it receives, and its moves (lowest first) always take its
own credits, which cover them exactly: each transaction is valid in whatever order the
blocks put them, and no sender waits for credits that reach it during the run. What an
account receives is the bottom of the share right above its own, and what it gives away is
the bottom of its own: its holding stays one range, whatever the order (a load that
fragmented holdings would hit `maxHoldingRanges` and measure longer and longer holdings).

The class, project and origin carry a fresh tag, so the load can run again on the same
devnet (`--dir`): an origin comes on chain once, ever.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccoin.crypto.keys import KeyPair
from ccoin.errors import ConfigError, ErrorCode
from ccoin.modules.carbon.wire import (
    CarbonTransferAsset,
    CommitteeAsset,
    IssueAsset,
    ProjectAsset,
    RetireAsset,
)
from ccoin.types.asset_base import TxType
from ccoin.types.transaction import Transaction, TxBody

ISSUED = 10_000_000  # the batch's size when the load moves fewer credits in all
CHAIN = 5  # accounts per chain: four transfer, the last retires (80% / 20%)
# The issuer's setup transfers per step: under the pool's per-sender limit (1,000), and
# while one step's shares apply in any order the issuer's holding has at most about half as
# many ranges, under the default maxHoldingRanges (256).
SETUP_CHUNK = 250
METADATA = bytes(32)  # the project document's hash; none behind a benchmark's project
VINTAGE = (20240101, 20241231)
JURISDICTION = "GB"
CARBON_TYPES = (
    TxType.CARBON_COMMITTEE,
    TxType.CARBON_PROJECT,
    TxType.CARBON_ISSUE,
    TxType.CARBON_TRANSFER,
    TxType.CARBON_RETIRE,
)

Fees = Mapping[TxType, int]  # transaction type -> the fee to pay


@dataclass(frozen=True)
class Registry:
    """What one run's setup creates: a class, its project and the origin of its batch."""

    class_id: str
    project_id: str
    origin: str

    @classmethod
    def fresh(cls, tag: str | None = None) -> Registry:
        tag = tag or secrets.token_hex(3).upper()  # A-Z 0-9 only, as the ids require
        return cls(f"B{tag}", f"BENCH-{tag}", f"CCOIN-BENCH:{tag}")

    @property
    def batch_id(self) -> str:
        return f"{self.project_id}-001"  # the project's first batch

    def to_json(self) -> dict[str, str]:
        return {"class": self.class_id, "project": self.project_id, "batch": self.batch_id}


def _signed(
    sender: KeyPair,
    tx_type: TxType,
    asset: Any,
    network_id: bytes,
    timestamp: int,
    fees: Fees,
    recipient: str | None = None,
) -> Transaction:
    body = TxBody(tx_type, timestamp, sender.public_key, recipient, 0, fees[tx_type], asset)
    return body.sign(sender, network_id)


def recipient(k: int, n: int) -> int | None:
    """The account that account k of n transfers to, or None: k retires."""
    return None if k % CHAIN == CHAIN - 1 or k == n - 1 else k + 1


def moves(
    accounts: Sequence[KeyPair],
    count: int,
    batch_id: str,
    network_id: bytes,
    timestamp: int,
    fees: Fees,
    *,
    first: int = 0,
) -> list[Transaction]:
    """The measured load: `count` transfers and retirements (see the module docstring),
    for i from `first` (so the runs of a sweep never repeat a transaction)."""
    if len(accounts) < 2:
        raise ConfigError(ErrorCode.CONFIG_INVALID, "the benchmark needs two test accounts")
    n = len(accounts)
    out = []
    for i in range(first, first + count):
        k, quantity = i % n, 1 + i // n
        to = recipient(k, n)
        if to is None:
            asset: Any = RetireAsset(
                batch_id, quantity, (), f"bench account {k}", JURISDICTION, "ccoin bench"
            )
            out.append(
                _signed(accounts[k], TxType.CARBON_RETIRE, asset, network_id, timestamp, fees)
            )
        else:
            asset = CarbonTransferAsset(batch_id, quantity, ())
            out.append(
                _signed(
                    accounts[k],
                    TxType.CARBON_TRANSFER,
                    asset,
                    network_id,
                    timestamp,
                    fees,
                    accounts[to].address,
                )
            )
    return out


def needs(txs: Sequence[Transaction]) -> Counter[str]:
    """Credits each sender's transactions move, by address."""
    out: Counter[str] = Counter()
    for tx in txs:
        asset = tx.body.asset
        assert isinstance(asset, CarbonTransferAsset | RetireAsset)
        out[tx.body.sender_id] += asset.quantity
    return out


def batch_size(load: Sequence[Transaction]) -> int:
    """The batch the setup issues: `ISSUED`, or all that `load` moves if that is more."""
    return max(ISSUED, sum(needs(load).values()))


def mix(txs: Sequence[Transaction]) -> dict[str, Any]:
    """The load's shares of transfers and retirements, for the report."""
    retirements = sum(tx.body.type == TxType.CARBON_RETIRE for tx in txs)
    return {
        "transfers": len(txs) - retirements,
        "retirements": retirements,
        "retired_share": round(retirements / len(txs), 3) if txs else 0.0,
        "by": "quantity, lowest serials first",
        "pattern": f"chains of {CHAIN} test accounts: each transfers to the next, the last retires",
    }


def setup_steps(
    committee: KeyPair,
    accounts: Sequence[KeyPair],
    registry: Registry,
    load: Sequence[Transaction],
    network_id: bytes,
    timestamp: int,
    fees: Fees,
) -> list[tuple[str, list[Transaction]]]:
    """The setup's transactions, step by step (each must be final before the next): the
    class, the issuer (account 0), the project, the batch, and the credits every other
    account's part of `load` moves. Account 0 keeps its own part and the rest."""
    issuer = accounts[0]
    wanted = needs(load)
    issued = batch_size(load)

    def by_committee(asset: CommitteeAsset) -> Transaction:
        return _signed(committee, TxType.CARBON_COMMITTEE, asset, network_id, timestamp, fees)

    project = ProjectAsset(
        registry.project_id, registry.class_id, "ccoin bench", JURISDICTION, "bench", METADATA
    )
    batch = IssueAsset(registry.project_id, *VINTAGE, 1, issued, registry.origin, METADATA)
    steps = [
        ("class", [by_committee(CommitteeAsset("admit-class", registry.class_id, "bench"))]),
        (
            "issuer",
            [
                by_committee(
                    CommitteeAsset(
                        "admit-issuer", issuer=issuer.address, classes=(registry.class_id,)
                    )
                )
            ],
        ),
        (
            "project",
            [_signed(issuer, TxType.CARBON_PROJECT, project, network_id, timestamp, fees)],
        ),
        (
            "issue",
            [
                _signed(
                    issuer, TxType.CARBON_ISSUE, batch, network_id, timestamp, fees, issuer.address
                )
            ],
        ),
    ]
    # Shares from serial 1 up in reverse account order: account k + 1's below account k's,
    # account 0's (kept) above them all and the rest of the batch above that.
    shares = []
    next_serial = 1
    for account in reversed(accounts[1:]):
        quantity = wanted[account.address]
        if not quantity:
            continue
        block = ((next_serial, next_serial + quantity - 1),)
        next_serial += quantity
        share = CarbonTransferAsset(registry.batch_id, 0, block)
        shares.append(
            _signed(
                issuer,
                TxType.CARBON_TRANSFER,
                share,
                network_id,
                timestamp,
                fees,
                account.address,
            )
        )
    for start in range(0, len(shares), SETUP_CHUNK):
        steps.append((f"credits {start // SETUP_CHUNK + 1}", shares[start : start + SETUP_CHUNK]))
    return steps
