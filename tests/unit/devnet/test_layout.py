"""`ccoin devnet init`: the files it writes and what they say."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from eth_account import Account

from ccoin.bridge.relay_config import RelayConfig
from ccoin.crypto.address import escrow_address
from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.devnet import bsc as devbsc
from ccoin.devnet.layout import Devnet
from ccoin.errors import ConfigError
from ccoin.ledger.genesis import network_id_of
from ccoin.ledger.presets import TOTAL_ISSUANCE
from ccoin.node.config import NodeConfig
from ccoin.p2p.certs import check_issued_by, fingerprint, load_identity
from ccoin.p2p.peer import PeerAddress
from ccoin.types.genesis import GenesisConfig
from tests.unit.devnet.helpers import FakeNodes, init, ok, run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_the_layout(tmp_path: Path) -> None:
    root = tmp_path / "net"
    summary = init(root, "--base-port", "30000", nodes=3, test_accounts=2)
    assert summary["created"] is True
    assert [n["name"] for n in summary["nodes"]] == ["node0", "node1", "node2"]

    names = ["node0", "node1", "node2"]
    private = [root / "ca" / "ca.key", root / "keys" / "passphrase"]
    for name in names:
        private += [
            root / name / "tls" / "node.key",
            root / name / "keys" / "delegate.json",
            root / name / "keys" / "passphrase",
        ]
    private += [*(root / "keys").glob("fund-*.json"), *(root / "keys").glob("delegate-*.json")]
    for path in private:
        assert mode(path) == 0o600, path
    assert mode(root / "ca" / "ca.crt") == 0o644
    assert sorted(p.name for p in root.iterdir()) == [
        "bsc",
        "ca",
        "devnet.json",
        "genesis.json",
        "keys",
        *names,
        "relay",
    ]  # no staging directory left behind

    genesis = GenesisConfig.load(root / "genesis.json")
    ca_pem = (root / "ca" / "ca.crt").read_text()
    assert genesis.network_ca == ca_pem
    assert genesis.chain_name == "ccoin-devnet"
    assert genesis.active_delegates == 3
    assert len(genesis.delegates) == 3
    # whitepaper funds, test accounts, governance, carbon committee, bridge escrow, relayer
    assert len(genesis.accounts) == 6 + 2 + 1 + 1 + 2
    assert genesis.governance == next(
        a.address for a in genesis.accounts if a.label == "governance"
    )
    assert genesis.carbon is not None
    assert genesis.carbon.committee == next(
        a.address for a in genesis.accounts if a.label == "carbon committee"
    )
    assert (root / "keys" / "carbon-committee.json").exists()
    assert sum(a.balance for a in genesis.accounts) == genesis.total_supply

    passphrase = (root / "keys" / "passphrase").read_text().rstrip("\n")
    ports = [30000 + i for i in range(3)]
    for i, name in enumerate(names):
        node_dir = root / name
        identity = load_identity(node_dir / "tls" / "node.crt", node_dir / "tls" / "node.key")
        assert identity.name == name
        assert check_issued_by(identity.cert_der, ca_pem.encode())
        delegate = genesis.delegates[i]
        assert delegate.asset.cert_fingerprint == fingerprint(identity.cert_der)

        raw = json.loads((node_dir / "node.json").read_text())
        assert raw["genesis"] == "../genesis.json"
        assert raw["keystore"] == "keys/delegate.json"
        assert raw["passphraseFile"] == "keys/passphrase"
        assert raw["p2p"]["cert"] == "tls/node.crt"
        assert raw["p2p"]["key"] == "tls/node.key"

        config = NodeConfig.load(node_dir / "node.json")
        assert config.name == name
        assert config.data_dir == node_dir.resolve() / "data"
        assert config.genesis.resolve() == (root / "genesis.json").resolve()
        assert config.p2p is not None
        assert config.p2p.listen == PeerAddress("127.0.0.1", ports[i])
        others = [PeerAddress("127.0.0.1", p) for j, p in enumerate(ports) if j != i]
        assert list(config.p2p.peers) == others
        assert config.passphrase_file is not None and config.keystore is not None
        assert config.passphrase_file.read_text().rstrip("\n") == passphrase
        seed = decrypt_seed(load_keystore(config.keystore), passphrase)
        assert KeyPair(seed).public_key == delegate.public_key

    devnet = json.loads((root / "devnet.json").read_text())
    assert devnet == {
        "chainName": "ccoin-devnet",
        "networkId": network_id_of(genesis).hex(),
        "nodes": [
            {
                "name": name,
                "p2p": f"127.0.0.1:{30000 + i}",
                "rpc": f"127.0.0.1:{30100 + i}",
                "config": f"{name}/node.json",
                "dataDir": f"{name}/data",
            }
            for i, name in enumerate(names)
        ],
        "bsc": {
            "port": 30200,
            "chainId": 97,
            # anvil's dev account 0 and what it creates at nonces 0, 1, 2, 3 (as anvil and
            # Hardhat users know them)
            "deployer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "token": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "anchor": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            "bridge": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
            "retirementRegistry": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
        },
    }
    assert summary["networkId"] == devnet["networkId"]
    loaded = Devnet.load(root)
    assert loaded.root == root.resolve()
    assert loaded.to_json() == devnet


def test_node_configs_hold_no_absolute_path(tmp_path: Path) -> None:
    """The devnet directory can move (docker mounts it at /devnet)."""
    init(tmp_path / "net", nodes=2)
    moved = tmp_path / "elsewhere"
    (tmp_path / "net").rename(moved)
    for name in ("node0", "node1"):
        config = NodeConfig.load(moved / name / "node.json")
        assert config.genesis.resolve() == (moved / "genesis.json").resolve()
        GenesisConfig.load(config.genesis)
        assert config.p2p is not None and config.p2p.cert.is_file()
    assert Devnet.load(moved).nodes[1].config == "node1/node.json"


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    root = tmp_path / "net"
    first = init(root, nodes=3)
    genesis = (root / "genesis.json").read_bytes()
    result = run("devnet", "init", "--nodes", "2", "--dir", str(root))
    assert result.exit_code == 2
    assert "exists; use --force" in result.output
    assert (root / "genesis.json").read_bytes() == genesis

    (root / "notes.txt").write_text("mine")  # not generated: --force leaves it alone
    second = init(root, "--force", nodes=2)
    assert second["networkId"] != first["networkId"]
    assert not (root / "node2").exists()  # the old devnet's extra node is gone
    assert (root / "notes.txt").read_text() == "mine"
    assert len(GenesisConfig.load(root / "genesis.json").delegates) == 2


def test_if_missing(tmp_path: Path) -> None:
    root = tmp_path / "net"
    created = init(root, "--if-missing", nodes=2)
    assert created["created"] is True
    genesis = (root / "genesis.json").read_bytes()
    again = init(root, "--if-missing", nodes=4)
    assert again["created"] is False
    assert again["networkId"] == created["networkId"]
    assert (root / "genesis.json").read_bytes() == genesis
    assert not (root / "node2").exists()


def test_an_unfinished_init_needs_force(tmp_path: Path) -> None:
    root = tmp_path / "net"
    root.mkdir()
    (root / "genesis.json").write_text("{}")
    result = run("devnet", "init", "--dir", str(root), "--test-accounts", "0")
    assert result.exit_code == 2
    assert "unfinished" in result.output
    init(root, "--force", nodes=1)
    assert GenesisConfig.load(root / "genesis.json").active_delegates == 1


def test_rejects_bad_shapes(tmp_path: Path) -> None:
    root = str(tmp_path / "net")
    for args in (
        ["--nodes", "0"],
        ["--nodes", "22"],
        ["--base-port", "0"],
        ["--base-port", "65500"],  # rpc ports would pass 65535
        ["--base-port", "65400"],  # the bsc port (base+200) would
        ["--base-port", "65335"],  # the relayer's metrics port (base+201) would
        ["--force", "--if-missing"],
    ):
        result = run("devnet", "init", "--dir", root, "--test-accounts", "0", *args)
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "net" / "devnet.json").exists()
    largest = ["--nodes", "21", "--base-port", "65415", "--no-bridge"]  # node20's rpc: 65535
    ok("devnet", "init", "--dir", root, "--test-accounts", "0", *largest)
    bridged = ["--nodes", "21", "--base-port", "65334", "--force"]  # relayer metrics: 65535
    ok("devnet", "init", "--dir", root, "--test-accounts", "0", *bridged)


def test_force_refuses_while_nodes_run(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    init(root, nodes=2)
    proc = fake_nodes.start((root / "node1" / "node.json").resolve())
    (root / "node1" / "node.pid").write_text(f"{proc.pid}\n")
    result = run("devnet", "init", "--dir", str(root), "--force", "--test-accounts", "0")
    assert result.exit_code == 2
    assert "node1" in result.output and "running" in result.output
    assert (root / "devnet.json").exists()


def test_init_plans_the_bridge(tmp_path: Path) -> None:
    root = tmp_path / "net"
    init(root, "--base-port", "30000", nodes=3)
    genesis = GenesisConfig.load(root / "genesis.json")
    bsc = Devnet.load(root).bsc
    assert bsc is not None and bsc.url == "http://127.0.0.1:30200"
    bridge = genesis.bridge
    assert bridge is not None
    assert (bridge.bsc_chain_id, bridge.confirmations) == (97, devbsc.CONFIRMATIONS)
    assert "0x" + bridge.contract.hex() == bsc.bridge.lower()
    accounts = {a.address: a for a in genesis.accounts}
    escrow = accounts[bridge.escrow]
    assert bridge.escrow == escrow_address("ccoin-devnet")
    assert (escrow.balance, escrow.public_key, escrow.locked) == (devbsc.TOKEN_SUPPLY, None, True)
    assert genesis.total_supply == TOTAL_ISSUANCE  # the escrow's C came out of liquidity

    passphrase = (root / "keys" / "passphrase").read_text().rstrip("\n")
    relay = RelayConfig.load(root / "relay" / "relay.json")
    assert (relay.bsc, relay.anchor, relay.bridge) == (bsc.url, bsc.anchor, bsc.bridge)
    assert relay.signers == tuple(f"http://127.0.0.1:{30100 + i}" for i in range(3))
    assert relay.metrics_listen == "127.0.0.1:30201"
    relayer = KeyPair(decrypt_seed(load_keystore(relay.relayer_keystore), passphrase))
    assert accounts[relayer.address].public_key == relayer.public_key
    assert accounts[relayer.address].balance == 0  # credits are free; it needs no C
    payer = json.loads(relay.payer_key.read_text())
    assert (
        Account.from_key(Account.decrypt(payer, passphrase)).address == devbsc.dev_keys()[1].address
    )
    assert mode(relay.payer_key) == 0o600

    registered = {d.public_key: d.asset.bridge_address for d in genesis.delegates}
    for i in range(3):
        config = NodeConfig.load(root / f"node{i}" / "node.json")
        assert config.bridge is not None and config.keystore is not None
        assert (config.bridge.bsc, config.bridge.anchor) == (bsc.url, bsc.anchor)
        key = KeyPair(decrypt_seed(load_keystore(config.keystore), passphrase))
        bridge_key = Account.decrypt(json.loads(config.bridge.key.read_text()), passphrase)
        address = Account.from_key(bridge_key).address
        assert bytes.fromhex(address[2:]) == registered[key.public_key]


def test_init_without_the_bridge(tmp_path: Path) -> None:
    root = tmp_path / "net"
    init(root, "--no-bridge", nodes=2)
    assert not (root / "bsc").exists() and not (root / "relay").exists()
    assert GenesisConfig.load(root / "genesis.json").bridge is None
    assert Devnet.load(root).bsc is None
    assert NodeConfig.load(root / "node0" / "node.json").bridge is None
    assert "bsc" not in json.loads((root / "devnet.json").read_text())


def test_the_devnet_opens_its_keystores(tmp_path: Path) -> None:
    root = tmp_path / "net"
    init(root, "--no-bridge", nodes=1, test_accounts=1)
    devnet = Devnet.load(root)
    carbon = GenesisConfig.load(root / "genesis.json").carbon
    assert carbon is not None and devnet.key("carbon-committee").address == carbon.committee
    with pytest.raises(ConfigError, match="no-such-key"):
        devnet.key("no-such-key")
    (root / "keys" / "passphrase").write_text("wrong\n")
    with pytest.raises(ConfigError, match="wrong passphrase"):
        devnet.key("carbon-committee")


def test_init_for_separate_hosts(tmp_path: Path) -> None:
    root = tmp_path / "net"
    hosts = ["10.77.0.1", "10.77.0.2", "node-c.example"]
    summary = init(root, "--hosts", ",".join(hosts), "--base-port", "30000", nodes=3)
    assert [n["p2p"] for n in summary["nodes"]] == [f"{h}:{30000 + i}" for i, h in enumerate(hosts)]
    assert [n["rpc"] for n in summary["nodes"]] == [f"{h}:{30100 + i}" for i, h in enumerate(hosts)]
    devnet = Devnet.load(root)
    assert devnet.bsc is not None and devnet.bsc.host == hosts[0]  # anvil beside node0
    assert devnet.bsc.url == f"http://{hosts[0]}:30200"
    ca = (root / "ca" / "ca.crt").read_bytes()
    for i, host in enumerate(hosts):
        config = NodeConfig.load(root / f"node{i}" / "node.json")
        assert config.rpc is not None and config.bridge is not None
        assert config.p2p.listen == PeerAddress("0.0.0.0", 30000 + i)
        assert config.rpc.listen == PeerAddress("0.0.0.0", 30100 + i)
        others = {PeerAddress(h, 30000 + j) for j, h in enumerate(hosts) if j != i}
        assert set(config.p2p.peers) == others
        assert config.bridge.bsc == f"http://{hosts[0]}:30200"
        identity = load_identity(config.p2p.cert, config.p2p.key)
        assert check_issued_by(identity.cert_der, ca)
        assert {f"node{i}", "127.0.0.1", host} == _san_names(identity.cert_der)
    relay = RelayConfig.load(root / "relay" / "relay.json")
    assert relay.bsc == f"http://{hosts[0]}:30200"
    assert relay.signers == tuple(f"http://{h}:{30100 + i}" for i, h in enumerate(hosts))
    assert relay.metrics_listen == "0.0.0.0:30201"


def _san_names(cert_der: bytes) -> set[str]:
    cert = x509.load_der_x509_certificate(cert_der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in san}


def test_init_refuses_bad_hosts(tmp_path: Path) -> None:
    for hosts, nodes in (("10.0.0.1,10.0.0.2", 3), ("10.0.0.1,-bad-,10.0.0.3", 3), ("", 1)):
        result = run("devnet", "init", "--dir", str(tmp_path / "x"), "--nodes", str(nodes),
                     "--hosts", hosts)  # fmt: skip
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "x" / "devnet.json").exists()
    both = run("devnet", "init", "--dir", str(tmp_path / "y"), "--hosts", "a", "--compose")
    assert both.exit_code == 2 and "contradict" in both.output


def test_devnet_json_without_a_bsc_host_is_loopback(tmp_path: Path) -> None:
    init(tmp_path / "net", nodes=1)
    written = json.loads((tmp_path / "net" / "devnet.json").read_text())
    assert "host" not in written["bsc"]  # a default devnet.json is what it always was
    bsc = devbsc.DevnetBsc.from_json({**written["bsc"], "host": "10.1.2.3"})
    assert bsc.url == f"http://10.1.2.3:{written['bsc']['port']}"
    assert devbsc.DevnetBsc.from_json(bsc.to_json()) == bsc
