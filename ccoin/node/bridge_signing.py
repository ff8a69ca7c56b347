"""A delegate node's bridge duties, wired from its config (ADR 0015): the anchor and set
signer over its own chain, and the deposit attester over its own BSC endpoint. Their
answers take a chain read or a BSC round trip, so the RPC runs them on a worker thread."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from ccoin.bridge.attester import DepositAttester
from ccoin.bridge.evm import EvmClient, load_account
from ccoin.bridge.signer import BridgeSigner
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ConfigError, ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.node.config import BridgeNodeConfig


@dataclass
class NodeBridge:
    signer: BridgeSigner
    attester: DepositAttester
    bsc: EvmClient

    def close(self) -> None:
        self.bsc.close()


def load_bridge_key(config: BridgeNodeConfig) -> LocalAccount:
    return load_account(config.key, config.passphrase_file, "bridge key")


def open_bridge(
    config: BridgeNodeConfig | None, chain: Chain, key: KeyPair | None
) -> NodeBridge | None:
    """The node's bridge duties, or None when it has none (no bridge in its config or its
    genesis, or it is not a delegate). A bridge key that is not the one this delegate
    registered is a configuration error: its signatures would count for nobody."""
    genesis_bridge = chain.genesis.bridge
    if config is None or genesis_bridge is None or key is None:
        return None
    bridge_key = load_bridge_key(config)
    record = chain.delegate(key.public_key)
    if record is None or record.bridge_address != bytes.fromhex(bridge_key.address[2:]):
        raise ConfigError(
            ErrorCode.CONFIG_INVALID,
            f"bridge key {bridge_key.address} is not this delegate's registered bridge address",
        )
    bsc = EvmClient(config.bsc)
    signer = BridgeSigner(chain, bridge_key, genesis_bridge.bsc_chain_id, config.anchor)
    attester = DepositAttester(key, genesis_bridge, chain.network_id, bsc)
    return NodeBridge(signer, attester, bsc)
