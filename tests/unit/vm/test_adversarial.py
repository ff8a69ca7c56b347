"""The adversarial suite: every hostile contract of `ccoin.testing.hostile` through the real
sandbox, each with its exact outcome (refused at deploy by its rule, or a failed result with
its error and the gas it used), the runner never faulting and still serving afterwards; the
same results in process, and under other hash seeds in other processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ccoin.testing.hostile import ALL, BALANCE, ISSUE_SHAPES, Case
from ccoin.testing.vm import make_context
from ccoin.vm import lint
from ccoin.vm.api import CallContext
from ccoin.vm.calls import CallResult, ContractCall
from ccoin.vm.failures import MAX_ERROR
from ccoin.vm.host import LoadedContract, run_call
from ccoin.vm.instrument import compile_contract
from ccoin.vm.runner import SandboxRunner

FAILING = [case for case in ALL if case.error is not None]
REFUSED_BEFORE_THE_WORK = [case for case in FAILING if case.error != "OutOfGas"]


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=10.0) as sandbox:
        yield sandbox


def test_the_issue_shapes_are_all_here() -> None:
    assert len(ISSUE_SHAPES) == 30
    assert len({case.name for case in ALL}) == len(ALL)


@pytest.mark.parametrize("case", [c for c in ALL if c.rule is not None], ids=lambda c: c.name)
def test_refused_at_deploy_by_its_rule(case: Case) -> None:
    rules = {violation.rule for violation in lint.check(case.source)}
    assert case.rule in rules, rules


def _context() -> CallContext:
    return make_context(balance=BALANCE)


def _call(case: Case) -> ContractCall:
    return ContractCall(case.source, case.function, (), case.gas_limit, _context())


@dataclass(frozen=True)
class _Itself:
    """A host with one contract, the case's own, at the context's address, empty storage."""

    source: str

    def read(self, contract: str, key: bytes) -> bytes | None:
        return None

    def load(self, contract: str) -> tuple[str, int] | None:
        return (self.source, BALANCE) if contract == _context().contract else None


@pytest.mark.parametrize("case", FAILING, ids=lambda c: c.name)
def test_fails_with_its_error_and_the_runner_keeps_serving(
    runner: SandboxRunner, case: Case
) -> None:
    assert not lint.check(case.source)
    faults = runner.faults
    result = runner.call(_call(case), _Itself(case.source))
    assert case.error is not None
    assert not result.ok, result
    assert result.error is not None and result.error.startswith(case.error), result.error
    assert len(result.error) <= MAX_ERROR
    assert 0 < result.gas_used <= case.gas_limit
    assert (result.writes, result.events, result.transfers) == ((), (), ())
    assert runner.faults == faults  # never a fault, never a retry
    assert "0x" not in result.error  # no memory address (nor anything like one)


@pytest.mark.parametrize(
    "case", [c for c in FAILING if c.error != "OutOfGas"], ids=lambda c: c.name
)
def test_in_process_gives_the_same_result(runner: SandboxRunner, case: Case) -> None:
    """Each refusal before the work happens at the same gas in the sandbox and in process
    (the in-process figure is the reference: `ccoin.vm.host.run_call`)."""
    sandboxed = runner.call(_call(case), _Itself(case.source))
    local = run_call(
        _LocalItself(case.source), compile_contract(case.source), case.function, (),
        case.gas_limit, _context(),
    )  # fmt: skip
    assert (sandboxed.error, sandboxed.gas_used) == (local.error, local.gas_used)


@dataclass(frozen=True)
class _LocalItself:
    """`_Itself` as an in-process `ccoin.vm.host.Backend`."""

    source: str

    def read(self, contract: str, key: bytes) -> bytes | None:
        return None

    def load(self, contract: str) -> LoadedContract | None:
        if contract != _context().contract:
            return None
        return LoadedContract(compile_contract(self.source), len(self.source), BALANCE)


def _results(seed: int) -> list[CallResult]:
    with SandboxRunner(timeout=10.0, hash_seed=seed) as sandbox:
        return [sandbox.call(_call(case), _Itself(case.source)) for case in FAILING]


def test_results_do_not_depend_on_the_hash_seed_or_the_process() -> None:
    """Receipts are state: the same in processes with different hash seeds and memory
    layouts (each runner is its own process tree)."""
    first, second = _results(1), _results(12345)
    assert first == second
    assert all(not result.ok and result.error for result in first)
