"""The relayer's ports over RPC (ADR 0015): delegate nodes as `Signer`s, a node as the
`Sidechain`. A node's refusal arrives as a `ccoin.client.NodeError` carrying its code and is
turned back into a `BridgeRefusal`, so the relayer treats remote and local signers alike."""

from __future__ import annotations

from typing import Any

from ccoin.bridge.signer import BridgeRefusal, SignedAnchor, SignedSet
from ccoin.client import Client
from ccoin.client.errors import ClientError, NodeError
from ccoin.errors import ErrorCode
from ccoin.types.transaction import CoSignature, Transaction

NODE_TIMEOUT = 10.0


def _ask(client: Client, method: str, **params: Any) -> Any:
    try:
        return client.request(method, **params)
    except NodeError as exc:
        raise BridgeRefusal(exc.code or ErrorCode.BRIDGE_REFUSED, exc.message) from None
    except ClientError as exc:
        raise BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, f"{client.url}: {exc}") from None


class RemoteSigner:
    """A delegate node with bridge duties, at `url`."""

    def __init__(self, url: str) -> None:
        self.client = Client(url, timeout=NODE_TIMEOUT)

    def close(self) -> None:
        self.client.close()

    def sign_anchor(
        self, bsc_chain_id: int, anchor: str, set_id: int, from_height: int, to_height: int
    ) -> SignedAnchor:
        answer = _ask(
            self.client,
            "ccoin_signAnchor",
            bscChainId=bsc_chain_id,
            anchor=anchor,
            setId=set_id,
            fromHeight=from_height,
            toHeight=to_height,
        )
        return SignedAnchor(
            bytes.fromhex(answer["root"]), answer["signer"], bytes.fromhex(answer["signature"])
        )

    def sign_set(self, bsc_chain_id: int, anchor: str, set_id: int) -> SignedSet:
        answer = _ask(
            self.client, "ccoin_signSetChange", bscChainId=bsc_chain_id, anchor=anchor, setId=set_id
        )
        return SignedSet(
            tuple(answer["members"]), answer["signer"], bytes.fromhex(answer["signature"])
        )

    def attest(self, tx: Transaction) -> CoSignature:
        info = self.client.chain_info()
        answer = _ask(self.client, "ccoin_attestDeposit", transaction=tx.to_json(info.network_id))
        return CoSignature(bytes.fromhex(answer["publicKey"]), bytes.fromhex(answer["signature"]))


class RemoteSidechain:
    """The sidechain through one node's RPC."""

    def __init__(self, url: str) -> None:
        self.client = Client(url, timeout=NODE_TIMEOUT)
        info = self.client.chain_info()
        self.network_id = info.network_id
        self.genesis_time = info.genesis_time

    def close(self) -> None:
        self.client.close()

    def finalized_height(self) -> int:
        return int(self.client.status()["finalizedHeight"])

    def chain_time(self) -> int:
        status = self.client.status()
        return int(status["slot"]) * int(status["blockTime"])

    def deposit_credited(self, bsc_chain_id: int, bridge: bytes, nonce: int) -> bool:
        answer = _ask(
            self.client,
            "ccoin_getDeposit",
            bscChainId=bsc_chain_id,
            bridge="0x" + bridge.hex(),
            nonce=nonce,
        )
        return bool(answer["credited"])

    def active_set_size(self) -> int:
        return len(self.client.get_delegates()["active"])

    def submit(self, tx: Transaction) -> None:
        tx_id = self.client.send_transaction(tx)
        self.client.wait_for(tx_id, "included", timeout=30.0)
