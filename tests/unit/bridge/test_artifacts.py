"""The committed BSC contract artifacts are exactly what a fresh solcjs compile of the
committed sources gives (`python -m ccoin.bridge.solidity` rewrites them)."""

from __future__ import annotations

from ccoin.bridge.solidity import BUILD, CONTRACTS, artifact_text, compile_sources


def test_committed_artifacts_match_a_fresh_compile() -> None:
    fresh = compile_sources()
    assert sorted(fresh) == sorted(CONTRACTS)
    for name, artifact in fresh.items():
        committed = (BUILD / f"{name}.json").read_text(encoding="utf-8")
        assert committed == artifact_text(artifact), (
            f"ccoin/bridge/artifacts/{name}.json is stale: run python -m ccoin.bridge.solidity"
        )
        assert artifact["bytecode"].startswith("0x60") and len(artifact["abi"]) > 3
