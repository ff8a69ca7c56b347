"""The consensus rules stay pure (STYLE convention 1): no trio, no plyvel, no storage, no
node, no network, no wall clock, no randomness inside `ccoin.consensus`."""

from __future__ import annotations

from pathlib import Path

import ccoin.consensus
from ccoin.testing.purity import forbidden_imports

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


def test_consensus_imports_nothing_impure() -> None:
    package = Path(ccoin.consensus.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        bad = forbidden_imports(module, FORBIDDEN)
        assert not bad, f"{module.name} imports {bad}"
