"""Deploying the BSC contracts for a genesis (docs/spec/bridge.md section 8).

A genesis names its Bridge contract before the contract exists: it is the address the
deployer's CREATE at nonce n + 2 gives, where CarbonCoin and Anchor take nonces n and n + 1
and the RetirementRegistry (over that Anchor) takes n + 3 (`plan_addresses`). `deploy_bridge`
deploys the four in that order from the deployer's current nonce, and refuses before sending
anything unless that order lands the Bridge where the genesis says; the Anchor starts with
the genesis active set's bridge addresses (the same election the chain stores at genesis)
and anchors from height 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ccoin.bridge.digests import sorted_members
from ccoin.bridge.evm import Contract, EvmClient, create_address, deploy
from ccoin.bridge.solidity import load_artifact
from ccoin.errors import ConfigError, ErrorCode
from ccoin.ledger.chain import Chain
from ccoin.ledger.genesis import network_id_of
from ccoin.storage.memory import MemoryStore
from ccoin.types.codec import json_evm_address
from ccoin.types.genesis import GenesisConfig

FIRST_ANCHORED_HEIGHT = 1
NONCE_SEARCH = 10_000  # how far past the current nonce a refusal looks for the one needed


def _fail(message: str) -> ConfigError:
    return ConfigError(ErrorCode.CONFIG_INVALID, message)


@dataclass(frozen=True)
class Deployed:
    """The four contracts, deployed."""

    token: Contract
    anchor: Contract
    bridge: Contract
    retirement_registry: Contract

    def to_json(self) -> dict[str, str]:
        return {
            "token": self.token.address,
            "anchor": self.anchor.address,
            "bridge": self.bridge.address,
            "retirementRegistry": self.retirement_registry.address,
        }


def plan_addresses(deployer: str, nonce: int) -> tuple[str, str, str, str]:
    """(token, anchor, bridge, retirement registry): where `deployer` creates them from
    `nonce` on."""
    deployer = json_evm_address(deployer, "deployer")
    if nonce < 0:
        raise _fail(f"nonce {nonce}: must be 0 or more")
    token, anchor, bridge, registry = (create_address(deployer, nonce + i) for i in range(4))
    return token, anchor, bridge, registry


def genesis_members(genesis: GenesisConfig) -> list[str]:
    """The genesis active set's bridge addresses (checksummed), in the Anchor's order: the
    round-0 members the genesis state records, as every node elects them."""
    _round, active = Chain(MemoryStore(), genesis).round_record()
    by_key = {d.public_key: d.asset.bridge_address for d in genesis.delegates}
    return sorted_members(to_checksum_address("0x" + by_key[pk].hex()) for pk in active)


def needed_nonce(deployer: str, contract: str, limit: int) -> int | None:
    """The nonce the deployment must start at for its Bridge to be `contract`, if any
    at or below `limit`."""
    for n in range(limit + 1):
        if create_address(deployer, n + 2).lower() == contract.lower():
            return n
    return None


def deploy_bridge(
    client: EvmClient,
    deployer: LocalAccount,
    genesis: GenesisConfig,
    *,
    guardian: str,
    token_supply: int | None = None,
) -> Deployed:
    """Deploy CarbonCoin(token_supply), Anchor(network id, genesis active set, height 1),
    Bridge(token, anchor, guardian) and RetirementRegistry(anchor) from the deployer's
    current nonce; every check (the endpoint's chain id, the deployer's nonce, the inputs)
    comes before anything is sent.

    The token supply is the genesis escrow's balance (the default): every C on BSC stands
    for C in the escrow, so escrow + locked stays constant; another supply is refused."""
    if genesis.bridge is None:
        raise _fail("the genesis has no bridge: make it with `ccoin genesis new --bridge-contract`")
    guardian = to_checksum_address(json_evm_address(guardian, "guardian"))
    escrow = next(a.balance for a in genesis.accounts if a.address == genesis.bridge.escrow)
    if token_supply is None:
        token_supply = escrow
    if token_supply != escrow:
        raise _fail(
            f"token supply {token_supply}: must be the genesis escrow's {escrow} base units "
            "(every C on BSC stands for C in the escrow)"
        )
    planned = _check_deployable(client, deployer.address, genesis)
    members = genesis_members(genesis)
    token = deploy(client, deployer, load_artifact("CarbonCoin"), token_supply)
    anchor = deploy(
        client, deployer, load_artifact("Anchor"), network_id_of(genesis), members,
        FIRST_ANCHORED_HEIGHT,
    )  # fmt: skip
    bridge = deploy(
        client, deployer, load_artifact("Bridge"), token.address, anchor.address, guardian
    )
    registry = deploy(client, deployer, load_artifact("RetirementRegistry"), anchor.address)
    landed = (token.address, anchor.address, bridge.address, registry.address)
    if landed != planned:
        raise _fail(
            f"the contracts landed at {', '.join(landed)}, not at the planned "
            f"{', '.join(planned)} (did something else send from {deployer.address}?)"
        )
    return Deployed(token, anchor, bridge, registry)


def _check_deployable(
    client: EvmClient, address: str, genesis: GenesisConfig
) -> tuple[str, str, str, str]:
    """Where the deployment lands from `address`'s nonce, once the endpoint's chain, the
    nonce and the planned addresses all say it lands where the genesis expects."""
    assert genesis.bridge is not None
    chain_id = client.chain_id()
    if chain_id != genesis.bridge.bsc_chain_id:
        raise _fail(
            f"{client.url} is chain id {chain_id}; the genesis bridge is on chain id "
            f"{genesis.bridge.bsc_chain_id}"
        )
    nonce = int(client.rpc("eth_getTransactionCount", address, "latest"), 16)
    pending = int(client.rpc("eth_getTransactionCount", address, "pending"), 16)
    if pending != nonce:
        raise _fail(
            f"the deployer {address} has {pending - nonce} pending transaction(s); wait until "
            "they are mined (the contracts' addresses follow from its nonce)"
        )
    contract = to_checksum_address("0x" + genesis.bridge.contract.hex())
    planned = plan_addresses(address, nonce)
    bridge_at = planned[2]
    if bridge_at != contract:
        needed = needed_nonce(address, contract, nonce + NONCE_SEARCH)
        if needed is None:
            why = (
                f"is not created by {address} at any nonce up to {nonce + NONCE_SEARCH + 2}: "
                "another deployer planned it"
            )
        elif needed < nonce:
            why = (
                f"needs the deployment to start at nonce {needed}, but {address} is at nonce "
                f"{nonce} already: it can never land there; plan again and make a new genesis"
            )
        else:
            why = (
                f"needs the deployment to start at nonce {needed} (the Bridge at nonce "
                f"{needed + 2}), but {address} is at nonce {nonce}"
            )
        raise _fail(
            f"the genesis bridge contract {contract} {why}; from nonce {nonce} the Bridge "
            f"would be at {bridge_at}"
        )
    for at in planned:
        if client.rpc("eth_getCode", at, "latest") not in ("0x", None):
            raise _fail(f"there is code at {at} already")
    return planned
