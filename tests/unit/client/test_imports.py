"""`ccoin.client` is a client: it talks to a node over HTTP and never imports the node's
own machinery (its docstring's rule), so it stays usable from any program."""

from __future__ import annotations

from pathlib import Path

import ccoin.client
from ccoin.testing.purity import imported_modules

FORBIDDEN = ("ccoin.node", "ccoin.rpc", "ccoin.ledger", "ccoin.storage", "ccoin.p2p", "ccoin.cli")


def test_client_imports_no_node_code() -> None:
    modules = sorted(Path(ccoin.client.__file__).parent.glob("*.py"))
    assert len(modules) >= 5
    for module in modules:
        for name in imported_modules(module):
            bad = [f for f in FORBIDDEN if name == f or name.startswith(f + ".")]
            assert not bad, f"{module.name} imports {name}"
