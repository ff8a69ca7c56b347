"""State properties over random sequences of valid and invalid transactions:

- the total supply (every account's balance; nothing is burned or minted yet) never changes;
- every invalid transaction leaves the state byte-identical (the overlay and the store);
- a node replaying the produced blocks reaches the same state root.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ccoin.crypto.keys import KeyPair
from ccoin.errors import InvalidTransaction
from ccoin.ledger.chain import Chain
from ccoin.ledger.execute import TxExecutor
from ccoin.ledger.state import StateOverlay
from ccoin.storage import schema
from ccoin.storage.memory import MemoryStore
from ccoin.testing import factories as f
from ccoin.types.account import Account
from ccoin.types.genesis import UNIT
from ccoin.types.transaction import Transaction

NET = f.make_testnet(accounts=5, delegates=3, locked=1, balance=1_000 * UNIT)
NID = Chain(MemoryStore(), NET.genesis).network_id
OUTSIDER = f.key("outsider")
# Mostly funded senders; delegates and the outsider hold nothing (TX_SENDER_UNKNOWN).
SENDERS: list[KeyPair] = [*NET.accounts, *NET.accounts[1:], NET.delegates[0], OUTSIDER]
SECOND = f.key("second-key")
MEMBERS = [f.key("member-a"), f.key("member-b")]


def total_supply(store: MemoryStore) -> int:
    return sum(Account.decode(v).balance for _k, v in store.iterate(schema.ACCOUNT))


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    sender = draw(st.sampled_from(SENDERS))
    kind = draw(
        st.sampled_from(
            [
                "transfer",
                "transfer",
                "transfer",
                "vote",
                "delegate",
                "second",
                "multisig",
                "garbage-signature",
            ]
        )
    )
    ts = draw(st.sampled_from([0, 1, 2, 3, 4, 100]))
    if kind == "transfer" or kind == "garbage-signature":
        recipient = draw(st.sampled_from([*SENDERS, f.key("fresh")])).address
        amount = draw(st.sampled_from([0, 1, 10 * UNIT, 999 * UNIT, 2_000 * UNIT]))
        fee = draw(st.sampled_from([1000, 1000, 999, 5000]))
        second = SECOND if draw(st.integers(0, 3)) == 0 else None
        tx = f.transfer(sender, recipient, amount, NID, fee=fee, timestamp=ts, second=second)
        if kind == "garbage-signature":
            tx = Transaction(tx.body, bytes(64))
        elif draw(st.integers(0, 3)) == 0:
            for member in draw(st.lists(st.sampled_from(MEMBERS), max_size=2, unique=True)):
                tx = tx.cosign(member, NID)
        return tx
    if kind == "vote":
        targets = draw(
            st.lists(
                st.sampled_from(NET.delegates),
                min_size=1,
                max_size=3,
                unique_by=lambda k: k.public_key,
            )
        )
        return f.vote(
            sender, [(draw(st.booleans()), k.public_key) for k in targets], NID, timestamp=ts
        )
    if kind == "delegate":
        name = draw(st.sampled_from(["alpha", "beta", "delegate_0"]))
        return f.register_delegate(sender, name, NID, timestamp=ts)
    if kind == "second":
        return f.second_signature(sender, SECOND, NID, timestamp=ts)
    return f.register_multisig(sender, MEMBERS, draw(st.integers(1, 2)), NID, timestamp=ts)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(transactions(), max_size=12), min_size=1, max_size=5))
def test_supply_constant_and_invalid_transactions_change_nothing(
    blocks: list[list[Transaction]],
) -> None:
    store = MemoryStore()
    chain = Chain(store, NET.genesis)
    supply = total_supply(store)
    assert supply == NET.genesis.total_supply
    produced = []
    for height, txs in enumerate(blocks, start=1):
        # Per transaction, on an overlay: a failure must leave it byte-identical.
        overlay = StateOverlay(store)
        executor = TxExecutor(overlay, chain.context(height, height, NET.delegates[0].public_key))
        store_before = dict(store.iterate())
        for tx in txs:
            writes_before = dict(overlay.writes)
            try:
                executor.apply(tx)
            except InvalidTransaction:
                assert overlay.writes == writes_before
        assert dict(store.iterate()) == store_before  # execution never touches the store

        block, execution = chain.build_block(txs, height * 1000, NET.delegates[0])
        assert len(execution.included) + len(execution.rejected) == len(txs)
        for tx in execution.included:
            event(f"included type {tx.type}")
        for _tx, exc in execution.rejected:
            event(f"rejected {exc.code.name}")
        assert total_supply(store) == supply
        produced.append(block)

    replica = Chain(MemoryStore(), NET.genesis)
    for block in produced:
        replica.apply_block(block)
    assert replica.head.state_root == chain.head.state_root
    assert replica.head.hash(NID) == chain.head.hash(NID)
