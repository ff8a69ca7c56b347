"""The committed docker-compose.yml and Dockerfile against what `devnet init` lays out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ccoin.devnet.compose import compose_document, render_compose
from tests.unit.devnet.helpers import init, run

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"


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

    nodes = {name: svc for name, svc in services.items() if name != "init"}
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
        assert svc["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
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
    assert [line for line in lines if line.startswith("FROM")] == ["FROM python:3.11-slim"]
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".devnet"} <= set(ignored)


@pytest.mark.parametrize(("nodes", "base_port"), [(1, 26600), (4, 26600), (21, 40000)])
def test_rendering_is_valid_yaml_and_deterministic(nodes: int, base_port: int) -> None:
    text = render_compose(nodes, base_port)
    assert text == render_compose(nodes, base_port)
    doc = yaml.safe_load(text)
    assert doc == compose_document(nodes, base_port)
    assert list(doc["services"]) == ["init", *(f"node{i}" for i in range(nodes))]
    assert all(len(line) <= 100 for line in text.splitlines())


def test_compose_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "compose.yml"
    result = run("devnet", "compose", "--nodes", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text() == COMPOSE_FILE.read_text()
    stdout = run("devnet", "compose", "--nodes", "2", "--base-port", "27000")
    assert stdout.stdout == render_compose(2, 27000)
    assert run("devnet", "compose", "--nodes", "2", "--base-port", "65500").exit_code == 2
