"""The vm's language and gas modules stay pure (STYLE convention 1): no trio, no plyvel, no
storage, node or network, no wall clock, no randomness. The sandbox modules (`ipc`,
`runner`, `worker`) talk to processes and pipes and are checked by their own tests."""

from __future__ import annotations

import ast
from pathlib import Path

import ccoin.vm

PURE_MODULES = (
    "__init__.py",
    "lint.py",
    "gas.py",
    "operators.py",
    "metered_builtins.py",
    "api.py",
    "runtime.py",
    "instrument.py",
)

FORBIDDEN = (
    "trio",
    "plyvel",
    "time",
    "datetime",
    "random",
    "secrets",
    "os",
    "sys",
    "socket",
    "subprocess",
    "threading",
    "ctypes",
    "ccoin.storage",
    "ccoin.node",
    "ccoin.p2p",
    "ccoin.ledger",
    "ccoin.cli",
    "ccoin.vm.runner",
    "ccoin.vm.worker",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_vm_language_modules_import_nothing_impure() -> None:
    package = Path(ccoin.vm.__file__).parent
    for module in PURE_MODULES:
        path = package / module
        assert path.exists(), module
        for name in imported_modules(path):
            bad = [f for f in FORBIDDEN if name == f or name.startswith(f + ".")]
            assert not bad, f"{module} imports {name}"
