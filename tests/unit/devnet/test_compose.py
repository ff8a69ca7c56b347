"""The committed docker-compose.yml and Dockerfile against what `devnet init` lays out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ccoin.bridge.relay_config import RelayConfig
from ccoin.devnet import probe
from ccoin.devnet.bsc import BSC_CHAIN_ID, DevnetBsc, anvil_args
from ccoin.devnet.compose import compose_document, render_compose
from ccoin.node.config import NodeConfig
from tests.unit.devnet.helpers import init, run

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PACKAGE_LOCK = REPO / "package-lock.json"
BRIDGE_SERVICES = ("bsc", "deploy", "relayer")
COMPLETED = {"condition": "service_completed_successfully"}
HEALTHY = {"condition": "service_healthy"}
NETWORKS = ["devnet"]


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_committed_compose_file_is_the_rendered_default() -> None:
    text = COMPOSE_FILE.read_text()
    assert text == render_compose(), "regenerate: ccoin devnet compose --out docker-compose.yml"
    assert yaml.safe_load(text) == compose_document()


def healthcheck(svc: dict[str, Any]) -> list[str]:
    test: list[str] = svc["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python3", "-m", "ccoin.devnet.probe"]
    assert test[4] in probe.PROBES
    return test[4:]


def test_compose_file_matches_the_default_devnet(tmp_path: Path) -> None:
    root = tmp_path / "devnet"
    init(root, "--compose", nodes=4)
    devnet = json.loads((root / "devnet.json").read_text())
    doc: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    services = doc["services"]
    volume = "devnet:/devnet"
    assert set(doc["volumes"]) == {"devnet"}

    nodes = {n: svc for n, svc in services.items() if n not in ("init", *BRIDGE_SERVICES)}
    assert list(nodes) == [n["name"] for n in devnet["nodes"]]
    for entry in devnet["nodes"]:
        svc = nodes[entry["name"]]
        assert svc["command"][:3] == ["node", "start", "--config"]
        assert svc["command"][3] == f"/devnet/{entry['config']}"
        assert svc["command"][3] == f"/devnet/{entry['name']}/node.json"
        # A bridge network: the configs listen on every interface and dial service names;
        # the RPC is published on the host's loopback where devnet.json says it is.
        assert "network_mode" not in svc and svc["networks"] == NETWORKS
        config = NodeConfig.load(root / entry["config"])
        assert config.rpc is not None
        assert (config.p2p.listen.host, config.rpc.listen.host) == ("0.0.0.0", "0.0.0.0")
        peers = {str(p) for p in config.p2p.peers}
        others = [n for n in devnet["nodes"] if n["name"] != entry["name"]]
        assert peers == {f"{n['name']}:{n['p2p'].rsplit(':')[1]}" for n in others}
        rpc_port = config.rpc.listen.port
        assert entry["rpc"] == f"127.0.0.1:{rpc_port}"
        assert svc["ports"] == [f"127.0.0.1:{rpc_port}:{rpc_port}"]
        assert healthcheck(svc) == ["node", f"http://127.0.0.1:{rpc_port}"]
        assert config.bridge is not None and config.bridge.bsc == "http://bsc:26800"
        assert svc["volumes"] == [volume]
        assert svc["depends_on"] == {"init": COMPLETED, "deploy": COMPLETED}
        assert svc["restart"] == "unless-stopped"
        assert svc["stop_signal"] == "SIGTERM"
        assert svc["image"] == services["init"]["image"]

    init_cmd = services["init"]["command"]
    assert init_cmd[:3] == ["devnet", "init", "--compose"]
    assert "--if-missing" in init_cmd
    assert services["init"]["network_mode"] == "none"
    assert option(init_cmd, "--dir") == "/devnet"
    assert services["init"]["volumes"] == [volume]
    assert int(option(init_cmd, "--nodes")) == len(devnet["nodes"])
    base = int(option(init_cmd, "--base-port"))
    for i, entry in enumerate(devnet["nodes"]):
        assert entry["p2p"] == f"127.0.0.1:{base + i}"

    assert all(s.get("network_mode") != "host" for s in services.values())
    assert doc["networks"] == {"devnet": {"driver": "bridge"}}
    assert "no host networking" in COMPOSE_FILE.read_text().split("name:", 1)[0]  # the comment


def test_dockerfile_entrypoint_is_ccoin() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    [entrypoint] = [line for line in lines if line.startswith("ENTRYPOINT")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT")) == ["ccoin"]
    # The base images are build arguments declared before the first FROM, defaulting to the
    # official images (scripts/compose-test passes local stand-ins).
    first = next(i for i, line in enumerate(lines) if line.startswith("FROM"))
    args = [line for line in lines[:first] if line.startswith("ARG")]
    assert args == ["ARG NODE_IMAGE=node:20-slim", "ARG PYTHON_IMAGE=python:3.11-slim"]
    assert [line for line in lines if line.startswith("FROM")] == [
        "FROM ${NODE_IMAGE} AS npm",
        "FROM ${PYTHON_IMAGE}",
    ]
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".devnet", ".cache"} <= set(ignored)


@pytest.mark.parametrize(("nodes", "base_port"), [(1, 26600), (4, 26600), (21, 40000)])
def test_rendering_is_valid_yaml_and_deterministic(nodes: int, base_port: int) -> None:
    text = render_compose(nodes, base_port)
    assert text == render_compose(nodes, base_port)
    doc = yaml.safe_load(text)
    assert doc == compose_document(nodes, base_port)
    names = [f"node{i}" for i in range(nodes)]
    assert list(doc["services"]) == ["init", "bsc", "deploy", *names, "relayer"]
    bsc = doc["services"]["bsc"]
    plan = DevnetBsc.plan(base_port)
    assert bsc["command"] == anvil_args(plan, "/devnet/bsc/state.json", listen="0.0.0.0")
    assert option(bsc["command"], "--port") == str(base_port + 200)
    assert doc["services"]["relayer"]["depends_on"] == {"deploy": COMPLETED} | {
        name: HEALTHY for name in names
    }
    assert all(len(line) <= 100 for line in text.splitlines())


def test_compose_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "compose.yml"
    result = run("devnet", "compose", "--nodes", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text() == COMPOSE_FILE.read_text()
    stdout = run("devnet", "compose", "--nodes", "2", "--base-port", "27000")
    assert stdout.stdout == render_compose(2, 27000)
    assert run("devnet", "compose", "--nodes", "2", "--base-port", "65500").exit_code == 2


def test_bridge_services_match_the_devnet_init_lays_out(tmp_path: Path) -> None:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    services = doc["services"]
    init_cmd = services["init"]["command"]
    assert "--no-bridge" not in init_cmd
    nodes, base = int(option(init_cmd, "--nodes")), int(option(init_cmd, "--base-port"))
    root = tmp_path / "devnet"
    init(root, "--compose", "--base-port", str(base), nodes=nodes)
    devnet = json.loads((root / "devnet.json").read_text())
    node_names = [n["name"] for n in devnet["nodes"]]
    volume = ["devnet:/devnet"]
    image = services["init"]["image"]

    # bsc: anvil with the launcher's flags on every interface of its container, published
    # on the host's loopback where devnet.json says, its state in the bsc/ directory init
    # creates.
    bsc = services["bsc"]
    assert bsc["entrypoint"] == ["anvil"]
    state_file = "/devnet/bsc/state.json"
    assert bsc["command"] == anvil_args(DevnetBsc.plan(base), state_file, listen="0.0.0.0")
    port = devnet["bsc"]["port"]
    assert int(option(bsc["command"], "--port")) == port
    assert option(bsc["command"], "--host") == "0.0.0.0"
    assert bsc["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert healthcheck(bsc) == ["anvil", f"http://127.0.0.1:{port}"]
    assert DevnetBsc.plan(base).to_json() == devnet["bsc"]
    state = option(bsc["command"], "--state")
    assert state.startswith("/devnet/")
    assert (root / state.removeprefix("/devnet/")).parent.is_dir()
    assert bsc["depends_on"] == {"init": COMPLETED}
    assert bsc["networks"] == NETWORKS
    assert bsc["restart"] == "unless-stopped"
    assert bsc["stop_signal"] == "SIGTERM"  # anvil writes its state on SIGTERM
    assert bsc["volumes"] == volume and bsc["image"] == image

    # deploy: `devnet deploy-bsc` on the devnet in the volume, once anvil is healthy,
    # reaching it by its service name.
    deploy = services["deploy"]
    assert deploy["command"] == [
        "devnet", "deploy-bsc", "--dir", "/devnet", "--bsc", f"http://bsc:{port}"
    ]  # fmt: skip
    assert option(deploy["command"], "--dir") == option(init_cmd, "--dir")
    assert deploy["depends_on"] == {"init": COMPLETED, "bsc": HEALTHY}
    assert deploy["networks"] == NETWORKS
    assert "restart" not in deploy  # a one-shot: the nodes wait for it to complete
    assert deploy["volumes"] == volume and deploy["image"] == image

    for name in node_names:
        assert services[name]["depends_on"]["deploy"] == COMPLETED

    # relayer: `ccoin relay` on the relay.json init writes, once every node is healthy,
    # dialling the nodes and anvil by service name, its metrics published.
    relayer = services["relayer"]
    assert relayer["command"][:2] == ["relay", "--config"]
    config = option(relayer["command"], "--config")
    assert config.startswith("/devnet/")
    relay_json = root / config.removeprefix("/devnet/")
    assert relay_json == root / "relay" / "relay.json"
    assert relay_json.is_file()
    relay = RelayConfig.load(relay_json)
    assert relay.anchor.lower() == devnet["bsc"]["anchor"].lower()
    assert relay.bsc == f"http://bsc:{port}"
    assert relay.signers == tuple(
        f"http://{n['name']}:{n['rpc'].rsplit(':')[1]}" for n in devnet["nodes"]
    )
    metrics = base + 201
    assert str(relay.metrics_listen) == f"0.0.0.0:{metrics}"
    assert relayer["ports"] == [f"127.0.0.1:{metrics}:{metrics}"]
    assert healthcheck(relayer) == ["http", f"http://127.0.0.1:{metrics}/metrics"]
    assert relayer["depends_on"] == {"deploy": COMPLETED} | {n: HEALTHY for n in node_names}
    assert relayer["networks"] == NETWORKS
    assert relayer["restart"] == "unless-stopped"
    assert relayer["volumes"] == volume and relayer["image"] == image


def test_dockerfile_puts_the_locked_anvil_on_path() -> None:
    lock = json.loads(PACKAGE_LOCK.read_text())["packages"]
    wanted = json.loads((REPO / "package.json").read_text())["devDependencies"]
    version = lock["node_modules/@foundry-rs/anvil"]["version"]
    assert wanted["@foundry-rs/anvil"] == version  # pinned exactly
    binary = "node_modules/@foundry-rs/anvil-linux-amd64"
    assert lock[binary]["version"] == version
    assert lock[binary]["bin"] == {"anvil": "bin/anvil"}

    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    start = lines.index("FROM ${NODE_IMAGE} AS npm")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM"))
    stage = " ".join(line.removesuffix("\\") for line in lines[start:end])
    assert "COPY package.json package-lock.json ./" in stage
    assert "npm ci" in stage
    # The fallback keeps the lock's versions: no package named, the lock not rewritten.
    fallback = stage.split("npm install", 1)[1].split(" RUN ", 1)[0]
    assert "--no-save" in fallback and "@" not in fallback

    # The platform package's binary, or the one anvil's postinstall fetched (npm skips the
    # platform package on Node < 20); neither stops the build with a message; it must run.
    workdir = next(line.split()[1] for line in lines[start:end] if line.startswith("WORKDIR"))
    assert f"{binary}/bin/anvil" in stage and "node_modules/@foundry-rs/anvil/anvil" in stage
    assert "npm installed no anvil binary" in stage and "exit 1" in stage
    assert f"{workdir}/anvil --version" in stage
    [copy] = [line for line in lines[end:] if line.startswith("COPY --from=npm")]
    assert copy.split()[2:] == [f"{workdir}/anvil", "/usr/local/bin/anvil"]
    final = lines[end:]
    assert final.index(copy) < final.index("USER ccoin")
    assert "amd64" in DOCKERFILE.read_text().split("FROM", 1)[0]  # says only amd64 works


def test_the_probe_knows_the_devnet_chain_id() -> None:
    assert probe.BSC_CHAIN_ID == BSC_CHAIN_ID
    assert probe.main(["nonsense", "http://127.0.0.1:1"]) == 2
    assert probe.main(["node", "http://127.0.0.1:1"]) == 1  # nothing listens on port 1
