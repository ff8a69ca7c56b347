"""A carbon registry on the RPC tests' network, for the API's tests (RPC, REST, WebSocket,
client, CLI): account 0 is the committee, 1 the issuer, 2 and 3 holders."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccoin.ledger.chain import Chain
from ccoin.modules.carbon.genesis import CarbonGenesis
from ccoin.testing import carbon as c
from ccoin.types.transaction import Transaction
from tests.unit.rpc.conftest import NET

COMMITTEE, ISSUER, HOLDER, OTHER = NET.accounts
CARBON = dataclasses.replace(NET.genesis, carbon=CarbonGenesis(COMMITTEE.address))
PROJECT = "VCS-1234"
BATCH = "VCS-1234-001"
ORIGIN = "VCS-1234-2024-000001-1000000"
ISSUED = 1_000_000


def produce(chain: Chain, *txs: Transaction) -> int:
    """A block of exactly `txs`; its height."""
    block, execution = chain.build_block(
        list(txs), chain.head.timestamp_ms + 1000, NET.delegates[0]
    )
    assert execution.rejected == [], execution.rejected
    return block.header.height


def registry_transactions(network_id: bytes) -> list[list[Transaction]]:
    """The scenario's blocks: the registry set up, a batch issued to HOLDER, moved on,
    partly retired twice (explicit serials, and by quantity) and partly cancelled."""
    nid = network_id
    return [
        [
            c.admit_class(COMMITTEE, "VCS", nid),
            c.admit_class(COMMITTEE, "GS", nid, name="Gold Standard", timestamp=1),
            c.admit_issuer(COMMITTEE, ISSUER.address, ("VCS",), nid),
            c.register_project(ISSUER, PROJECT, "VCS", nid),
        ],
        [c.issue(ISSUER, PROJECT, 1, ISSUED, ORIGIN, HOLDER.address, nid)],
        [c.transfer(HOLDER, OTHER.address, BATCH, nid, quantity=250)],
        [
            c.retire(OTHER, BATCH, nid, ranges=((40, 45),), beneficiary="Acme Ltd"),
            c.retire(HOLDER, BATCH, nid, quantity=5, beneficiary="Other plc"),
        ],
        [c.cancel(HOLDER, BATCH, nid, quantity=10)],
    ]


@dataclass(frozen=True)
class Registry:
    issue: Transaction
    transfer: Transaction
    acme: Transaction  # retires serials 40-45 (held by OTHER)
    other: Transaction  # retires 5 by quantity (HOLDER's lowest: 251-255)
    cancel: Transaction
    retired_at: int  # the height of both retirements
    finalized: int


def build_registry(chain: Chain) -> Registry:
    """The scenario on `chain`, one empty block above it, all of it finalized."""
    blocks = registry_transactions(chain.network_id)
    heights = [produce(chain, *txs) for txs in blocks]
    finalized = produce(chain)
    chain.set_finalized(finalized)
    return Registry(
        issue=blocks[1][0],
        transfer=blocks[2][0],
        acme=blocks[3][0],
        other=blocks[3][1],
        cancel=blocks[4][0],
        retired_at=heights[3],
        finalized=finalized,
    )
