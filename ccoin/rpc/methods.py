"""The API's methods, one per JSON-RPC name; the REST routes call the same functions.

Each method takes already-bound parameters (`Params`), reads the node or submits through
it, and returns JSON-ready values. Amounts and balances are decimal strings (BIGINT does
not fit a JSON double). Bad input raises a typed `CcoinError`; nothing here changes state
except `Node.submit`, which admits valid transactions to the pool.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ccoin import __version__
from ccoin.crypto.address import (
    address_from_public_key,
    address_raw,
    address_raw_from_public_key,
    id_raw,
)
from ccoin.errors import CcoinError, DecodeError, ErrorCode, RpcError
from ccoin.modules.base import Module
from ccoin.modules.catalog import MODULES
from ccoin.node.tx_status import TxStatus
from ccoin.rpc import bridge_methods, contract_methods
from ccoin.rpc.table import Method, Param, RpcTable, Topic
from ccoin.storage import schema
from ccoin.types.asset_base import TxType
from ccoin.types.block import Block
from ccoin.types.codec import json_hex, json_int
from ccoin.types.transaction import MAX_TX_BYTES, Transaction, cosignatures_from_text

if TYPE_CHECKING:
    from ccoin.node.config import RpcConfig
    from ccoin.node.service import Node

MAX_VOTE_RECORDS = 1_000


class Api:
    """The node as the RPC server sees it."""

    def __init__(self, node: Node, config: RpcConfig) -> None:
        self.node = node
        self.config = config

    @property
    def network_id(self) -> bytes:
        return self.node.network_id

    # -- reads ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        node = self.node
        chain = node.chain
        finalized = chain.header_at(chain.finalized_height)
        return {
            "networkId": node.network_id.hex(),
            "chainName": node.genesis.chain_name,
            "version": __version__,
            "name": node.config.name,
            "height": chain.height,
            "headId": chain.head.id(node.network_id),
            "finalizedHeight": chain.finalized_height,
            "finalizedId": finalized.id(node.network_id) if finalized else None,
            "peers": node.link.peer_count() if node.link is not None else 0,
            "mempoolSize": len(node.pool),
            "mempoolBytes": node.pool.size_bytes,
            "slot": node.slot_now(),
            "blockTimeMs": node.genesis.block_time_ms,
            "genesisTime": node.genesis.genesis_time,
        }

    def transaction(self, tx_id: Any) -> dict[str, Any]:
        if type(tx_id) is not str:
            raise DecodeError(ErrorCode.BAD_ID, "id: expected a transaction id string")
        found = self.node.transaction_status(tx_id)
        if found is None:
            raise RpcError(ErrorCode.NOT_FOUND, f"no transaction {tx_id} on this node")
        return self.status_json(tx_id, found)

    def status_json(self, tx_id: str, found: TxStatus) -> dict[str, Any]:
        tx = found.transaction
        return {
            "id": tx_id,
            "status": found.status.value,
            "blockId": found.block_id,
            "height": found.height,
            "confirmations": None
            if found.height is None
            else self.node.chain.height - found.height + 1,
            "error": None if found.error is None else found.error.to_json(),
            "transaction": None
            if tx is None
            else tx.to_json(self.network_id, block_id=found.block_id),
            "receipt": self._receipt(tx_id, found),
        }

    def _receipt(self, tx_id: str, found: TxStatus) -> dict[str, Any] | None:
        tx = found.transaction
        if found.height is None or tx is None:
            return None
        if tx.body.type not in (TxType.CONTRACT_DEPLOY, TxType.CONTRACT_CALL):
            return None
        receipt = self.node.chain.receipt(tx_id)
        return None if receipt is None else receipt.to_json()

    def block(self, which: Any, include_transactions: Any) -> dict[str, Any]:
        if type(include_transactions) is not bool:
            raise DecodeError(ErrorCode.WRONG_TYPE, "includeTransactions: expected a boolean")
        height = self._find_height(which)
        chain = self.node.chain
        if include_transactions:
            block = chain.block_at(height) if height is not None else None
            if block is None:
                raise RpcError(ErrorCode.NOT_FOUND, f"no block {which!r} on this node")
            return block_json(block, self.network_id, True)
        summary = chain.block_summary(height) if height is not None else None
        if summary is None:
            raise RpcError(ErrorCode.NOT_FOUND, f"no block {which!r} on this node")
        header, tx_ids = summary
        return {**header.to_json(self.network_id), "transactionIds": tx_ids}

    def _find_height(self, which: Any) -> int | None:
        chain = self.node.chain
        if which == "head":
            return chain.height
        if which == "finalized":
            return chain.finalized_height
        if type(which) is int:
            return json_int(which, "block", 0, 2**63 - 1)
        if type(which) is str:
            id_raw(which)  # a clear BAD_ID for malformed ids
            return chain.height_of(which)
        raise DecodeError(
            ErrorCode.WRONG_TYPE, "block: a height, a block id, 'head' or 'finalized'"
        )

    def account(self, address: Any) -> dict[str, Any]:
        raw = address_raw(address)
        chain = self.node.chain
        account = chain.account_raw(raw)
        out: dict[str, Any] = {"address": address, "exists": account is not None}
        if account is None:
            out.update(
                balance="0",
                publicKey=None,
                secondPublicKey=None,
                multisignature=None,
                votes=[],
                locked=False,
            )
        else:
            out.update(account.to_json())
        record = None
        if account is not None and account.public_key is not None:
            record = chain.delegate(account.public_key)
        else:  # a genesis delegate that never sent: its key is known to the delegate table only
            record = next(
                (d for d in chain.delegates() if address_raw_from_public_key(d.public_key) == raw),
                None,
            )
        out["delegate"] = None if record is None else record.to_json()
        out["pending"] = self.node.pool.count_from(raw)
        return out

    def delegates(self) -> dict[str, Any]:
        chain = self.node.chain
        round_number, active = chain.round_record()
        records = sorted(chain.delegates(), key=lambda d: (-d.vote_weight, d.public_key))
        active_set = set(active)
        out_active: list[dict[str, Any]] = []
        standby: list[dict[str, Any]] = []
        for rank, record in enumerate(records, start=1):
            entry = record.to_json()
            pk = record.public_key
            entry.update(
                rank=rank,
                address=address_from_public_key(pk),
                active=pk in active_set,
                jailed=chain.store.get(schema.jailed(pk)) is not None,
                **chain.delegate_stats(pk),
            )
            (out_active if pk in active_set else standby).append(entry)
        return {"round": round_number, "active": out_active, "standby": standby}

    def votes(self, address: Any, limit: Any) -> dict[str, Any]:
        raw = address_raw(address)
        limit = json_int(limit, "limit", 1, MAX_VOTE_RECORDS)
        chain = self.node.chain
        account = chain.account_raw(raw)
        records = []
        for located in chain.history(address, limit=10 * limit):
            tx = located.transaction
            if tx.body.type != TxType.VOTE or tx.sender_id != address:
                continue
            tx_id = tx.id(self.network_id)
            records.append(
                {
                    "transactionId": tx_id,
                    "votes": chain.asset_record(TxType.VOTE, tx_id)[0],
                    "blockId": located.block_id,
                    "height": located.height,
                }
            )
            if len(records) >= limit:
                break
        return {
            "address": address,
            "votes": [] if account is None else [v.hex() for v in account.votes],
            "records": records,
        }

    def estimate_fee(self, tx_type: Any, size: Any) -> dict[str, Any]:
        kind = json_int(tx_type, "type", 0, 255)
        if kind not in TxType._value2member_map_:
            raise DecodeError(ErrorCode.TX_UNKNOWN_TYPE, f"unknown transaction type {kind}")
        size = json_int(size, "size", 1, 1024 * 1024)
        minimum = self.node.genesis.min_fee(kind)
        return {
            "type": kind,
            "minFee": str(minimum),
            "fee": str(max(minimum, self.node.pool.fee_to_enter(size))),
            "mempoolSize": len(self.node.pool),
        }

    # -- submission -----------------------------------------------------------------------

    def add_signatures(self, tx_id: Any, signatures: Any) -> dict[str, Any]:
        if type(tx_id) is not str:
            raise DecodeError(ErrorCode.BAD_ID, "id: expected a transaction id string")
        cosignatures = cosignatures_from_text(signatures)
        if not cosignatures:
            raise DecodeError(ErrorCode.BAD_JSON, "signatures: at least one co-signature")
        ready = self.node.add_cosignatures(tx_id, cosignatures)
        return {"id": tx_id, "ready": ready}

    async def submit(self, entries: Any) -> list[tuple[str | None, CcoinError | None]]:
        """Parse (the JSON form), verify and admit a list of transactions: (id, error) per
        entry, in order. A whole call is refused (raises) only when it is too big or the
        node is busy."""
        return await self._admit(entries, lambda obj: Transaction.from_json(obj, self.network_id))

    async def submit_raw(self, entries: Any) -> list[tuple[str | None, CcoinError | None]]:
        """As `submit`, for canonical transaction bytes given as hex (optionally `0x`)."""
        return await self._admit(entries, raw_transaction)

    async def submit_bytes(self, entries: list[Any]) -> list[tuple[str | None, CcoinError | None]]:
        """As `submit`, for canonical transaction bytes (the REST msgpack body's entries)."""
        return await self._admit(entries, Transaction.decode)  # WRONG_TYPE for non-bytes

    async def _admit(
        self, entries: Any, parse: Callable[[Any], Transaction]
    ) -> list[tuple[str | None, CcoinError | None]]:
        if type(entries) is not list:
            raise DecodeError(ErrorCode.WRONG_TYPE, "transactions: expected a list")
        if len(entries) > self.config.max_transactions_per_call:
            raise RpcError(
                ErrorCode.RPC_BATCH_TOO_LARGE,
                f"at most {self.config.max_transactions_per_call} transactions per call",
            )
        node = self.node
        if node.verifying + len(entries) > self.config.max_verifying:
            raise RpcError(
                ErrorCode.RPC_BUSY, f"{node.verifying} transactions are waiting for checks"
            )
        results: list[tuple[str | None, CcoinError | None]] = [(None, None)] * len(entries)
        parsed: list[tuple[int, Transaction]] = []
        for i, obj in enumerate(entries):
            try:
                parsed.append((i, parse(obj)))
            except CcoinError as exc:
                results[i] = (None, exc)
        submitted = await node.submit([tx for _i, tx in parsed])
        for (i, tx), result in zip(parsed, submitted, strict=True):
            results[i] = (tx.id(self.network_id), result.error)
        return results


def raw_transaction(text: Any) -> Transaction:
    """One transaction from its canonical bytes as lowercase hex, `0x` optional. The
    length is checked before any decoding, so an oversized entry costs nothing."""
    if type(text) is not str:
        raise DecodeError(ErrorCode.BAD_JSON, "transaction: expected a lowercase hex string")
    digits = text[2:] if text.startswith("0x") else text
    if len(digits) > 2 * MAX_TX_BYTES:
        raise DecodeError(
            ErrorCode.TOO_LONG,
            f"transaction: {len(digits) // 2} bytes, limit {MAX_TX_BYTES}",
        )
    return Transaction.decode(json_hex(digits, "transaction"))


def block_json(block: Block, network_id: bytes, include_transactions: bool) -> dict[str, Any]:
    out = block.header.to_json(network_id)
    block_id = out["id"]
    if include_transactions:
        out["transactions"] = [
            tx.to_json(network_id, block_id=block_id) for tx in block.transactions
        ]
    else:
        out["transactionIds"] = [tx.id(network_id) for tx in block.transactions]
    return out


# -- the JSON-RPC method table -------------------------------------------------------------


async def _status(api: Api, p: dict[str, Any]) -> Any:
    return api.status()


async def _send_transaction(api: Api, p: dict[str, Any]) -> Any:
    [(tx_id, error)] = await api.submit([p["transaction"]])
    if error is not None:
        raise error
    return {"id": tx_id}


async def _send_transactions(api: Api, p: dict[str, Any]) -> Any:
    return submission_json(await api.submit(p["transactions"]))


def submission_json(results: list[tuple[str | None, CcoinError | None]]) -> list[Any]:
    """One `{"id"}` or `{"id", "error"}` per submitted entry, in order."""
    out = []
    for tx_id, error in results:
        entry: dict[str, Any] = {"id": tx_id}
        if error is not None:
            entry["error"] = error.to_json()
        out.append(entry)
    return out


async def _send_raw_transactions(api: Api, p: dict[str, Any]) -> Any:
    return submission_json(await api.submit_raw(p["transactions"]))


async def _add_signatures(api: Api, p: dict[str, Any]) -> Any:
    return api.add_signatures(p["id"], p["signatures"])


async def _get_transaction(api: Api, p: dict[str, Any]) -> Any:
    return api.transaction(p["id"])


async def _get_block(api: Api, p: dict[str, Any]) -> Any:
    return api.block(p["block"], p["includeTransactions"])


async def _get_account(api: Api, p: dict[str, Any]) -> Any:
    return api.account(p["address"])


async def _get_delegates(api: Api, p: dict[str, Any]) -> Any:
    return api.delegates()


async def _get_votes(api: Api, p: dict[str, Any]) -> Any:
    return api.votes(p["address"], p["limit"])


async def _estimate_fee(api: Api, p: dict[str, Any]) -> Any:
    return api.estimate_fee(p["type"], p["size"])


NODE_METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ccoin_status", (), _status),
        Method("ccoin_sendTransaction", (Param("transaction"),), _send_transaction),
        Method("ccoin_sendTransactions", (Param("transactions"),), _send_transactions),
        Method("ccoin_sendRawTransactions", (Param("transactions"),), _send_raw_transactions),
        Method("ccoin_addSignatures", (Param("id"), Param("signatures")), _add_signatures),
        Method("ccoin_getTransaction", (Param("id"),), _get_transaction),
        Method(
            "ccoin_getBlock",
            (Param("block"), Param("includeTransactions", False)),
            _get_block,
        ),
        Method("ccoin_getAccount", (Param("address"),), _get_account),
        Method("ccoin_getDelegates", (), _get_delegates),
        Method("ccoin_getVotes", (Param("address"), Param("limit", 100)), _get_votes),
        Method("ccoin_estimateFee", (Param("type"), Param("size", 200)), _estimate_fee),
        Method(
            "ccoin_callContract",
            (
                Param("contract"),
                Param("method"),
                Param("args", []),
                Param("sender", None),
                Param("value", "0"),
                Param("gasLimit", None),
            ),
            contract_methods.call_contract,
        ),
        Method(
            "ccoin_getWithdrawalProof",
            (Param("id"), Param("fromHeight"), Param("toHeight")),
            bridge_methods.get_withdrawal_proof,
        ),
        Method(
            "ccoin_getDeposit",
            (Param("bscChainId"), Param("bridge"), Param("nonce")),
            bridge_methods.get_deposit,
        ),
        Method(
            "ccoin_signAnchor",
            (
                Param("bscChainId"),
                Param("anchor"),
                Param("setId"),
                Param("fromHeight"),
                Param("toHeight"),
            ),
            bridge_methods.sign_anchor,
        ),
        Method(
            "ccoin_signSetChange",
            (Param("bscChainId"), Param("anchor"), Param("setId")),
            bridge_methods.sign_set_change,
        ),
        Method("ccoin_attestDeposit", (Param("transaction"),), bridge_methods.attest_deposit),
        Method(
            "ccoin_getContract",
            (Param("address"), Param("includeCode", False)),
            contract_methods.get_contract,
        ),
    )
}


# -- the modules' tables -------------------------------------------------------------------


def module_tables() -> Iterator[tuple[Module, RpcTable]]:
    """Each catalog module's API table (`Module.rpc`), imported here: the ledger never
    loads them."""
    for module in MODULES:
        if module.rpc is None:
            continue
        path, _, name = module.rpc.partition(":")
        table = getattr(importlib.import_module(path), name)
        assert isinstance(table, RpcTable), module.rpc
        yield module, table


def require_enabled(api: Api, module: Module) -> None:
    if not module.enabled(api.node.genesis):
        raise RpcError(
            ErrorCode.MODULE_NOT_ENABLED,
            f"this network's genesis has no {module.name!r} section: the {module.name} "
            "methods, routes and topics are off",
        )


def _guarded(module: Module, method: Method) -> Method:
    """`method`, answering MODULE_NOT_ENABLED on a network without the module (whatever
    its parameters)."""
    return dataclasses.replace(method, requires=lambda api: require_enabled(api, module))


def _mount() -> tuple[dict[str, Method], dict[str, tuple[Module, Topic]]]:
    methods = dict(NODE_METHODS)
    topics: dict[str, tuple[Module, Topic]] = {}
    for module, table in module_tables():
        for method in table.methods:
            assert method.name not in methods, f"{module.name}: {method.name} is taken"
            methods[method.name] = _guarded(module, method)
        for topic in table.topics:
            assert topic.name not in topics, f"{module.name}: topic {topic.name} is taken"
            topics[topic.name] = (module, topic)
    return methods, topics


# Every JSON-RPC method (the node's, then each module's) and the modules' WebSocket topics.
METHODS, MODULE_TOPICS = _mount()
