"""The pool's bounded penalty for a sender whose contract transaction faulted the sandbox
(ADR 0017): its other contract transactions go, new ones are refused for a while (time is
passed in, as everywhere in the pool), other types still enter, the table is capped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccoin.crypto.address import address_raw
from ccoin.errors import ConfigError, ErrorCode, InvalidTransaction, PoolError
from ccoin.ledger.chain import Chain
from ccoin.modules.contracts.rules import deploy_address
from ccoin.node.config import NodeConfig
from ccoin.node.mempool import Mempool, PoolLimits, drop_invalid
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.types.transaction import Transaction

CODE = "@export\ndef boom():\n    return 1\n\n\n@export\ndef fine():\n    return 2\n"
FAULT = InvalidTransaction(ErrorCode.TX_SANDBOX_FAULT, "the contract sandbox faulted")


@pytest.fixture
def net() -> LocalNet:
    return f.make_testnet(accounts=4, delegates=1)


@pytest.fixture
def chain(net: LocalNet) -> Chain:
    return Chain(MemoryStore(), net.genesis)  # no init: the deploy runs no sandbox


@pytest.fixture
def contract(chain: Chain, net: LocalNet) -> str:
    deploy = f.deploy(net.accounts[3], "app", CODE, chain.network_id)
    assert chain.build_block([deploy], 1000, net.delegates[0])[1].included == [deploy]
    return deploy_address(deploy, chain.network_id)


def call(chain: Chain, sender_index: int, net: LocalNet, contract: str, method: str) -> Transaction:
    return f.call_contract(net.accounts[sender_index], contract, method, (), chain.network_id)


def expect_suspended(pool: Mempool, tx: Transaction, now: int) -> None:
    with pytest.raises(PoolError) as info:
        pool.add(tx, now)
    assert info.value.code is ErrorCode.POOL_SENDER_SUSPENDED
    assert "refused for" in info.value.message


def test_a_fault_evicts_and_refuses_the_senders_contract_transactions_only(
    chain: Chain, net: LocalNet, contract: str
) -> None:
    nid = chain.network_id
    pool = Mempool(chain.genesis, nid, chain, PoolLimits(fault_suspension_seconds=60))
    faulted, other_call = (
        call(chain, 1, net, contract, "boom"),
        call(chain, 1, net, contract, "fine"),
    )
    deploy = f.deploy(net.accounts[1], "second", CODE, nid)
    transfer = f.transfer(net.accounts[1], net.accounts[2].address, 5, nid)
    bystander = call(chain, 2, net, contract, "fine")
    for tx in (faulted, other_call, deploy, transfer, bystander):
        pool.add(tx, now=100)

    drop_invalid(pool, [(faulted, FAULT)], now=100)
    assert {tx.hash(nid) for tx in pool.ready()} == {transfer.hash(nid), bystander.hash(nid)}
    assert len(pool) == 2
    alice = address_raw(net.accounts[1].address)
    assert pool.suspended_until(alice, 100) == 160
    assert pool.suspended_until(address_raw(net.accounts[2].address), 100) is None

    expect_suspended(pool, other_call, 100)
    expect_suspended(pool, deploy, 159)  # deploys are contract transactions too
    again = f.transfer(net.accounts[1], net.accounts[2].address, 6, nid)
    pool.add(again, now=120)  # other types still enter
    pool.add(call(chain, 2, net, contract, "boom"), now=120)  # other senders too

    pool.add(other_call, now=160)  # the suspension has ended
    assert other_call.hash(nid) in pool
    assert pool.suspended_until(alice, 160) is None


def test_other_refusals_suspend_nobody(chain: Chain, net: LocalNet, contract: str) -> None:
    pool = Mempool(chain.genesis, chain.network_id, chain)
    tx = call(chain, 1, net, contract, "boom")
    other = call(chain, 1, net, contract, "fine")
    pool.add(tx, now=0)
    pool.add(other, now=0)
    drop_invalid(pool, [(tx, InvalidTransaction(ErrorCode.TX_INSUFFICIENT_BALANCE))], now=0)
    assert list(pool.ready()) == [other]
    assert pool.suspended_senders == 0


def test_a_second_fault_starts_the_suspension_again(chain: Chain) -> None:
    pool = Mempool(chain.genesis, chain.network_id, chain, PoolLimits(fault_suspension_seconds=60))
    sender = b"\x01" * 14
    pool.suspend(sender, 0)
    pool.suspend(sender, 30)
    assert pool.suspended_until(sender, 59) == 90
    assert pool.suspended_senders == 1


def test_the_suspension_table_is_bounded(chain: Chain) -> None:
    limits = PoolLimits(fault_suspension_seconds=60, max_suspended_senders=3)
    pool = Mempool(chain.genesis, chain.network_id, chain, limits)
    senders = [bytes([i]) * 14 for i in range(1, 6)]
    for now, sender in enumerate(senders):
        pool.suspend(sender, now)
        assert pool.suspended_senders <= 3
    assert pool.suspended_senders == 3
    # The oldest suspensions made room for the newest.
    assert [pool.suspended_until(s, 5) for s in senders] == [None, None, 62, 63, 64]


def test_ended_suspensions_are_swept_with_expiry(chain: Chain) -> None:
    pool = Mempool(chain.genesis, chain.network_id, chain, PoolLimits(fault_suspension_seconds=10))
    for i in range(4):
        pool.suspend(bytes([i + 1]) * 14, i)
    pool.expire(11)  # the first two ended at 10 and 11
    assert pool.suspended_senders == 2
    pool.expire(13)
    assert pool.suspended_senders == 0


def load(tmp_path: Path, obj: dict[str, Any]) -> NodeConfig:
    path = tmp_path / "node.json"
    path.write_text(json.dumps(obj))
    return NodeConfig.load(path)


def test_the_suspension_settings_are_read_from_the_pool_section(tmp_path: Path) -> None:
    base = {"name": "n", "dataDir": "data", "genesis": "g.json"}
    default = load(tmp_path, base).pool
    assert (default.fault_suspension_seconds, default.max_suspended_senders) == (60, 10_000)
    pool = {"faultSuspensionSeconds": 300, "maxSuspendedSenders": 50}
    config = load(tmp_path, {**base, "pool": pool})
    assert (config.pool.fault_suspension_seconds, config.pool.max_suspended_senders) == (300, 50)
    written = config.to_json(tmp_path)
    assert {name: written["pool"][name] for name in pool} == pool
    assert load(tmp_path, written) == config
    for name in pool:
        with pytest.raises(ConfigError) as info:
            load(tmp_path, {**base, "pool": {name: 0}})
        assert info.value.code is ErrorCode.CONFIG_INVALID and name in info.value.message
