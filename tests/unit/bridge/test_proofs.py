"""A withdrawal proof is given only for a finalized range that holds the withdrawal."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.bridge.proofs import withdrawal_proof
from ccoin.errors import ErrorCode, RpcError
from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.genesis import BridgeConfig
from ccoin.types.merkle import verify_inclusion


def test_proofs_check_their_range() -> None:
    net = f.make_testnet(accounts=8, delegates=1)
    config = BridgeConfig(net.accounts[6].address, 97, b"\xbb" * 20, 0)
    chain = Chain(MemoryStore(), dataclasses.replace(net.genesis, bridge=config))
    nid = chain.network_id
    out = f.withdraw(net.accounts[1], b"\x01" * 20, 5, nid)
    plain = f.transfer(net.accounts[1], net.accounts[2].address, 5, nid)
    for batch in ([out, plain], []):
        chain.build_block(batch, chain.head.timestamp_ms + 1000, net.delegates[0])
    with pytest.raises(RpcError) as info:
        withdrawal_proof(chain, out.id(nid), 1, 2)
    assert info.value.code is ErrorCode.RPC_INVALID_PARAMS  # not finalized yet
    chain.set_finalized(2)
    proof = withdrawal_proof(chain, out.id(nid), 1, 2)
    assert proof.leaf_count == 1 and proof.leaf_path == []
    block = proof.block
    header = chain.header_at(1)
    assert header is not None and block.withdrawal_root == header.withdrawal_root
    assert block.retirement_root == header.retirement_root == bytes(32)  # retires nothing
    leaf = (1).to_bytes(8, "big") + block.block_hash + block.withdrawal_root + bytes(32)
    assert verify_inclusion(leaf, 0, 2, block.path, block.range_root)
    assert proof.to_json()["retirementRoot"] == "00" * 32
    for tx_id, start, end, code in [
        (out.id(nid), 2, 2, ErrorCode.RPC_INVALID_PARAMS),  # outside the range
        (plain.id(nid), 1, 2, ErrorCode.NOT_FOUND),  # not a withdrawal
    ]:
        with pytest.raises(RpcError) as info:
            withdrawal_proof(chain, tx_id, start, end)
        assert info.value.code is code
