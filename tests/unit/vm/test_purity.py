"""The vm's language and gas modules stay pure (STYLE convention 1): no trio, no plyvel, no
storage, node or network, no wall clock, no randomness. The sandbox modules (`ipc`,
`runner`, `worker`) talk to processes and pipes and are checked by their own tests."""

from __future__ import annotations

from pathlib import Path

import ccoin.vm
from ccoin.testing.purity import forbidden_imports

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


def test_vm_language_modules_import_nothing_impure() -> None:
    package = Path(ccoin.vm.__file__).parent
    for module in PURE_MODULES:
        path = package / module
        assert path.exists(), module
        bad = forbidden_imports(path, FORBIDDEN)
        assert not bad, f"{module} imports {bad}"
