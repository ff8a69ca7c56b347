"""The module shape (ADR 0025): every transaction type is declared once, by one module, in
the same shape; module files keep their layers; the ledger and the modules import no
circle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.ledger.execute import RULES, check_type_enabled
from ccoin.modules.catalog import MODULE_OF_TYPE, MODULES, TYPE_SPECS
from ccoin.storage import schema
from ccoin.testing.carbon import carbon_testnet
from ccoin.testing.factories import make_testnet
from ccoin.types.asset_base import TxType
from ccoin.types.assets import ASSET_CLASSES
from ccoin.types.genesis import GenesisConfig

ROOT = Path(__file__).resolve().parents[3] / "ccoin"
# A module's files that the transaction envelope and the genesis decode: the wire layer.
WIRE_FILES = {"wire", "records", "genesis", "ranges", "jurisdictions"}
WIRE_PACKAGES = ("ccoin.types", "ccoin.crypto", "ccoin.errors")


def test_every_type_is_declared_once_in_the_module_shape() -> None:
    declared = [int(spec.tx_type) for module in MODULES for spec in module.types]
    assert sorted(declared) == sorted(int(t) for t in TxType)
    assert len(declared) == len(set(declared))
    for tx_type, spec in TYPE_SPECS.items():
        assert spec.asset is ASSET_CLASSES[tx_type]
        assert tx_type == spec.asset.TYPE
        assert spec.table == schema.ASSET_TABLE_NAME[TxType(tx_type)]
        assert RULES[tx_type] is spec.apply
        assert MODULE_OF_TYPE[tx_type].types.count(spec) == 1


def test_a_modules_types_are_enabled_only_with_its_genesis_section() -> None:
    plain: GenesisConfig = make_testnet().genesis
    carbon: GenesisConfig = carbon_testnet().genesis
    for tx_type in (TxType.CARBON_ISSUE, TxType.IN_TRANSFER):
        try:
            check_type_enabled(tx_type, plain)
        except InvalidTransaction as exc:
            assert exc.code == ErrorCode.TX_TYPE_NOT_ENABLED
            assert repr(MODULE_OF_TYPE[tx_type].name) in exc.message
        else:
            raise AssertionError(f"type {tx_type} enabled without its section")
    check_type_enabled(TxType.CARBON_ISSUE, carbon)
    check_type_enabled(TxType.TRANSFER, plain)


def _imports() -> dict[str, set[str]]:
    """Every ccoin module's ccoin imports, TYPE_CHECKING and function-level ones included."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("ccoin."):
                    graph[name].add(target)
    modules = set(graph) | {n for targets in graph.values() for n in targets}
    known = {n for n in modules if (ROOT.parent / (n.replace(".", "/") + ".py")).exists()}
    known |= {n for n in modules if (ROOT.parent / n.replace(".", "/") / "__init__.py").exists()}
    return {a: {b for b in bs if b in known and b != a} for a, bs in graph.items()}


def test_module_wire_files_import_only_the_wire_layer() -> None:
    for name, targets in _imports().items():
        parts = name.split(".")
        if parts[:2] != ["ccoin", "modules"] or len(parts) < 4 or parts[-1] not in WIRE_FILES:
            continue
        own = ".".join(parts[:3])
        for target in targets:
            wire = target.startswith(WIRE_PACKAGES) or (
                target.startswith(own) and target.split(".")[-1] in WIRE_FILES | {parts[2]}
            )
            assert wire or target == own, f"{name} (wire layer) imports {target}"


def test_no_import_circle_among_the_ledger_the_modules_and_their_layers() -> None:
    scope = ("ccoin.types", "ccoin.modules", "ccoin.ledger", "ccoin.storage", "ccoin.consensus")
    graph = {
        a: {b for b in bs if b.startswith(scope)}
        for a, bs in _imports().items()
        if a.startswith(scope)
    }
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_an_enabled_modules_end_of_block_hook_runs_once_per_block_and_can_write_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from ccoin.ledger.chain import Chain
    from ccoin.modules import catalog
    from ccoin.storage.memory import MemoryStore

    seen: list[int] = []

    def hook(ex: Any) -> None:
        seen.append(ex.ctx.height)
        ex.state.put(schema.META + b"test-hook", schema.u64(ex.ctx.height))

    carbon = dataclasses.replace(catalog.CARBON, end_block=hook)
    monkeypatch.setattr(
        catalog, "MODULES", (catalog.CORE, catalog.CONTRACTS, catalog.BRIDGE, carbon)
    )
    net = carbon_testnet()
    chain = Chain(MemoryStore(), net.genesis)
    for _ in range(3):
        chain.build_block([], chain.head.timestamp_ms + 1000, net.delegates[0])
    assert seen == [1, 2, 3]
    assert chain.store.get(schema.META + b"test-hook") == schema.u64(3)
    plain = Chain(MemoryStore(), make_testnet().genesis)  # without the section: no hook
    plain.build_block([], 1000, make_testnet().delegates[0])
    assert seen == [1, 2, 3]
