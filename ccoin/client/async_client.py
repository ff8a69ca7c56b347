"""`AsyncClient`: the node's API over httpx.AsyncClient, for trio programs.

The same methods as `Client`, awaited; waits use trio's clock, so a test under
`trio.testing.MockClock` waits no real time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
import trio

from ccoin.client import flows
from ccoin.client.carbon_async import AsyncCarbonClient
from ccoin.client.errors import NodeError, NodeUnreachable
from ccoin.client.flows import BytesLike, Signers, SubmitResult, TxLike
from ccoin.client.protocol import (
    DEFAULT_URL,
    JSON_HEADERS,
    RPC_PATH,
    Call,
    ChainInfo,
    Flow,
    Session,
    Sleep,
    base_url,
    parse_answer,
    request_body,
    retry_delay,
)
from ccoin.crypto.keys import KeyPair
from ccoin.types.assets import Asset
from ccoin.types.transaction import CoSignature

T = TypeVar("T")


class AsyncClient:
    """A trio client of one node. `clock` gives unix seconds for new transactions'
    timestamps; `retries` retries errors the node marks retryable, with exponential
    backoff from `backoff` seconds (off by default; every retry is logged)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        retries: int = 0,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = base_url(url)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.clock = clock
        self._session = Session(self.url)
        self.carbon = AsyncCarbonClient(
            self._run, self._submit
        )  # the carbon module's reads and builders
        self._http = httpx.AsyncClient(base_url=self.url, transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the driver --------------------------------------------------------------------

    async def _run(self, flow: Flow[T]) -> T:
        reply: Any = None
        error: NodeError | None = None
        try:
            while True:
                try:
                    step = flow.send(reply) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                reply, error = None, None
                if isinstance(step, Sleep):
                    await trio.sleep(step.seconds)
                    continue
                try:
                    reply = await self._call(step)
                except NodeError as exc:
                    error = exc
        finally:
            flow.close()

    async def _call(self, call: Call) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._post(call)
            except NodeError as exc:
                delay = retry_delay(exc, attempt, self.retries, self.backoff)
                if delay is None:
                    raise
                await trio.sleep(delay)

    async def _post(self, call: Call) -> Any:
        request_id = next(self._session.ids)
        try:
            response = await self._http.post(
                RPC_PATH, content=request_body(request_id, call), headers=JSON_HEADERS
            )
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc, self.timeout) from None
        return parse_answer(self.url, request_id, response.status_code, response.content)

    # -- reads ---------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        return await self._run(flows.status(self._session))

    async def chain_info(self) -> ChainInfo:
        """Network id, chain name, genesis time, block time (asked once, then cached)."""
        return await self._run(flows.chain_info(self._session))

    async def add_signatures(self, tx_id: str, cosignatures: Iterable[CoSignature]) -> bool:
        """Give a pooled multisignature transaction co-signatures; True once it has enough."""
        text = ",".join(c.to_text() for c in cosignatures)
        result = await self._run(flows.call("ccoin_addSignatures", id=tx_id, signatures=text))
        return bool(result["ready"])

    async def get_transaction(self, tx_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(flows.call("ccoin_getTransaction", id=tx_id))
        return result

    async def get_block(
        self, height_or_id: int | str, transactions: bool = False
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(flows.get_block(height_or_id, transactions))
        return result

    async def get_account(self, address: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(flows.call("ccoin_getAccount", address=address))
        return result

    async def get_delegates(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(flows.call("ccoin_getDelegates"))
        return result

    async def get_votes(self, address: str, limit: int = 100) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(
            flows.call("ccoin_getVotes", address=address, limit=limit)
        )
        return result

    async def estimate_fee(
        self, tx_type: int, size: int = flows.DEFAULT_FEE_SIZE
    ) -> dict[str, Any]:
        return await self._run(flows.estimate_fee(self._session, tx_type, size))

    # -- submission ----------------------------------------------------------------------

    async def send_transaction(self, tx: TxLike) -> str:
        return await self._run(flows.send_transaction(self._session, tx))

    async def send_transactions(self, txs: Iterable[TxLike]) -> list[SubmitResult]:
        return await self._run(flows.send_transactions(self._session, txs))

    async def send_raw_transactions(self, raws: Iterable[BytesLike]) -> list[SubmitResult]:
        """Canonical transaction bytes (or their lowercase hex), one result per entry."""
        return await self._run(flows.send_raw_transactions(self._session, raws))

    async def wait_for(
        self,
        tx_id: str,
        status: str = "finalized",
        *,
        timeout: float = 60.0,
        interval: float = 0.25,
    ) -> dict[str, Any]:
        """Wait until the transaction is `status` (included or finalized); raises
        `TransactionRejected` or `WaitTimeout`."""
        return await self._run(flows.wait_for(tx_id, status, timeout, interval, trio.current_time))

    # -- builders: sign with the node's network id and submit; each returns the id -------

    async def transfer(
        self,
        key: KeyPair,
        recipient: str,
        amount: int,
        *,
        fee: int | None = None,
        data: BytesLike = b"",
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        asset = flows.transfer_asset(data)
        signers = Signers(key, second_key, cosigners)
        return await self._submit(signers, asset, recipient=recipient, amount=amount, fee=fee)

    async def vote(
        self,
        key: KeyPair,
        add: Iterable[BytesLike] = (),
        remove: Iterable[BytesLike] = (),
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        asset = flows.vote_asset(add, remove)
        return await self._submit(Signers(key, second_key, cosigners), asset, fee=fee)

    async def register_delegate(
        self,
        key: KeyPair,
        username: str,
        bridge_address: BytesLike,
        cert_fingerprint: BytesLike,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        asset = flows.delegate_asset(username, bridge_address, cert_fingerprint)
        return await self._submit(Signers(key, second_key, cosigners), asset, fee=fee)

    async def register_second_signature(
        self,
        key: KeyPair,
        second_public_key: BytesLike,
        *,
        fee: int | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        asset = flows.second_signature_asset(second_public_key)
        return await self._submit(Signers(key, None, cosigners), asset, fee=fee)

    async def register_multisignature(
        self,
        key: KeyPair,
        min: int,
        lifetime: int,
        keysgroup: Iterable[BytesLike],
        cosigners: Sequence[KeyPair] = (),
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
    ) -> str:
        """Every keysgroup member must co-sign a registration (ADR 0004)."""
        asset = flows.multisignature_asset(min, lifetime, keysgroup, cosigners)
        return await self._submit(Signers(key, second_key, cosigners), asset, fee=fee)

    async def withdraw(
        self,
        key: KeyPair,
        bsc_recipient: BytesLike,
        amount: int,
        *,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """Withdraw `amount` to a BSC address (type 7); once its block is anchored,
        `get_withdrawal_proof` gives what `Bridge.withdraw` on BSC needs."""
        asset = flows.withdrawal_asset(bsc_recipient)
        signers = Signers(key, second_key, cosigners)
        return await self._submit(signers, asset, amount=amount, fee=fee)

    async def deploy_contract(
        self,
        key: KeyPair,
        name: str,
        code: str,
        init_args: Sequence[Any] = (),
        *,
        upgrade: str | None = None,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """Deploy `code` (or, with `upgrade`, replace that contract's code); the id. The
        contract's address is in the receipt (`get_transaction(id)["receipt"]`)."""
        asset = flows.deploy_asset(name, code, init_args, upgrade)
        return await self._submit(Signers(key, second_key, cosigners), asset, fee=fee)

    async def call_contract(
        self,
        key: KeyPair,
        contract: str,
        method: str,
        args: Sequence[Any] = (),
        *,
        gas_limit: int = flows.DEFAULT_CALL_GAS,
        amount: int = 0,
        fee: int | None = None,
        second_key: KeyPair | None = None,
        cosigners: Sequence[KeyPair] = (),
    ) -> str:
        """Call `method` as a transaction, attaching `amount` C; the id. The fee defaults
        to the minimum plus the gas limit's share."""
        asset = flows.call_asset(contract, method, args, gas_limit)
        signers = Signers(key, second_key, cosigners)
        return await self._submit(signers, asset, amount=amount, fee=fee)

    async def view_contract(
        self,
        contract: str,
        method: str,
        args: Sequence[Any] = (),
        *,
        sender: str | None = None,
        value: int = 0,
        gas_limit: int | None = None,
    ) -> dict[str, Any]:
        """A read-only call at the head's state: the receipt (`ok`, `value`, `gasUsed`...)."""
        flow = flows.view_contract(
            contract, method, args, sender=sender, value=value, gas_limit=gas_limit
        )
        return await self._run(flow)

    async def get_withdrawal_proof(
        self, tx_id: str, from_height: int, to_height: int
    ) -> dict[str, Any]:
        """What `Bridge.withdraw` on BSC needs for withdrawal `tx_id` in the anchored range."""
        result: dict[str, Any] = await self._run(
            flows.call(
                "ccoin_getWithdrawalProof", id=tx_id, fromHeight=from_height, toHeight=to_height
            )
        )
        return result

    async def get_contract(self, address: str, include_code: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = await self._run(
            flows.call("ccoin_getContract", address=address, includeCode=include_code)
        )
        return result

    async def _submit(self, signers: Signers, asset: Asset, **fields: Any) -> str:
        return await self._run(
            flows.submit_new(self._session, signers, asset, clock=self.clock, **fields)
        )


def unreachable(url: str, exc: httpx.TransportError, timeout: float) -> NodeUnreachable:
    if isinstance(exc, httpx.TimeoutException):
        reason = f"no answer within {timeout:g} s"
    elif isinstance(exc, httpx.ConnectError):
        reason = f"cannot connect ({exc or 'connection refused'})"
    else:
        reason = str(exc) or type(exc).__name__
    return NodeUnreachable(url, reason)
