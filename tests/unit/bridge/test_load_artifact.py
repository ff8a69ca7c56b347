"""`load_artifact` reads the package's `ccoin/bridge/artifacts/` with importlib.resources,
and pyproject ships them (with the Solidity sources) as package data."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccoin.bridge import solidity
from ccoin.bridge.solidity import BUILD, CONTRACTS, REPO, SOURCES, load_artifact
from ccoin.errors import ConfigError


@pytest.fixture(autouse=True)
def fresh_reads() -> Iterator[None]:
    """`load_artifact` reads each file once per process."""
    load_artifact.cache_clear()
    yield
    load_artifact.cache_clear()


def test_reads_the_packages_artifacts() -> None:
    for name in CONTRACTS:
        assert load_artifact(name) == json.loads((BUILD / f"{name}.json").read_text())


def test_a_missing_artifact_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solidity, "ARTIFACTS_DIR", "no-such-dir")
    with pytest.raises(ConfigError) as caught:
        load_artifact("Anchor")
    message = caught.value.message
    assert "Anchor" in message and "no-such-dir" in message and "reinstall" in message


def test_pyproject_ships_the_artifacts_and_sources_as_package_data() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "data-files" not in setuptools
    data = setuptools["package-data"]
    package = Path(solidity.__file__).parent
    shipped = {
        p.relative_to(package).as_posix()
        for folder in ("artifacts", "contracts")
        for pattern in data[f"ccoin.bridge.{folder}"]
        for p in (package / folder).glob(pattern)
    }
    assert {f"artifacts/{name}.json" for name in CONTRACTS} <= shipped
    assert {f"contracts/{p.name}" for p in SOURCES.glob("*.sol")} <= shipped
    assert BUILD.parent == SOURCES.parent == package
