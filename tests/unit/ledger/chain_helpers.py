"""Building blocks for the ledger tests: a block holding given transactions, the code a
lone transaction is rejected with (and proof that it changed nothing), balances."""

from __future__ import annotations

from ccoin.errors import ErrorCode
from ccoin.ledger.chain import Chain, Execution
from ccoin.storage import schema
from ccoin.testing.factories import LocalNet
from ccoin.types.transaction import Transaction


def snapshot(chain: Chain) -> dict[bytes, bytes]:
    return dict(chain.store.iterate())


def block_with(chain: Chain, net: LocalNet, *txs: Transaction) -> Execution:
    ts = chain.head.timestamp_ms + 1000
    return chain.build_block(list(txs), ts, net.delegates[0])[1]


def rejected_code(chain: Chain, net: LocalNet, tx: Transaction) -> ErrorCode:
    """Build a block with `tx` alone; it must be rejected; return the code. The state
    tables must be byte-identical to before, except what the block itself writes (a new
    round's active-set record and the producer's block count; no fees, as nothing was
    included)."""

    def state() -> dict[bytes, bytes]:
        return {
            k: v
            for k, v in snapshot(chain).items()
            if k[0] >= 0x10 and k != schema.ROUND and not k.startswith(schema.DELEGATE_STATS)
        }

    state_before = state()
    execution = block_with(chain, net, tx)
    assert execution.included == []
    assert len(execution.rejected) == 1
    state_after = state()
    assert state_after == state_before
    return execution.rejected[0][1].code


def balance(chain: Chain, address: str) -> int:
    account = chain.account(address)
    return 0 if account is None else account.balance
