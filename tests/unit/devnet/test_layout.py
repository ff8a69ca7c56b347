"""`ccoin devnet init`: the files it writes and what they say."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from ccoin.crypto.keys import KeyPair
from ccoin.crypto.keystore import decrypt_seed, load_keystore
from ccoin.devnet.layout import Devnet
from ccoin.ledger.genesis import network_id_of
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
        "ca",
        "devnet.json",
        "genesis.json",
        "keys",
        *names,
    ]  # no staging directory left behind

    genesis = GenesisConfig.load(root / "genesis.json")
    ca_pem = (root / "ca" / "ca.crt").read_text()
    assert genesis.network_ca == ca_pem
    assert genesis.chain_name == "ccoin-devnet"
    assert genesis.active_delegates == 3
    assert len(genesis.delegates) == 3
    assert len(genesis.accounts) == 6 + 1 + 2  # whitepaper funds, governance, test accounts
    assert genesis.governance == next(
        a.address for a in genesis.accounts if a.label == "governance"
    )
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
        ["--force", "--if-missing"],
    ):
        result = run("devnet", "init", "--dir", root, "--test-accounts", "0", *args)
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "net" / "devnet.json").exists()
    largest = ["--nodes", "21", "--base-port", "65415"]  # rpc of node20 is 65535
    ok("devnet", "init", "--dir", root, "--test-accounts", "0", *largest)


def test_force_refuses_while_nodes_run(tmp_path: Path, fake_nodes: FakeNodes) -> None:
    root = tmp_path / "net"
    init(root, nodes=2)
    proc = fake_nodes.start((root / "node1" / "node.json").resolve())
    (root / "node1" / "node.pid").write_text(f"{proc.pid}\n")
    result = run("devnet", "init", "--dir", str(root), "--force", "--test-accounts", "0")
    assert result.exit_code == 2
    assert "node1" in result.output and "running" in result.output
    assert (root / "devnet.json").exists()
