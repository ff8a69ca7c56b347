"""Block times below a second (ADR 0023): headers count milliseconds, the genesis
`blockTimeMs`, transactions whole seconds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccoin.cli.main import cli
from ccoin.consensus.schedule import slot_of
from ccoin.errors import ConfigError, ErrorCode, InvalidBlock
from ccoin.ledger.chain import Chain
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.block import BLOCK_VERSION
from ccoin.types.genesis import GenesisConfig

HALF_SECOND = 500


@pytest.fixture
def half_second() -> tuple[Chain, f.LocalNet]:
    net = f.make_testnet(accounts=3)
    net = replace(net, genesis=replace(net.genesis, block_time_ms=HALF_SECOND))
    return Chain(MemoryStore(), net.genesis), net


def test_two_slots_in_one_second_are_two_blocks(half_second: tuple[Chain, f.LocalNet]) -> None:
    chain, net = half_second
    first, _ = chain.build_block([], 1000, net.delegates[0])
    second, _ = chain.build_block([], 1500, net.delegates[0])
    assert first.header.timestamp_seconds == second.header.timestamp_seconds == 1
    assert [slot_of(b.header.timestamp_ms, HALF_SECOND) for b in (first, second)] == [2, 3]
    assert second.header.version == BLOCK_VERSION == 3
    as_json = second.header.to_json(chain.network_id)
    assert (as_json["timestampMs"], as_json["timestamp"]) == (1500, 1)


def test_a_timestamp_must_grow_by_the_millisecond(half_second: tuple[Chain, f.LocalNet]) -> None:
    chain, net = half_second
    chain.build_block([], 1500, net.delegates[0])
    with pytest.raises(InvalidBlock) as info:
        chain.build_block([], 1500, net.delegates[0])
    assert info.value.code is ErrorCode.BLOCK_INVALID
    assert chain.height == 1


def test_the_future_rule_counts_milliseconds(half_second: tuple[Chain, f.LocalNet]) -> None:
    """At most 15 s after the block: a block at 1.5 s takes a transaction stamped 16 s
    (16,000 <= 16,500 ms) and refuses one stamped 17 s."""
    chain, net = half_second
    nid = chain.network_id
    ok = f.transfer(net.accounts[0], net.accounts[1].address, 1, nid, timestamp=16)
    late = f.transfer(net.accounts[0], net.accounts[1].address, 2, nid, timestamp=17)
    _block, execution = chain.build_block([ok, late], 1500, net.delegates[0])
    assert execution.included == [ok]
    [(refused, error)] = execution.rejected
    assert refused == late and error.code is ErrorCode.TX_TIMESTAMP_IN_FUTURE


def test_a_genesis_in_whole_seconds_is_refused_with_the_way_out() -> None:
    doc = f.make_testnet().genesis.to_json()
    doc["blockTime"] = doc.pop("blockTimeMs") // 1000
    with pytest.raises(ConfigError) as info:
        GenesisConfig.from_json(doc)
    assert "blockTimeMs" in info.value.message and "ccoin devnet init" in info.value.message


@pytest.mark.parametrize("ms", [99, 60_001, 0, "500"])
def test_block_time_out_of_bounds_is_refused(ms: object) -> None:
    doc = f.make_testnet().genesis.to_json()
    doc["blockTimeMs"] = ms
    with pytest.raises(ConfigError) as info:
        GenesisConfig.from_json(doc)
    assert "blockTimeMs" in info.value.message


def _genesis_new(tmp_path: Path, block_time: str) -> tuple[int, str]:
    passfile = tmp_path / "pass"
    passfile.write_text("pw\n")
    out = tmp_path / "genesis.json"
    args = ["genesis", "new", "--out", str(out), "--keys-dir", str(tmp_path / "keys")]
    args += ["--kdf", "fast", "--passphrase-file", str(passfile), "--block-time", block_time]
    result = CliRunner().invoke(cli, args)
    if result.exit_code != 0:
        return result.exit_code, result.output
    return json.loads(out.read_text())["blockTimeMs"], ""


@pytest.mark.parametrize(("given", "ms"), [("0.5", 500), ("1", 1000), ("0.3", 300), ("2.25", 2250)])
def test_the_cli_takes_seconds_to_the_millisecond(tmp_path: Path, given: str, ms: int) -> None:
    assert _genesis_new(tmp_path, given) == (ms, "")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("0.0005", "whole milliseconds"),
        ("0.05", "between 0.1 and 60"),
        ("61", "between 0.1 and 60"),
        ("half", "not a number"),
        ("nan", "whole milliseconds"),
    ],
)
def test_the_cli_refuses_a_block_time_it_cannot_keep(tmp_path: Path, given: str, says: str) -> None:
    code, output = _genesis_new(tmp_path, given)
    assert code == 2 and says in output
    assert not (tmp_path / "genesis.json").exists()
