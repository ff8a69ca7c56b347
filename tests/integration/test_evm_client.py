"""`EvmClient` against a real anvil: a transaction stuck unmined is replaced by the next one
at its nonce with a gas price raised by 1/8, so exactly one of them is mined."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ccoin.bench.anvil import start_anvil
from ccoin.bench.evm_load import dev_accounts
from ccoin.bridge.evm import EvmClient, EvmError, new_account


@pytest.fixture(scope="module")
def chain() -> Iterator[EvmClient]:
    with start_anvil(chain_id=97, block_time=0, accounts=2) as node, EvmClient(node.url) as client:
        yield client


def test_a_stuck_transaction_is_replaced_at_its_nonce(chain: EvmClient) -> None:
    sender, receiver = (new_account(a.key) for a in dev_accounts(2))
    start = int(chain.rpc("eth_getTransactionCount", sender.address, "latest"), 16)
    before = int(chain.rpc("eth_getBalance", receiver.address, "latest"), 16)
    chain.rpc("evm_setAutomine", False)  # BSC congested: nothing gets mined
    try:
        with pytest.raises(EvmError, match="no receipt"):
            chain.transact(sender, receiver.address, b"", value=5, receipt_timeout=0.3)
        [stuck] = chain.rpc("eth_getBlockByNumber", "pending", True)["transactions"]
        with pytest.raises(EvmError, match="no receipt"):  # the next one takes its place
            chain.transact(sender, receiver.address, b"", value=7, receipt_timeout=0.3)
        [replacement] = chain.rpc("eth_getBlockByNumber", "pending", True)["transactions"]
        chain.rpc("anvil_mine", "0x1")
    finally:
        chain.rpc("evm_setAutomine", True)
    assert int(replacement["nonce"], 16) == start == int(stuck["nonce"], 16)
    assert int(replacement["gasPrice"], 16) == -(-int(stuck["gasPrice"], 16) * 9 // 8)
    assert chain.rpc("eth_getTransactionReceipt", stuck["hash"]) is None  # replaced
    receipt = chain.rpc("eth_getTransactionReceipt", replacement["hash"])
    assert receipt is not None and int(receipt["status"], 16) == 1
    after = int(chain.rpc("eth_getBalance", receiver.address, "latest"), 16)
    assert after - before == 7  # only the replacement's value arrived
    assert int(chain.rpc("eth_getTransactionCount", sender.address, "latest"), 16) == start + 1

    again = chain.transact(sender, receiver.address, b"", value=1)  # next nonce, normal price
    sent = chain.rpc("eth_getTransactionByHash", again["transactionHash"])
    assert int(sent["nonce"], 16) == start + 1
    assert int(sent["gasPrice"], 16) == int(chain.rpc("eth_gasPrice"), 16)
