"""The example contracts that ship with ccoin: contract source for the sidechain's VM
(`docs/spec/vm.md`) in `examples/`, package data read with `importlib.resources`, so a
checkout, an editable install and a wheel find them the same way.

`ccoin contract example NAME` prints one; `ccoin bench --contract` deploys the token; the
vm tests run them all. Reads happen when asked, never at import. May import only the
standard library.
"""

from __future__ import annotations

import functools
from importlib import resources

# Not a Python package: contract source, whose names (`Var`, `export`, ...) the VM provides.
EXAMPLES_DIR = "examples"


def example_names() -> tuple[str, ...]:
    """The example contracts' names (`token`, ...), sorted."""
    folder = resources.files(__name__) / EXAMPLES_DIR
    return tuple(sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".py")))


@functools.cache
def example_source(name: str) -> str:
    """The source of the example contract `name` (`examples/<name>.py`)."""
    if name not in example_names():
        known = ", ".join(example_names())
        raise LookupError(f"no example contract {name!r} (there are: {known})")
    return (resources.files(__name__) / EXAMPLES_DIR / f"{name}.py").read_text(encoding="utf-8")
