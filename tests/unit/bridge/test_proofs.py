"""A withdrawal or retirement proof is given only for a finalized range that holds its
block; a retirement proof only for leaves whose root is the block's retirementRoot, and it
verifies at both levels."""

from __future__ import annotations

import dataclasses

import pytest

from ccoin.bridge.anchors import header_leaf, range_root
from ccoin.bridge.proofs import RetirementLeaf, retirement_proof_from_leaves, withdrawal_proof
from ccoin.errors import DecodeError, ErrorCode, RpcError
from ccoin.ledger.chain import Chain
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.bridge import RetiringHeaders, retirement_leaves
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


def retiring_chain(final: int) -> RetiringHeaders:
    """Four blocks; block 2 retires three leaves (as the carbon module will make them);
    finalized up to `final`."""
    net = f.make_testnet(accounts=2, delegates=1)
    chain = Chain(MemoryStore(), net.genesis)
    for _ in range(4):
        chain.build_block([], chain.head.timestamp_ms + 1000, net.delegates[0])
    chain.set_finalized(final)
    return RetiringHeaders(chain, {2: retirement_leaves("block-2", [10, 250, 3])})


def test_a_retirement_proof_verifies_at_both_levels() -> None:
    chain = retiring_chain(final=4)
    leaves = chain.leaves[2]
    proof = retirement_proof_from_leaves(chain, 2, leaves, 1, 1, 4)
    leaf = RetirementLeaf.decode(leaves[1])
    assert (proof.retirement_id, proof.record_hash, proof.quantity) == (
        leaf.retirement_id,
        leaf.record_hash,
        250,
    )
    assert (proof.leaf_index, proof.leaf_count) == (1, 3)
    block = proof.block
    header = chain.header_at(2)
    assert header is not None and block.retirement_root == header.retirement_root != bytes(32)
    assert verify_inclusion(leaves[1], 1, 3, proof.leaf_path, block.retirement_root)
    assert verify_inclusion(
        header_leaf(header, chain.network_id), 1, 4, block.path, block.range_root
    )
    headers = [h for h in (chain.header_at(i) for i in range(1, 5)) if h is not None]
    assert block.range_root == range_root(headers, chain.network_id)

    block_arg, retirement_arg = proof.registry_arguments(range_index=5)
    assert block_arg == (5, 2, header.hash(chain.network_id), header.withdrawal_root,
                         header.retirement_root, block.path)  # fmt: skip
    assert retirement_arg == (leaf.retirement_id, leaf.record_hash, 250, 1, 3, proof.leaf_path)
    shown = proof.to_json()
    assert shown["retirementId"] == leaf.retirement_id.hex() and shown["quantity"] == "250"
    assert shown["retirementRoot"] == header.retirement_root.hex()
    assert (shown["leafIndex"], shown["leafCount"], shown["rangeFrom"]) == (1, 3, 1)


def test_a_retirement_proof_needs_the_blocks_own_leaves() -> None:
    chain = retiring_chain(final=4)
    leaves = chain.leaves[2]
    inflated = [*leaves[:2], RetirementLeaf(leaves[2][:32], leaves[2][32:64], 3_000).encode()]
    for given, height in [(inflated, 2), (leaves[:2], 2), ([], 2), (leaves, 3)]:
        with pytest.raises(RpcError) as info:
            retirement_proof_from_leaves(chain, height, given, 0, 1, 4)
        assert info.value.code is ErrorCode.RPC_INVALID_PARAMS
        assert "retirementRoot" in info.value.message
    with pytest.raises(RpcError) as info:
        retirement_proof_from_leaves(chain, 3, [], 0, 1, 4)  # a zero root: nothing to prove
    assert info.value.code is ErrorCode.NOT_FOUND
    for index in (-1, 3):
        with pytest.raises(RpcError) as info:
            retirement_proof_from_leaves(chain, 2, leaves, index, 1, 4)
        assert info.value.code is ErrorCode.RPC_INVALID_PARAMS


def test_a_retirement_proof_needs_a_finalized_range_holding_the_block() -> None:
    early = retiring_chain(final=3)
    leaves = early.leaves[2]
    with pytest.raises(RpcError) as info:
        retirement_proof_from_leaves(early, 2, leaves, 0, 1, 4)
    assert info.value.code is ErrorCode.RPC_INVALID_PARAMS
    assert "not finalized" in info.value.message
    assert retirement_proof_from_leaves(early, 2, leaves, 0, 2, 3).block.range_from == 2
    for start, end in [(3, 3), (1, 1)]:
        with pytest.raises(RpcError) as info:
            retirement_proof_from_leaves(early, 2, leaves, 0, start, end)
        assert info.value.code is ErrorCode.RPC_INVALID_PARAMS
        assert "outside" in info.value.message


def test_a_retirement_leaf_is_72_bytes() -> None:
    leaf = RetirementLeaf(b"\x01" * 32, b"\x02" * 32, 2**64 - 1)
    data = leaf.encode()
    assert len(data) == 72 and data[64:] == b"\xff" * 8
    assert RetirementLeaf.decode(data) == leaf
    with pytest.raises(DecodeError):
        RetirementLeaf.decode(data + b"\x00")
    with pytest.raises(ValueError):
        RetirementLeaf(b"\x01" * 32, b"\x02" * 32, 2**64).encode()
