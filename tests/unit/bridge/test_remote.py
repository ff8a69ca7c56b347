"""The relayer's RPC ports turn a node that does not answer into a retryable refusal, so a
relayer round ends that duty instead of the relayer process."""

from __future__ import annotations

import pytest

from ccoin.bridge.remote import RemoteSidechain
from ccoin.bridge.signer import BridgeRefusal
from ccoin.client import Client
from ccoin.errors import ErrorCode
from ccoin.testing import factories as f

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback


def detached_sidechain() -> RemoteSidechain:
    """A RemoteSidechain whose node went away after it connected."""
    sidechain = RemoteSidechain.__new__(RemoteSidechain)
    sidechain.client = Client(UNREACHABLE, timeout=1.0)
    sidechain.network_id = b"\x00" * 32
    sidechain._pending = ["2PmAANfqmpwfDkC2xG8w"]
    return sidechain


@pytest.mark.parametrize("call", ["finalized_height", "chain_time", "active_set_size"])
def test_reads_of_a_node_that_is_gone_are_retryable_refusals(call: str) -> None:
    sidechain = detached_sidechain()
    with pytest.raises(BridgeRefusal) as refused:
        getattr(sidechain, call)()
    assert refused.value.code is ErrorCode.BRIDGE_NOT_FINAL
    sidechain.close()


def test_submitting_and_waiting_too() -> None:
    sidechain = detached_sidechain()
    net = f.make_testnet(accounts=2, delegates=1)
    tx = f.transfer(net.accounts[0], net.accounts[1].address, 1, b"\x00" * 32)
    with pytest.raises(BridgeRefusal):
        sidechain.submit(tx)
    with pytest.raises(BridgeRefusal):
        sidechain.wait_included()
    assert sidechain._pending == []  # what it waited for is not waited for twice
    sidechain.close()
