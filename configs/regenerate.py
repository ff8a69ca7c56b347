#!/usr/bin/env python3
"""Write configs/genesis/devnet.json and configs/genesis/whitepaper.json from public seeds.

    python configs/regenerate.py           # rewrite both presets
    python configs/regenerate.py --check   # exit 1 when a committed preset differs

A genesis names real public keys (an address must match its key), real certificate
fingerprints and a real CA certificate, so the presets cannot be written by hand. They are
built with the same preset code `ccoin genesis new` and `ccoin devnet init` use
(`ccoin.ledger.presets.whitepaper_genesis`), from keys derived from PUBLIC TEST SEEDS:

    seed = SHA-256("ccoin public sample seed/<preset>/<role>")

Anyone can recompute every private key in these files, the network CA's included: they are
for reading, loading and testing, never for a network that holds value. Real networks get
fresh keys from `ccoin genesis new` or `ccoin devnet init`. Everything else is fixed too
(genesis time, certificate serials and dates; Ed25519 signatures are deterministic), so a
run reproduces the committed bytes, and tests/unit/test_configs.py checks that it does.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ccoin.bridge.deployment import plan_addresses
from ccoin.cli.genesis import DEFAULT_BSC_CHAIN_ID, DEFAULT_CONFIRMATIONS, DEFAULT_TEST_BALANCE
from ccoin.crypto.keys import KeyPair
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import (
    DEFAULT_BASE_PORT,
    DEFAULT_BLOCK_TIME_MS,
    DEFAULT_NODES,
    node_name,
)
from ccoin.ledger.presets import (
    TRILLION,
    WHITEPAPER_FUNDS,
    BridgeSpec,
    DelegateSpec,
    delegate_asset,
    whitepaper_genesis,
)
from ccoin.p2p.certs import NetworkCA, fingerprint
from ccoin.types.codec import UNIT
from ccoin.types.genesis import GenesisConfig

CONFIGS = Path(__file__).resolve().parent
SEED_DOMAIN = "ccoin public sample seed"
GENESIS_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
DEVNET = "devnet"
WHITEPAPER = "whitepaper"
DEVNET_TEST_ACCOUNTS = 8  # `devnet init` funds 1,000; a few show the shape
WHITEPAPER_DELEGATES = 21  # DESIGN section 6: the active set's default size
# The C the BSC token stands for: the whitepaper's first liquidity release ("first increase
# of 25 trillion-30 trillion"), taken out of the liquidity fund.
WHITEPAPER_ESCROW = 25 * TRILLION * UNIT


def sample_seed(preset: str, role: str) -> bytes:
    """A PUBLIC seed: the private key it makes is known to everyone."""
    return hashlib.sha256(f"{SEED_DOMAIN}/{preset}/{role}".encode()).digest()


def sample_key(preset: str, role: str) -> KeyPair:
    return KeyPair(sample_seed(preset, role))


def sample_bridge_key(preset: str, role: str) -> LocalAccount:
    """A secp256k1 key (a delegate's bridge key, a BSC deployer) from a public seed."""
    account: LocalAccount = Account.from_key(sample_seed(preset, role))
    return account


def _serial(preset: str, role: str) -> int:
    # X.509 serials are positive and at most 20 bytes; 16 bytes of the seed, never zero.
    return int.from_bytes(sample_seed(preset, "serial/" + role)[:16], "big") | 1


def _ed25519(preset: str, role: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(sample_seed(preset, role))


@dataclasses.dataclass(frozen=True)
class SampleCA:
    """A network CA made by `ccoin.p2p.certs.NetworkCA.create` with a public key seed, a
    fixed serial and dates from the genesis time instead of random ones and now."""

    key: Ed25519PrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _issued_at() -> datetime.datetime:
    """The certificates' "now": the genesis time (NetworkCA backdates from it)."""
    return datetime.datetime.fromtimestamp(GENESIS_TIME, datetime.UTC)


def sample_ca(preset: str, chain_name: str) -> SampleCA:
    ca = NetworkCA.create(
        f"{chain_name} CA",
        _ed25519(preset, "network-ca"),
        serial=_serial(preset, "network-ca"),
        now=_issued_at(),
    )
    return SampleCA(ca.key, ca.cert)


def sample_node_cert(ca: SampleCA, preset: str, name: str) -> x509.Certificate:
    """Node `name`'s certificate as `NetworkCA.issue_node_cert` makes it, with a public key
    seed, a fixed serial and fixed dates."""
    identity = NetworkCA(ca.cert, ca.key).issue_node_cert(
        name,
        _ed25519(preset, f"tls/{name}"),
        serial=_serial(preset, f"tls/{name}"),
        now=_issued_at(),
    )
    return x509.load_pem_x509_certificate(identity.cert_pem)


def _delegates(preset: str, count: int, ca: SampleCA) -> list[DelegateSpec]:
    """As `write_genesis` registers them: username delegate_I, its own secp256k1 bridge
    key, and the fingerprint of node I's certificate (`devnet init`'s nodeI)."""
    specs = []
    for i in range(count):
        key = sample_key(preset, f"delegate-{i}")
        cert = sample_node_cert(ca, preset, node_name(i))
        asset = dataclasses.replace(
            delegate_asset(key, f"delegate_{i}"),
            bridge_address=bytes.fromhex(sample_bridge_key(preset, f"bridge-{i}").address[2:]),
            cert_fingerprint=fingerprint(cert.public_bytes(serialization.Encoding.DER)),
        )
        specs.append(DelegateSpec(key, asset))
    return specs


def _genesis(
    preset: str, *, chain_name: str, delegates: int, test_accounts: int, bridge: BridgeSpec
) -> GenesisConfig:
    ca = sample_ca(preset, chain_name)
    config = whitepaper_genesis(
        chain_name=chain_name,
        genesis_time=GENESIS_TIME,
        funds={f.name: sample_key(preset, f"fund-{f.name}") for f in WHITEPAPER_FUNDS},
        delegates=_delegates(preset, delegates, ca),
        test_accounts=[sample_key(preset, f"test-{i}") for i in range(test_accounts)],
        governance=sample_key(preset, "governance"),
        carbon_committee=sample_key(preset, "carbon-committee"),
        test_balance=DEFAULT_TEST_BALANCE,
        block_time_ms=DEFAULT_BLOCK_TIME_MS,  # `genesis new`'s and `devnet init`'s
        bridge=bridge,
    )
    config = dataclasses.replace(config, network_ca=ca.cert_pem)
    return GenesisConfig.from_json(config.to_json())  # the checks a loaded file gets


def devnet_genesis() -> GenesisConfig:
    """`ccoin devnet init`'s genesis at its defaults (4 nodes, base port 26600, the bridge
    to the devnet's anvil), with fewer test accounts."""
    plan = devbsc.DevnetBsc.plan(DEFAULT_BASE_PORT)
    bridge = BridgeSpec(
        bsc_chain_id=plan.chain_id,
        contract=bytes.fromhex(plan.bridge[2:]),
        confirmations=devbsc.CONFIRMATIONS,
        escrow_balance=devbsc.TOKEN_SUPPLY,
        relayer=sample_key(DEVNET, "relayer"),
    )
    return _genesis(
        DEVNET,
        chain_name="ccoin-devnet-sample",
        delegates=DEFAULT_NODES,
        test_accounts=DEVNET_TEST_ACCOUNTS,
        bridge=bridge,
    )


def whitepaper_preset() -> GenesisConfig:
    """A mainnet-like network: `ccoin genesis new --delegates 21` with the bridge to BSC
    mainnet (its defaults), no test accounts, and a network CA."""
    deployer = sample_bridge_key(WHITEPAPER, "bsc-deployer").address
    _token, _anchor, bridge_contract, _registry = plan_addresses(deployer, 0)
    bridge = BridgeSpec(
        bsc_chain_id=DEFAULT_BSC_CHAIN_ID,
        contract=bytes.fromhex(bridge_contract[2:]),
        confirmations=DEFAULT_CONFIRMATIONS,
        escrow_balance=WHITEPAPER_ESCROW,
        relayer=sample_key(WHITEPAPER, "relayer"),
    )
    return _genesis(
        WHITEPAPER,
        chain_name="ccoin-whitepaper-sample",
        delegates=WHITEPAPER_DELEGATES,
        test_accounts=0,
        bridge=bridge,
    )


def render() -> dict[Path, str]:
    """Each preset's file (relative to configs/) and its text, as `GenesisConfig.save`
    writes it."""
    return {
        Path("genesis") / f"{name}.json": json.dumps(build().to_json(), indent=2) + "\n"
        for name, build in ((DEVNET, devnet_genesis), (WHITEPAPER, whitepaper_preset))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for relative, text in render().items():
        path = CONFIGS / relative
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(relative))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {relative}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python configs/regenerate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
