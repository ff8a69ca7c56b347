"""A contract sandbox fault is never a result (ADR 0017): while building, the transaction
is dropped with TX_SANDBOX_FAULT and nothing of it is written; while checking a block, the
block is invalid with that code, and applies once the fault is gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ccoin.crypto.address import address_raw
from ccoin.errors import ErrorCode, InvalidBlock, InvalidTransaction
from ccoin.ledger.chain import Chain, InvalidBlockTransaction
from ccoin.ledger.execute import TxExecutor
from ccoin.ledger.state import StateOverlay
from ccoin.modules.contracts.rules import ContractEngine, deploy_address
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.testing.factories import LocalNet
from ccoin.testing.faults import DEFAULT_REASON, FaultingEngine
from ccoin.types.genesis import UNIT
from ccoin.vm.runner import SandboxRunner
from tests.unit.ledger.chain_helpers import balance, block_with, rejected_code, snapshot

COUNTER = """
count = Var(0)


@export
def init():
    count.set(1)


@export
def bump():
    count.set(count.get() + 1)
    return count.get()
"""


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=10.0) as sandbox:
        yield sandbox


def chain_with(net: LocalNet, engine: ContractEngine) -> Chain:
    return Chain(MemoryStore(), net.genesis, engine)


def deployed(chain: Chain, net: LocalNet) -> str:
    tx = f.deploy(net.accounts[1], "counter", COUNTER, chain.network_id)
    assert block_with(chain, net, tx).included == [tx]
    return deploy_address(tx, chain.network_id)


def test_a_fault_while_building_drops_the_call_and_writes_nothing(
    net: LocalNet, runner: SandboxRunner
) -> None:
    engine = FaultingEngine({"bump"}, runner=runner)
    chain = chain_with(net, engine)
    counter = deployed(chain, net)
    alice = net.accounts[1]
    call = f.call_contract(alice, counter, "bump", (), chain.network_id, amount=5 * UNIT)
    before = balance(chain, alice.address), balance(chain, counter)
    # rejected_code checks that the state tables are byte-identical afterwards: no fee, no
    # value credited to the contract, no receipt, no storage write.
    assert rejected_code(chain, net, call) is ErrorCode.TX_SANDBOX_FAULT
    assert (balance(chain, alice.address), balance(chain, counter)) == before
    assert chain.transaction(call.id(chain.network_id)) is None
    assert chain.receipt(call.id(chain.network_id)) is None
    assert engine.faults == 1


def test_the_submitter_gets_one_clear_line_with_the_reason(
    net: LocalNet, runner: SandboxRunner
) -> None:
    reason = "malformed call result:\n  gas_used"
    chain = chain_with(net, FaultingEngine({"bump"}, reason=reason, runner=runner))
    counter = deployed(chain, net)
    call = f.call_contract(net.accounts[1], counter, "bump", (), chain.network_id)
    [(tx, error)] = block_with(chain, net, call).rejected
    assert tx == call and error.code is ErrorCode.TX_SANDBOX_FAULT
    assert "\n" not in error.message
    assert f"faulted on bump of {counter}: malformed call result: gas_used" in error.message
    assert "never a result" in error.message and "no fee" in error.message


def test_the_executor_leaves_nothing_of_a_faulted_call(
    net: LocalNet, runner: SandboxRunner
) -> None:
    engine = FaultingEngine({"bump"}, runner=runner)
    chain = chain_with(net, engine)
    counter = deployed(chain, net)
    call = f.call_contract(net.accounts[1], counter, "bump", (), chain.network_id, amount=UNIT)
    head = chain.head
    overlay = StateOverlay(chain.store)
    executor = TxExecutor(
        overlay,
        chain.context(head.height + 1, head.timestamp_ms + 1000, net.delegates[0].public_key),
        contracts=engine,
    )
    with pytest.raises(InvalidTransaction) as info:
        executor.apply(call)
    assert info.value.code is ErrorCode.TX_SANDBOX_FAULT
    assert overlay.writes == {}
    assert executor.included_ids == set()
    assert (executor.total_amount, executor.total_fee) == (0, 0)
    assert engine.faults == 1


def test_a_faulting_init_deploys_nothing(net: LocalNet, runner: SandboxRunner) -> None:
    chain = chain_with(net, FaultingEngine({"init"}, runner=runner))
    deploy = f.deploy(net.accounts[1], "counter", COUNTER, chain.network_id)
    assert rejected_code(chain, net, deploy) is ErrorCode.TX_SANDBOX_FAULT
    raw = address_raw(deploy_address(deploy, chain.network_id))
    assert chain.store.get(schema.contract(raw)) is None


def test_a_fault_while_checking_a_block_makes_it_invalid_until_the_fault_is_gone(
    net: LocalNet, runner: SandboxRunner
) -> None:
    honest = chain_with(net, ContractEngine(runner))
    engine = FaultingEngine({"bump"}, runner=runner)
    checker = chain_with(net, engine)
    counter = deployed(honest, net)
    checker.apply_block(honest.block_at(1))  # type: ignore[arg-type]
    call = f.call_contract(net.accounts[1], counter, "bump", (), honest.network_id)
    assert block_with(honest, net, call).included == [call]
    block = honest.block_at(2)
    assert block is not None

    stored = snapshot(checker)
    with pytest.raises(InvalidBlock) as info:
        checker.apply_block(block)
    assert info.value.code is ErrorCode.TX_SANDBOX_FAULT
    assert isinstance(info.value, InvalidBlockTransaction)
    assert info.value.tx_id == call.id(honest.network_id)
    assert DEFAULT_REASON in info.value.cause.message
    assert snapshot(checker) == stored and checker.height == 1  # nothing committed

    engine.heal()  # the fault was this node's own, and passed: the same block now applies
    checker.apply_block(block)
    assert checker.head == honest.head
    assert checker.receipt(call.id(honest.network_id)) == honest.receipt(call.id(honest.network_id))
