"""`ccoin node init` writes a node.json whose paths hold where `node start` reads them:
relative to the config's own directory, whatever the working directory and `--dir` were."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.node.config import NodeConfig
from ccoin.node.mempool import PoolLimits

WRITTEN = {
    "dataDir": "data",
    "genesis": "genesis.json",
    "keystore": "keys/delegate-0.json",
    "passphraseFile": "keys/passphrase",
}


def init(directory: str) -> Path:
    result = CliRunner().invoke(
        cli, ["node", "init", "--dir", directory, "--test-accounts", "0"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return Path(directory) / "node.json"


def assert_found(config: NodeConfig) -> None:
    assert config.genesis.is_file() and config.data_dir.parent == config.genesis.parent
    assert config.keystore is not None and config.keystore.is_file()
    assert config.passphrase_file is not None and config.passphrase_file.is_file()


@pytest.mark.parametrize("directory", ["mynet", "a/b", "./c/../d", "absolute"])
def test_paths_are_relative_to_the_config(
    directory: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    if directory == "absolute":
        directory = str(tmp_path / "elsewhere" / "net")
    path = init(directory)
    written = json.loads(path.read_text())
    assert {k: written[k] for k in WRITTEN} == WRITTEN
    assert_found(NodeConfig.load(path))

    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)  # from another working directory
    assert_found(NodeConfig.load(cwd / path))
    moved = shutil.move(cwd / path.parent, tmp_path / "moved")  # the folder moves as one
    assert_found(NodeConfig.load(Path(moved) / "node.json"))


def test_a_path_outside_the_configs_directory_is_written_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = NodeConfig(
        name="n",
        data_dir=Path("net/data"),
        genesis=Path("shared/genesis.json"),
        keystore=None,
        passphrase_file=None,
        pool=PoolLimits(),
    )
    written = config.to_json(Path("net"))
    assert written["dataDir"] == "data"
    assert written["genesis"] == str(tmp_path / "shared" / "genesis.json")
    loaded = NodeConfig.from_json(written, tmp_path / "net")
    assert loaded.genesis == tmp_path / "shared" / "genesis.json"
