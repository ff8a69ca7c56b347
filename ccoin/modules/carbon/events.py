"""The carbon events of a block, as the WebSocket topics push them (docs/spec/rpc.md
section 4): one per carbon transaction of a block (`carbon`, as blocks join the head
chain), and one per retirement of a finalized block (`carbonRetirements`).

An event names the credits that moved as the audit trail recorded them (a transfer by
quantity moves the holder's lowest serials: the event says which), so a follower needs no
further call. Read-only, from a `BlockView` (the node's `Chain` is one).
"""

from __future__ import annotations

from typing import Any, Protocol

from ccoin.crypto.address import id_from_hash
from ccoin.errors import ErrorCode, RpcError
from ccoin.modules.carbon import state as S
from ccoin.modules.carbon.queries import ChainView
from ccoin.modules.carbon.wire import IssueAsset, MoveAsset, ranges_json
from ccoin.storage import schema
from ccoin.types.asset_base import TxType
from ccoin.types.block import Block
from ccoin.types.codec import unpack_canonical
from ccoin.types.transaction import Transaction

KINDS: dict[int, str] = {
    TxType.CARBON_COMMITTEE: "committee",
    TxType.CARBON_PROJECT: "project",
    TxType.CARBON_ISSUE: "issue",
    TxType.CARBON_TRANSFER: "transfer",
    TxType.CARBON_RETIRE: "retire",
    TxType.CARBON_CANCEL: "cancel",
}


class BlockView(ChainView, Protocol):
    def block_at(self, height: int) -> Block | None: ...


def block_events(chain: BlockView, height: int) -> list[dict[str, Any]]:
    """One event per carbon transaction of block `height`, in block order."""
    block = chain.block_at(height)
    if block is None:
        return []
    network_id = chain.network_id
    block_id = block.header.id(network_id)
    return [
        transaction_event(chain, tx, index, height, block_id)
        for index, tx in enumerate(block.transactions)
        if tx.body.type in KINDS
    ]


def transaction_event(
    chain: ChainView, tx: Transaction, index: int, height: int, block_id: str
) -> dict[str, Any]:
    """`{kind, type, transactionId, blockId, height, index, sender, from, to, batchId,
    quantity, ranges, asset}`. For credits (issue, transfer, retire, cancel) `from` and `to`
    are where they moved (an issue comes from null, a retirement or a cancellation goes to
    null); committee decisions and projects move none: `from` is the sender, `to`,
    `batchId`, `quantity` and `ranges` are null."""
    body = tx.body
    _message, tx_hash = tx.digest(chain.network_id)
    out: dict[str, Any] = {
        "kind": KINDS[body.type],
        "type": int(body.type),
        "transactionId": id_from_hash(tx_hash),
        "blockId": block_id,
        "height": height,
        "index": index,
        "sender": body.sender_id,
        "from": body.sender_id,
        "to": None,
        "batchId": None,
        "quantity": None,
        "ranges": None,
        "asset": body.asset.to_json(),
    }
    batch_id = _batch_of(chain, tx, tx_hash[:14])
    if batch_id is None:
        return out
    row = chain.store.get(schema.carbon_event(batch_id, height, index))
    if row is None:
        raise RpcError(ErrorCode.CHAIN_CORRUPT, f"no carbon event for {out['transactionId']}")
    _kind, _tx, sender, recipient, ranges, quantity = unpack_canonical(
        row, max_size=1 << 20, what="carbon event"
    )
    out.update(
        {"from": sender, "to": recipient},
        batchId=batch_id,
        quantity=str(quantity),
        ranges=ranges_json(tuple((first, last) for first, last in ranges)),
    )
    return out


def _batch_of(chain: ChainView, tx: Transaction, tx_raw: bytes) -> str | None:
    asset = tx.body.asset
    if isinstance(asset, MoveAsset):
        return asset.batch_id
    if tx.body.type != TxType.CARBON_ISSUE:
        return None
    assert isinstance(asset, IssueAsset)
    # The origin reference names its batch, once and for good (rules.apply_issue).
    found = chain.store.get(schema.carbon_origin(S.origin_hash(asset.origin)))
    if found is None:
        raise RpcError(ErrorCode.CHAIN_CORRUPT, f"no batch issued by {id_from_hash(tx_raw)}")
    return found.decode("utf-8")


def finalized_retirements(chain: BlockView, height: int) -> list[dict[str, Any]]:
    """Each retirement of block `height` (once it is final), in leaf order: its record,
    with the block's id and the leaf's index under the block's retirementRoot."""
    header = chain.header_at(height)
    if header is None:
        return []
    block_id = header.id(chain.network_id)
    out = []
    for key, tx_raw in chain.store.iterate(schema.carbon_retired_at_prefix(height)):
        record = S.retirement(chain.store.get, tx_raw)
        if record is None:
            raise RpcError(
                ErrorCode.CHAIN_CORRUPT, f"retirement index names missing {tx_raw.hex()}"
            )
        out.append({**record.to_json(), "blockId": block_id, "leafIndex": _u32(key[-4:])})
    return out


def _u32(raw: bytes) -> int:
    return int.from_bytes(raw, "big")
