"""The example contracts (`ccoin/contracts/examples/`): they lint clean and behave as
documented, in-process (`execute` with `FakeApi`) and, for one sequence, in the seccomp
sandbox. How they are found and shipped: `tests/unit/contracts/test_examples_package.py`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ccoin.testing.vm import (
    EXAMPLES,
    TOKEN,
    FakeApi,
    apply_writes,
    example_source,
    make_context,
)
from ccoin.vm import lint
from ccoin.vm.instrument import CallOutcome, compile_contract, execute
from ccoin.vm.runner import CallResult, ContractCall, RootStorage, SandboxRunner

LIMIT = 500_000
REGISTRY = example_source("carbon_registry")


class Chain:
    """One contract's storage across calls, in-process; events collected per call."""

    def __init__(self, source: str) -> None:
        self.contract = compile_contract(source)
        self.storage: dict[bytes, bytes] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []

    def call(self, sender: str, function: str, *args: Any) -> CallOutcome:
        api = FakeApi(context=make_context(sender=sender), storage=self.storage)
        outcome = execute(self.contract, function, list(args), api, LIMIT)
        self.events = api.events
        return outcome

    def ok(self, sender: str, function: str, *args: Any) -> Any:
        outcome = self.call(sender, function, *args)
        assert outcome.ok, outcome.error
        return outcome.value

    def refused(self, sender: str, function: str, *args: Any) -> str:
        outcome = self.call(sender, function, *args)
        assert not outcome.ok and outcome.error is not None
        assert outcome.error.startswith("ContractError: "), outcome.error
        return outcome.error.removeprefix("ContractError: ")


@pytest.mark.parametrize("name", ["token", "carbon_registry", "nft_auction"])
def test_examples_lint_clean(name: str) -> None:
    assert lint.check(example_source(name)) == []
    compile_contract(example_source(name))


def test_token_is_the_shared_test_token() -> None:
    assert (EXAMPLES / "token.py").read_text(encoding="utf-8") == TOKEN


# --- the fungible token ---------------------------------------------------------------


def test_token_mint_and_transfer() -> None:
    token = Chain(TOKEN)
    assert token.ok("alice", "mint", "alice", 1000) is None
    assert token.events == [("Mint", {"to": "alice", "amount": 1000})]
    assert token.ok("alice", "transfer", "bob", 300) == 300
    assert token.events == [("Transfer", {"sender": "alice", "to": "bob", "amount": 300})]
    assert token.ok("bob", "transfer", "carol", 100) == 100
    assert token.ok("alice", "total") == 1000


def test_token_refuses_insufficient_balance_and_bad_mint() -> None:
    token = Chain(TOKEN)
    token.ok("alice", "mint", "alice", 10)
    assert token.refused("alice", "transfer", "bob", 11) == "insufficient balance"
    assert token.refused("bob", "transfer", "alice", 1) == "insufficient balance"
    assert token.refused("alice", "mint", "alice", 0) == "amount must be positive"
    assert token.ok("alice", "transfer", "bob", 10) == 10


# --- the carbon registry --------------------------------------------------------------


def registry() -> Chain:
    """Owner `gov`, verifier `verra`, credits P1-0..P1-4 issued to `alice`."""
    chain = Chain(REGISTRY)
    assert chain.ok("gov", "init") == "gov"
    chain.ok("gov", "add_verifier", "verra")
    assert chain.ok("verra", "issue", "P1", 0, 5, "alice") == [f"P1-{n}" for n in range(5)]
    return chain


def test_owner_manages_verifiers() -> None:
    chain = registry()
    assert chain.refused("gov", "init") == "already initialized"
    assert chain.refused("mallory", "add_verifier", "mallory") == "only the owner may do this"
    assert chain.refused("verra", "remove_verifier", "verra") == "only the owner may do this"
    assert chain.refused("gov", "add_verifier", "verra") == "already a verifier"
    assert chain.ok("verra", "is_verifier", "verra") is True
    chain.ok("gov", "remove_verifier", "verra")
    assert chain.events == [("VerifierRemoved", {"verifier": "verra"})]
    assert chain.ok("verra", "is_verifier", "verra") is False
    assert chain.refused("gov", "remove_verifier", "verra") == "not a verifier"
    refused = chain.refused("verra", "issue", "P2", 0, 1, "alice")
    assert refused == "only an authorized verifier may issue"


def test_only_verifiers_issue() -> None:
    chain = registry()
    for sender in ("alice", "gov", "mallory"):
        refused = chain.refused(sender, "issue", "P9", 0, 1, sender)
        assert refused == "only an authorized verifier may issue"
    fresh = Chain(REGISTRY)
    assert fresh.refused("gov", "add_verifier", "verra") == "not initialized"


def test_issue_records_holders_balance_and_event() -> None:
    chain = registry()
    chain.ok("verra", "issue", "P2", 10, 2, "bob")
    assert chain.events == [
        ("Issue", {"verifier": "verra", "to": "bob", "project": "P2", "first": 10, "count": 2})
    ]
    assert chain.ok("x", "owner_of", "P2-11") == "bob"
    assert chain.ok("x", "balance", "bob") == 2
    assert chain.ok("x", "balance", "alice") == 5
    assert chain.ok("x", "status", "P1-3") == {
        "serial": "P1-3",
        "holder": "alice",
        "status": "active",
        "beneficiary": None,
    }
    assert chain.ok("x", "totals") == {"issued": 7, "retired": 0, "owner": "gov"}


def test_a_serial_is_never_issued_twice() -> None:
    chain = registry()
    assert chain.refused("verra", "issue", "P1", 4, 3, "bob") == "serial P1-4 already exists"
    assert chain.ok("x", "balance", "bob") == 0
    chain.ok("gov", "add_verifier", "gold")
    assert chain.refused("gold", "issue", "P1", 0, 1, "bob") == "serial P1-0 already exists"
    chain.ok("verra", "issue", "P1", 5, 1, "bob")  # the next serial is free


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("P3", 0, 0, "bob"), "count must be positive"),
        (("P3", 0, 101, "bob"), "at most 100 credits per batch"),
        (("P3", -1, 1, "bob"), "first must not be negative"),
        (("P3", "0", 1, "bob"), "first must be an int"),
        (("P3", 0, True, "bob"), "count must be an int"),
        (("", 0, 1, "bob"), "project must not be empty"),
        (("P" * 65, 0, 1, "bob"), "project is longer than 64 characters"),
        (("P3", 0, 1, 7), "holder must be text"),
        (("P3", 10**12, 1, "bob"), "serial numbers end below 1000000000000"),
    ],
)
def test_issue_refuses_bad_batches(args: tuple[Any, ...], error: str) -> None:
    assert registry().refused("verra", "issue", *args) == error


def test_only_the_holder_transfers() -> None:
    chain = registry()
    refused = chain.refused("bob", "transfer", "bob2", ["P1-0"])
    assert refused == "serial P1-0 is not held by the sender"
    assert chain.ok("alice", "transfer", "bob", ["P1-0", "P1-1"]) == 2
    assert chain.events == [
        ("Transfer", {"sender": "alice", "to": "bob", "serials": ["P1-0", "P1-1"]})
    ]
    assert chain.ok("x", "owner_of", "P1-1") == "bob"
    assert (chain.ok("x", "balance", "alice"), chain.ok("x", "balance", "bob")) == (3, 2)
    refused = chain.refused("alice", "transfer", "carol", ["P1-2", "P1-0"])
    assert refused == "serial P1-0 is not held by the sender"
    assert chain.ok("x", "owner_of", "P1-2") == "alice"  # nothing moved: checked first
    assert chain.refused("alice", "transfer", "alice", ["P1-2"]) == "cannot transfer to yourself"
    refused = chain.refused("alice", "transfer", "bob", ["P1-2", "P1-2"])
    assert refused == "serial P1-2 is listed twice"
    assert chain.refused("alice", "transfer", "bob", []) == "serials must be a non-empty list"


def test_retire_once_for_a_beneficiary() -> None:
    chain = registry()
    record = chain.ok("alice", "retire", "P1-2", "Acme Ltd, 2024 flights")
    assert record == {"beneficiary": "Acme Ltd, 2024 flights", "by": "alice", "height": 1}
    assert chain.events == [
        ("Retire", {"holder": "alice", "serial": "P1-2", "beneficiary": "Acme Ltd, 2024 flights"})
    ]
    assert chain.ok("x", "status", "P1-2") == {
        "serial": "P1-2",
        "holder": "alice",
        "status": "retired",
        "beneficiary": "Acme Ltd, 2024 flights",
        "retired_at": 1,
    }
    assert chain.ok("x", "balance", "alice") == 4
    assert chain.ok("x", "totals") == {"issued": 5, "retired": 1, "owner": "gov"}
    assert chain.refused("bob", "retire", "P1-3", "Bob") == "serial P1-3 is not held by the sender"
    assert chain.refused("alice", "retire", "P1-3", "  ") == "beneficiary must not be empty"
    refused = chain.refused("alice", "retire", "P1-3", "x" * 141)
    assert refused == "beneficiary is longer than 140 characters"


def test_a_retired_credit_never_moves_or_counts_twice() -> None:
    chain = registry()
    chain.ok("alice", "retire", "P1-0", "Acme")
    assert chain.refused("alice", "retire", "P1-0", "Other") == "serial P1-0 is retired"
    assert chain.refused("alice", "transfer", "bob", ["P1-0"]) == "serial P1-0 is retired"
    refused = chain.refused("alice", "transfer", "bob", ["P1-1", "P1-0"])
    assert refused == "serial P1-0 is retired"
    assert chain.ok("x", "owner_of", "P1-1") == "alice"
    assert chain.ok("x", "status", "P1-0")["beneficiary"] == "Acme"
    assert chain.refused("verra", "issue", "P1", 0, 1, "bob") == "serial P1-0 already exists"


def test_unknown_serials_are_refused() -> None:
    chain = registry()
    assert chain.refused("x", "owner_of", "P1-99") == "unknown serial P1-99"
    assert chain.refused("x", "status", "nope") == "unknown serial nope"
    assert chain.refused("alice", "transfer", "bob", ["P1-99"]) == "unknown serial P1-99"
    assert chain.refused("alice", "retire", "P1-99", "Acme") == "unknown serial P1-99"
    assert chain.refused("alice", "retire", 5, "Acme") == "serial must be text"


# --- the sandbox ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=5.0) as sandbox:
        yield sandbox


class Node:
    """The node's side in miniature: the runner reads storage, ok write sets are applied."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.storage: dict[bytes, bytes] = {}

    def call(self, runner: SandboxRunner, sender: str, function: str, *args: Any) -> CallResult:
        call = ContractCall(self.source, function, args, LIMIT, make_context(sender=sender))
        result = runner.call(call, RootStorage(self.storage.get))
        if result.ok:
            apply_writes(self.storage, result.writes_of("token"))
        return result


SEQUENCE: list[tuple[str, str, tuple[Any, ...]]] = [
    ("gov", "init", ()),
    ("gov", "add_verifier", ("verra",)),
    ("verra", "issue", ("P1", 0, 3, "alice")),
    ("alice", "transfer", ("bob", ["P1-1", "P1-2"])),
    ("bob", "retire", ("P1-1", "Acme")),
    ("bob", "transfer", ("carol", ["P1-1"])),  # refused: retired
    ("bob", "retire", ("P1-1", "Acme again")),  # refused: retired
    ("x", "status", ("P1-1",)),
    ("x", "balance", ("bob",)),
]


def test_sandbox_sequence_matches_in_process(runner: SandboxRunner) -> None:
    chain, node = Chain(REGISTRY), Node(REGISTRY)
    for sender, function, args in SEQUENCE:
        expected = chain.call(sender, function, *args)
        before = dict(node.storage)
        result = node.call(runner, sender, function, *args)
        assert (result.ok, result.value, result.error, result.gas_used) == (
            expected.ok,
            expected.value,
            expected.error,
            expected.gas_used,
        ), function
        if result.ok:
            assert [(name, fields) for _c, name, fields in result.events] == chain.events
        else:
            assert result.writes == () and result.events == ()
            assert node.storage == before
    assert node.storage == chain.storage
    assert runner.faults == 0


def test_a_failed_call_leaves_storage_unchanged(runner: SandboxRunner) -> None:
    """The in-process fake applies writes as they happen; the sandbox returns a write set
    only on success. A batch issue that runs out of gas at its very last charge (after
    every write and the event) must leave the node's storage byte-identical."""
    chain, node = Chain(REGISTRY), Node(REGISTRY)
    for sender, function, args in SEQUENCE[:2]:
        assert chain.call(sender, function, *args).ok
        assert node.call(runner, sender, function, *args).ok
    before = dict(chain.storage)
    needed = chain.call("verra", "issue", "P7", 0, 100, "alice").gas_used
    fake = FakeApi(context=make_context("verra"), storage=dict(before))
    short = execute(chain.contract, "issue", ["P7", 0, 100, "alice"], fake, needed - 1)
    assert not short.ok and short.error is not None and short.error.startswith("OutOfGas")
    assert fake.storage != before  # in-process, the writes landed

    call = ContractCall(
        REGISTRY, "issue", ("P7", 0, 100, "alice"), needed - 1, make_context("verra")
    )
    assert node.storage == before
    result = runner.call(call, RootStorage(node.storage.get))
    assert not result.ok and result.error is not None and result.error.startswith("OutOfGas")
    assert result.writes == () and result.events == () and result.gas_used < needed
    assert node.storage == before
    refused = node.call(runner, "alice", "transfer", "bob", ["P1-0", "P7-0"])
    assert not refused.ok and refused.error == "ContractError: unknown serial P1-0"
    assert node.storage == before
