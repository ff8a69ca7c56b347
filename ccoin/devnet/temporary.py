"""A devnet in a temporary directory, started for the duration of a `with` block: for
benchmarks and tools that need one of their own (`ccoin bench`, `bench/bridge_*.py`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ccoin.devnet.layout import DEFAULT_TEST_ACCOUNTS, Devnet, init_devnet
from ccoin.devnet.ports import free_port_range
from ccoin.devnet.processes import start_devnet, stop_started


@contextmanager
def temporary_devnet(
    nodes: int = 4,
    *,
    bridge: bool = True,
    test_accounts: int = DEFAULT_TEST_ACCOUNTS,
    prefix: str = "ccoin-devnet-",
) -> Iterator[Devnet]:
    """`devnet init` on free loopback ports and `devnet up --detach` (anvil, the contracts
    and the relayer too with `bridge`); everything stopped and deleted afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        devnet = init_devnet(
            root,
            nodes=nodes,
            base_port=free_port_range(nodes),
            test_accounts=test_accounts,
            bridge=bridge,
        ).devnet
        started = start_devnet(devnet, bridge=bridge)
        try:
            yield devnet
        finally:
            stop_started(started)
    finally:
        shutil.rmtree(root, ignore_errors=True)
