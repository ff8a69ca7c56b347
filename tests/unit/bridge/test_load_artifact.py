"""`load_artifact` reads the checkout's contracts/bsc/build, else an installed package's
`<prefix>/share/ccoin/bsc` (pyproject's data-files)."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccoin.bridge import solidity
from ccoin.bridge.solidity import BUILD, CONTRACTS, REPO, load_artifact
from ccoin.errors import ConfigError


@pytest.fixture(autouse=True)
def fresh_reads() -> Iterator[None]:
    """`load_artifact` reads each file once per process: these tests move the files."""
    load_artifact.cache_clear()
    yield
    load_artifact.cache_clear()


def test_reads_the_checkouts_build_dir() -> None:
    for name in CONTRACTS:
        assert load_artifact(name) == json.loads((BUILD / f"{name}.json").read_text())


def test_falls_back_to_the_installed_share_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "build"
    empty.mkdir()
    share = tmp_path / "prefix" / "share" / "ccoin" / "bsc"
    share.mkdir(parents=True)
    artifact = {"contractName": "Anchor", "abi": [], "bytecode": "0x60"}
    (share / "Anchor.json").write_text(json.dumps(artifact))
    monkeypatch.setattr(solidity, "BUILD", empty)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert load_artifact("Anchor") == artifact


def test_missing_everywhere_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(solidity, "BUILD", tmp_path / "build")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    with pytest.raises(ConfigError) as caught:
        load_artifact("Anchor")
    message = caught.value.message
    assert "Anchor" in message
    assert str(tmp_path / "build" / "Anchor.json") in message
    assert str(tmp_path / "prefix" / "share" / "ccoin" / "bsc" / "Anchor.json") in message


def test_pyproject_installs_the_artifacts_where_load_artifact_looks() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    data_files = pyproject["tool"]["setuptools"]["data-files"]
    assert data_files["share/ccoin/bsc"] == ["contracts/bsc/build/*.json"]
    installed = {p.name for p in REPO.glob(data_files["share/ccoin/bsc"][0])}
    assert installed == {f"{name}.json" for name in CONTRACTS}
