"""The relayer's ports over RPC (ADR 0015): delegate nodes as `Signer`s, a node as the
`Sidechain`. A node's refusal arrives as a `ccoin.client.NodeError` carrying its code and is
turned back into a `BridgeRefusal`, so the relayer treats remote and local signers alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ccoin.bridge.signer import BridgeRefusal, SignedAnchor, SignedSet
from ccoin.client import Client
from ccoin.client.errors import ClientError, NodeError, NodeUnreachable
from ccoin.errors import ErrorCode
from ccoin.types.transaction import CoSignature, Transaction

NODE_TIMEOUT = 10.0
INCLUSION_TIMEOUT = 30.0


@contextmanager
def _refusals(client: Client) -> Iterator[None]:
    """The client's errors as `BridgeRefusal`s, which the relayer's rounds expect (a node
    that is down or slow must end a duty for the round, never the relayer)."""
    try:
        yield
    except NodeError as exc:
        raise BridgeRefusal(exc.code or ErrorCode.BRIDGE_REFUSED, exc.message) from None
    except ClientError as exc:
        raise BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, f"{client.url}: {exc}") from None


def _ask(client: Client, method: str, **params: Any) -> Any:
    with _refusals(client):
        return client.request(method, **params)


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
        with _refusals(self.client):
            info = self.client.chain_info()
        answer = _ask(self.client, "ccoin_attestDeposit", transaction=tx.to_json(info.network_id))
        return CoSignature(bytes.fromhex(answer["publicKey"]), bytes.fromhex(answer["signature"]))


class RemoteSidechain:
    """The sidechain through a node's RPC: the first of `urls` that answers. When the node
    in use stops answering, that call is a retryable refusal and the next calls go to the
    next URL (round robin), so one node down does not stop the relayer."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(dict.fromkeys(urls))
        if not self.urls:
            raise ValueError("no sidechain node URL")
        self._index = 0
        self._pending: list[str] = []
        for attempt in range(len(self.urls)):
            self.client = Client(self.urls[self._index], timeout=NODE_TIMEOUT)
            try:
                info = self.client.chain_info()
                break
            except NodeUnreachable:
                self.client.close()
                if attempt == len(self.urls) - 1:
                    raise
                self._index = (self._index + 1) % len(self.urls)
        self.network_id = info.network_id
        self.genesis_time = info.genesis_time

    @property
    def url(self) -> str:
        return self.urls[self._index]

    def close(self) -> None:
        self.client.close()

    @contextmanager
    def _calls(self) -> Iterator[None]:
        try:
            yield
        except NodeUnreachable as exc:
            gone = self.url
            self.client.close()
            self._index = (self._index + 1) % len(self.urls)
            self.client = Client(self.url, timeout=NODE_TIMEOUT)
            raise BridgeRefusal(
                ErrorCode.BRIDGE_NOT_FINAL, f"{gone}: {exc}; next the relayer asks {self.url}"
            ) from None
        except NodeError as exc:
            raise BridgeRefusal(exc.code or ErrorCode.BRIDGE_REFUSED, exc.message) from None
        except ClientError as exc:
            raise BridgeRefusal(ErrorCode.BRIDGE_NOT_FINAL, f"{self.url}: {exc}") from None

    def finalized_height(self) -> int:
        with self._calls():
            return int(self.client.status()["finalizedHeight"])

    def chain_time(self) -> int:
        with self._calls():
            status = self.client.status()
        return int(status["slot"]) * int(status["blockTimeMs"]) // 1000

    def deposit_credited(self, bsc_chain_id: int, bridge: bytes, nonce: int) -> bool:
        with self._calls():
            answer = self.client.request(
                "ccoin_getDeposit", bscChainId=bsc_chain_id, bridge="0x" + bridge.hex(), nonce=nonce
            )
        return bool(answer["credited"])

    def active_set_size(self) -> int:
        with self._calls():
            return len(self.client.get_delegates()["active"])

    def submit(self, tx: Transaction) -> None:
        with self._calls():
            self._pending.append(self.client.send_transaction(tx))

    def wait_included(self) -> None:
        pending, self._pending = self._pending, []
        with self._calls():
            for tx_id in pending:
                self.client.wait_for(tx_id, "included", timeout=INCLUSION_TIMEOUT)
