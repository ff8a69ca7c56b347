"""What an anchor commits to: per-block leaves over a contiguous range of finalized
heights, their Merkle root, and the audit path of one block (DESIGN section 9).

Block leaf data: `height (u64 big-endian) || block hash (32) || withdrawalRoot (32) ||
retirementRoot (32)` (104 bytes), so one anchor commits both of a block's roots; the tree is
the sidechain's (RFC 6962 shape, SHA-256, `ccoin.types.merkle`), which the BSC `Anchor`,
`Bridge` and `RetirementRegistry` contracts verify with the same hashing
(`contracts/Merkle.sol` here). A withdrawal's leaf is `ccoin.modules.bridge.rules.withdrawal_leaf`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ccoin.types.block import BlockHeader
from ccoin.types.merkle import inclusion_proof, merkle_root


def block_leaf(
    height: int, block_hash: bytes, withdrawal_root: bytes, retirement_root: bytes
) -> bytes:
    return height.to_bytes(8, "big") + block_hash + withdrawal_root + retirement_root


def header_leaf(header: BlockHeader, network_id: bytes) -> bytes:
    return block_leaf(
        header.height, header.hash(network_id), header.withdrawal_root, header.retirement_root
    )


def range_root(headers: Sequence[BlockHeader], network_id: bytes) -> bytes:
    """The root an anchor of these consecutive headers carries."""
    _check_contiguous(headers)
    return merkle_root([header_leaf(h, network_id) for h in headers])


def range_proof(headers: Sequence[BlockHeader], height: int, network_id: bytes) -> list[bytes]:
    """The audit path of the block at `height` in the range `headers`."""
    _check_contiguous(headers)
    first = headers[0].height
    return inclusion_proof([header_leaf(h, network_id) for h in headers], height - first)


def _check_contiguous(headers: Sequence[BlockHeader]) -> None:
    if not headers:
        raise ValueError("an anchor covers at least one block")
    for before, after in itertools.pairwise(headers):
        if after.height != before.height + 1:
            raise ValueError(f"heights {before.height} and {after.height} are not contiguous")
