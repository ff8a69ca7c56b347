"""`ccoin carbon prove --record` on a real anvil (chain id 97): a node's retirements, their
blocks anchored by the delegate set, found on the Anchor by the CLI, recorded in the
RetirementRegistry once; a second record is refused before anything is sent, and a node
whose blocks are not the anchored ones is refused too.

The node is in this process and still (its blocks come from the test, all final); the CLI
runs in a worker thread and reaches it as the unit tests' CLI does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
from click.testing import CliRunner, Result
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge import digests
from ccoin.bridge.anchors import range_root
from ccoin.bridge.digests import ordered, sign_digest
from ccoin.bridge.evm import Contract, EvmClient, deploy, new_account
from ccoin.bridge.solidity import load_artifact
from ccoin.cli import remote
from ccoin.cli.main import cli
from ccoin.client import Client
from ccoin.node.service import Node
from tests.unit.client.conftest import URL, asgi_app
from tests.unit.client.test_carbon_client import carbon_node
from tests.unit.client.test_sync_client import IntoTrio
from tests.unit.modules.carbon.api_scenario import Registry, build_registry


@pytest.fixture(scope="module")
def evm() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=4) as node, EvmClient(node.url) as client:
        yield client


@dataclass
class Bsc:
    url: str
    owner: LocalAccount
    keys: list[LocalAccount]
    anchor: Contract
    registry: Contract
    payer_key: Path
    payer_passphrase: Path

    def anchor_range(self, client: EvmClient, network_id: bytes, end: int, root: bytes) -> None:
        """Blocks 1..end with `root`, signed by a quorum of the set."""
        digest = digests.anchor_digest(97, self.anchor.address, network_id, 0, 1, end, root)
        signed = ordered((k.address, sign_digest(k, digest)) for k in self.keys[:3])
        self.anchor.send(client, self.owner, "submitAnchor", 1, end, root, signed)


def deploy_for(client: EvmClient, network_id: bytes, tmp_path: Path) -> Bsc:
    owner = new_account(dev_accounts(1)[0].key)
    keys = sorted(
        (new_account(keccak(f"carbon-prove-{i}".encode())) for i in range(4)),
        key=lambda k: int(k.address, 16),
    )
    anchor = deploy(
        client, owner, load_artifact("Anchor"), network_id, [k.address for k in keys], 1
    )
    registry = deploy(client, owner, load_artifact("RetirementRegistry"), anchor.address)
    payer_key, payer_passphrase = tmp_path / "payer.json", tmp_path / "payer-passphrase"
    payer_key.write_text(json.dumps(Account.encrypt(owner.key, "pw", kdf="pbkdf2", iterations=2)))
    payer_passphrase.write_text("pw\n")
    return Bsc(client.url, owner, keys, anchor, registry, payer_key, payer_passphrase)


def through(monkeypatch: pytest.MonkeyPatch, node: Node) -> None:
    def client(url: str) -> Client:
        return Client(URL, transport=IntoTrio(asgi_app(node)))

    monkeypatch.setattr(remote, "Client", client)


def prove(bsc: Bsc, retirement: str, *more: str) -> Result:
    args = ["carbon", "prove", retirement, "--bsc", bsc.url, "--registry", bsc.registry.address]
    args += ["--payer-key", str(bsc.payer_key), "--payer-passphrase-file"]
    args += [str(bsc.payer_passphrase), "--timeout", "10", "--json", *more]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


async def in_thread(fn: Callable[[], Any]) -> Any:
    return await trio.to_thread.run_sync(fn)


async def test_prove_finds_the_range_and_records_once(
    tmp_path: Path, evm: EvmClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = carbon_node(tmp_path)
    try:
        registry: Registry = build_registry(node.chain)
        chain, nid = node.chain, node.network_id
        through(monkeypatch, node)
        bsc = deploy_for(evm, nid, tmp_path)
        end = registry.finalized
        headers = [h for h in (chain.header_at(i) for i in range(1, end + 1)) if h is not None]
        bsc.anchor_range(evm, nid, end, range_root(headers, nid))
        acme = registry.acme.id(nid)

        shown = await in_thread(lambda: prove(bsc, acme))
        assert shown.exit_code == 0, shown.output
        proof = json.loads(shown.stdout)
        assert (proof["rangeIndex"], proof["rangeFrom"], proof["rangeTo"]) == (0, 1, end)
        assert "recorded" not in proof  # proving alone sends nothing
        assert not bsc.registry.read(evm, "isRecorded", bytes.fromhex(proof["retirementId"]))

        done = await in_thread(lambda: prove(bsc, acme, "--record"))
        assert done.exit_code == 0, done.output
        recorded = json.loads(done.stdout)["recorded"]
        assert recorded["quantity"] == "6" and recorded["height"] == registry.retired_at
        on_bsc = bsc.registry.read(evm, "retirement", bytes.fromhex(proof["retirementId"]))
        assert on_bsc == (bytes.fromhex(proof["recordHash"]), 6, registry.retired_at)

        again = await in_thread(lambda: prove(bsc, acme, "--record"))
        assert again.exit_code == 2
        assert again.stderr.strip() == (
            f"error: BRIDGE_REFUSED (5008): retirement {acme} is recorded on BSC already"
        )
        # The block's other retirement is its own record, by its transaction's hash too.
        other = registry.other.digest(nid)[1].hex()
        second = await in_thread(lambda: prove(bsc, other, "--record"))
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout)["recorded"]["quantity"] == "5"
    finally:
        node.close()


async def test_a_node_whose_blocks_were_not_anchored_is_refused(
    tmp_path: Path, evm: EvmClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = carbon_node(tmp_path)
    try:
        registry = build_registry(node.chain)
        through(monkeypatch, node)
        bsc = deploy_for(evm, node.network_id, tmp_path)
        bsc.anchor_range(evm, node.network_id, registry.finalized, keccak(b"other blocks"))
        acme = registry.acme.id(node.network_id)
        refused = await in_thread(lambda: prove(bsc, acme, "--record"))
        assert refused.exit_code == 2
        assert "are not the ones anchored on BSC" in refused.stderr
        assert not bsc.registry.read(evm, "isRecorded", registry.acme.digest(node.network_id)[1])
    finally:
        node.close()
