"""`bench/vm_worst.py` (the calibration search, run by hand) still runs and reports: three
tiny patterns at a tiny gas limit and no budget beyond the first pass, the JSON shape, and
a pattern the linter refuses reported as refused with its rule, not as a crash."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "vm_worst.py"
ROW_KEYS = {
    "pattern",
    "size",
    "gas_limit",
    "gas_used",
    "seconds",
    "ns_per_gas",
    "capped_seconds",
    "kind",
    "outcome",
    "judged",
}


def _load_script() -> ModuleType:
    """The script as a module (registered first: its dataclasses look their module up)."""
    name = "bench_vm_worst"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_the_search_reports_tiny_patterns(capsys: pytest.CaptureFixture[str]) -> None:
    script = _load_script()
    only = ["loop_pass", "list_append_pop", "lint_fstring_pad"]
    argv = ["--json", "--quiet", "--seconds", "0", "--gas-limit", "20000"]
    argv += [arg for name in only for arg in ("--only", name)]
    status = script.main([*argv, "--max-capped-seconds", "1e9"])
    report = json.loads(capsys.readouterr().out)

    assert status == 0 and report["ok"] and report["findings"] == []
    assert report["gas_limit"] == 20_000 and report["overhead_ms"] > 0
    rows = {row["pattern"]: row for row in report["patterns"]}
    assert set(rows) == set(only)
    assert all(set(row) == ROW_KEYS for row in report["patterns"])
    assert sorted(row["pattern"] for row in report["runs"]) == sorted(only)  # the first pass

    for name in ("loop_pass", "list_append_pop"):
        row = rows[name]
        assert row["kind"] == "out-of-gas" and 19_000 <= row["gas_used"] <= 20_000
        assert row["judged"] and row["ns_per_gas"] > 0 and row["capped_seconds"] > 0

    refused = rows["lint_fstring_pad"]
    assert refused["kind"] == "refused" and "no-fstring" in refused["outcome"]
    assert refused["gas_used"] == 0 and refused["ns_per_gas"] is None
    assert report["refused"] == ["lint_fstring_pad"] and report["faults"] == []


def test_every_pattern_has_a_unique_name_and_sizes() -> None:
    patterns = _load_script().PATTERNS
    names = [pattern.name for pattern in patterns]
    assert len(names) == len(set(names)) >= 60
    assert all(pattern.sizes and min(pattern.sizes) >= 1 for pattern in patterns)
    assert all(low <= high for low, high in (pattern.bounds for pattern in patterns))
