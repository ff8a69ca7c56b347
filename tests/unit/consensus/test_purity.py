"""The consensus rules stay pure (STYLE convention 1): no trio, no plyvel, no storage, no
node, no network, no wall clock, no randomness inside `ccoin.consensus`."""

from __future__ import annotations

import ast
from pathlib import Path

import ccoin.consensus

FORBIDDEN = (
    "trio",
    "plyvel",
    "time",
    "datetime",
    "random",
    "socket",
    "threading",
    "ccoin.storage",
    "ccoin.node",
    "ccoin.p2p",
    "ccoin.ledger",
    "ccoin.cli",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_consensus_imports_nothing_impure() -> None:
    package = Path(ccoin.consensus.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        for name in imported_modules(module):
            bad = [f for f in FORBIDDEN if name == f or name.startswith(f + ".")]
            assert not bad, f"{module.name} imports {name}"
