"""Node and relayer logs rotate by size (`log` in node.json and relay.json); the devnet
writes 10 MiB x 3 for each of its nodes and its relayer."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from ccoin.bridge.relay_config import RelayConfig
from ccoin.errors import CcoinError
from ccoin.node.config import NodeConfig
from ccoin.node.log import MIB, LogRotation, RotatingLog
from tests.unit.devnet.helpers import init


def test_rotates_at_the_configured_size(tmp_path: Path) -> None:
    rotation = LogRotation(tmp_path / "logs" / "node.log", max_bytes=1024, backups=2)
    handler = RotatingLog(rotation)
    logger = logging.getLogger("ccoin.test.rotation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        for i in range(200):  # about 20 kB of lines
            logger.info("tick", extra={"fields": {"i": i, "pad": "x" * 40}})
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in rotation.file.parent.iterdir())
    assert files == ["node.log", "node.log.1", "node.log.2"]  # two backups, no more
    for name in files:
        assert (rotation.file.parent / name).stat().st_size <= 1024
    last = rotation.file.read_text().splitlines()[-1]
    assert " info tick i=199 " in last


def test_stderr_follows_the_current_file(tmp_path: Path) -> None:
    """A process logging to a file also writes its stray stderr (a crash's traceback) there,
    into the current file after a rollover."""
    script = (
        "import sys; from pathlib import Path\n"
        "from ccoin.node.log import LogRotation, event, setup_logging\n"
        f"setup_logging('info', LogRotation(Path({str(tmp_path / 'n.log')!r}), 1024, 1))\n"
        "for i in range(100): event('tick', i=i)\n"
        "print('last words', file=sys.stderr, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr == ""
    current = (tmp_path / "n.log").read_text()
    assert current.endswith("last words\n")
    assert (tmp_path / "n.log.1").exists() and not (tmp_path / "n.log.2").exists()


def test_node_config_reads_and_writes_the_log_section(tmp_path: Path) -> None:
    obj = {"name": "n0", "dataDir": "data", "genesis": "g.json", "log": {"file": "node.log"}}
    config = NodeConfig.from_json(obj, tmp_path)
    assert config.log == LogRotation(tmp_path / "node.log", 10 * MIB, 3)
    assert config.to_json(tmp_path)["log"] == {
        "file": "node.log",
        "maxBytes": 10 * MIB,
        "backups": 3,
    }
    assert NodeConfig.from_json({**obj, "log": None}, tmp_path).log is None
    for bad in ({}, {"file": "x", "maxBytes": 10}, {"file": "x", "backups": 0}, {"file": 1}):
        with pytest.raises(CcoinError):  # DecodeError or ConfigError
            NodeConfig.from_json({**obj, "log": bad}, tmp_path)


def test_the_devnet_rotates_10_mib_times_3(tmp_path: Path) -> None:
    root = tmp_path / "net"
    init(root, "--base-port", "30000", nodes=2)
    for name in ("node0", "node1"):
        config = NodeConfig.load(root / name / "node.json")
        assert config.log == LogRotation(root / name / "node.log", 10 * MIB, 3)
    relay = RelayConfig.load(root / "relay" / "relay.json")
    assert relay.log == LogRotation(root / "relay" / "relayer.log", 10 * MIB, 3)
