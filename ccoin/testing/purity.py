"""Import checks for the packages whose rules must stay pure (STYLE convention 1)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def forbidden_imports(path: Path, forbidden: Iterable[str]) -> list[str]:
    """The modules `path` imports that are, or live under, one of `forbidden`."""
    banned = tuple(forbidden)
    return sorted(
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in banned)
    )
