"""`ccoin.contracts`: the example contracts are package data, found with importlib.resources
and shipped by pyproject; `ccoin contract example` prints them; and no ccoin module reads a
file of the package when imported (each read waits until it is asked for)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import ccoin
import ccoin.contracts
from ccoin.cli.main import cli
from ccoin.contracts import EXAMPLES_DIR, example_names, example_source

PACKAGE = Path(ccoin.contracts.__file__).parent
REPO = Path(ccoin.__file__).resolve().parents[1]


def test_the_examples_are_found_by_name() -> None:
    assert example_names() == ("carbon_registry", "nft_auction", "token")
    for name in example_names():
        on_disk = (PACKAGE / EXAMPLES_DIR / f"{name}.py").read_text(encoding="utf-8")
        assert example_source(name) == on_disk


def test_an_unknown_example_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match=r"no example contract 'tokn'.*nft_auction, token"):
        example_source("tokn")


def test_pyproject_ships_the_examples_as_package_data() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "data-files" not in setuptools
    # The .py files come along as modules of the (namespace) package; the README as data.
    assert setuptools["packages"]["find"]["include"] == ["ccoin*"]
    assert "exclude" not in setuptools["packages"]["find"]
    assert setuptools["package-data"]["ccoin.contracts.examples"] == ["README.md"]


def test_contract_example_prints_the_source_or_the_list() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["contract", "example"])
    assert listed.exit_code == 0 and listed.output.split() == list(example_names())
    printed = runner.invoke(cli, ["contract", "example", "token"])
    assert printed.exit_code == 0 and printed.output == example_source("token")
    unknown = runner.invoke(cli, ["contract", "example", "tokn"])
    assert unknown.exit_code == 2 and "no example contract 'tokn'" in unknown.output


# Imports every ccoin module (the example contracts are source, not modules) and reports
# every file inside the package opened on the way that is not a loaded module's source or
# bytecode (the import system opens those the same way).
IMPORT_ALL = """
import importlib, json, os, pkgutil, sys
root = os.path.dirname(importlib.util.find_spec("ccoin").origin)
opened = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(root):
        opened.add(args[0])
sys.addaudithook(hook)
import ccoin
names = [m.name for m in pkgutil.walk_packages(ccoin.__path__, "ccoin.")
         if not m.name.startswith("ccoin.contracts.examples")]
for name in names:
    importlib.import_module(name)
loaded = set()
for module in list(sys.modules.values()):
    loaded.update(filter(None, (getattr(module, "__file__", None),
                                getattr(module, "__cached__", None))))
read = sorted(os.path.relpath(p, root) for p in opened - loaded if not os.path.isdir(p))
print(json.dumps({"modules": len(names), "read": read}))
"""


def test_importing_any_ccoin_module_reads_no_package_file() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["modules"] > 100
    assert report["read"] == []
