"""The client's operations, each written once as a `Flow` (see `ccoin.client.protocol`).

Reads map one-to-one to the node's JSON-RPC methods. Builders make a transaction, fill the
network id, the timestamp (seconds since genesis by the caller's clock) and the fee (the
type's minimum, from `ccoin_estimateFee`) when not given, sign it, submit it and return its
id. Invalid arguments fail here, before anything is sent, with the `CcoinError` the node
would give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccoin.client.errors import BadResponse, NodeError, TransactionRejected, WaitTimeout
from ccoin.client.protocol import Call, ChainInfo, Flow, Session, Sleep
from ccoin.crypto.keys import KeyPair
from ccoin.errors import ErrorCode, InvalidTransaction
from ccoin.types.asset_base import BRIDGE_ADDRESS_LEN, FINGERPRINT_LEN, PUBLIC_KEY_LEN
from ccoin.types.assets import (
    Asset,
    ContractCallAsset,
    ContractDeployAsset,
    DelegateAsset,
    MultisignatureAsset,
    OutTransferAsset,
    SecondSignatureAsset,
    TransferAsset,
    VoteAsset,
)
from ccoin.types.codec import json_hex
from ccoin.types.transaction import Transaction, TxBody
from ccoin.vm import lint
from ccoin.vm.gas import gas_fee

WAIT_STATUSES = ("included", "finalized")
DEFAULT_FEE_SIZE = 200  # bytes: what estimateFee assumes when not told
DEFAULT_CALL_GAS = 100_000  # a contract call's gas limit when the caller gives none

TxLike = Transaction | Mapping[str, Any]  # a Transaction, or its signed JSON form
BytesLike = bytes | str  # raw bytes or lowercase hex


@dataclass(frozen=True)
class SubmitResult:
    """One entry of `send_transactions`: the id, or why the node refused it."""

    id: str | None
    error: NodeError | None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- reads ---------------------------------------------------------------------------------


def call(method: str, **params: Any) -> Flow[Any]:
    return (yield Call(method, params))


def status(session: Session) -> Flow[dict[str, Any]]:
    result = yield Call("ccoin_status", {})
    session.chain = ChainInfo.from_status(result, session.url)
    return _object(result, "ccoin_status", session.url)


def chain_info(session: Session) -> Flow[ChainInfo]:
    if session.chain is None:
        yield from status(session)
    assert session.chain is not None
    return session.chain


def estimate_fee(session: Session, tx_type: int, size: int) -> Flow[dict[str, Any]]:
    result = _object(
        (yield Call("ccoin_estimateFee", {"type": int(tx_type), "size": size})),
        "ccoin_estimateFee",
        session.url,
    )
    minimum = result.get("minFee")
    if type(minimum) is str and minimum.isdigit():
        session.min_fees[int(tx_type)] = int(minimum)
    return result


def min_fee(session: Session, tx_type: int) -> Flow[int]:
    if int(tx_type) not in session.min_fees:
        yield from estimate_fee(session, tx_type, DEFAULT_FEE_SIZE)
    if int(tx_type) not in session.min_fees:
        raise BadResponse(session.url, "ccoin_estimateFee without a minFee")
    return session.min_fees[int(tx_type)]


def get_block(height_or_id: int | str, transactions: bool) -> Flow[Any]:
    return (
        yield Call("ccoin_getBlock", {"block": height_or_id, "includeTransactions": transactions})
    )


# -- submission ----------------------------------------------------------------------------


def _tx_json(session: Session, tx: TxLike) -> Flow[dict[str, Any]]:
    if isinstance(tx, Transaction):
        info = yield from chain_info(session)
        return tx.to_json(info.network_id)
    return dict(tx)


def raw_hex(raw: BytesLike) -> str:
    """Canonical transaction bytes as the lowercase hex `ccoin_sendRawTransactions` takes."""
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw).hex()
    text = raw[2:] if raw.startswith("0x") else raw
    return json_hex(text, "transaction").hex()  # refused here, as the node would


def send_transaction(session: Session, tx: TxLike) -> Flow[str]:
    """A `Transaction` goes as its canonical bytes (`ccoin_sendRawTransactions`), a JSON
    form as JSON (`ccoin_sendTransaction`); a refusal raises `NodeError` either way."""
    if isinstance(tx, Transaction):
        info = yield from chain_info(session)
        [result] = yield from send_raw_transactions(session, [tx.encode()])
        if result.error is not None:
            raise result.error
        if result.id != tx.id(info.network_id):
            raise BadResponse(
                session.url, f"the node says id {result.id}, we computed {tx.id(info.network_id)}"
            )
        return result.id
    obj = yield from _tx_json(session, tx)
    answer = yield Call("ccoin_sendTransaction", {"transaction": obj})
    tx_id = answer.get("id") if type(answer) is dict else None
    if type(tx_id) is not str:
        raise BadResponse(session.url, "ccoin_sendTransaction without an id")
    if obj.get("id") not in (None, tx_id):
        raise BadResponse(session.url, f"the node says id {tx_id}, we computed {obj['id']}")
    return tx_id


def send_transactions(session: Session, txs: Iterable[TxLike]) -> Flow[list[SubmitResult]]:
    """One result per transaction, in order. `Transaction`s only: one raw call; with any
    JSON form among them, one JSON call."""
    txs = list(txs)
    if all(isinstance(tx, Transaction) for tx in txs):
        raws = [tx.encode() for tx in txs if isinstance(tx, Transaction)]
        return (yield from send_raw_transactions(session, raws))
    entries = []
    for tx in txs:
        entries.append((yield from _tx_json(session, tx)))
    result = yield Call("ccoin_sendTransactions", {"transactions": entries})
    return _submit_results(session, "ccoin_sendTransactions", result, len(entries))


def send_raw_transactions(session: Session, raws: Iterable[BytesLike]) -> Flow[list[SubmitResult]]:
    """Canonical transaction bytes (or their hex), one result per entry, in order."""
    entries = [raw_hex(raw) for raw in raws]
    result = yield Call("ccoin_sendRawTransactions", {"transactions": entries})
    return _submit_results(session, "ccoin_sendRawTransactions", result, len(entries))


def _submit_results(session: Session, method: str, result: Any, count: int) -> list[SubmitResult]:
    if type(result) is not list or len(result) != count:
        raise BadResponse(session.url, f"{method}: not one result per entry")
    out = []
    for entry in result:
        if type(entry) is not dict:
            raise BadResponse(session.url, f"{method}: an entry is not an object")
        error = entry.get("error")
        tx_id = entry.get("id")
        out.append(
            SubmitResult(
                tx_id if type(tx_id) is str else None,
                None if error is None else NodeError.from_status(error),
            )
        )
    return out


def wait_for(
    tx_id: str,
    wanted: str,
    timeout: float,
    interval: float,
    monotonic: Callable[[], float],
) -> Flow[dict[str, Any]]:
    """Poll the transaction's status until it is `wanted` (included also accepts finalized)
    or rejected, or `timeout` seconds pass. Returns the status object."""
    if wanted not in WAIT_STATUSES:
        raise ValueError(f"status: one of {', '.join(WAIT_STATUSES)}, not {wanted!r}")
    deadline = monotonic() + timeout
    last: str | None = None
    while True:
        try:
            found = yield Call("ccoin_getTransaction", {"id": tx_id})
        except NodeError as exc:
            if exc.code is not ErrorCode.NOT_FOUND:
                raise
            found = None  # not here yet: still in gossip, or the node restarted
        if type(found) is dict:
            last = found.get("status")
            if last == "rejected":
                raise TransactionRejected(tx_id, NodeError.from_status(found.get("error")))
            if last == "finalized" or last == wanted:
                return found
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise WaitTimeout(tx_id, wanted, timeout, last)
        yield Sleep(min(interval, remaining))


# -- builders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signers:
    """Who signs a new transaction: the sender, its registered second key, and (for
    multisignature accounts and registrations) co-signers."""

    key: KeyPair
    second_key: KeyPair | None = None
    cosigners: Sequence[KeyPair] = ()


def prepare(
    session: Session,
    signers: Signers,
    asset: Asset,
    *,
    clock: Callable[[], float],
    recipient: str | None = None,
    amount: int = 0,
    fee: int | None = None,
) -> Flow[Transaction]:
    """Sign a new transaction of `asset`'s type for the node's network."""
    info = yield from chain_info(session)
    tx_type = int(asset.TYPE)
    if fee is None:
        fee = yield from min_fee(session, tx_type)
        if isinstance(asset, ContractCallAsset):
            fee += gas_fee(asset.gas_limit)  # a call pays for the gas it may use
    timestamp = max(0, math.floor(clock()) - info.genesis_time)
    body = TxBody(tx_type, timestamp, signers.key.public_key, recipient, amount, fee, asset)
    tx = body.sign(signers.key, info.network_id, second_key=signers.second_key)
    for cosigner in signers.cosigners:
        tx = tx.cosign(cosigner, info.network_id)
    return tx


def submit_new(
    session: Session,
    signers: Signers,
    asset: Asset,
    *,
    clock: Callable[[], float],
    recipient: str | None = None,
    amount: int = 0,
    fee: int | None = None,
) -> Flow[str]:
    tx = yield from prepare(
        session, signers, asset, clock=clock, recipient=recipient, amount=amount, fee=fee
    )
    return (yield from send_transaction(session, tx))


def vote_asset(add: Iterable[BytesLike], remove: Iterable[BytesLike]) -> VoteAsset:
    entries = [f"+{key_bytes(k, 'add').hex()}" for k in add]
    entries += [f"-{key_bytes(k, 'remove').hex()}" for k in remove]
    if not entries:
        raise InvalidTransaction(ErrorCode.TX_BAD_ASSET, "a vote adds or removes a delegate")
    return VoteAsset(",".join(entries))


def delegate_asset(
    username: str, bridge_address: BytesLike, cert_fingerprint: BytesLike
) -> DelegateAsset:
    return DelegateAsset(
        username,
        hex_bytes(bridge_address, "bridgeAddress", BRIDGE_ADDRESS_LEN),
        hex_bytes(cert_fingerprint, "certFingerprint", FINGERPRINT_LEN),
    )


def second_signature_asset(second_public_key: BytesLike) -> SecondSignatureAsset:
    return SecondSignatureAsset(key_bytes(second_public_key, "second public key"))


def multisignature_asset(
    min_signatures: int, lifetime: int, keysgroup: Iterable[BytesLike], cosigners: Sequence[KeyPair]
) -> MultisignatureAsset:
    asset = MultisignatureAsset(
        min_signatures, lifetime, tuple(key_bytes(k, "keysgroup") for k in keysgroup)
    )
    outsiders = [c.address for c in cosigners if c.public_key not in asset.keysgroup]
    if outsiders:
        raise InvalidTransaction(
            ErrorCode.TX_BAD_COSIGNATURE, f"co-signers not in the keysgroup: {', '.join(outsiders)}"
        )
    return asset


def deploy_asset(
    name: str, code: str, init_args: Sequence[Any] = (), upgrade: str | None = None
) -> ContractDeployAsset:
    """A type-5 asset, with its code checked here as the node will (every violation)."""
    asset = ContractDeployAsset(name, code, tuple(init_args), upgrade)
    violations = lint.check(code)
    if violations:
        shown = "; ".join(str(v) for v in violations[:20])
        raise InvalidTransaction(ErrorCode.TX_CONTRACT_REJECTED, shown)
    return asset


def call_asset(
    contract: str, method: str, args: Sequence[Any] = (), gas_limit: int = DEFAULT_CALL_GAS
) -> ContractCallAsset:
    return ContractCallAsset(contract, method, tuple(args), gas_limit)


def view_contract(
    contract: str,
    method: str,
    args: Sequence[Any],
    *,
    sender: str | None,
    value: int,
    gas_limit: int | None,
) -> Flow[dict[str, Any]]:
    params = {
        "contract": contract,
        "method": method,
        "args": list(args),
        "sender": sender,
        "value": str(value),
        "gasLimit": gas_limit,
    }
    result: dict[str, Any] = yield Call("ccoin_callContract", params)
    return result


def withdrawal_asset(bsc_recipient: BytesLike) -> OutTransferAsset:
    """A type-7 asset: C to a BSC address (20 bytes, raw or hex with or without 0x)."""
    return OutTransferAsset(hex_bytes(bsc_recipient, "bscRecipient", BRIDGE_ADDRESS_LEN))


def transfer_asset(data: BytesLike) -> TransferAsset:
    if isinstance(data, bytes):
        return TransferAsset(data)
    return TransferAsset(json_hex(data.lower().removeprefix("0x"), "data", max_size=64))


def hex_bytes(value: BytesLike, what: str, size: int) -> bytes:
    if isinstance(value, bytes):
        return value
    return json_hex(value.lower().removeprefix("0x"), what, size=size)


def key_bytes(value: BytesLike, what: str) -> bytes:
    return hex_bytes(value, what, PUBLIC_KEY_LEN)


def _object(value: Any, what: str, url: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise BadResponse(url, f"{what}: expected an object")
    return value
