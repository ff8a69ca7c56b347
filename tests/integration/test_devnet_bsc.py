"""`deploy_contracts` on a real anvil: the contracts land where `devnet init` planned them
(the RetirementRegistry over the Anchor too), carry the genesis delegate set and network
id, and a lost BSC state is refused loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccoin.bench.anvil import start_anvil
from ccoin.bridge.digests import sorted_members
from ccoin.bridge.evm import Contract, EvmClient
from ccoin.bridge.solidity import load_artifact
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet, init_devnet
from ccoin.errors import ConfigError
from ccoin.ledger.genesis import network_id_of
from ccoin.testing.ports import free_port_range
from ccoin.types.genesis import GenesisConfig


def test_deploy_lands_where_planned_once_and_refuses_a_lost_state(tmp_path: Path) -> None:
    devnet: Devnet = init_devnet(tmp_path, nodes=3, base_port=free_port_range(3)).devnet
    bsc = devnet.bsc
    assert bsc is not None
    genesis = GenesisConfig.load(tmp_path / "genesis.json")
    with start_anvil(chain_id=97, block_time=0, accounts=3, port=bsc.port) as node:
        assert node.url == bsc.url
        assert devbsc.deploy_contracts(tmp_path, bsc, genesis).deployed
        with EvmClient(bsc.url) as client:
            anchor = Contract(bsc.anchor, tuple(load_artifact("Anchor")["abi"]))
            bridge = Contract(bsc.bridge, tuple(load_artifact("Bridge")["abi"]))
            token = Contract(bsc.token, tuple(load_artifact("CarbonCoin")["abi"]))
            registered = ["0x" + d.asset.bridge_address.hex() for d in genesis.delegates]
            assert [m.lower() for m in anchor.read(client, "members")] == [
                m.lower() for m in sorted_members(registered)
            ]
            assert anchor.read(client, "networkId") == network_id_of(genesis)
            assert anchor.read(client, "nextHeight") == 1
            assert bridge.read(client, "token").lower() == bsc.token.lower()
            assert bridge.read(client, "anchor").lower() == bsc.anchor.lower()
            registry_abi = tuple(load_artifact("RetirementRegistry")["abi"])
            registry = Contract(bsc.retirement_registry, registry_abi)
            assert registry.read(client, "anchor").lower() == bsc.anchor.lower()
            assert genesis.bridge is not None
            escrow = next(a for a in genesis.accounts if a.address == genesis.bridge.escrow)
            assert token.read(client, "totalSupply") == devbsc.TOKEN_SUPPLY == escrow.balance
            user = devbsc.dev_keys()[devbsc.USER].address
            assert token.read(client, "balanceOf", user) == devbsc.USER_TOKENS
        marker = json.loads((tmp_path / "bsc" / "deployed.json").read_text())
        assert marker == {k: v for k, v in bsc.to_json().items() if k in marker}
        assert set(marker) == {"token", "anchor", "bridge", "retirementRegistry"}
        assert not devbsc.deploy_contracts(tmp_path, bsc, genesis).deployed  # there already

    with start_anvil(chain_id=97, block_time=0, accounts=3, port=bsc.port):  # a fresh state
        with pytest.raises(ConfigError, match="anvil's state was lost"):
            devbsc.deploy_contracts(tmp_path, bsc, genesis)
        (tmp_path / "bsc" / "deployed.json").unlink()
        with EvmClient(bsc.url) as client:  # the deployer used nonce 0 for something else
            deployer = devbsc.dev_keys()[devbsc.DEPLOYER]
            client.transact(deployer, devbsc.dev_keys()[devbsc.USER].address, b"", value=1)
        with pytest.raises(ConfigError, match="has sent 1 transaction"):
            devbsc.deploy_contracts(tmp_path, bsc, genesis)
