"""`ccoin relay`'s configuration: every field checked, every bad one a clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ccoin.bridge.relay_config import RelayConfig
from ccoin.cli.main import cli
from ccoin.errors import ConfigError

GOOD: dict[str, Any] = {
    "bsc": "http://127.0.0.1:8545",
    "bscChainId": 97,
    "anchor": "0x" + "ab" * 20,
    "bridge": "0x" + "cd" * 20,
    "payerKey": "payer.json",
    "payerPassphraseFile": "payer.pass",
    "sidechain": "http://127.0.0.1:26700",
    "signers": ["http://127.0.0.1:26700", "http://127.0.0.1:26701"],
    "relayerKeystore": "relayer.json",
    "relayerPassphraseFile": "relayer.pass",
}


def test_a_good_config_loads_with_paths_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "relay.json"
    path.write_text(json.dumps(GOOD))
    config = RelayConfig.load(path)
    assert config.payer_key == tmp_path / "payer.json"
    assert config.signers == tuple(GOOD["signers"]) and config.interval_seconds == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bsc": "ftp://x"}, "bsc: an http"),
        ({"anchor": "0x12"}, "anchor: a 0x-prefixed"),
        ({"bridge": "0x" + "zz" * 20}, "bridge: a 0x-prefixed"),
        ({"signers": []}, "signers: a list"),
        ({"signers": ["nope"]}, r"signers\[\]: an http"),
        ({"maxRange": 0}, "maxRange"),
        ({"anchorEverySeconds": -1}, "anchorEverySeconds"),
        ({"metricsListen": "9464"}, "metricsListen: expected host:port"),
        ({"extra": 1}, "unknown field"),
        ({"bscChainId": None}, "bscChainId"),
    ],
)
def test_bad_configs_are_clear_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RelayConfig.from_json({**GOOD, **change}, Path("."))


def test_the_command_reports_a_missing_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["relay", "--config", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "CONFIG_INVALID" in result.output and "none.json" in result.output
