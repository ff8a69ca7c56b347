"""Where `find_anvil` looks: node_modules first, then `anvil` on PATH (the Docker image's
/usr/local/bin/anvil)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccoin.bench.anvil import AnvilNotInstalled, _platform_package, find_anvil


def fake_anvil(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "anvil"
    path.write_text("#!/bin/sh\necho anvil\n")
    path.chmod(0o755)
    return path


def test_falls_back_to_anvil_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = fake_anvil(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(binary.parent))
    root = tmp_path / "root"  # no node_modules
    root.mkdir()
    assert find_anvil(root) == binary


def test_node_modules_copy_comes_before_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(fake_anvil(tmp_path / "bin").parent))
    root = tmp_path / "root"
    local = fake_anvil(root / "node_modules" / "@foundry-rs" / _platform_package() / "bin")
    assert find_anvil(root) == local


def test_a_non_executable_on_path_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = fake_anvil(tmp_path / "bin")
    binary.chmod(0o644)
    monkeypatch.setenv("PATH", str(binary.parent))
    with pytest.raises(AnvilNotInstalled) as caught:
        find_anvil(tmp_path)
    message = str(caught.value)
    assert "node_modules" in message and "PATH" in message and "scripts/setup-npm" in message


def test_missing_everywhere_names_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AnvilNotInstalled, match="scripts/setup-npm") as caught:
        find_anvil(tmp_path)
    assert str(tmp_path / "node_modules") in str(caught.value)
    assert "on PATH" in str(caught.value)
