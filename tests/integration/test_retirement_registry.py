"""RetirementRegistry on a real anvil (chain id 97): a retirement is recorded once, on a
proof that its leaf (id, recordHash, quantity) is under a block's retirementRoot and that
block's leaf under a range the delegate set anchored; a forged proof is refused in every
way, and a block that retires nothing proves nothing.

Chains on this branch retire nothing yet (the carbon module makes the leaves), so the
ranges here are synthetic block leaves anchored by the test set, beside one real chain."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge import digests
from ccoin.bridge.anchors import block_leaf
from ccoin.bridge.digests import ordered, sign_digest
from ccoin.bridge.evm import (
    Contract,
    EvmClient,
    EvmReverted,
    create_address,
    deploy,
    new_account,
)
from ccoin.bridge.proofs import RetirementLeaf, retirement_proof_from_leaves, withdrawal_proof
from ccoin.bridge.solidity import load_artifact
from ccoin.crypto.address import address_raw
from ccoin.ledger.chain import Chain
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.bridge import RetiringHeaders, retirement_leaves
from ccoin.types.merkle import inclusion_proof, merkle_root

NETWORK_ID = keccak(b"ccoin-retirement-test-network")
FIRST_HEIGHT = 7_000  # arbitrary: the synthetic ranges start here
ZERO = bytes(32)


@dataclass
class Env:
    client: EvmClient
    owner: LocalAccount
    keys: list[LocalAccount]
    anchor: Contract
    registry: Contract

    def anchor_next(self, retirement_roots: list[bytes]) -> SyntheticRange:
        """Anchor the next range, one synthetic block per retirement root, signed by a
        quorum of the set."""
        start = int(self.anchor.read(self.client, "nextHeight"))
        blocks = [
            (start + i, keccak(b"block-%d" % (start + i)), keccak(b"wd-%d" % (start + i)), root)
            for i, root in enumerate(retirement_roots)
        ]
        leaves = [block_leaf(*b) for b in blocks]
        end, root = start + len(blocks) - 1, merkle_root(leaves)
        set_id = self.anchor.read(self.client, "setId")
        digest = digests.anchor_digest(
            97, self.anchor.address, NETWORK_ID, set_id, start, end, root
        )
        signed = ordered((k.address, sign_digest(k, digest)) for k in self.keys[:3])
        self.anchor.send(self.client, self.owner, "submitAnchor", start, end, root, signed)
        index = int(self.anchor.read(self.client, "rangeCount")) - 1
        return SyntheticRange(index, blocks, leaves)

    def record(self, block: tuple[Any, ...], retirement: tuple[Any, ...]) -> dict[str, Any]:
        return self.registry.send(self.client, self.owner, "record", block, retirement)


@dataclass(frozen=True)
class SyntheticRange:
    index: int
    blocks: list[tuple[int, bytes, bytes, bytes]]  # height, hash, withdrawalRoot, retirementRoot
    leaves: list[bytes]

    def block_proof(self, offset: int, **changed: Any) -> tuple[Any, ...]:
        """`BlockProof` of the block at `offset` in the range, with fields `changed`."""
        height, block_hash, withdrawal_root, retirement_root = self.blocks[offset]
        fields = {
            "rangeIndex": self.index,
            "height": height,
            "blockHash": block_hash,
            "withdrawalRoot": withdrawal_root,
            "retirementRoot": retirement_root,
            "path": inclusion_proof(self.leaves, offset),
        }
        fields.update(changed)
        return tuple(fields.values())


@dataclass(frozen=True)
class Retirements:
    """One block's retirements: (id, recordHash, quantity) each, and their leaves."""

    entries: list[tuple[bytes, bytes, int]]

    @classmethod
    def of(cls, label: str, quantities: list[int]) -> Retirements:
        return cls(
            [
                (
                    hashlib.sha256(f"{label}-tx-{i}".encode()).digest(),
                    hashlib.sha256(f"{label}-record-{i}".encode()).digest(),
                    quantity,
                )
                for i, quantity in enumerate(quantities)
            ]
        )

    @property
    def leaves(self) -> list[bytes]:
        return [RetirementLeaf(*e).encode() for e in self.entries]

    @property
    def root(self) -> bytes:
        return merkle_root(self.leaves)

    def argument(self, entry: int, **changed: Any) -> tuple[Any, ...]:
        """`Retirement` of entry `entry`, with fields `changed`."""
        retirement_id, record_hash, quantity = self.entries[entry]
        fields = {
            "id": retirement_id,
            "recordHash": record_hash,
            "quantity": quantity,
            "index": entry,
            "count": len(self.entries),
            "path": inclusion_proof(self.leaves, entry),
        }
        fields.update(changed)
        return tuple(fields.values())


@pytest.fixture(scope="module")
def chain() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=4) as node, EvmClient(node.url) as client:
        yield client


def set_keys(label: str, count: int) -> list[LocalAccount]:
    keys = [new_account(keccak(f"{label}-{i}".encode())) for i in range(count)]
    return sorted(keys, key=lambda k: int(k.address, 16))


@pytest.fixture
def env(chain: EvmClient) -> Env:
    owner = new_account(dev_accounts(1)[0].key)
    keys = set_keys("retire-set", 4)
    anchor = deploy(
        chain, owner, load_artifact("Anchor"), NETWORK_ID, [k.address for k in keys], FIRST_HEIGHT
    )
    registry = deploy(chain, owner, load_artifact("RetirementRegistry"), anchor.address)
    return Env(chain, owner, keys, anchor, registry)


def reverted(reason: str) -> Any:
    return pytest.raises(EvmReverted, match=reason)


def recorded_events(env: Env, receipt: dict[str, Any]) -> list[tuple[bytes, bytes, int, int]]:
    """(id, recordHash, quantity, height) of each RetirementRecorded in the receipt."""
    topic = "0x" + keccak(b"RetirementRecorded(bytes32,bytes32,uint64,uint64)").hex()
    out = []
    for log in receipt["logs"]:
        if log["address"].lower() == env.registry.address.lower() and log["topics"][0] == topic:
            values = abi_decode(["bytes32", "uint64", "uint64"], bytes.fromhex(log["data"][2:]))
            out.append((bytes.fromhex(log["topics"][1][2:]), *values))
    return out


def test_a_retirement_is_recorded_once(env: Env) -> None:
    retired = Retirements.of("once", [120, 5, 3_000])
    anchored = env.anchor_next([ZERO, retired.root, ZERO, ZERO])
    height = FIRST_HEIGHT + 1
    block = anchored.block_proof(1)
    retirement_id, record_hash, quantity = retired.entries[1]
    assert not env.registry.read(env.client, "isRecorded", retirement_id)
    with reverted("not recorded"):
        env.registry.read(env.client, "retirement", retirement_id)

    receipt = env.record(block, retired.argument(1))
    assert recorded_events(env, receipt) == [(retirement_id, record_hash, quantity, height)]
    assert env.registry.read(env.client, "isRecorded", retirement_id)
    assert env.registry.read(env.client, "retirement", retirement_id) == (
        record_hash,
        quantity,
        height,
    )
    with reverted("already recorded"):  # the same proof again: a replay
        env.record(block, retired.argument(1))
    # The block's other retirements are their own records.
    assert not env.registry.read(env.client, "isRecorded", retired.entries[0][0])
    env.record(block, retired.argument(0))
    env.record(block, retired.argument(2))
    assert env.registry.read(env.client, "retirement", retired.entries[2][0])[1] == 3_000


def test_a_forged_retirement_is_refused(env: Env) -> None:
    retired = Retirements.of("forged", [40, 7, 900])
    anchored = env.anchor_next([ZERO, ZERO, retired.root])
    block = anchored.block_proof(2)
    retirement_id, record_hash, quantity = retired.entries[1]
    genuine = retired.argument(1)
    not_in_block = [
        retired.argument(1, quantity=quantity + 1),
        retired.argument(1, recordHash=keccak(b"another record")),
        retired.argument(1, id=hashlib.sha256(b"another transaction").digest()),
        retired.argument(1, index=2),  # the path of leaf 1 at another place
        retired.argument(1, path=inclusion_proof(retired.leaves, 0)),  # another leaf's path
        retired.argument(1, path=[]),
    ]
    for forged in not_in_block:
        assert env.registry.read(env.client, "verify", block, forged) is False
        with reverted("retirement not in the block"):
            env.record(block, forged)

    # A tree of the dishonest prover's own (an inflated quantity) is not the anchored root.
    inflated = Retirements([*retired.entries[:1], (retirement_id, record_hash, 10**6)])
    assert inflated.root != retired.root
    with reverted("block not anchored"):
        env.record(anchored.block_proof(2, retirementRoot=inflated.root), inflated.argument(1))
    not_anchored = [
        anchored.block_proof(2, rangeIndex=anchored.index + 1),  # no such range
        anchored.block_proof(2, height=FIRST_HEIGHT + 1),  # another place in the range
        anchored.block_proof(2, blockHash=keccak(b"another block")),
        anchored.block_proof(2, withdrawalRoot=ZERO),
        anchored.block_proof(2, path=inclusion_proof(anchored.leaves, 1)),
    ]
    for forged_block in not_anchored:
        assert env.registry.read(env.client, "verify", forged_block, genuine) is False
        with reverted("block not anchored"):
            env.record(forged_block, genuine)

    assert not env.registry.read(env.client, "isRecorded", retirement_id)
    assert (
        env.registry.read(env.client, "verify", block, genuine) is True
    )  # checks, records nothing
    assert not env.registry.read(env.client, "isRecorded", retirement_id)
    env.record(block, genuine)  # the genuine proof still records
    assert env.registry.read(env.client, "isRecorded", retirement_id)


def test_a_nodes_proof_records_the_retirement(env: Env) -> None:
    """The proof a node builds from a block's retirement leaves (given here as the carbon
    module will give them) records on BSC once its range is anchored."""
    net = f.make_testnet(accounts=2, delegates=1)
    sidechain = Chain(MemoryStore(), net.genesis)
    for _ in range(5):
        sidechain.build_block([], sidechain.head.timestamp_ms + 1000, net.delegates[0])
    sidechain.set_finalized(5)
    leaves = retirement_leaves("node", [70, 8])
    headers = RetiringHeaders(sidechain, {3: leaves})
    nid = sidechain.network_id
    anchor = deploy(
        env.client, env.owner, load_artifact("Anchor"), nid, [k.address for k in env.keys], 1
    )
    registry = deploy(env.client, env.owner, load_artifact("RetirementRegistry"), anchor.address)
    proof = retirement_proof_from_leaves(headers, 3, leaves, 1, 1, 5)
    root = proof.block.range_root
    digest = digests.anchor_digest(97, anchor.address, nid, 0, 1, 5, root)
    signed = ordered((k.address, sign_digest(k, digest)) for k in env.keys[1:])
    anchor.send(env.client, env.owner, "submitAnchor", 1, 5, root, signed)

    registry.send(env.client, env.owner, "record", *proof.registry_arguments(range_index=0))
    recorded = registry.read(env.client, "retirement", proof.retirement_id)
    assert recorded == (proof.record_hash, 8, 3)
    with reverted("already recorded"):
        registry.send(env.client, env.owner, "record", *proof.registry_arguments(range_index=0))


def test_a_block_that_retires_nothing_proves_nothing(env: Env) -> None:
    retired = Retirements.of("elsewhere", [11])
    anchored = env.anchor_next([ZERO, retired.root])
    empty = anchored.block_proof(0)
    assert empty[4] == ZERO
    # Whatever retirement is claimed, in whatever tree, against the zero root.
    for claim in [
        retired.argument(0),
        retired.argument(0, path=[ZERO]),
        retired.argument(0, count=0),
    ]:
        assert env.registry.read(env.client, "verify", empty, claim) is False
        with reverted("the block retires nothing"):
            env.record(empty, claim)
    with reverted("block not anchored"):  # nor is the zero block's leaf anchored with a root
        env.record(anchored.block_proof(0, retirementRoot=retired.root), retired.argument(0))
    env.record(anchored.block_proof(1), retired.argument(0))


def test_only_record_writes(env: Env) -> None:
    """Nothing in the ABI lets anyone change or remove a record."""
    writes = {
        e["name"]
        for e in env.registry.abi
        if e.get("type") == "function" and e.get("stateMutability") not in ("view", "pure")
    }
    assert writes == {"record"}
    assert env.registry.read(env.client, "anchor").lower() == env.anchor.address.lower()


def test_a_real_chain_anchors_both_roots(chain: EvmClient) -> None:
    """A real chain's anchored headers (retiring nothing, so zero retirement roots): a
    withdrawal in them is released through Bridge.withdraw with the block proof, and the
    same block proves no retirement."""
    owner = new_account(dev_accounts(1)[0].key)
    keys = set_keys("real-set", 1)
    token = deploy(chain, owner, load_artifact("CarbonCoin"), 10**12)
    net = f.make_testnet(accounts=8, delegates=1)
    # The genesis names the Bridge, so its address is planned: the Anchor, then the Bridge.
    nonce = int(chain.rpc("eth_getTransactionCount", owner.address, "pending"), 16)
    bridge_at = create_address(owner.address, nonce + 1)
    config = BridgeConfig(net.accounts[6].address, 97, bytes.fromhex(bridge_at[2:]), 0)
    sidechain = Chain(MemoryStore(), dataclasses.replace(net.genesis, bridge=config))
    nid = sidechain.network_id
    anchor = deploy(chain, owner, load_artifact("Anchor"), nid, [keys[0].address], 1)
    bridge = deploy(
        chain, owner, load_artifact("Bridge"), token.address, anchor.address, owner.address
    )
    assert bridge.address == bridge_at
    registry = deploy(chain, owner, load_artifact("RetirementRegistry"), anchor.address)

    payee = new_account(keccak(b"real-chain-payee"))
    out = f.withdraw(net.accounts[1], bytes.fromhex(payee.address[2:]), 600, nid)
    for batch in ([], [out], []):
        sidechain.build_block(batch, sidechain.head.timestamp_ms + 1000, net.delegates[0])
    sidechain.set_finalized(sidechain.height)
    proof = withdrawal_proof(sidechain, out.id(nid), 1, 3)
    assert proof.block.retirement_root == ZERO
    root = proof.block.range_root
    digest = digests.anchor_digest(97, anchor.address, nid, 0, 1, 3, root)
    anchor.send(chain, owner, "submitAnchor", 1, 3, root, [sign_digest(keys[0], digest)])

    token.send(chain, owner, "approve", bridge.address, 1_000)
    bridge.send(chain, owner, "deposit", address_raw(f.key("someone").address), 1_000)
    block, withdrawal = proof.bridge_arguments(range_index=0)
    bridge.send(chain, owner, "withdraw", block, withdrawal)
    assert token.read(chain, "balanceOf", payee.address) == 600
    claim = (out.digest(nid)[1], keccak(b"record"), 600, 0, 1, [])
    with pytest.raises(EvmReverted, match="the block retires nothing"):
        registry.send(chain, owner, "record", block, claim)
