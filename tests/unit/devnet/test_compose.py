"""The committed docker-compose.yml and Dockerfile against what `devnet init` lays out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ccoin.bridge.relay_config import RelayConfig
from ccoin.devnet.bsc import DevnetBsc, anvil_args
from ccoin.devnet.compose import compose_document, render_compose
from tests.unit.devnet.helpers import init, run

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PACKAGE_LOCK = REPO / "package-lock.json"
BRIDGE_SERVICES = ("bsc", "deploy", "relayer")
COMPLETED = {"condition": "service_completed_successfully"}
STARTED = {"condition": "service_started"}


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_committed_compose_file_is_the_rendered_default() -> None:
    text = COMPOSE_FILE.read_text()
    assert text == render_compose(), "regenerate: ccoin devnet compose --out docker-compose.yml"
    assert yaml.safe_load(text) == compose_document()


def test_compose_file_matches_the_default_devnet(tmp_path: Path) -> None:
    root = tmp_path / "devnet"
    init(root, nodes=4)
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
        # Host networking: the p2p addresses in the configs are the ones in use.
        assert svc["network_mode"] == "host"
        assert "ports" not in svc and "networks" not in svc
        assert svc["volumes"] == [volume]
        assert svc["depends_on"] == {"init": COMPLETED, "deploy": COMPLETED}
        assert svc["restart"] == "unless-stopped"
        assert svc["stop_signal"] == "SIGTERM"
        assert svc["image"] == services["init"]["image"]

    init_cmd = services["init"]["command"]
    assert init_cmd[:2] == ["devnet", "init"]
    assert "--if-missing" in init_cmd
    assert option(init_cmd, "--dir") == "/devnet"
    assert services["init"]["volumes"] == [volume]
    assert int(option(init_cmd, "--nodes")) == len(devnet["nodes"])
    base = int(option(init_cmd, "--base-port"))
    for i, entry in enumerate(devnet["nodes"]):
        assert entry["p2p"] == f"127.0.0.1:{base + i}"

    assert "network_mode: host" in COMPOSE_FILE.read_text().split("name:", 1)[0]  # the comment


def test_dockerfile_entrypoint_is_ccoin() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    [entrypoint] = [line for line in lines if line.startswith("ENTRYPOINT")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT")) == ["ccoin"]
    assert [line for line in lines if line.startswith("FROM")] == [
        "FROM node:20-slim AS npm",
        "FROM python:3.11-slim",
    ]
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".devnet"} <= set(ignored)


@pytest.mark.parametrize(("nodes", "base_port"), [(1, 26600), (4, 26600), (21, 40000)])
def test_rendering_is_valid_yaml_and_deterministic(nodes: int, base_port: int) -> None:
    text = render_compose(nodes, base_port)
    assert text == render_compose(nodes, base_port)
    doc = yaml.safe_load(text)
    assert doc == compose_document(nodes, base_port)
    names = [f"node{i}" for i in range(nodes)]
    assert list(doc["services"]) == ["init", "bsc", "deploy", *names, "relayer"]
    bsc = doc["services"]["bsc"]
    assert bsc["command"] == anvil_args(DevnetBsc.plan(base_port), "/devnet/bsc/state.json")
    assert option(bsc["command"], "--port") == str(base_port + 200)
    assert doc["services"]["relayer"]["depends_on"] == {"deploy": COMPLETED} | {
        name: STARTED for name in names
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
    init(root, "--base-port", str(base), nodes=nodes)
    devnet = json.loads((root / "devnet.json").read_text())
    node_names = [n["name"] for n in devnet["nodes"]]
    volume = ["devnet:/devnet"]
    image = services["init"]["image"]

    # bsc: anvil with the launcher's flags, listening where devnet.json says, its state in
    # the bsc/ directory init creates.
    bsc = services["bsc"]
    assert bsc["entrypoint"] == ["anvil"]
    assert bsc["command"] == anvil_args(DevnetBsc.plan(base), "/devnet/bsc/state.json")
    assert int(option(bsc["command"], "--port")) == devnet["bsc"]["port"]
    assert DevnetBsc.plan(base).to_json() == devnet["bsc"]
    state = option(bsc["command"], "--state")
    assert state.startswith("/devnet/")
    assert (root / state.removeprefix("/devnet/")).parent.is_dir()
    assert bsc["depends_on"] == {"init": COMPLETED}
    assert bsc["network_mode"] == "host"
    assert bsc["restart"] == "unless-stopped"
    assert bsc["stop_signal"] == "SIGTERM"  # anvil writes its state on SIGTERM
    assert bsc["volumes"] == volume and bsc["image"] == image

    # deploy: `devnet deploy-bsc` on the devnet in the volume, once anvil has started.
    deploy = services["deploy"]
    assert deploy["command"] == ["devnet", "deploy-bsc", "--dir", "/devnet"]
    assert option(deploy["command"], "--dir") == option(init_cmd, "--dir")
    assert deploy["depends_on"] == {"init": COMPLETED, "bsc": STARTED}
    assert deploy["network_mode"] == "host"
    assert "restart" not in deploy  # a one-shot: the nodes wait for it to complete
    assert deploy["volumes"] == volume and deploy["image"] == image

    for name in node_names:
        assert services[name]["depends_on"]["deploy"] == COMPLETED

    # relayer: `ccoin relay` on the relay.json init writes, after every node has started.
    relayer = services["relayer"]
    assert relayer["command"][:2] == ["relay", "--config"]
    config = option(relayer["command"], "--config")
    assert config.startswith("/devnet/")
    relay_json = root / config.removeprefix("/devnet/")
    assert relay_json == root / "relay" / "relay.json"
    assert relay_json.is_file()
    relay = RelayConfig.load(relay_json)
    assert relay.anchor.lower() == devnet["bsc"]["anchor"].lower()
    assert relayer["depends_on"] == {"deploy": COMPLETED} | {n: STARTED for n in node_names}
    assert relayer["network_mode"] == "host"
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
    start = lines.index("FROM node:20-slim AS npm")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM"))
    stage = " ".join(line.removesuffix("\\") for line in lines[start:end])
    assert "COPY package.json package-lock.json ./" in stage
    assert "npm ci" in stage
    # The fallback keeps the lock's versions: no package named, the lock not rewritten.
    fallback = stage.split("npm install", 1)[1]
    assert "--no-save" in fallback and "@" not in fallback

    workdir = next(line.split()[1] for line in lines[start:end] if line.startswith("WORKDIR"))
    [copy] = [line for line in lines[end:] if line.startswith("COPY --from=npm")]
    assert copy.split()[2:] == [f"{workdir}/{binary}/bin/anvil", "/usr/local/bin/anvil"]
    final = lines[end:]
    assert final.index(copy) < final.index("USER ccoin")
    assert "amd64" in DOCKERFILE.read_text().split("FROM", 1)[0]  # says only amd64 works
