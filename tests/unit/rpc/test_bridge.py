"""ccoin_getWithdrawalProof on a node with a bridge: a finalized withdrawal's proof verifies
against the block's withdrawalRoot and the range root; bad requests get their errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from ccoin.bridge.anchors import range_root
from ccoin.bridge.digests import anchor_digest
from ccoin.bridge.evm import new_account
from ccoin.client import AsyncClient
from ccoin.errors import ConfigError, ErrorCode
from ccoin.modules.bridge.genesis import BridgeConfig
from ccoin.node.config import BridgeNodeConfig
from ccoin.node.mempool import PoolLimits
from ccoin.node.service import Node
from ccoin.testing import factories as f
from ccoin.types.genesis import GenesisConfig, GenesisDelegate
from ccoin.types.merkle import verify_inclusion
from tests.unit.rpc.conftest import ALICE, NET, ApiClient, node_config, open_api

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
        retirements = bytes.fromhex(proof["retirementRoot"])
        block_leaf = height.to_bytes(8, "big") + bytes.fromhex(proof["blockHash"]) + root
        block_leaf += retirements
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


def bridge_setup(tmp_path: Path) -> tuple[GenesisConfig, BridgeNodeConfig, LocalAccount]:
    """The delegate registered `key` as its bridge key; the node config points at it."""
    key = new_account(keccak(b"rpc-bridge-key"))
    delegate = NET.genesis.delegates[0]
    asset = dataclasses.replace(delegate.asset, bridge_address=bytes.fromhex(key.address[2:]))
    genesis = dataclasses.replace(BRIDGED, delegates=(GenesisDelegate(delegate.public_key, asset),))
    keystore = Account.encrypt(key.key, "pw", kdf="pbkdf2", iterations=2)
    (tmp_path / "bridge.json").write_text(json.dumps(keystore))
    (tmp_path / "bridge.pass").write_text("pw\n")
    config = BridgeNodeConfig(
        tmp_path / "bridge.json", tmp_path / "bridge.pass", "http://127.0.0.1:9", ANCHOR
    )
    return genesis, config, key


ANCHOR = "0x" + "ab" * 20


async def test_a_delegate_node_signs_its_finalized_ranges(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    genesis, config, key = bridge_setup(tmp_path)
    async with open_api(tmp_path, genesis=genesis, bridge=config) as api:
        await finalized(api, 2)
        signed = await api.result("ccoin_signAnchor", [97, ANCHOR, 0, 1, 2])
        headers = [api.node.chain.header_at(h) for h in (1, 2)]
        root = range_root([h for h in headers if h is not None], api.nid)
        assert signed["root"] == root.hex() and signed["signer"] == key.address
        digest = anchor_digest(97, ANCHOR, api.nid, 0, 1, 2, root)
        message = encode_defunct(primitive=digest)
        assert (
            Account.recover_message(message, signature=bytes.fromhex(signed["signature"]))
            == key.address
        )
        method = "ccoin_signAnchor"
        await api.error(method, [97, ANCHOR, 0, 1, 9_999], ErrorCode.BRIDGE_NOT_FINAL)
        await api.error(method, [97, ANCHOR, 0, 1, 10**6], ErrorCode.BRIDGE_REFUSED)
        await api.error(method, [56, ANCHOR, 0, 1, 2], ErrorCode.BRIDGE_REFUSED)
        await api.error(method, [97, "0x12", 0, 1, 2], ErrorCode.BAD_FIELD)
        stray = f.deposit(ALICE, ALICE.address, 5, 1, api.nid, [], bridge=b"\xbb" * 20)
        await api.error("ccoin_attestDeposit", [api.tx_json(stray)], ErrorCode.BRIDGE_NOT_FINAL)
        deposit = await api.result("ccoin_getDeposit", [97, "0x" + "bb" * 20, 1])
        assert deposit == {"nonce": 1, "credited": False, "transactionId": None}


async def test_a_node_without_bridge_duties_refuses(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, run=False) as api:
        await api.error("ccoin_signAnchor", [97, ANCHOR, 0, 1, 1], ErrorCode.BRIDGE_REFUSED)


def test_a_bridge_key_that_is_not_the_registered_one_is_refused(tmp_path: Path) -> None:
    genesis, config, _key = bridge_setup(tmp_path)
    wrong = dataclasses.replace(genesis, delegates=NET.genesis.delegates)  # placeholder address
    with pytest.raises(ConfigError, match="registered bridge address"):
        Node(node_config(tmp_path, PoolLimits(), bridge=config), wrong, NET.delegates[0])


async def test_the_client_withdraws_to_a_bsc_address(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_api(tmp_path, genesis=BRIDGED) as api:
        transport = httpx.ASGITransport(app=api.app.app)  # type: ignore[arg-type]
        clock = api.node.clock.now
        async with AsyncClient("http://ccoin.test", transport=transport, clock=clock) as client:
            tx_id = await client.withdraw(ALICE, "0x" + "0C" * 20, 4_321)
            found = await client.wait_for(tx_id, "included", timeout=600)
        tx = api.node.chain.transaction(tx_id)
        assert tx is not None and tx.transaction.body.asset.to_json() == {"bscRecipient": "0c" * 20}
        assert tx.transaction.body.amount == 4_321 and found["height"] == tx.height
