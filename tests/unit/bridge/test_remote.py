"""The relayer's RPC ports turn a node that does not answer into a retryable refusal, so a
relayer round ends that duty instead of the relayer process."""

from __future__ import annotations

import pytest

from ccoin.bridge.remote import RemoteSidechain
from ccoin.bridge.signer import BridgeRefusal
from ccoin.client import Client, NodeUnreachable
from ccoin.errors import ErrorCode
from ccoin.testing import factories as f

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback


def detached_sidechain(*urls: str) -> RemoteSidechain:
    """A RemoteSidechain whose nodes went away after it connected."""
    sidechain = RemoteSidechain.__new__(RemoteSidechain)
    sidechain.urls = list(urls or [UNREACHABLE])
    sidechain._index = 0
    sidechain.client = Client(sidechain.urls[0], timeout=1.0)
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


def test_a_node_that_is_gone_is_left_for_the_next() -> None:
    other = "http://127.0.0.2:9"  # the discard port on another loopback address
    sidechain = detached_sidechain(UNREACHABLE, other)
    with pytest.raises(BridgeRefusal, match=f"next the relayer asks {other}"):
        sidechain.finalized_height()
    assert sidechain.url == other and sidechain.client.url == other
    with pytest.raises(BridgeRefusal):
        sidechain.active_set_size()
    assert sidechain.url == UNREACHABLE  # round robin
    sidechain.close()


def test_connecting_tries_every_node_and_fails_when_none_answers() -> None:
    with pytest.raises(NodeUnreachable):
        RemoteSidechain([UNREACHABLE, "http://127.0.0.2:9"])
