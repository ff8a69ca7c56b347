"""`AsyncClient` against an in-process node through the real ASGI app (no sockets), on a
mock clock: blocks come as fast as the node makes them, and every wait is for an event."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from ccoin.client import AsyncClient, NodeError, NodeUnreachable, TransactionRejected, WaitTimeout
from ccoin.errors import CcoinError, ErrorCode, InvalidTransaction
from ccoin.testing import factories as f
from ccoin.types.assets import TxType
from ccoin.types.genesis import DEFAULT_MIN_FEES
from ccoin.types.transaction import Transaction
from tests.unit.client.conftest import NET, URL, serving

ALICE, BOB, CAROL, DAVE = NET.accounts[:4]
DELEGATE = NET.delegates[0]
# Waits are in mock seconds. While the node works in a thread (signature checks, storage),
# autojump moves the clock to the poller's next wake-up, so mock time races ahead of the
# node; a generous mock deadline still ends in bounded real time.
WAIT = 3600.0
GOVERNANCE = NET.accounts[-1]  # make_testnet's governance account


async def test_status_is_cached_for_signing_and_fees_per_type(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        status = await s.client.status()
        assert status["networkId"] == s.node.network_id.hex()
        assert (await s.client.chain_info()).genesis_time == NET.genesis.genesis_time
        await s.client.transfer(ALICE, BOB.address, 1)
        await s.client.transfer(CAROL, BOB.address, 2)
        # one status (above), one fee lookup for the type, then only submissions, as bytes
        assert s.transport.methods == [
            "ccoin_status",
            "ccoin_estimateFee",
            "ccoin_sendRawTransactions",
            "ccoin_sendRawTransactions",
        ]


async def test_transfer_fills_fee_and_timestamp_and_reaches_finality(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        client, node = s.client, s.node
        await node.wait_for_height(2)
        before = int((await client.get_account(BOB.address))["balance"])
        sent_from = node.chain_time()
        tx_id = await client.transfer(ALICE, BOB.address, 12_345, data="cafe")
        sent_by = node.chain_time()
        found = await client.wait_for(tx_id, "finalized", timeout=WAIT)
        assert found["status"] == "finalized"
        assert node.chain.finalized_height >= found["height"]
        tx = found["transaction"]
        assert tx["fee"] == str(DEFAULT_MIN_FEES[TxType.TRANSFER])
        assert tx["asset"] == {"data": "cafe"}
        assert sent_from - 1 <= tx["timestamp"] <= sent_by  # by the client's clock (the node's)
        after = int((await client.get_account(BOB.address))["balance"])
        assert after == before + 12_345
        block = await client.get_block(found["height"])
        assert tx_id in block["transactionIds"]
        by_id = await client.get_block(found["blockId"], transactions=True)
        assert [t["id"] for t in by_id["transactions"]] == block["transactionIds"]


async def test_wait_for_included_returns_before_finality_can_be_required(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        tx_id = await s.client.transfer(ALICE, BOB.address, 1)
        found = await s.client.wait_for(tx_id, "included", timeout=WAIT)
        assert found["status"] in ("included", "finalized")
        assert found["height"] is not None
        with pytest.raises(ValueError):
            await s.client.wait_for(tx_id, "pending")


async def test_refusals_are_typed_node_errors(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        balance = int((await s.client.get_account(ALICE.address))["balance"])
        with pytest.raises(NodeError) as info:
            await s.client.transfer(ALICE, BOB.address, balance)  # + fee > balance
        assert info.value.code is ErrorCode.TX_INSUFFICIENT_BALANCE
        assert info.value.number == 3001 and not info.value.retryable
        with pytest.raises(NodeError) as info:
            await s.client.get_block(10**6)
        assert info.value.code is ErrorCode.NOT_FOUND
        with pytest.raises(NodeError) as info:
            await s.client.get_account("not-an-address")
        assert info.value.code is ErrorCode.BAD_ADDRESS


async def test_send_transactions_reports_each_entry(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        nid = s.node.network_id
        now = int(s.node.chain_time())
        good = f.transfer(ALICE, BOB.address, 5, nid, timestamp=now)
        forged = Transaction(f.transfer(CAROL, BOB.address, 5, nid, timestamp=now).body, bytes(64))
        results = await s.client.send_transactions([good, forged.to_json(nid)])
        assert [r.ok for r in results] == [True, False]
        assert results[0].id == good.id(nid)
        assert results[1].error is not None
        assert results[1].error.code is ErrorCode.TX_BAD_SIGNATURE


async def test_transactions_go_as_bytes_and_json_forms_as_json(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        nid = s.node.network_id
        now = int(s.node.chain_time())
        txs = [f.transfer(k, BOB.address, 7, nid, timestamp=now) for k in (ALICE, CAROL)]
        results = await s.client.send_transactions(txs)
        assert [r.id for r in results] == [t.id(nid) for t in txs]
        assert s.transport.methods[-1] == "ccoin_sendRawTransactions"
        third = f.transfer(DAVE, BOB.address, 8, nid, timestamp=now)
        [raw] = await s.client.send_raw_transactions(["0x" + third.encode().hex()])
        assert raw.ok and raw.id == third.id(nid)
        [again] = await s.client.send_raw_transactions([third.encode()])
        # a copy: still waiting (a duplicate), or already in a block (a replay)
        copy = (ErrorCode.POOL_DUPLICATE, ErrorCode.TX_ALREADY_INCLUDED)
        assert again.error is not None and again.error.code in copy
        with pytest.raises(NodeError) as info:
            await s.client.send_transaction(third)  # one transaction: the refusal is raised
        assert info.value.code in copy
        assert s.transport.methods[-1] == "ccoin_sendRawTransactions"
        with pytest.raises(CcoinError):  # refused before anything is sent
            await s.client.send_raw_transactions(["not hex"])
        # all three admitted (blocks may have taken them from the pool meanwhile: the mock
        # clock runs the node whenever the test waits)
        for tx in (*txs, third):
            found = s.node.transaction_status(tx.id(nid))
            assert found is not None and found.status.value != "rejected", found


async def test_wait_for_raises_the_rejection_code(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        nid = s.node.network_id
        too_much = f.transfer(DAVE, BOB.address, 10**17, nid, timestamp=int(s.node.chain_time()))
        [result] = await s.client.send_transactions([too_much])
        assert result.id is not None and not result.ok
        with pytest.raises(TransactionRejected) as info:
            await s.client.wait_for(result.id, "finalized", timeout=WAIT)
        assert info.value.code is ErrorCode.TX_INSUFFICIENT_BALANCE
        assert result.id in str(info.value)


async def test_wait_for_times_out_on_an_unknown_transaction(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        never = f.transfer(ALICE, BOB.address, 9, s.node.network_id, timestamp=1)
        never_id = never.id(s.node.network_id)
        start = trio.current_time()
        with pytest.raises(WaitTimeout) as info:
            await s.client.wait_for(never_id, "included", timeout=5)
        assert 5 <= trio.current_time() - start < 6
        assert info.value.last is None and never_id in str(info.value)


async def test_vote_and_delegate_registration(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        client = s.client
        vote_id = await client.vote(ALICE, add=[DELEGATE.public_key.hex()])
        admit = f.govern(
            GOVERNANCE, "admit", "account", BOB.address, s.node.network_id, timestamp=1
        )
        assert await client.send_transaction(admit) == admit.id(s.node.network_id)
        await client.wait_for(admit.id(s.node.network_id), "included", timeout=WAIT)
        bridge, cert = bytes(range(1, 21)), bytes(range(32))
        reg_id = await client.register_delegate(BOB, "bob_the_delegate", bridge, cert.hex())
        await client.wait_for(vote_id, "finalized", timeout=WAIT)
        await client.wait_for(reg_id, "finalized", timeout=WAIT)
        votes = await client.get_votes(ALICE.address)
        assert votes["votes"] == [DELEGATE.public_key.hex()]
        assert [r["transactionId"] for r in votes["records"]] == [vote_id]
        delegates = await client.get_delegates()
        names = {d["username"] for d in delegates["active"] + delegates["standby"]}
        assert "bob_the_delegate" in names
        unvote = await client.vote(ALICE, remove=[DELEGATE.public_key])
        await client.wait_for(unvote, "finalized", timeout=WAIT)
        assert (await client.get_account(ALICE.address))["votes"] == []
        with pytest.raises(InvalidTransaction):
            await client.vote(ALICE)  # nothing to vote: refused before sending


async def test_second_signature_then_transfers_need_it(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    second = f.key("carol-second")
    async with serving(tmp_path) as s:
        reg = await s.client.register_second_signature(CAROL, second.public_key)
        await s.client.wait_for(reg, "finalized", timeout=WAIT)
        assert (await s.client.get_account(CAROL.address))["secondPublicKey"] == (
            second.public_key.hex()
        )
        with pytest.raises(NodeError) as info:
            await s.client.transfer(CAROL, BOB.address, 1)
        assert info.value.code is ErrorCode.TX_MISSING_SECOND_SIGNATURE
        paid = await s.client.transfer(CAROL, BOB.address, 1, second_key=second)
        found = await s.client.wait_for(paid, "included", timeout=WAIT)
        assert found["transaction"]["signSignature"] is not None


async def test_multisignature_registration_with_every_member_cosigning(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    members = [f.key("m1"), f.key("m2")]
    keys = [m.public_key for m in members]
    async with serving(tmp_path) as s:
        with pytest.raises(InvalidTransaction):  # a co-signer outside the group
            await s.client.register_multisignature(DAVE, 1, 24, keys, [f.key("outsider")])
        reg = await s.client.register_multisignature(DAVE, 2, 24, keys, members)
        found = await s.client.wait_for(reg, "finalized", timeout=WAIT)
        assert len(found["transaction"]["signatures"].split(",")) == 2
        group = (await s.client.get_account(DAVE.address))["multisignature"]
        assert group == {"min": 2, "lifetime": 24, "keysgroup": [k.hex() for k in keys]}
        paid = await s.client.transfer(DAVE, BOB.address, 3, cosigners=members)
        found = await s.client.wait_for(paid, "included", timeout=WAIT)
        assert found["transaction"]["signatures"] is not None

        # signed by the owner alone it waits; the members' co-signatures arrive later
        alone = await s.client.transfer(DAVE, BOB.address, 4)
        waiting = await s.client.get_transaction(alone)
        assert waiting["status"] == "pending"
        nid = bytes.fromhex((await s.client.status())["networkId"])
        tx = Transaction.from_json(waiting["transaction"], nid)
        cosigs = [tx.cosign(m, nid).signatures[0] for m in members]
        assert await s.client.add_signatures(alone, cosigs[:1]) is False
        assert await s.client.add_signatures(alone, cosigs[1:]) is True
        found = await s.client.wait_for(alone, "included", timeout=WAIT)
        assert len(found["transaction"]["signatures"].split(",")) == 2


async def test_estimate_fee_gives_the_minimum(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with serving(tmp_path) as s:
        fee = await s.client.estimate_fee(TxType.DELEGATE, 300)
        assert fee["minFee"] == str(DEFAULT_MIN_FEES[TxType.DELEGATE])
        assert int(fee["fee"]) >= int(fee["minFee"])


async def test_retries_back_off_exponentially_on_trio_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limited = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": 6002, "message": "slow down", "data": {"name": "RPC_RATE_LIMITED"}},
    }
    answers: list[dict[str, object]] = [limited, limited]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return httpx.Response(429, json=answers.pop(0))
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 3, "result": {"ok": True}})

    transport = httpx.MockTransport(handler)
    async with AsyncClient(URL, transport=transport, retries=2, backoff=1.0) as client:
        start = trio.current_time()
        assert await client.get_delegates() == {"ok": True}
        assert trio.current_time() - start == pytest.approx(3.0)  # 1 s, then 2 s
    async with AsyncClient(URL, transport=transport, retries=0) as client:
        answers.append(limited)
        with pytest.raises(NodeError) as info:
            await client.get_delegates()
        assert info.value.code is ErrorCode.RPC_RATE_LIMITED and info.value.retryable


async def test_a_refused_connection_is_node_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with AsyncClient(URL, transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(NodeUnreachable) as info:
            await client.status()
    assert str(info.value) == f"could not reach {URL}: cannot connect (connection refused)"
