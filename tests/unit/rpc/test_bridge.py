"""ccoin_getWithdrawalProof on a node with a bridge: a finalized withdrawal's proof verifies
against the block's withdrawalRoot and the range root; bad requests get their errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import trio
import trio.testing

from ccoin.errors import ErrorCode
from ccoin.testing import factories as f
from ccoin.types.genesis import BridgeConfig
from ccoin.types.merkle import verify_inclusion
from tests.unit.rpc.conftest import ALICE, NET, ApiClient, open_api

BRIDGED = dataclasses.replace(
    NET.genesis, bridge=BridgeConfig(NET.accounts[2].address, 97, b"\xbb" * 20, 0)
)


async def finalized(api: ApiClient, height: int) -> None:
    while api.node.chain.finalized_height < height:
        await api.node.wait_for_change()


async def test_a_withdrawal_proof_verifies(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, genesis=BRIDGED) as api:
        tx = f.withdraw(ALICE, b"\x07" * 20, 1234, api.nid, timestamp=api.now())
        height = await api.include(tx)
        await finalized(api, height + 1)
        proof = await api.result(
            "ccoin_getWithdrawalProof",
            {"id": tx.id(api.nid), "fromHeight": 1, "toHeight": height + 1},
        )
        assert proof["height"] == height and proof["amount"] == "1234"
        leaf = bytes.fromhex(proof["withdrawalId"]) + b"\x07" * 20 + (1234).to_bytes(8, "big")
        path = [bytes.fromhex(p) for p in proof["leafPath"]]
        root = bytes.fromhex(proof["withdrawalRoot"])
        assert verify_inclusion(leaf, proof["leafIndex"], proof["leafCount"], path, root)
        block_leaf = height.to_bytes(8, "big") + bytes.fromhex(proof["blockHash"]) + root
        block_path = [bytes.fromhex(p) for p in proof["blockPath"]]
        range_root = bytes.fromhex(proof["rangeRoot"])
        assert verify_inclusion(block_leaf, height - 1, height + 1, block_path, range_root)
        method = "ccoin_getWithdrawalProof"
        tx_id = tx.id(api.nid)
        await api.error(method, [tx_id, height + 1, height + 1], ErrorCode.RPC_INVALID_PARAMS)
        await api.error(method, [tx_id, 1, 9_999], ErrorCode.RPC_INVALID_PARAMS)  # not final
        await api.error(method, [tx_id, 1, 10**6], ErrorCode.OUT_OF_RANGE)  # too long
        await api.error(method, [tx_id, 5, 4], ErrorCode.OUT_OF_RANGE)
        await api.error(method, ["nope!", 1, 2], ErrorCode.BAD_ID)
        other = f.transfer(ALICE, NET.accounts[1].address, 5, api.nid, timestamp=api.now())
        await api.include(other)
        await api.error(method, [other.id(api.nid), 1, 2], ErrorCode.NOT_FOUND)
