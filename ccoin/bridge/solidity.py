"""The BSC contracts (`ccoin/bridge/contracts/*.sol`) compiled with solcjs, the npm package
`solc`.

`compile_sources()` runs the pinned compiler (node_modules, `scripts/setup-npm`) on every
source with fixed settings and returns one artifact per deployable contract: its ABI, its
creation bytecode, the compiler version and a hash of the sources. The artifacts are
committed in `ccoin/bridge/artifacts/` and ship as package data with the sources, so running
the bridge needs no compiler; `load_artifact` reads them with `importlib.resources`. A test
compiles afresh and compares, so the committed bytecode is always what the sources say.

    python -m ccoin.bridge.solidity          # in a checkout: rewrite ccoin/bridge/artifacts/
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from ccoin.errors import ConfigError, ErrorCode

SOURCES_DIR = "contracts"  # package data of ccoin.bridge, beside this module
ARTIFACTS_DIR = "artifacts"
# Where a checkout keeps them, for the compiler and its test (which write and compare files).
SOURCES = Path(__file__).resolve().parent / SOURCES_DIR
BUILD = Path(__file__).resolve().parent / ARTIFACTS_DIR
REPO = Path(__file__).resolve().parents[2]
SOLCJS = REPO / "node_modules" / "solc"  # the package (its solc.js is a CLI)
CONTRACTS = ("CarbonCoin", "Anchor", "Bridge", "RetirementRegistry")
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "paris",  # no PUSH0: runs on every BSC fork and on anvil
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}
COMPILE_TIMEOUT = 300.0


def _sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SOURCES.glob("*.sol"))}


def sources_hash(sources: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def _run_solc(request: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (SOLCJS / "package.json").is_file():
        raise ConfigError(
            ErrorCode.CONFIG_INVALID, "solcjs not found: run scripts/setup-npm (needs node/npm)"
        )
    script = (
        "const solc = require(process.argv[1]);"
        "let input = '';"
        "process.stdin.on('data', d => input += d);"
        "process.stdin.on('end', () => process.stdout.write("
        "JSON.stringify({version: solc.version(), output: JSON.parse(solc.compile(input))})));"
    )
    done = subprocess.run(
        [node, "-e", script, str(SOLCJS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(ErrorCode.CONFIG_INVALID, f"solcjs failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def compile_sources() -> dict[str, dict[str, Any]]:
    """Artifacts by contract name; any compiler error or warning is a failure."""
    sources = _sources()
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    result = _run_solc(request)
    output = result["output"]
    problems = [e["formattedMessage"] for e in output.get("errors", [])]
    if problems:
        raise ConfigError(ErrorCode.CONFIG_INVALID, "solc: " + "\n".join(problems)[:4000])
    artifacts = {}
    for file_name, contracts in output["contracts"].items():
        for name, compiled in contracts.items():
            if name not in CONTRACTS:
                continue
            artifacts[name] = {
                "contractName": name,
                "sourceFile": file_name,
                "compiler": f"solcjs {result['version']}",
                "settings": SETTINGS,
                "sourcesHash": sources_hash(sources),
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            }
    missing = set(CONTRACTS) - set(artifacts)
    if missing:
        raise ConfigError(ErrorCode.CONFIG_INVALID, f"solc produced no {sorted(missing)}")
    return artifacts


def artifact_text(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


@functools.cache  # read once per process (the devnet's status table asks twice a second)
def load_artifact(name: str) -> dict[str, Any]:
    """A committed artifact (no compiler needed), from the package's `artifacts/`."""
    found = resources.files("ccoin.bridge") / ARTIFACTS_DIR / f"{name}.json"
    try:
        text = found.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            ErrorCode.CONFIG_INVALID,
            f"the {name} contract artifact is not installed (looked for {found}); reinstall ccoin",
        ) from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def main() -> None:
    BUILD.mkdir(exist_ok=True)
    for name, artifact in compile_sources().items():
        (BUILD / f"{name}.json").write_text(artifact_text(artifact), encoding="utf-8")
        print(f"wrote {BUILD / (name + '.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
