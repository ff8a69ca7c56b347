"""`ccoin_addSignatures`: co-signatures reach a multisignature account's transaction that
waits in the pool, until it has enough to be included."""

from __future__ import annotations

import trio.testing

from ccoin.errors import ErrorCode
from ccoin.testing import factories as f
from tests.unit.rpc.conftest import NET, ApiClient

OWNER, MEMBER_1, MEMBER_2 = NET.accounts[0], f.key("member-1"), f.key("member-2")


async def test_a_pending_transaction_becomes_ready_with_its_co_signatures(
    api: ApiClient, autojump_clock: trio.testing.MockClock
) -> None:
    group = f.register_multisig(OWNER, [MEMBER_1, MEMBER_2], 2, api.nid, timestamp=api.now())
    await api.include(group)

    tx = api.transfer(OWNER, amount=777)  # signed by the owner alone: it must wait
    tx_id = tx.id(api.nid)
    assert await api.result("ccoin_sendTransaction", [api.tx_json(tx)]) == {"id": tx_id}
    assert api.node.pool.is_pending(tx.hash(api.nid))

    def text(*members: f.KeyPair) -> str:
        cosigned = tx
        for member in members:
            cosigned = cosigned.cosign(member, api.nid)
        return ",".join(c.to_text() for c in cosigned.signatures)

    assert await api.result("ccoin_addSignatures", [tx_id, text(MEMBER_1)]) == {
        "id": tx_id,
        "ready": False,
    }
    assert await api.result("ccoin_addSignatures", {"id": tx_id, "signatures": text(MEMBER_2)}) == {
        "id": tx_id,
        "ready": True,
    }
    assert not api.node.pool.is_pending(tx.hash(api.nid))

    await api.error("ccoin_addSignatures", ["1" * 20, text(MEMBER_1)], ErrorCode.BAD_ID)
    unknown = api.transfer(NET.accounts[1], amount=5).id(api.nid)
    await api.error("ccoin_addSignatures", [unknown, text(MEMBER_1)], ErrorCode.NOT_FOUND)
    await api.error("ccoin_addSignatures", [tx_id, "zz"], ErrorCode.BAD_JSON)
    await api.still_serves()
