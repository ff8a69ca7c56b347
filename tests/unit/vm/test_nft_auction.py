"""The NFT with English auctions (`ccoin/contracts/examples/nft_auction.py`), in-process
with the chain's rules for attached C simulated here, and one bid through the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ccoin.testing.vm import FakeApi, apply_writes, example_source, make_context
from ccoin.vm import lint
from ccoin.vm.api import CallContext
from ccoin.vm.instrument import CallOutcome, compile_contract, execute
from ccoin.vm.runner import ContractCall, RootStorage, SandboxRunner

LIMIT = 500_000
NFT = example_source("nft_auction")
NOW = 1_700_000_000
END = NOW + 3600
TOKEN = "mangrove-plot-7"
META = "Mangrove plot 7: 2.5 ha restored, Sundarbans, season 3"


def context(sender: str, *, value: int = 0, balance: int = 0, timestamp: int = NOW) -> CallContext:
    return replace(make_context(sender, value=value, balance=balance), timestamp=timestamp)


class Chain:
    """The deployed contract as the chain runs it: storage shared across calls, attached C
    credited to the contract before the call, and on failure every write reverted and the
    value returned to the sender (the fake applies writes in place, so they are undone here).
    Transfers leave the contract's balance only when the call succeeds."""

    def __init__(self, minter: str | None = "studio") -> None:
        self.contract = compile_contract(NFT)
        self.storage: dict[bytes, bytes] = {}
        self.balance = 0  # the contract's C
        self.deposited = 0  # C attached by successful calls
        self.paid: dict[str, int] = {}  # C the contract sent, by account
        self.now = NOW
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.transfers: list[tuple[str, int]] = []
        self.wrote_before_failing = False
        if minter is not None:
            assert self.ok(minter, "init") == minter

    def call(
        self, sender: str, function: str, *args: Any, value: int = 0, gas: int = LIMIT
    ) -> CallOutcome:
        before = dict(self.storage)
        ctx = context(sender, value=value, balance=self.balance + value, timestamp=self.now)
        api = FakeApi(context=ctx, storage=self.storage)
        outcome = execute(self.contract, function, list(args), api, gas)
        if outcome.ok:
            self.balance += value - sum(amount for _, amount in api.transfers)
            self.deposited += value
            for to, amount in api.transfers:
                self.paid[to] = self.paid.get(to, 0) + amount
            self.events, self.transfers = api.events, api.transfers
        else:
            self.wrote_before_failing = self.storage != before
            self.storage.clear()
            self.storage.update(before)
            self.events, self.transfers = [], []
        assert self.balance >= 0
        assert self.deposited == self.balance + sum(self.paid.values())
        return outcome

    def ok(self, sender: str, function: str, *args: Any, value: int = 0) -> Any:
        outcome = self.call(sender, function, *args, value=value)
        assert outcome.ok, outcome.error
        return outcome.value

    def refused(self, sender: str, function: str, *args: Any, value: int = 0) -> str:
        """A `require` refusal; the contract checks before it writes, so even the fake's
        in-place storage is untouched."""
        outcome = self.call(sender, function, *args, value=value)
        assert not outcome.ok and outcome.error is not None
        assert outcome.error.startswith("ContractError: "), outcome.error
        assert not self.wrote_before_failing
        return outcome.error.removeprefix("ContractError: ")

    def state(self) -> tuple[dict[bytes, bytes], int, dict[str, int]]:
        return dict(self.storage), self.balance, dict(self.paid)


def minted() -> Chain:
    """Minter `studio`; token TOKEN minted to `alice`."""
    chain = Chain()
    assert chain.ok("studio", "mint", "alice", TOKEN, META) == TOKEN
    return chain


def listed() -> Chain:
    """As `minted`, and `alice` auctions TOKEN: auction 1, reserve 100, increment 10."""
    chain = minted()
    assert chain.ok("alice", "start_auction", TOKEN, 100, END, 10) == 1
    return chain


# --- the source -----------------------------------------------------------------------


def test_lints_clean() -> None:
    assert lint.check(NFT) == []
    compile_contract(NFT)


# --- minting and ownership ------------------------------------------------------------


def test_the_deployer_is_the_only_minter() -> None:
    chain = Chain()
    assert chain.ok("x", "minter_account") == "studio"
    assert chain.refused("mallory", "init") == "already initialized"
    assert chain.refused("mallory", "mint", "mallory", TOKEN, META) == "only the minter may mint"
    assert chain.refused("alice", "mint", "alice", TOKEN, META) == "only the minter may mint"
    assert chain.ok("studio", "mint", "alice", TOKEN, META) == TOKEN
    assert chain.events == [("Mint", {"to": "alice", "token_id": TOKEN, "metadata": META})]
    assert chain.ok("x", "owner_of", TOKEN) == "alice"
    assert chain.ok("x", "token", TOKEN) == {
        "token_id": TOKEN,
        "owner": "alice",
        "metadata": META,
        "auction": None,
    }
    fresh = Chain(minter=None)
    assert fresh.refused("studio", "mint", "alice", TOKEN, META) == "not initialized"


def test_token_ids_are_unique_and_metadata_bounded() -> None:
    chain = minted()
    assert chain.refused("studio", "mint", "bob", TOKEN, "again") == f"token {TOKEN} already exists"
    assert chain.ok("x", "owner_of", TOKEN) == "alice"
    assert chain.ok("studio", "mint", "bob", "reef-1", "x" * 256) == "reef-1"
    assert chain.ok("studio", "mint", "bob", "reef-2", "") == "reef-2"
    refused = chain.refused("studio", "mint", "bob", "reef-3", "x" * 257)
    assert refused == "metadata is longer than 256 characters"
    assert chain.refused("studio", "mint", "bob", "reef-3", 7) == "metadata must be text"
    assert chain.refused("studio", "mint", "bob", "  ", "m") == "token id must not be empty"
    assert chain.refused("studio", "mint", "bob", 3, "m") == "token id must be text"
    assert chain.refused("studio", "mint", "bob", "t" * 65, "m") == (
        "token id is longer than 64 characters"
    )
    assert chain.refused("studio", "mint", "", "reef-3", "m") == "owner must not be empty"


def test_the_owner_transfers_a_token() -> None:
    chain = minted()
    refused = chain.refused("bob", "transfer", "bob", TOKEN)
    assert refused == f"token {TOKEN} is not owned by the sender"
    assert chain.ok("alice", "transfer", "bob", TOKEN) == "bob"
    assert chain.events == [("Transfer", {"sender": "alice", "to": "bob", "token_id": TOKEN})]
    assert chain.transfers == []
    assert chain.ok("x", "owner_of", TOKEN) == "bob"
    refused = chain.refused("alice", "transfer", "carol", TOKEN)
    assert refused == f"token {TOKEN} is not owned by the sender"
    assert chain.refused("bob", "transfer", "bob", TOKEN) == "cannot transfer to yourself"
    assert chain.refused("bob", "transfer", "carol", "nope") == "unknown token nope"
    assert chain.refused("x", "owner_of", "nope") == "unknown token nope"


def test_only_bid_takes_c() -> None:
    chain = listed()
    taken = "this function does not take C"
    assert chain.refused("studio", "mint", "bob", "reef-1", "m", value=5) == taken
    assert chain.refused("alice", "transfer", "bob", TOKEN, value=5) == taken
    assert chain.refused("bob", "settle", 1, value=5) == taken
    assert chain.refused("x", "auction", 1, value=5) == taken
    assert chain.refused("x", "owner_of", TOKEN, value=1) == taken
    assert chain.balance == 0


# --- starting an auction --------------------------------------------------------------


def test_start_auction_holds_the_token() -> None:
    chain = listed()
    assert chain.events == [
        (
            "AuctionStarted",
            {
                "auction_id": 1,
                "token_id": TOKEN,
                "seller": "alice",
                "reserve": 100,
                "end_time": END,
                "min_increment": 10,
            },
        )
    ]
    assert chain.ok("x", "owner_of", TOKEN) == "alice"
    assert chain.ok("x", "token", TOKEN)["auction"] == 1
    in_auction = f"token {TOKEN} is in auction 1"
    assert chain.refused("alice", "transfer", "bob", TOKEN) == in_auction
    assert chain.refused("alice", "start_auction", TOKEN, 100, END, 10) == in_auction
    chain.ok("studio", "mint", "bob", "reef-1", "Reef tile 1")
    assert chain.ok("bob", "start_auction", "reef-1", 5, END + 1, 1) == 2


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((TOKEN, 0, END, 10), "reserve must be positive"),
        ((TOKEN, -5, END, 10), "reserve must be positive"),
        ((TOKEN, True, END, 10), "reserve must be an int"),
        ((TOKEN, "100", END, 10), "reserve must be an int"),
        ((TOKEN, 100, END, 0), "minimum increment must be positive"),
        ((TOKEN, 100, END, -1), "minimum increment must be positive"),
        ((TOKEN, 100, NOW, 10), "end time must be in the future"),
        ((TOKEN, 100, NOW - 1, 10), "end time must be in the future"),
        ((TOKEN, 100, str(END), 10), "end time must be an int"),
        (("nope", 100, END, 10), "unknown token nope"),
    ],
)
def test_start_auction_refuses_bad_terms(args: tuple[Any, ...], error: str) -> None:
    chain = minted()
    assert chain.refused("alice", "start_auction", *args) == error
    assert chain.ok("x", "token", TOKEN)["auction"] is None


def test_only_the_owner_starts_an_auction() -> None:
    chain = minted()
    refused = chain.refused("bob", "start_auction", TOKEN, 100, END, 10)
    assert refused == f"token {TOKEN} is not owned by the sender"
    refused = chain.refused("studio", "start_auction", TOKEN, 100, END, 10)
    assert refused == f"token {TOKEN} is not owned by the sender"


# --- bidding and settling -------------------------------------------------------------


def test_a_full_auction_refunds_every_outbid_bidder_and_pays_the_seller() -> None:
    chain = listed()
    assert chain.ok("bob", "bid", 1, value=100) == 100
    assert chain.transfers == []
    assert chain.events == [
        ("Bid", {"auction_id": 1, "bidder": "bob", "amount": 100, "refunded": None})
    ]
    assert chain.balance == 100

    assert chain.ok("carol", "bid", 1, value=110) == 110
    assert chain.transfers == [("bob", 100)]
    assert chain.events == [
        ("Bid", {"auction_id": 1, "bidder": "carol", "amount": 110, "refunded": "bob"})
    ]
    assert chain.balance == 110

    chain.now = END - 1
    assert chain.ok("bob", "bid", 1, value=500) == 500
    assert chain.transfers == [("carol", 110)]
    assert chain.balance == 500
    assert chain.ok("x", "auction", 1) == {
        "auction_id": 1,
        "token_id": TOKEN,
        "seller": "alice",
        "reserve": 100,
        "end_time": END,
        "min_increment": 10,
        "bidder": "bob",
        "bid": 500,
        "settled": False,
        "status": "open",
        "minimum_bid": 510,
    }

    chain.now = END
    assert chain.ok("x", "auction", 1)["status"] == "ended"
    assert chain.ok("dave", "settle", 1) == {
        "auction_id": 1,
        "token_id": TOKEN,
        "owner": "bob",
        "price": 500,
    }
    assert chain.transfers == [("alice", 500)]
    assert chain.events == [
        (
            "AuctionSettled",
            {"auction_id": 1, "token_id": TOKEN, "winner": "bob", "price": 500},
        )
    ]
    assert chain.balance == 0
    assert chain.paid == {"bob": 100, "carol": 110, "alice": 500}
    assert chain.ok("x", "owner_of", TOKEN) == "bob"
    assert chain.ok("x", "token", TOKEN)["auction"] is None
    summary = chain.ok("x", "auction", 1)
    assert (summary["status"], summary["settled"], summary["minimum_bid"]) == (
        "settled",
        True,
        None,
    )
    assert chain.ok("bob", "transfer", "erin", TOKEN) == "erin"
    refused = chain.refused("alice", "transfer", "bob", TOKEN)
    assert refused == f"token {TOKEN} is not owned by the sender"


def test_the_highest_bidder_may_raise_and_gets_the_old_bid_back() -> None:
    chain = listed()
    chain.ok("bob", "bid", 1, value=100)
    assert chain.refused("bob", "bid", 1, value=109) == "bid must be at least 110"
    assert chain.ok("bob", "bid", 1, value=110) == 110
    assert chain.transfers == [("bob", 100)]
    assert chain.balance == 110


def test_bids_below_the_reserve_or_increment_are_refused() -> None:
    chain = listed()
    assert chain.refused("bob", "bid", 1, value=99) == "bid must be at least 100"
    assert chain.refused("bob", "bid", 1) == "bid must be at least 100"
    assert chain.balance == 0
    chain.ok("bob", "bid", 1, value=100)
    assert chain.refused("carol", "bid", 1, value=100) == "bid must be at least 110"
    assert chain.refused("carol", "bid", 1, value=109) == "bid must be at least 110"
    assert chain.balance == 100 and chain.paid == {}
    chain.ok("carol", "bid", 1, value=110)
    assert chain.transfers == [("bob", 100)]


def test_bids_are_refused_from_the_end_time() -> None:
    chain = listed()
    chain.now = END - 1
    chain.ok("bob", "bid", 1, value=100)
    chain.now = END
    assert chain.refused("carol", "bid", 1, value=1000) == "auction 1 has ended"
    chain.now = END + 86_400
    assert chain.refused("carol", "bid", 1, value=1000) == "auction 1 has ended"
    assert chain.balance == 100


def test_the_seller_may_not_bid() -> None:
    chain = listed()
    assert chain.refused("alice", "bid", 1, value=1000) == "the seller may not bid"
    chain.ok("bob", "bid", 1, value=100)
    assert chain.refused("alice", "bid", 1, value=1000) == "the seller may not bid"


def test_unknown_auctions_are_refused() -> None:
    chain = listed()
    assert chain.refused("bob", "bid", 2, value=100) == "unknown auction 2"
    assert chain.refused("bob", "bid", "1", value=100) == "auction id must be an int"
    assert chain.refused("bob", "settle", 0) == "unknown auction 0"
    assert chain.refused("x", "auction", 2) == "unknown auction 2"


def test_settle_is_refused_before_the_end_time() -> None:
    chain = listed()
    chain.ok("bob", "bid", 1, value=100)
    assert chain.refused("bob", "settle", 1) == "auction 1 has not ended"
    chain.now = END - 1
    assert chain.refused("alice", "settle", 1) == "auction 1 has not ended"
    chain.now = END
    assert chain.ok("carol", "settle", 1)["owner"] == "bob"


def test_an_auction_settles_only_once() -> None:
    chain = listed()
    chain.ok("bob", "bid", 1, value=100)
    chain.now = END
    chain.ok("bob", "settle", 1)
    assert chain.paid == {"alice": 100}
    assert chain.refused("bob", "settle", 1) == "auction 1 is already settled"
    assert chain.refused("alice", "settle", 1) == "auction 1 is already settled"
    assert chain.refused("carol", "bid", 1, value=1000) == "auction 1 is already settled"
    assert chain.paid == {"alice": 100} and chain.balance == 0


def test_an_auction_without_bids_returns_the_token_to_the_seller() -> None:
    chain = listed()
    chain.now = END
    assert chain.ok("x", "auction", 1)["minimum_bid"] is None
    assert chain.ok("bob", "settle", 1) == {
        "auction_id": 1,
        "token_id": TOKEN,
        "owner": "alice",
        "price": 0,
    }
    assert chain.transfers == []
    assert chain.events == [
        ("AuctionSettled", {"auction_id": 1, "token_id": TOKEN, "winner": None, "price": 0})
    ]
    assert chain.ok("x", "owner_of", TOKEN) == "alice"
    assert chain.ok("x", "token", TOKEN)["auction"] is None
    assert chain.refused("bob", "settle", 1) == "auction 1 is already settled"
    assert chain.ok("alice", "start_auction", TOKEN, 50, END + 60, 5) == 2
    assert chain.refused("alice", "transfer", "bob", TOKEN) == f"token {TOKEN} is in auction 2"


def test_a_failed_call_changes_nothing() -> None:
    chain = listed()
    chain.ok("bob", "bid", 1, value=100)
    snapshot = chain.state()
    failing: list[tuple[str, str, tuple[Any, ...], int]] = [
        ("carol", "bid", (1,), 105),  # below the increment
        ("alice", "bid", (1,), 500),  # the seller
        ("carol", "bid", (7,), 500),  # no such auction
        ("carol", "settle", (1,), 0),  # not ended
        ("alice", "transfer", ("carol", TOKEN), 0),  # in auction
        ("alice", "start_auction", (TOKEN, 1, END, 1), 0),  # already in auction
        ("studio", "mint", ("carol", TOKEN, META), 0),  # exists
        ("carol", "mint", ("carol", "reef-1", META), 0),  # not the minter
    ]
    for sender, function, args, value in failing:
        chain.refused(sender, function, *args, value=value)
        assert chain.state() == snapshot, function
        assert chain.events == [] and chain.transfers == []

    # Out of gas at the very end of an outbidding bid: in-process the writes (and the
    # refund) already happened, and the chain undoes all of it.
    needed = execute(
        chain.contract,
        "bid",
        [1],
        FakeApi(context=context("carol", value=120, balance=220), storage=dict(chain.storage)),
        LIMIT,
    ).gas_used
    short = chain.call("carol", "bid", 1, value=120, gas=needed - 1)
    assert not short.ok and short.error is not None and short.error.startswith("OutOfGas")
    assert chain.wrote_before_failing
    assert chain.state() == snapshot
    assert chain.ok("x", "auction", 1)["bidder"] == "bob"
    assert chain.ok("carol", "bid", 1, value=120) == 120
    assert chain.transfers == [("bob", 100)]


# --- the sandbox ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    with SandboxRunner(timeout=5.0) as sandbox:
        yield sandbox


@pytest.mark.parametrize(("bidder", "value"), [("carol", 130), ("carol", 105), ("alice", 500)])
def test_a_bid_in_the_sandbox_matches_in_process(
    runner: SandboxRunner, bidder: str, value: int
) -> None:
    chain = listed()
    chain.ok("bob", "bid", 1, value=100)
    ctx = context(bidder, value=value, balance=chain.balance + value, timestamp=END - 5)

    local = dict(chain.storage)
    api = FakeApi(context=ctx, storage=local)
    expected = execute(chain.contract, "bid", [1], api, LIMIT)

    node = dict(chain.storage)
    result = runner.call(ContractCall(NFT, "bid", (1,), LIMIT, ctx), RootStorage(node.get))
    assert (result.ok, result.value, result.error, result.gas_used) == (
        expected.ok,
        expected.value,
        expected.error,
        expected.gas_used,
    )
    if result.ok:
        assert [(name, fields) for _c, name, fields in result.events] == api.events
        assert [(to, n) for _c, to, n in result.transfers] == api.transfers == [("bob", 100)]
        apply_writes(node, result.writes_of(api.ctx.contract))
        assert node == local
    else:
        assert result.writes == () and result.events == () and result.transfers == ()
        assert node == chain.storage
    assert runner.faults == 0
