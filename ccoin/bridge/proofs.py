"""The proofs BSC takes, from a node's own chain: a block's leaf under an anchored range's
root (`BlockProof`), and with it a withdrawal leaf under the block's withdrawalRoot
(`Bridge.withdraw`'s two arguments) or a carbon retirement leaf under its retirementRoot
(`RetirementRegistry.record`'s two arguments); docs/spec/bridge.md section 3.

A block's retirement leaves come from the carbon module; `retirement_proof_from_leaves`
takes them as given and checks them against the header's retirementRoot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ccoin.bridge.anchors import range_proof, range_root
from ccoin.errors import DecodeError, ErrorCode, RpcError
from ccoin.ledger.chain import Chain
from ccoin.modules.bridge.rules import withdrawal_leaf
from ccoin.types.assets import OutTransferAsset
from ccoin.types.block import ZERO_HASH, BlockHeader
from ccoin.types.merkle import inclusion_proof, merkle_root
from ccoin.types.transaction import Transaction

RETIREMENT_LEAF_LEN = 72


class FinalizedHeaders(Protocol):
    """What a block proof reads of a chain (a `Chain` is one)."""

    @property
    def network_id(self) -> bytes: ...

    @property
    def finalized_height(self) -> int: ...

    def header_at(self, height: int) -> BlockHeader | None: ...


@dataclass(frozen=True)
class BlockProof:
    """Block `height`'s leaf (height, hash, withdrawalRoot, retirementRoot) at its place in
    the range `range_from..range_to`, whose root an anchor carries."""

    height: int
    block_hash: bytes
    withdrawal_root: bytes
    retirement_root: bytes
    range_from: int
    range_to: int
    range_root: bytes
    path: list[bytes]

    def arguments(self, range_index: int) -> tuple[Any, ...]:
        """The contracts' `BlockProof`, for the range anchored at `range_index` on BSC."""
        return (
            range_index,
            self.height,
            self.block_hash,
            self.withdrawal_root,
            self.retirement_root,
            self.path,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "blockHash": self.block_hash.hex(),
            "withdrawalRoot": self.withdrawal_root.hex(),
            "retirementRoot": self.retirement_root.hex(),
            "rangeFrom": self.range_from,
            "rangeTo": self.range_to,
            "rangeRoot": self.range_root.hex(),
            "blockPath": [p.hex() for p in self.path],
        }


def block_proof(chain: FinalizedHeaders, height: int, range_from: int, range_to: int) -> BlockProof:
    """Block `height`'s proof in the range `range_from..range_to`, which must contain it and
    be finalized on this node."""
    if not range_from <= height <= range_to:
        raise RpcError(
            ErrorCode.RPC_INVALID_PARAMS, f"block {height} is outside {range_from}-{range_to}"
        )
    if range_to > chain.finalized_height:
        raise RpcError(ErrorCode.RPC_INVALID_PARAMS, f"height {range_to} is not finalized yet")
    found = [chain.header_at(h) for h in range(range_from, range_to + 1)]
    headers = [h for h in found if h is not None]
    if len(headers) != len(found):
        raise RpcError(ErrorCode.NOT_FOUND, "a block of the range is missing")
    network_id = chain.network_id
    header = headers[height - range_from]
    return BlockProof(
        height=height,
        block_hash=header.hash(network_id),
        withdrawal_root=header.withdrawal_root,
        retirement_root=header.retirement_root,
        range_from=range_from,
        range_to=range_to,
        range_root=range_root(headers, network_id),
        path=range_proof(headers, height, network_id),
    )


@dataclass(frozen=True)
class WithdrawalProof:
    withdrawal_id: bytes
    bsc_recipient: bytes
    amount: int
    leaf_index: int
    leaf_count: int
    leaf_path: list[bytes]
    block: BlockProof

    def bridge_arguments(self, range_index: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """`(BlockProof, Withdrawal)` as `Bridge.withdraw` takes them."""
        withdrawal = (
            self.withdrawal_id,
            "0x" + self.bsc_recipient.hex(),
            self.amount,
            self.leaf_index,
            self.leaf_count,
            self.leaf_path,
        )
        return self.block.arguments(range_index), withdrawal

    def to_json(self) -> dict[str, Any]:
        return {
            "withdrawalId": self.withdrawal_id.hex(),
            "bscRecipient": self.bsc_recipient.hex(),
            "amount": str(self.amount),
            "leafIndex": self.leaf_index,
            "leafCount": self.leaf_count,
            "leafPath": [p.hex() for p in self.leaf_path],
            **self.block.to_json(),
        }


def _withdrawals_of(block_txs: tuple[Transaction, ...], network_id: bytes) -> list[bytes]:
    leaves = []
    for tx in block_txs:
        if isinstance(tx.body.asset, OutTransferAsset):
            leaves.append(
                withdrawal_leaf(
                    tx.digest(network_id)[1], tx.body.asset.bsc_recipient, tx.body.amount
                )
            )
    return leaves


def withdrawal_proof(chain: Chain, tx_id: str, range_from: int, range_to: int) -> WithdrawalProof:
    """The proof of withdrawal `tx_id` (a type-7 transaction's id) in the anchored range
    `range_from..range_to`, which must be finalized on this node and contain its block."""
    located = chain.transaction(tx_id)
    if located is None or not isinstance(located.transaction.body.asset, OutTransferAsset):
        raise RpcError(ErrorCode.NOT_FOUND, f"no withdrawal {tx_id} on this chain")
    height = located.height
    block_part = block_proof(chain, height, range_from, range_to)
    network_id = chain.network_id
    block = chain.block_at(height)
    assert block is not None
    leaves = _withdrawals_of(block.transactions, network_id)
    tx = located.transaction
    asset = tx.body.asset
    assert isinstance(asset, OutTransferAsset)
    withdrawal_id = tx.digest(network_id)[1]
    index = leaves.index(withdrawal_leaf(withdrawal_id, asset.bsc_recipient, tx.body.amount))
    return WithdrawalProof(
        withdrawal_id=withdrawal_id,
        bsc_recipient=asset.bsc_recipient,
        amount=tx.body.amount,
        leaf_index=index,
        leaf_count=len(leaves),
        leaf_path=inclusion_proof(leaves, index),
        block=block_part,
    )


@dataclass(frozen=True)
class RetirementLeaf:
    """One carbon retirement's leaf data: `retirement_id (32, the retiring transaction's
    hash) || record_hash (32, SHA-256 of the retirement record's canonical bytes) ||
    quantity (u64 big-endian)`, 72 bytes; a header's retirementRoot is the root of its
    block's leaves, in block order."""

    retirement_id: bytes
    record_hash: bytes
    quantity: int

    def encode(self) -> bytes:
        if len(self.retirement_id) != 32 or len(self.record_hash) != 32:
            raise ValueError("a retirement id and a record hash are 32 bytes each")
        if not 0 <= self.quantity < 2**64:
            raise ValueError(f"quantity {self.quantity} is not a u64")
        return self.retirement_id + self.record_hash + self.quantity.to_bytes(8, "big")

    @classmethod
    def decode(cls, data: bytes) -> RetirementLeaf:
        if len(data) != RETIREMENT_LEAF_LEN:
            raise DecodeError(
                ErrorCode.BAD_FIELD,
                f"a retirement leaf is {RETIREMENT_LEAF_LEN} bytes, not {len(data)}",
            )
        return cls(data[:32], data[32:64], int.from_bytes(data[64:], "big"))


@dataclass(frozen=True)
class RetirementProof:
    retirement_id: bytes
    record_hash: bytes
    quantity: int
    leaf_index: int
    leaf_count: int
    leaf_path: list[bytes]
    block: BlockProof

    def registry_arguments(self, range_index: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """`(BlockProof, Retirement)` as `RetirementRegistry.record` takes them."""
        retirement = (
            self.retirement_id,
            self.record_hash,
            self.quantity,
            self.leaf_index,
            self.leaf_count,
            self.leaf_path,
        )
        return self.block.arguments(range_index), retirement

    def to_json(self) -> dict[str, Any]:
        return {
            "retirementId": self.retirement_id.hex(),
            "recordHash": self.record_hash.hex(),
            "quantity": str(self.quantity),
            "leafIndex": self.leaf_index,
            "leafCount": self.leaf_count,
            "leafPath": [p.hex() for p in self.leaf_path],
            **self.block.to_json(),
        }


def retirement_proof_from_leaves(
    chain: FinalizedHeaders,
    height: int,
    leaves: Sequence[bytes],
    index: int,
    range_from: int,
    range_to: int,
) -> RetirementProof:
    """The proof of retirement leaf `index` among `leaves`, block `height`'s retirement
    leaves in block order (which must be the ones its header's retirementRoot commits), in
    the anchored range `range_from..range_to`, which must be finalized on this node and
    contain the block."""
    block = block_proof(chain, height, range_from, range_to)
    root = merkle_root(leaves) if leaves else ZERO_HASH
    if root != block.retirement_root:
        raise RpcError(
            ErrorCode.RPC_INVALID_PARAMS,
            f"the {len(leaves)} retirement leaves given have root {root.hex()}, not block "
            f"{height}'s retirementRoot {block.retirement_root.hex()}",
        )
    if not leaves:
        raise RpcError(ErrorCode.NOT_FOUND, f"block {height} retires nothing")
    if not 0 <= index < len(leaves):
        raise RpcError(
            ErrorCode.RPC_INVALID_PARAMS,
            f"retirement leaf {index}: block {height} has {len(leaves)}",
        )
    leaf = RetirementLeaf.decode(leaves[index])
    return RetirementProof(
        retirement_id=leaf.retirement_id,
        record_hash=leaf.record_hash,
        quantity=leaf.quantity,
        leaf_index=index,
        leaf_count=len(leaves),
        leaf_path=inclusion_proof(leaves, index),
        block=block,
    )
